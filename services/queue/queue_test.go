package queue

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/natsembed/natstest"
	"github.com/triage-pipeline/triage/libs/service/servicetest"
)

func TestListOrdersByPriorityThenAge(t *testing.T) {
	v := newView()
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	add := func(id, queue, sev string, ageMin int) {
		v.put(Ticket{
			Ticket:  events.Ticket{ID: id, SubmittedAt: base.Add(-time.Duration(ageMin) * time.Minute)},
			Routing: events.Routing{Queue: queue, Severity: sev},
		})
	}
	add("new-p1", "escalation", "P1", 1)
	add("old-p3", "escalation", "P3", 90)
	add("old-p1", "escalation", "P1", 30)
	add("p2", "escalation", "P2", 5)
	add("support", "support", "P1", 100)
	got, total := v.list("escalation", 0, 10)
	var ids []string
	for _, s := range got {
		ids = append(ids, s.ID)
	}
	if want := "[old-p1 new-p1 p2 old-p3]"; fmt.Sprint(ids) != want || total != 4 {
		t.Fatalf("order %v (total %d), want %s", ids, total, want)
	}
	page, _ := v.list("escalation", 1, 2)
	if len(page) != 2 || page[0].ID != "new-p1" || page[1].ID != "p2" {
		t.Fatalf("page %+v", page)
	}
	if rest, _ := v.list("escalation", 10, 2); len(rest) != 0 {
		t.Fatalf("offset past the end gave %d", len(rest))
	}
}

func TestRedeliveredAndStaleEventsChangeNothing(t *testing.T) {
	srv := natstest.RunJetStream(t)
	var cfg Config
	if err := config.Load("queue", &cfg, []string{"--nats-url", srv.ClientURL(), "--http-addr", "127.0.0.1:0", "--retry-backoff", "20ms"}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	s, err := New(ctx, cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	servicetest.Run(t, s)

	publish := func(attempt int, sev, msgID string) {
		t.Helper()
		_, err := bus.Publish(ctx, s.JS, bus.Event{
			Subject: "tickets.routed.t1", Type: events.TypeTicketRouted, ID: msgID, Source: "test", Time: time.Now(),
			Data: events.TicketRouted{
				SchemaVersion: 1,
				Ticket:        events.Ticket{ID: "t1", Subject: "s", SubmittedAt: time.Now()},
				Enrichment:    events.Enrichment{Attempt: attempt},
				Routing:       events.Routing{Queue: "escalation", Severity: sev},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	get := func() (Ticket, uint64) {
		t.Helper()
		resp, err := http.Get(s.URL() + "/api/v1/queue/tickets/t1?wait=30s")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var tk Ticket
		_ = json.NewDecoder(resp.Body).Decode(&tk)
		e, _ := s.kv.Get(ctx, "t1")
		return tk, e.Revision()
	}
	publish(2, "P2", "a")
	first, rev := get()
	if first.Routing.Severity != "P2" || first.Status != StatusNew {
		t.Fatalf("first state %+v", first)
	}
	publish(1, "P4", "b") // an older enrichment attempt arriving late
	publish(3, "P1", "c") // a newer one
	deadline := time.Now().Add(10 * time.Second)
	for {
		cur, r := get()
		if cur.Routing.Severity == "P1" {
			if r != rev+1 {
				t.Fatalf("revision %d, want %d: the stale event was applied", r, rev+1)
			}
			if !cur.CreatedAt.Equal(first.CreatedAt) {
				t.Fatal("re-routing reset created_at")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("newest routing never applied: %+v", cur)
		}
		time.Sleep(20 * time.Millisecond)
	}

	resp, err := http.Get(s.URL() + "/api/v1/queue?queue=nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad queue name: status %d", resp.StatusCode)
	}
	resp, err = http.Get(s.URL() + "/api/v1/queue/tickets/missing?wait=50ms")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("missing ticket: status %d", resp.StatusCode)
	}
}
