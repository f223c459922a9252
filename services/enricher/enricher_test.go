package enricher

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"rst-0001":"America/Los_Angeles"}`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--default-time-zone", "Mars/Olympus"}, "--default-time-zone"},
		{[]string{"--tenant-zones", write("bad.json", `["rst-0001"]`)}, "want a JSON object"},
		{[]string{"--tenant-zones", write("badzone.json", `{"rst-0001":"Nowhere/Land"}`)}, "tenant rst-0001"},
		{[]string{"--tenant-zones", filepath.Join(dir, "missing.json")}, "--tenant-zones"},
		{[]string{"--es-addresses", "elastic:9200"}, "not an http(s) URL"},
		{[]string{"--es-addresses", "http://es:9200", "--es-pending-retry", "0s"}, "--es-pending-retry must be positive"},
		{[]string{"--es-addresses", "http://es:9200", "--es-deadline", "19s"}, "below the handler timeout"},
	} {
		var cfg Config
		err := config.Load("enricher", &cfg, tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
	var cfg Config
	if err := config.Load("enricher", &cfg, []string{"--tenant-zones", good, "--es-addresses", "http://es:9200"}); err != nil {
		t.Fatalf("good config rejected: %v", err)
	}
	zones, err := loadZones(good)
	if err != nil || zones["rst-0001"].String() != "America/Los_Angeles" {
		t.Fatalf("zones %v, %v", zones, err)
	}
}

// Without Elasticsearch a ticket still carries what extraction found (its
// error codes, ids): engineers read it, and the router groups tickets
// without logs by component and error code from it.
func TestWithoutElasticsearchTheTicketKeepsItsEvidence(t *testing.T) {
	srv := testkit.RunJetStream(t)
	var cfg Config
	if err := config.Load("enricher", &cfg, []string{"--nats-url", srv.ClientURL(), "--http-addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	s, err := New(t.Context(), cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	enr, err := s.enrich(t.Context(), events.Ticket{ID: "t-1", TenantID: "rst-0042", Language: "ja",
		Subject: "カード決済ができない", Description: "レジで PAY-1042 と表示されて決済できません。", SubmittedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if enr.LogsStatus != events.LogsNotConfigured || len(enr.Logs) != 0 {
		t.Fatalf("logs status %q with %d logs, want not_configured and none", enr.LogsStatus, len(enr.Logs))
	}
	if !slices.ContainsFunc(enr.Evidence, func(e events.Evidence) bool { return e.Kind == "error_code" && e.Value == "PAY-1042" }) {
		t.Fatalf("evidence %+v lacks the error code PAY-1042", enr.Evidence)
	}
}
