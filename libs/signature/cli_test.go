package signature

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

func TestRunCLI(t *testing.T) {
	longMsg := "payload " + strings.Repeat("x", MaxLineBytes-len("payload "))
	tests := []struct {
		name  string
		input string
		// want lists, per output line, the message whose signature it is.
		want []string
	}{
		{
			name:  "lf and crlf",
			input: "printer prn-9f00aa offline\r\nprinter prn-9f00ab offline\nHTTP 503 from auth\n",
			want:  []string{"printer prn-9f00aa offline", "printer prn-9f00ab offline", "HTTP 503 from auth"},
		},
		{
			name:  "no final newline",
			input: "cache warm\ncache warm",
			want:  []string{"cache warm", "cache warm"},
		},
		{
			name:  "blank lines keep their place",
			input: "cache warm\n\ncache cold\n",
			want:  []string{"cache warm", "", "cache cold"},
		},
		{
			name:  "a 1 MiB line",
			input: "cache warm\n" + longMsg + "\r\ncache warm\n",
			want:  []string{"cache warm", longMsg, "cache warm"},
		},
		{name: "empty input", input: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := RunCLI(context.Background(), strings.NewReader(tt.input), &out); err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if out.Len() == 0 {
				got = nil
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines, want %d: %q", len(got), len(tt.want), out.String())
			}
			// The CLI's ids are the Miner's for the same batch.
			sigs := newMiner(t, Config{}).Mine(tt.want)
			for i := range got {
				if got[i] != sigs[i].ID {
					t.Errorf("line %d = %q, want %q (%s)", i+1, got[i], sigs[i].ID, sigs[i].Template)
				}
			}
		})
	}
}

func TestRunCLIGroupsLines(t *testing.T) {
	input := "payment provider timeout after 3000 ms for order ord_2611221053\n" +
		"printer prn-9f00aa offline\n" +
		"payment provider timeout after 15 ms for order ord_1000000001\n"
	var out bytes.Buffer
	if err := RunCLI(context.Background(), strings.NewReader(input), &out); err != nil {
		t.Fatal(err)
	}
	ids := strings.Fields(out.String())
	if len(ids) != 3 || ids[0] != ids[2] || ids[0] == ids[1] {
		t.Errorf("ids = %v, want lines 1 and 3 to share an id and line 2 to differ", ids)
	}
	if want := TemplateID("payment provider timeout after <*> ms for order <*>"); ids[0] != want {
		t.Errorf("id = %s, want %s", ids[0], want)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRunCLIErrors(t *testing.T) {
	for _, extra := range []int{1, 3, 1 << 20} {
		tooLong := strings.Repeat("y", MaxLineBytes+extra) + "\n"
		err := RunCLI(context.Background(), strings.NewReader("ok\n"+tooLong), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), "line 2 is longer") {
			t.Errorf("line of %d bytes: err = %v, want line 2 is longer", MaxLineBytes+extra, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := RunCLI(ctx, strings.NewReader("a\n"), &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
	if err := RunCLI(context.Background(), strings.NewReader("a\n"), failingWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing writer: err = %v, want disk full", err)
	}
}

func TestRunEvalFixture(t *testing.T) {
	var out bytes.Buffer
	err := RunEval(context.Background(), filepath.Join("testdata", "loghub"), &out)
	// The fixture scores 0.8, below the target, so the table comes with an error.
	if err == nil || !strings.Contains(err.Error(), "below the target") {
		t.Errorf("err = %v, want mean below the target", err)
	}
	table := out.String()
	for _, want := range []string{"dataset", "Drain (published)", "Demo", "0.8000", "mean"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestRunEvalLogHub(t *testing.T) {
	dir := testkit.SharedPath(t, "datasets", "loghub")
	var out bytes.Buffer
	if err := RunEval(context.Background(), dir, &out); err != nil {
		t.Fatalf("RunEval: %v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())
	for _, want := range []string{"Apache", "BGL", "HDFS", "OpenStack", "Spark", "Zookeeper", "0.7325", "target met"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}
