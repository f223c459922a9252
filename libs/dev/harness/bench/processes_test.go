package bench

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/harness/procs"
	"github.com/triage-pipeline/triage/libs/dev/shareddata"
)

// `make bench`'s way: the services, NATS and the development Elasticsearch
// each in a process of the triage binary, built here. Every run passes, the
// _msearch count comes over HTTP from the esdev process, and every
// component's CPU time is read.
func TestBenchmarkWithDevServersAsProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the triage command and starts its processes three times")
	}
	root, err := shareddata.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "triage")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", exe, "./services/triage")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./services/triage: %v\n%s", err, b)
	}
	var out bytes.Buffer
	cfg := Config{Rate: 20, Duration: time.Second, FullSpeed: 20, Clients: 4, CeilingMsgs: 50, SkipQueue: true,
		Processes: true, Command: procs.TriageRun(exe), DevCommand: procs.TriageDev(exe)}
	if err := Run(ctx, cfg, &out); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"services: one process each; NATS and the development Elasticsearch too",
		"fixed rate 20/s for 1s: 20 tickets", "full speed, 4 clients: 20 tickets",
		"CPU per message (user+system;", "NATS server", "client: publish + 3 hops (this process)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "failed 0"); n != 3 {
		t.Errorf("%d runs without failures, want 3:\n%s", n, text)
	}
	if strings.Contains(text, "not measured") {
		t.Errorf("a component's CPU was not measured:\n%s", text)
	}
	if strings.Contains(text, " 0.000 _msearch requests per ticket") {
		t.Errorf("no _msearch request counted:\n%s", text)
	}
	if strings.Contains(text, "logs attached to 0 of") {
		t.Errorf("no ticket got logs (or the queue API did not show them):\n%s", text)
	}
	// Each run's table has a row for each component; the ceiling's has a
	// total too.
	for name, want := range map[string]int{
		"intake": 2, "enricher": 2, "router": 2, "queue": 2, "bugfiler": 2, "our services": 2,
		"NATS": 2, "development Elasticsearch": 2, `load generator \(this process\)`: 2, "total": 3,
	} {
		rows := regexp.MustCompile(`(?m)^    `+name+` +\d+\.\d{3} ms +\d+%`).FindAllString(text, -1)
		if len(rows) != want {
			t.Errorf("%d rows for %s, want %d:\n%s", len(rows), name, want, text)
		}
	}
}
