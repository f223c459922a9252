package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/triage-pipeline/triage/services/queue"
)

// Reconciliation finds an accepted ticket that never reached a queue (here
// one whose submission the enricher cannot read), and nothing else.
func TestReconcileFindsStrays(t *testing.T) {
	p := startPipeline(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, s := range sampleTickets(5) {
		if r, err := submit(ctx, client(), p.Pipeline, s); err != nil || r.status != 202 {
			t.Fatalf("submit: %d %v", r.status, err)
		}
	}
	queueContents(t, p.Pipeline, 5)
	m := nats.NewMsg("tickets.submitted.stray-1")
	m.Data = []byte(`{"schema_version":99}`)
	if _, err := p.Intake.JS.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	if strays, err := queue.Reconcile(ctx, p.Queue.JS, time.Minute, time.Now()); err != nil || len(strays) != 0 {
		t.Fatalf("a fresh submission counted as stray: %v %v", strays, err)
	}
	strays, err := queue.Reconcile(ctx, p.Queue.JS, time.Minute, time.Now().Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(strays) != 1 || strays[0].TicketID != "stray-1" || strays[0].Stage != "submitted" {
		t.Fatalf("strays %+v, want only stray-1", strays)
	}
}
