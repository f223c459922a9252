package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/esdev"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/services/queue"
)

func queuedTicket(t *testing.T, p *Pipeline, id string) (queue.Record, bool) {
	t.Helper()
	resp, err := p.Get(p.Queue.URL()+"/api/v1/queue/tickets/"+id, p.Tokens.Engineer)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return queue.Record{}, false
	}
	var tk queue.Record
	if err := json.NewDecoder(resp.Body).Decode(&tk); err != nil {
		t.Fatal(err)
	}
	return tk, true
}

// submitQueued submits s through intake and waits for it in the queue.
func submitQueued(t *testing.T, p *Pipeline, s submission) queue.Record {
	t.Helper()
	r, err := submit(t.Context(), client(), p, s)
	if err != nil || r.status != http.StatusAccepted {
		t.Fatalf("submit: %d %v", r.status, err)
	}
	var tk queue.Record
	testkit.Eventually(t, time.Minute, func() error {
		var found bool
		if tk, found = queuedTicket(t, p, r.id); !found {
			return fmt.Errorf("ticket %s not queued yet", r.id)
		}
		return nil
	})
	return tk
}

// TestElasticsearchOutage: while Elasticsearch refuses connections every
// ticket still reaches the queue, marked logs pending; when it is back,
// every ticket gets its logs and the queue shows them.
func TestElasticsearchOutage(t *testing.T) {
	t.Setenv("TRIAGE_ES_PENDING_RETRY", "300ms")
	// The refused connections fail at once; the timeout only has to let a
	// loaded, race-detecting machine answer once Elasticsearch is back,
	// since slow answers would open the circuit breaker again.
	t.Setenv("TRIAGE_ES_TIMEOUT", "2s")
	t.Setenv("TRIAGE_ES_DEADLINE", "3s")
	t.Setenv("TRIAGE_ES_MAX_RETRIES", "1")
	p := startPipeline(t, t.TempDir())
	if p.ES == nil || p.World == nil {
		t.Fatal("the pipeline did not start its development Elasticsearch")
	}
	// The Elasticsearch is the package's shared one: leave it healthy.
	t.Cleanup(p.ES.ClearFaults)
	if err := p.ES.InjectFault(esdev.Fault{Kind: esdev.FaultRefuse}); err != nil {
		t.Fatal(err)
	}
	// Tickets naming an order the demo world has, so logs exist for them.
	var ids []string
	client := &http.Client{Timeout: 5 * time.Second}
	// One ticket per order: the order id is the Idempotency-Key, and two logs
	// of one order have different times, so a second ticket would reuse the
	// key with another body (422).
	// The world runs to the end of this hour: logs still ahead of the clock
	// would make occurred_at lie in the future, which intake refuses.
	usedOrders := map[string]bool{}
	now := time.Now()
	for i, lg := range p.World.Logs {
		if lg.Labels.OrderID == "" || lg.Labels.TenantID == "" || len(ids) == 10 || i%97 != 0 ||
			usedOrders[lg.Labels.OrderID] || lg.Timestamp.Time.After(now) {
			continue
		}
		usedOrders[lg.Labels.OrderID] = true
		s := submission{key: "outage-" + lg.Labels.OrderID, body: map[string]any{
			"subject": "Order problem", "description": "Something went wrong with order " + lg.Labels.OrderID,
			"tenant_id": lg.Labels.TenantID, "occurred_at": lg.Timestamp.Time.Format(time.RFC3339),
		}}
		r, err := submit(context.Background(), client, p.Pipeline, s)
		if err != nil || r.status != http.StatusAccepted {
			t.Fatalf("submit: %d %v", r.status, err)
		}
		ids = append(ids, r.id)
	}
	if len(ids) != 10 {
		t.Fatalf("the demo world gave %d orders to ask about, want 10", len(ids))
	}
	waitAll := func(what string, ok func(queue.Record) bool) {
		t.Helper()
		for _, id := range ids {
			testkit.Eventually(t, 60*time.Second, func() error {
				if tk, found := queuedTicket(t, p.Pipeline, id); !found || !ok(tk) {
					return fmt.Errorf("ticket %s not yet %s: %+v", id, what, tk.Enrichment)
				}
				return nil
			})
		}
	}
	waitAll("queued with logs pending", func(tk queue.Record) bool {
		return tk.Enrichment.LogsStatus == events.LogsPending && tk.Routing.Queue != ""
	})
	p.ES.ClearFaults()
	waitAll("got its logs", func(tk queue.Record) bool {
		return tk.Enrichment.LogsStatus == events.LogsAttached && tk.LogCount > 0 && tk.Enrichment.Attempt >= 2
	})
}
