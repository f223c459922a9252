package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/services/intake"
)

func startIntake(t *testing.T) string {
	t.Helper()
	ns := testkit.RunJetStream(t)
	var cfg intake.Config
	if err := config.Load("intake", &cfg, []string{"--nats-url", ns.ClientURL(), "--http-addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	s, err := intake.New(t.Context(), cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	testkit.RunService(t, s)
	// The token travels as support staff's would: in TRIAGE_TOKEN.
	store, err := auth.Open(t.Context(), s.JS, cfg.Topology())
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := store.Issue(t.Context(), "sato", auth.RoleSupport, time.Hour, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TRIAGE_TOKEN", token)
	return s.URL()
}

// runSubmit parses args as the command line would and runs the command.
func runSubmit(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var c cli
	parser, err := kong.New(&c, kong.Name("triage"), kong.Exit(func(int) { t.Fatalf("exit on %v", args) }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse(append([]string{"submit"}, args...)); err != nil {
		return "", err
	}
	var out bytes.Buffer
	c.Submit.stdin, c.Submit.stdout, c.Submit.stderr = strings.NewReader(stdin), &out, io.Discard
	err = c.Submit.run(context.Background())
	return out.String(), err
}

var acceptedLine = regexp.MustCompile(`^ticket ([0-9a-f-]{36}) (accepted|was already submitted; nothing new was created)\nstatus: (\S+)\n$`)

func TestSubmitCommand(t *testing.T) {
	url := startIntake(t)
	ticketFile := filepath.Join(t.TempDir(), "ticket.json")
	if err := os.WriteFile(ticketFile, []byte(`{"subject":"注文が送信できない","description":"19:05頃から注文送信でエラー503","tenant_id":"rst-0042"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--intake-url", url, "--retries", "0"}
	flags := append(append([]string{}, base...), "-t", "rst-0042", "-s", "Printer offline", "-d", "Kitchen printer stopped at 19:05", "--order-id", "ord_0000000042")

	first, err := runSubmit(t, "", flags...)
	m := acceptedLine.FindStringSubmatch(first)
	if err != nil || m == nil || m[2] != "accepted" || m[3] != url+"/api/v1/tickets/"+m[1] {
		t.Fatalf("first run: %q, %v", first, err)
	}
	// Running the same command again (after a timeout, say) is the same ticket.
	again, err := runSubmit(t, "", flags...)
	if m2 := acceptedLine.FindStringSubmatch(again); err != nil || m2 == nil || m2[1] != m[1] || !strings.Contains(again, "already submitted") {
		t.Fatalf("second run: %q, %v (first id %s)", again, err, m[1])
	}

	tests := []struct {
		name    string
		stdin   string
		args    []string
		wantOut string // regexp the output must match
		wantErr string // text the error must hold
	}{
		{name: "description from stdin", stdin: "The card reader shows E-503 since this morning",
			args: []string{"-t", "rst-0043", "-s", "Card reader", "-d", "-"}, wantOut: `accepted`},
		{name: "whole ticket as json file", args: []string{"--json", ticketFile}, wantOut: `accepted`},
		{name: "whole ticket on stdin, json output", stdin: `{"subject":"x","description":"y","tenant_id":"rst-0044"}`,
			args: []string{"--json", "-", "-o", "json"}, wantOut: `"ticket_id": "[0-9a-f-]{36}"`},
		{name: "missing flags", args: []string{"-s", "only a subject"}, wantErr: "missing --tenant, --description"},
		{name: "json and flags together", args: []string{"--json", ticketFile, "-t", "rst-1"}, wantErr: "either as --json or as flags"},
		{name: "unknown json field", stdin: `{"subject":"x","description":"y","tenant_id":"rst-1","priority":"high"}`,
			args: []string{"--json", "-"}, wantErr: `unknown field "priority"`},
		{name: "intake refuses a field", args: []string{"-t", "bad tenant!", "-s", "x", "-d", "y"},
			wantErr: "intake answered 400 invalid_ticket"},
		{name: "bad language", args: []string{"-t", "rst-1", "-s", "x", "-d", "y", "--language", "fr"}, wantErr: "--language"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runSubmit(t, tc.stdin, append(append([]string{}, base...), tc.args...)...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one holding %q (output %q)", err, tc.wantErr, out)
				}
				return
			}
			if err != nil || !regexp.MustCompile(tc.wantOut).MatchString(out) {
				t.Fatalf("output %q, error %v; want %s", out, err, tc.wantOut)
			}
		})
	}

	// The refusal names the bad field, so the person knows what to fix.
	_, err = runSubmit(t, "", append(append([]string{}, base...), "-t", "bad tenant!", "-s", "x", "-d", "y")...)
	if err == nil || !strings.Contains(err.Error(), "\n  tenant_id: ") || strings.Contains(err.Error(), "run the same command again") {
		t.Errorf("refusal: %v", err)
	}
	var resp intake.SubmitResponse
	out, err := runSubmit(t, "", append(append([]string{}, flags...), "-o", "json")...)
	if err != nil || json.Unmarshal([]byte(out), &resp) != nil || resp.TicketID != m[1] || !resp.Replayed {
		t.Errorf("json output: %q, %v", out, err)
	}
}

// With intake unreachable the command says the ticket's fate is unknown and
// that running it again is safe.
func TestSubmitCommandIntakeDown(t *testing.T) {
	// Port 1 (tcpmux) is never served here; a freed ephemeral port could be
	// taken by another test in between.
	_, err := runSubmit(t, "", "--intake-url", "http://127.0.0.1:1", "--retries", "1", "-t", "rst-1", "-s", "x", "-d", "y")
	if err == nil || !strings.Contains(err.Error(), "run the same command again") {
		t.Fatalf("got %v", err)
	}
}
