package bench

import (
	"context"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/demoworld"
	"github.com/triage-pipeline/triage/services/intake"
)

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

// The ceiling run moves every message through all hops on a real server.
func TestCeilingDeliversEveryMessage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rate, err := Ceiling(ctx, 200, 256)
	if err != nil {
		t.Fatal(err)
	}
	if rate <= 0 {
		t.Fatalf("rate %f", rate)
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
