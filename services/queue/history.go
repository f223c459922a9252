package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
)

// history reads a ticket's events from SUBMISSIONS and TICKETS and says
// what each was, in order. Support staff do not see internal notes nor
// who read the logs.
func (s *Service) history(ctx context.Context, id string, p auth.Principal) ([]HistoryEntry, error) {
	out := []HistoryEntry{}
	subs, err := s.JS.Stream(ctx, bus.StreamSubmissions)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", bus.StreamSubmissions, err)
	}
	if m, err := subs.GetLastMsgForSubject(ctx, events.TicketSubject(events.SubjectSubmitted, id)); err == nil {
		var ev events.TicketSubmitted
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			return nil, fmt.Errorf("decode ticket %s's submission: %w", id, err)
		}
		who := ev.Ticket.Reporter
		if who == "" {
			who = "intake"
		}
		out = append(out, HistoryEntry{Seq: 0, Type: "submitted", At: m.Time.UTC(), Actor: events.Actor{Name: who},
			Text: "submitted through " + ev.Ticket.Channel})
	} else if !errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("read ticket %s's submission: %w", id, err)
	}
	msgs, err := s.st.history(ctx, id)
	if err != nil {
		return nil, err
	}
	engineer := p.Role.Includes(auth.RoleEngineer)
	for _, m := range msgs {
		e, ok := describe(m)
		if !ok || (e.Internal && !engineer) {
			continue
		}
		if !engineer && m.Header.Get(bus.HeaderType) == events.TypeTicketRouted {
			// The router's reasons quote the logs (error templates,
			// statuses, codes), which are for engineers.
			e.Detail = ""
		}
		out = append(out, e)
	}
	return out, nil
}

// describe says in words what one stored event was.
func describe(m *jetstream.RawStreamMsg) (HistoryEntry, bool) {
	typ := m.Header.Get(bus.HeaderType)
	e := HistoryEntry{Seq: m.Sequence, Type: strings.TrimPrefix(strings.TrimSuffix(typ, ".v1"), "io.triage.ticket."), At: m.Time.UTC()}
	var a struct {
		events.Action
		Previous   string           `json:"previous"`
		Assignee   string           `json:"assignee"`
		From       string           `json:"from"`
		To         string           `json:"to"`
		Message    string           `json:"message"`
		Text       string           `json:"text"`
		Visibility string           `json:"visibility"`
		Bug        events.BugReport `json:"bug"`
		Logs       int              `json:"logs"`
		Kind       string           `json:"kind"`
		State      string           `json:"state"`
		IssueURL   string           `json:"issue_url"`
		IssueNum   int              `json:"issue_number"`
		Note       string           `json:"note"`
		Routing    events.Routing   `json:"routing"`
		Enrichment struct {
			LogsStatus string `json:"logs_status"`
			ErrorLogs  int    `json:"error_logs"`
			Attempt    int    `json:"attempt"`
		} `json:"enrichment"`
	}
	if err := json.Unmarshal(m.Data, &a); err != nil {
		return e, false
	}
	e.Actor = a.Actor
	if !a.At.IsZero() {
		e.At = a.At.UTC()
	}
	switch typ {
	case events.TypeTicketEnriched:
		e.Actor = events.Actor{Name: "enricher", Role: "system"}
		e.Text = fmt.Sprintf("logs %s (attempt %d)", a.Enrichment.LogsStatus, a.Enrichment.Attempt)
		if a.Enrichment.ErrorLogs > 0 {
			e.Text += fmt.Sprintf(", %d error logs", a.Enrichment.ErrorLogs)
		}
	case events.TypeLogsPending:
		e.Actor = events.Actor{Name: "enricher", Role: "system"}
		e.Text = "logs pending: Elasticsearch did not answer; retrying"
	case events.TypeTicketRouted:
		e.Actor = events.Actor{Name: "router", Role: "system"}
		e.Text = fmt.Sprintf("routed to %s, %s, %s", a.Routing.Queue, a.Routing.Severity, a.Routing.Component)
		e.Detail = strings.Join(a.Routing.Reasons, "; ")
	case events.TypeTicketClaimed:
		e.Text = "claimed the ticket"
	case events.TypeTicketReleased:
		e.Text = "released the ticket"
		e.Detail = a.Reason
	case events.TypeTicketReassigned:
		e.Text = "assigned the ticket to " + a.Assignee
		e.Detail = a.Reason
	case events.TypeTicketStatusChanged:
		e.Text = fmt.Sprintf("changed the status from %s to %s", a.From, a.To)
		e.Detail = strings.TrimSpace(a.Message + "\n" + a.Reason)
	case events.TypeTicketCommented:
		e.Text = "commented"
		if a.Visibility == events.VisibilitySupport {
			e.Text = "wrote to support"
		}
		e.Detail, e.Internal = a.Text, a.Visibility == events.VisibilityInternal
	case events.TypeTicketRerouted:
		e.Text = fmt.Sprintf("moved the ticket from the %s queue to the %s queue", a.From, a.To)
		e.Detail = a.Reason
	case events.TypeTicketBugConfirmed:
		e.Text = "confirmed a bug: " + a.Bug.Title
		e.Detail = "fingerprint " + a.Bug.Fingerprint
	case events.TypeTicketLogsViewed:
		e.Text, e.Internal = fmt.Sprintf("read the %d attached logs", a.Logs), true
	case events.TypeTicketSLABreached:
		e.Text = "missed the " + a.Kind + " target"
	case events.TypeTicketBugUpdated:
		switch a.State {
		case events.BugOpen:
			e.Text = fmt.Sprintf("filed as GitHub issue #%d", a.IssueNum)
		case events.BugClosed:
			e.Text = fmt.Sprintf("fixed: GitHub issue #%d was closed", a.IssueNum)
		case events.BugReopened:
			e.Text = fmt.Sprintf("GitHub issue #%d was reopened", a.IssueNum)
		default:
			e.Text = "filing the bug failed"
		}
		e.Detail = strings.TrimSpace(a.IssueURL + " " + a.Note)
	default:
		return e, false
	}
	return e, true
}
