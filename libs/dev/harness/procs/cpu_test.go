package procs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParsePidStat(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       time.Duration
		wantErr    string
	}{
		// A Go server (the development Elasticsearch): utime 347, stime 68.
		{name: "go process", line: fixture(t, "pid-stat-go.txt"), want: 4150 * time.Millisecond},
		// The command name may hold spaces and parentheses.
		{name: "odd command name", line: fixture(t, "pid-stat-odd-name.txt"), want: 150 * time.Millisecond},
		{name: "zero", line: "1 (x) S 0 0 0 0 0 0 0 0 0 0 0 0 0", want: 0},
		{name: "empty", line: "", wantErr: "no command name"},
		{name: "no command name", line: "1 x S 0 0 0 0 0 0 0 0 0 0 0 0", wantErr: "no command name"},
		{name: "cut short", line: "1 (x) S 0 0 0 0 0 0 0 0 0 0 12", wantErr: "fields after the command name"},
		{name: "not a number", line: "1 (x) S 0 0 0 0 0 0 0 0 0 0 1x 2", wantErr: "field 14"},
		{name: "negative", line: "1 (x) S 0 0 0 0 0 0 0 0 0 0 1 -2", wantErr: "field 15"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parsePidStat([]byte(tc.line))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParseProcStat(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       MachineCPU
		wantErr    string
	}{
		// 2 CPUs: user 151013, system 46551, idle 114099, iowait 1953,
		// softirq 693, steal 6817 ticks.
		{name: "two cpus", text: fixture(t, "proc-stat.txt"), want: MachineCPU{
			Busy: (151013 + 46551 + 693) * clockTick, Steal: 6817 * clockTick,
			Total: (151013 + 46551 + 114099 + 1953 + 693 + 6817) * clockTick,
		}},
		// Kernels before 2.6.33 have no guest columns: steal is the last.
		{name: "no guest columns", text: "cpu  1 2 3 4 5 6 7 8\n", want: MachineCPU{
			Busy: (1 + 2 + 3 + 6 + 7) * clockTick, Steal: 8 * clockTick, Total: 36 * clockTick,
		}},
		{name: "no cpu line", text: "cpu0 1 2 3 4 5 6 7 8\nintr 1\n", wantErr: `no "cpu" line`},
		{name: "cut short", text: "cpu  1 2 3 4\n", wantErr: "want at least 9"},
		{name: "not a number", text: "cpu  1 2 x 4 5 6 7 8\n", wantErr: "field 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcStat([]byte(tc.text))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %+v, %v; want an error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// /proc/<pid>/stat and getrusage count the same CPU time: read on this
// process, between two getrusage readings, /proc's figure lies between them
// (less at most two clock ticks: /proc rounds user and system time down to
// ticks each).
func TestProcessCPUAgreesWithGetrusage(t *testing.T) {
	start, err := SelfCPU()
	if err != nil {
		t.Fatal(err)
	}
	// Use some CPU, so the figures are not all zero.
	sum := 0
	testkit.Eventually(t, time.Minute, func() error {
		for i := range 1_000_000 {
			sum += i
		}
		now, err := SelfCPU()
		if err != nil || now-start >= 50*time.Millisecond {
			return err
		}
		return errors.New("less than 50ms of CPU used")
	})
	before, err := SelfCPU()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	after, err := SelfCPU()
	if err != nil {
		t.Fatal(err)
	}
	if got < before-2*clockTick || got > after {
		t.Fatalf("/proc says %v, getrusage %v before and %v after (sum %d)", got, before, after, sum)
	}
	if _, err := ProcessCPU(-1); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}

// The machine has used CPU, some of it busy, and the counters only grow.
func TestReadMachineCPU(t *testing.T) {
	first, err := ReadMachineCPU()
	if err != nil {
		t.Fatal(err)
	}
	if first.Busy <= 0 || first.Total < first.Busy+first.Steal {
		t.Fatalf("implausible machine CPU time %+v", first)
	}
	second, err := ReadMachineCPU()
	if err != nil {
		t.Fatal(err)
	}
	if d := second.Sub(first); d.Busy < 0 || d.Steal < 0 || d.Total < 0 {
		t.Fatalf("counters went back: %+v then %+v", first, second)
	}
}
