package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/triage-pipeline/triage/libs/events"
)

// storedEvent is one of a ticket's events as the stream keeps it.
type storedEvent struct {
	Seq  uint64
	Type string
	Time time.Time
	Data []byte
}

// DuePolicy gives a ticket's SLA due times (sla.go).
type DuePolicy interface {
	Due(severity string, from time.Time) (response, resolution time.Time)
}

// errNewerEvent: the ticket's history holds an event this version does not
// know (a newer replica wrote it during a rolling upgrade); the fold stops
// before it, and a newer replica takes over.
var errNewerEvent = errors.New("event of a newer version")

// apply folds one event into the record: the only place the ticket's
// state changes. It is pure (the same events give the same record), so
// any replica can rebuild a record from the stream, in any crash.
func apply(r *Record, ev storedEvent, due DuePolicy) error {
	if ev.Seq <= r.LastSeq {
		return nil // folded before
	}
	changed, err := applyType(r, ev, due)
	if err != nil {
		return fmt.Errorf("ticket %s event %d (%s): %w", r.Ticket.ID, ev.Seq, ev.Type, err)
	}
	r.LastSeq = ev.Seq
	if changed {
		r.Version = ev.Seq
		r.UpdatedAt = ev.Time.UTC()
	}
	return nil
}

func decode[T any](ev storedEvent) (T, error) {
	var v T
	if err := json.Unmarshal(ev.Data, &v); err != nil {
		return v, fmt.Errorf("decode: %w", err)
	}
	return v, nil
}

// applyType changes the record for one event and reports whether the
// state changed (an audit-only event, such as a logs view, does not).
func applyType(r *Record, ev storedEvent, due DuePolicy) (bool, error) {
	switch ev.Type {
	case events.TypeTicketRouted:
		in, err := decode[events.TicketRouted](ev)
		if err != nil {
			return false, err
		}
		return applyRouted(r, in, ev, due), nil
	case events.TypeTicketEnriched, events.TypeLogsPending:
		return false, nil // the routed event that follows carries it
	case events.TypeTicketLogsViewed:
		return false, nil // history only
	}
	if r.Version == 0 {
		// A person's event before the ticket was routed cannot happen (the
		// queue refuses actions on tickets it does not hold); skip it.
		return false, nil
	}
	switch ev.Type {
	case events.TypeTicketClaimed:
		in, err := decode[events.TicketClaimed](ev)
		if err != nil {
			return false, err
		}
		r.Assignee, r.Status, r.PersonTouched = in.Actor.Name, StatusClaimed, true
		responded(r, in.At)
	case events.TypeTicketReleased:
		r.Assignee = ""
		if working(r.Status) {
			r.Status = StatusNew
		}
	case events.TypeTicketReassigned:
		in, err := decode[events.TicketReassigned](ev)
		if err != nil {
			return false, err
		}
		r.Assignee, r.PersonTouched = in.Assignee, true
		if r.Status == StatusNew {
			r.Status = StatusClaimed
		}
		responded(r, in.At)
	case events.TypeTicketStatusChanged:
		in, err := decode[events.TicketStatusChanged](ev)
		if err != nil {
			return false, err
		}
		r.Status, r.PersonTouched = in.To, true
		switch in.To {
		case StatusResolved, StatusNotABug, StatusClosed, StatusFixed:
			if r.SLA.ResolvedAt == nil {
				at := in.At.UTC()
				r.SLA.ResolvedAt = &at
			}
		case StatusInvestigate, StatusWaiting:
			r.SLA.ResolvedAt = nil // reopened
		}
		if in.Message != "" {
			r.SupportMessage = in.Message
		}
		responded(r, in.At)
	case events.TypeTicketCommented:
		in, err := decode[events.TicketCommented](ev)
		if err != nil {
			return false, err
		}
		r.Comments++
		if in.Actor.Role != "support" {
			responded(r, in.At)
			if in.Visibility == events.VisibilitySupport {
				r.SupportMessage = in.Text
			}
		}
	case events.TypeTicketRerouted:
		in, err := decode[events.TicketRerouted](ev)
		if err != nil {
			return false, err
		}
		r.Queue, r.PersonTouched, r.RouterSuggests = in.To, true, nil
		r.Reroute = &Reroute{By: in.Actor.Name, At: in.At.UTC(), From: in.From, To: in.To, Reason: in.Reason}
	case events.TypeTicketBugConfirmed:
		in, err := decode[events.TicketBugConfirmed](ev)
		if err != nil {
			return false, err
		}
		r.Status, r.PersonTouched = StatusBugConfirmed, true
		r.Bug = &BugLink{Fingerprint: in.Bug.Fingerprint, State: events.BugFiling, UpdatedAt: in.At.UTC()}
		responded(r, in.At)
	case events.TypeTicketSLABreached:
		in, err := decode[events.TicketSLABreached](ev)
		if err != nil {
			return false, err
		}
		if in.Kind == events.SLAResponse {
			r.SLA.ResponseBreached = true
		} else {
			r.SLA.ResolutionBreached = true
		}
	case events.TypeTicketBugUpdated:
		in, err := decode[events.TicketBugUpdated](ev)
		if err != nil {
			return false, err
		}
		applyBug(r, in)
	case events.TypeTicketIncidentChanged:
		in, err := decode[events.TicketIncidentChanged](ev)
		if err != nil {
			return false, err
		}
		r.Routing.Incident, r.IncidentSplit = in.To, true
	default:
		// A type of a newer version: folding past it would lose it for
		// the newer replica that knows it.
		return false, fmt.Errorf("%w: %s", errNewerEvent, ev.Type)
	}
	return true, nil
}

