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
		who := events.Actor{Name: ev.Ticket.Reporter}
		if who.Name == "" {
			who = events.Actor{Name: "intake", Role: "system"}
		}
		out = append(out, HistoryEntry{Seq: 0, Type: "submitted", At: m.Time.UTC(), Actor: who,
			Phrase: say("history.submitted", labelled("channel", ev.Ticket.Channel))})
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
		status, attempt := labelled("logsStatus", a.Enrichment.LogsStatus), literal(a.Enrichment.Attempt)
		e.Phrase = say("history.enriched", status, attempt)
		if a.Enrichment.ErrorLogs > 0 {
			e.Phrase = say("history.enrichedErrors", status, attempt, literal(a.Enrichment.ErrorLogs))
		}
	case events.TypeLogsPending:
		e.Actor = events.Actor{Name: "enricher", Role: "system"}
		e.Phrase = say("history.logsPending")
	case events.TypeTicketRouted:
		e.Actor = events.Actor{Name: "router", Role: "system"}
		e.Phrase = say("history.routed", labelled("queue", a.Routing.Queue), literal(a.Routing.Severity), labelled("component", a.Routing.Component))
		e.Detail = strings.Join(a.Routing.Reasons, "; ")
	case events.TypeTicketClaimed:
		e.Phrase = say("history.claimed")
	case events.TypeTicketReleased:
		e.Phrase = say("history.released")
		e.Detail = a.Reason
	case events.TypeTicketReassigned:
		e.Phrase = say("history.reassigned", literal(a.Assignee))
		e.Detail = a.Reason
	case events.TypeTicketStatusChanged:
		e.Phrase = say("history.statusChanged", labelled("status", a.From), labelled("status", a.To))
		e.Detail = strings.TrimSpace(a.Message + "\n" + a.Reason)
	case events.TypeTicketCommented:
		e.Phrase = say("history.commented")
		if a.Visibility == events.VisibilitySupport {
			e.Phrase = say("history.wroteToSupport")
		}
		e.Detail, e.Internal = a.Text, a.Visibility == events.VisibilityInternal
	case events.TypeTicketRerouted:
		e.Phrase = say("history.rerouted", labelled("queue", a.From), labelled("queue", a.To))
		e.Detail = a.Reason
	case events.TypeTicketIncidentChanged:
		e.Phrase = say("history.split", literal(a.From))
		e.Detail = a.Reason
	case events.TypeTicketBugConfirmed:
		e.Phrase = say("history.bugConfirmed", literal(a.Bug.Title))
		e.Detail = "fingerprint " + a.Bug.Fingerprint
	case events.TypeTicketLogsViewed:
		e.Phrase, e.Internal = say("history.logsViewed", literal(a.Logs)), true
	case events.TypeTicketSLABreached:
		e.Phrase = say("history.slaMissed", labelled("slaKind", a.Kind))
	case events.TypeTicketBugUpdated:
		issue := literal(a.IssueNum)
		switch a.State {
		case events.BugOpen:
			e.Phrase = say("history.bugFiled", issue)
		case events.BugClosed:
			e.Phrase = say("history.bugFixed", issue)
		case events.BugReopened:
			e.Phrase = say("history.bugReopened", issue)
		default:
			e.Phrase = say("history.bugFailed")
		}
		e.Detail = strings.TrimSpace(a.IssueURL + " " + a.Note)
	default:
		return e, false
	}
	return e, true
}

// phrase is a history line before it is put in words: a key of the pages'
// string tables and its arguments. The API says it in English and each
// page in its reader's language, from the one phrase.
type phrase struct {
	Key  string
	Args []phraseArg
}

// phraseArg is a value in a phrase. Kind names the vocabulary whose label
// stands for it ("queue", "status"); a value without one is shown as it
// is (a name, a count, a title).
type phraseArg struct{ Kind, Value string }

func say(key string, args ...phraseArg) phrase { return phrase{Key: key, Args: args} }

func labelled(kind, v string) phraseArg { return phraseArg{Kind: kind, Value: v} }

func literal(v any) phraseArg { return phraseArg{Value: fmt.Sprint(v)} }
