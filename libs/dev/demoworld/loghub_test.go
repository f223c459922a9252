package demoworld

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

func TestNormaliseLevel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"INFO", LevelInfo}, {"notice", LevelInfo}, {"", LevelInfo}, {"-", LevelInfo},
		{"DEBUG", LevelDebug}, {"WARN", LevelWarn}, {"warning", LevelWarn},
		{"error", LevelError}, {"SEVERE", LevelError}, {"FATAL", LevelFatal}, {"crit", LevelFatal},
	}
	for _, tc := range tests {
		if got := normaliseLevel(tc.in); got != tc.want {
			t.Errorf("normaliseLevel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLoadLogHubFixture(t *testing.T) {
	lines, err := loadLogHub(filepath.Join("testdata", "loghub"))
	if err != nil {
		t.Fatal(err)
	}
	want := []legacyLine{
		{"mini", LevelInfo, "nightly export finished: 412 rows"},
		{"mini", LevelWarn, "export slow, retrying batch 3"},
		{"mini", LevelError, "write to archive failed: disk quota exceeded"},
		{"mini", LevelFatal, `"quoted" fatal line`},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines %v, want %d (the empty Content row skipped)", len(lines), lines, len(want))
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, lines[i], want[i])
		}
	}
}

func TestLogHubErrors(t *testing.T) {
	tests := []struct{ name, dir, want string }{
		{"missing folder", filepath.Join("testdata", "no-such-dir"), "no *_2k.log_structured.csv files"},
		{"no content column", filepath.Join("testdata", "loghub-bad"), "has no Content column"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Seed: 1, Tenants: 2, Days: 1, LogsPerTenantDay: 10, LogHubDir: tc.dir})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New error = %v, want it to mention %q", err, tc.want)
			}
			w := Generate(Config{Seed: 1, Tenants: 2, Days: 1, LogsPerTenantDay: 10, LogHubDir: tc.dir})
			for _, l := range w.Logs {
				if l.Service.Name == ServiceLegacyBatch {
					t.Fatal("Generate kept legacy logs from an unreadable folder")
				}
			}
		})
	}
}

// TestLegacyBatchFromLogHub mixes the real Loghub samples in and checks
// they add untenanted noise without disturbing the rest of the world.
func TestLegacyBatchFromLogHub(t *testing.T) {
	dir := testkit.SharedPath(t, "datasets", "loghub")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("loghub samples not available: %v", err)
	}
	cfg := smallConfig(21)
	plain := Generate(cfg)
	cfg.LogHubDir = dir
	mixed, err := New(cfg)
	if err != nil {
		t.Fatalf("New with LogHubDir: %v", err)
	}
	systems := map[string]bool{}
	legacy := 0
	for _, l := range mixed.Logs {
		if l.Service.Name != ServiceLegacyBatch {
			continue
		}
		legacy++
		if l.Labels.TenantID != "" || l.Message == "" || !strings.HasPrefix(l.Event.Dataset, "legacy-batch.") {
			t.Fatalf("legacy log has the wrong shape: %+v", l)
		}
		systems[l.Event.Dataset] = true
	}
	if legacy != cfg.Days*DefaultLegacyLogsPerDay || len(systems) < 5 {
		t.Errorf("%d legacy logs from %v, want %d from the six systems", legacy, systems, cfg.Days*DefaultLegacyLogsPerDay)
	}
	if len(mixed.Logs)-legacy != len(plain.Logs) || len(mixed.Tickets) != len(plain.Tickets) {
		t.Fatalf("legacy noise changed the product logs (%d vs %d) or tickets", len(mixed.Logs)-legacy, len(plain.Logs))
	}
	for _, l := range plain.Logs {
		if got, ok := mixed.Log(l.ID()); !ok || got.Message != l.Message {
			t.Fatalf("log %s differs once legacy noise is mixed in", l.ID())
		}
	}
}