func applyRouted(r *Record, in events.TicketRouted, ev storedEvent, due DuePolicy) bool {
	enr := in.Enrichment
	logs := len(enr.Logs)
	enr.Logs = nil
	if r.Version == 0 {
		resp, resol := due.Due(in.Routing.Severity, in.Ticket.SubmittedAt)
		*r = Record{
			SchemaVersion: RecordSchemaVersion, Ticket: in.Ticket, Enrichment: enr, LogCount: logs,
			Routing: in.Routing, Queue: in.Routing.Queue, Status: StatusNew,
			SLA:       SLA{ResponseDue: resp, ResolutionDue: resol},
			CreatedAt: ev.Time.UTC(), RoutedSeq: ev.Seq, LastSeq: r.LastSeq, extra: r.extra,
		}
		return true
	}
	if enr.Attempt < r.Enrichment.Attempt {
		return false // an older enrichment arriving late
	}
	incident := r.Routing.Incident
	r.Enrichment, r.LogCount, r.RoutedSeq, r.Routing = enr, logs, ev.Seq, in.Routing
	if r.IncidentSplit {
		r.Routing.Incident = incident // a person's split stays
	}
	if r.PersonTouched {
		// People decided where it is and who has it; the router's new view
		// is shown, not applied.
		r.RouterSuggests = nil
		if in.Routing.Queue != r.Queue {
			suggestion := in.Routing
			r.RouterSuggests = &suggestion
		}
		return true
	}
	r.Queue = in.Routing.Queue
	r.SLA.ResponseDue, r.SLA.ResolutionDue = due.Due(in.Routing.Severity, r.Ticket.SubmittedAt)
	return true
}

// responded marks the first response of an engineer, for the SLA.
func responded(r *Record, at time.Time) {
	if r.SLA.RespondedAt == nil {
		t := at.UTC()
		r.SLA.RespondedAt = &t
	}
}

func applyBug(r *Record, in events.TicketBugUpdated) {
	if r.Bug == nil {
		r.Bug = &BugLink{Fingerprint: in.Fingerprint}
	}
	b := r.Bug
	b.State, b.UpdatedAt, b.Note = in.State, in.At.UTC(), in.Note
	if in.IssueNumber != 0 {
		b.IssueNumber, b.IssueURL = in.IssueNumber, in.IssueURL
	}
	switch in.State {
	case events.BugClosed:
		if r.Status == StatusBugConfirmed {
			r.Status = StatusFixed
			at := in.At.UTC()
			r.SLA.ResolvedAt = &at
		}
	case events.BugReopened:
		if r.Status == StatusFixed || r.Status == StatusClosed {
			r.Status, r.SLA.ResolvedAt = StatusBugConfirmed, nil
		}
	}
}
