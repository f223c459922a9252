package queue

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
)

// Stray is an accepted ticket that has not reached a queue.
type Stray struct {
	TicketID    string    `json:"ticket_id"`
	SubmittedAt time.Time `json:"submitted_at"`
	// Stage is the last event the ticket got: submitted, enriched, routed.
	Stage string `json:"stage"`
}

// Reconcile lists every ticket accepted more than olderThan ago that is not
// in the tickets bucket. Delivery is at least once and JetStream keeps what
// it acknowledged, but disks fail (DESIGN.md "Reliability"): this is the
// check that every accepted ticket reached a queue.
func Reconcile(ctx context.Context, js jetstream.JetStream, olderThan time.Duration, now time.Time) ([]Stray, error) {
	subs, err := js.Stream(ctx, bus.StreamSubmissions)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", bus.StreamSubmissions, err)
	}
	tickets, err := js.Stream(ctx, bus.StreamTickets)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", bus.StreamTickets, err)
	}
	kv, err := js.KeyValue(ctx, bus.BucketTickets)
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", bus.BucketTickets, err)
	}
	info, err := subs.Info(ctx, jetstream.WithSubjectFilter(events.SubjectSubmitted+".*"))
	if err != nil {
		return nil, fmt.Errorf("list submitted tickets: %w", err)
	}
	// Every queued id in one listing, not one lookup per ticket.
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list queued tickets: %w", err)
	}
	queued := map[string]bool{}
	for key := range lister.Keys() { // closed once every key is listed
		queued[key] = true
	}
	_ = lister.Stop() // already stopped when the listing ends; says so
	var out []Stray
	for subject := range info.State.Subjects {
		id := strings.TrimPrefix(subject, events.SubjectSubmitted+".")
		if queued[id] {
			continue
		}
		msg, err := subs.GetLastMsgForSubject(ctx, subject)
		if err != nil {
			return nil, fmt.Errorf("read submission of %s: %w", id, err)
		}
		if now.Sub(msg.Time) < olderThan {
			continue // still on its way
		}
		st := Stray{TicketID: id, SubmittedAt: msg.Time.UTC(), Stage: "submitted"}
		for _, stage := range []string{events.SubjectEnriched, events.SubjectRouted} {
			if _, err := tickets.GetLastMsgForSubject(ctx, events.TicketSubject(stage, id)); err == nil {
				st.Stage = strings.TrimPrefix(stage, "tickets.")
			}
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SubmittedAt.Before(out[j].SubmittedAt) })
	return out, nil
}
