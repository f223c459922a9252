package training

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/services/router"
)

// Correction is a person's re-route of a ticket, with the ticket as the
// router saw it.
type Correction struct {
	TicketID   string
	Rerouted   events.TicketRerouted
	Ticket     events.Ticket
	Enrichment events.Enrichment
}

// Example is the correction as a labelled example: the queue the person
// chose says technical or not; component and severity stay unknown.
func (c Correction) Example(weight float64) router.Example {
	return router.Example{
		ID: "correction:" + c.TicketID, Ticket: c.Ticket, Enrichment: c.Enrichment,
		Technical: c.Rerouted.To == events.QueueEscalation, Weight: weight, Correction: true,
	}
}

// lastPerSubject reads the last message of every subject under prefix.*
// in a stream: one per ticket.
func lastPerSubject(ctx context.Context, js jetstream.JetStream, stream, prefix string) (map[string]*jetstream.RawStreamMsg, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(prefix+".*"))
	if err != nil {
		return nil, fmt.Errorf("list %s.*: %w", prefix, err)
	}
	out := make(map[string]*jetstream.RawStreamMsg, len(info.State.Subjects))
	for subject := range info.State.Subjects {
		msg, err := s.GetLastMsgForSubject(ctx, subject)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", subject, err)
		}
		out[strings.TrimPrefix(subject, prefix+".")] = msg
	}
	return out, nil
}

// ReadCorrections reads every re-routed ticket's last re-route from
// TICKETS, with the ticket's text and logs from its last tickets.routed
// event (or its tickets.submitted event in SUBMISSIONS when it has none),
// in ticket id order.
func ReadCorrections(ctx context.Context, js jetstream.JetStream) ([]Correction, error) {
	rerouted, err := lastPerSubject(ctx, js, events.StreamTickets, events.SubjectRerouted)
	if err != nil {
		return nil, err
	}
	tickets, err := js.Stream(ctx, events.StreamTickets)
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", events.StreamTickets, err)
	}
	var out []Correction
	for id, msg := range rerouted {
		c := Correction{TicketID: id}
		if err := json.Unmarshal(msg.Data, &c.Rerouted); err != nil {
			return nil, fmt.Errorf("decode re-route of %s: %w", id, err)
		}
		if r, err := tickets.GetLastMsgForSubject(ctx, events.TicketSubject(events.SubjectRouted, id)); err == nil {
			var ev events.TicketRouted
			if err := json.Unmarshal(r.Data, &ev); err != nil {
				return nil, fmt.Errorf("decode routed %s: %w", id, err)
			}
			c.Ticket, c.Enrichment = ev.Ticket, ev.Enrichment
		} else if errors.Is(err, jetstream.ErrMsgNotFound) {
			subs, err := js.Stream(ctx, events.StreamSubmissions)
			if err != nil {
				return nil, fmt.Errorf("open stream %s: %w", events.StreamSubmissions, err)
			}
			sm, err := subs.GetLastMsgForSubject(ctx, events.TicketSubject(events.SubjectSubmitted, id))
			if err != nil {
				return nil, fmt.Errorf("ticket %s was re-routed but neither its routing nor its submission can be read: %w", id, err)
			}
			var ev events.TicketSubmitted
			if err := json.Unmarshal(sm.Data, &ev); err != nil {
				return nil, fmt.Errorf("decode submitted %s: %w", id, err)
			}
			c.Ticket = ev.Ticket
		} else {
			return nil, fmt.Errorf("read routing of %s: %w", id, err)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TicketID < out[j].TicketID })
	return out, nil
}

// ReadRouted reads every ticket's last routing in TICKETS, in ticket id
// order: what a retrain is compared on.
func ReadRouted(ctx context.Context, js jetstream.JetStream) ([]events.TicketRouted, error) {
	routed, err := lastPerSubject(ctx, js, events.StreamTickets, events.SubjectRouted)
	if err != nil {
		return nil, err
	}
	out := make([]events.TicketRouted, 0, len(routed))
	for id, msg := range routed {
		var ev events.TicketRouted
		if err := json.Unmarshal(msg.Data, &ev); err != nil {
			return nil, fmt.Errorf("decode routed %s: %w", id, err)
		}
		out = append(out, ev)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ticket.ID < out[j].Ticket.ID })
	return out, nil
}

// Flip is one ticket whose decision a retrain would change.
type Flip struct {
	TicketID, Subject string
	Before, After     events.Routing
}

// Diff counts what a new classifier would decide differently on tickets.
type Diff struct {
	Tickets int
	// ToEscalation and ToSupport count queue changes (needs-triage
	// tickets counted by the queue they wait in).
	ToEscalation, ToSupport int
	// IntoTriage and OutOfTriage count changes of the needs-triage flag.
	IntoTriage, OutOfTriage int
	Severity, Component     int
	// Flips lists every ticket whose queue, flag, severity or component
	// would change.
	Flips []Flip
}

// Compare decides every routed ticket with the old and the new classifier.
func Compare(old, updated *router.Classifier, routed []events.TicketRouted) Diff {
	d := Diff{Tickets: len(routed)}
	for _, ev := range routed {
		a := old.Decide(ev.Ticket, ev.Enrichment)
		b := updated.Decide(ev.Ticket, ev.Enrichment)
		changed := false
		if a.Queue != b.Queue {
			changed = true
			if b.Queue == events.QueueEscalation {
				d.ToEscalation++
			} else {
				d.ToSupport++
			}
		}
		if a.NeedsTriage != b.NeedsTriage {
			changed = true
			if b.NeedsTriage {
				d.IntoTriage++
			} else {
				d.OutOfTriage++
			}
		}
		if a.Severity != b.Severity {
			changed = true
			d.Severity++
		}
		if a.Component != b.Component {
			changed = true
			d.Component++
		}
		if changed {
			d.Flips = append(d.Flips, Flip{TicketID: ev.Ticket.ID, Subject: ev.Ticket.Subject, Before: a, After: b})
		}
	}
	return d
}
