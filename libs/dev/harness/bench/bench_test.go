package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/demoworld"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/services/intake"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	p := percentiles(d)
	if p.P50 != 51*time.Millisecond || p.P99 != 100*time.Millisecond || p.Max != 100*time.Millisecond {
		t.Fatalf("percentiles %+v", p)
	}
	if (percentiles(nil) != Percentiles{}) {
		t.Fatal("empty input should give zeros")
	}
}

// The ceiling run moves every message through all hops on a real server,
// and accounts for the CPU time it took.
func TestCeilingDeliversEveryMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := runCeiling(ctx, nil, 200, 256)
	if err != nil {
		t.Fatal(err)
	}
	if c.rate <= 0 {
		t.Fatalf("rate %f", c.rate)
	}
	if c.cpu == nil || len(c.cpu.parts) != 1 || c.cpu.parts[0].err != nil || c.cpu.total() <= 0 {
		t.Fatalf("cpu %+v", c.cpu)
	}
}

// The intake-alone run stores every offered ticket through a real intake.
func TestIntakeAloneAcceptsEveryTicket(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tickets := []intake.SubmitRequest{
		{Subject: "カード決済でエラー", Description: "19:05頃から決済でエラーになります", TenantID: "rst-0001"},
		{Subject: "Printer down", Description: "The kitchen printer stopped at 7pm", TenantID: "rst-0002"},
	}
	r, err := intakeAlone(ctx, tickets, 50, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.Tickets != 50 || r.Failed != 0 || r.Accept.P50 <= 0 || r.Throughput <= 0 {
		t.Fatalf("result %+v", r)
	}
}

// The load is the demo world's tickets, without those still ahead of the
// clock, which intake would refuse.
func TestWorldLoadLeavesOutFutureTickets(t *testing.T) {
	end := time.Date(2026, 11, 22, 21, 0, 0, 0, time.UTC)
	w := demoworld.Generate(demoworld.Config{Seed: 1, End: end})
	all, err := worldLoad(w, end.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(w.Tickets) || len(all) == 0 {
		t.Fatalf("after the world's end: %d of %d tickets", len(all), len(w.Tickets))
	}
	future := 0
	now := end.Add(-6 * time.Hour)
	for _, tk := range w.Tickets {
		if tk.Window.Anchor.After(now) {
			future++
		}
	}
	if future == 0 {
		t.Fatal("no ticket of the world's last 6 hours to leave out; pick another now")
	}
	if got, err := worldLoad(w, now); err != nil || len(got) != len(w.Tickets)-future {
		t.Fatalf("%d tickets offered at %s, want %d", len(got), now, len(w.Tickets)-future)
	}
	for _, r := range all {
		if r.TenantID == "" || r.Subject == "" {
			t.Fatalf("incomplete request %+v", r)
		}
	}
	if _, err := worldLoad(&demoworld.World{}, end); err == nil {
		t.Fatal("a world without tickets gave a load")
	}
	if _, err := worldLoad(nil, end); err == nil {
		t.Fatal("no world (Elasticsearch configured elsewhere) gave a load")
	}
}

// The queue benchmark runs its measurements on a small store.
func TestQueueBenchmark(t *testing.T) {
	var out strings.Builder
	res, err := RunQueue(t.Context(), QueueConfig{Tickets: 400, OpenPart: 0.1, Requests: 10}, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if res.Open != 40 || res.List.P50 <= 0 || res.Claim.P50 <= 0 || res.Live.P50 <= 0 || res.BytesPerAction <= 0 {
		t.Fatalf("result %+v\n%s", res, out.String())
	}
	if !strings.Contains(out.String(), "claim:") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// The bug filer's benchmark files bugs and duplicates and counts calls.
func TestGitHubBenchmark(t *testing.T) {
	var out strings.Builder
	res, err := RunGitHub(t.Context(), 3, 4, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if res.CallsPerBug <= 0 || res.CallsPerBug > 2 || res.Batches == 0 || res.CallsPerBatch > 1 {
		t.Fatalf("result %+v\n%s", res, out.String())
	}
}

// The storm benchmark, small and in one process: its three failures become
// three incidents in the queue API, holding their tickets and none of the
// unrelated ones, and every figure it prints was measured.
func TestStormBenchmark(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	var out strings.Builder
	cfg := StormConfig{Tickets: 60, Failures: 3, Unrelated: 10}
	res, err := runStorm(ctx, runInProcess, cfg, 8, 100, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())
	if res.Tickets != 60 || res.Unrelated != 10 || res.Failed != 0 || res.Routed != 70 {
		t.Fatalf("result %+v", res)
	}
	if len(res.Incidents) != 3 || !res.Settled || res.Held != 60 || res.Stray != 0 {
		t.Fatalf("incidents %+v (held %d, stray %d, settled %v), want 3 holding the 60 storm tickets", res.Incidents, res.Held, res.Stray, res.Settled)
	}
	failures := map[string]bool{}
	for _, inc := range res.Incidents {
		failures[inc.Failure] = true
		if inc.Count != 20 || inc.Purity != 1 || inc.Completeness != 1 || inc.Opener == "" || inc.OpenToVisible <= 0 {
			t.Errorf("incident %+v", inc)
		}
	}
	if len(failures) != 3 || failures[""] {
		t.Errorf("incidents' failures %v, want one each of the 3", failures)
	}
	if res.FirstVisible <= 0 || res.RoutedRate <= 0 || res.Submitted <= 0 {
		t.Errorf("figures %+v", res)
	}
	for _, want := range []string{"storm: 60 tickets of 3 failures", "opener routed -> listed", "incidents: 3 live (want 3), holding 60 of the 60 storm tickets", "storm routing/ceiling ratio", "CPU per ticket"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
