package router

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// A good rules file is applied when it changes; a bad one is refused with
// its line number, counted, and the router keeps the last good rules.
// versionLine is the rules file's version line, whatever it says today.
var versionLine = regexp.MustCompile(`(?m)^version: .*$`)

func TestRulesReload(t *testing.T) {
	srv := testkit.RunJetStream(t)
	path := filepath.Join(t.TempDir(), "rules.yaml")
	write := func(version, extra string) {
		t.Helper()
		text := versionLine.ReplaceAllLiteralString(string(defaultRules), fmt.Sprintf("version: %q", version)) + extra
		// A new name then a rename: the router never reads half a file.
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write("v1", "")
	var cfg Config
	if err := config.Load("router", &cfg, []string{"--nats-url", srv.ClientURL(), "--http-addr", "127.0.0.1:0", "--rules", path, "--reload-every", "20ms"}); err != nil {
		t.Fatal(err)
	}
	s, err := New(t.Context(), cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	testkit.RunService(t, s)
	version := func() string { return s.Classifier().Rules().Version }
	if version() != "v1" {
		t.Fatalf("started with rules %s", version())
	}

	for _, tc := range []struct {
		name, version, extra string
		applied              bool
		wantErr              string
	}{
		{name: "good file applied", version: "v2", applied: true},
		{name: "bad file refused", version: "v3", extra: "\nrunbooks_typo: 1\n", wantErr: "field runbooks_typo not found"},
		{name: "bad rule refused with its line", version: "v4",
			extra: "  - component: payment\n    url: runbooks/payment\n", wantErr: `url must be an http(s) link, got "runbooks/payment"`},
		{name: "fixed file applied", version: "v5", applied: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused := testutil.ToFloat64(s.reload.reloads.WithLabelValues("refused"))
			write(tc.version, tc.extra)
			if tc.applied {
				testkit.Eventually(t, 5*time.Second, func() error {
					if v := version(); v != tc.version {
						return fmt.Errorf("rules %s, want %s", v, tc.version)
					}
					return nil
				})
				return
			}
			testkit.Eventually(t, 5*time.Second, func() error {
				if n := testutil.ToFloat64(s.reload.reloads.WithLabelValues("refused")); n != refused+1 {
					return fmt.Errorf("%v refused reloads, want %v", n, refused+1)
				}
				return nil
			})
			if v := version(); v != "v2" {
				t.Fatalf("after a bad file the router runs rules %s, want the last good v2", v)
			}
			err := s.Reload() // what SIGHUP does: the same answer
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "line ") {
				t.Fatalf("reload error %v, want the line and %q", err, tc.wantErr)
			}
		})
	}
}

// A rules file broken before start-up stops the router with the line.
func TestBadRulesStopStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte("version: \"1\"\ntechnical:\n  - id: x\n    weight: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var cfg Config
	err := config.Load("router", &cfg, []string{"--rules", path})
	if err == nil || !strings.Contains(err.Error(), "line 3: technical[0] (x): needs keywords or min_error_logs") {
		t.Fatalf("start-up error %v", err)
	}
}
