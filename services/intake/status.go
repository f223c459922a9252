package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
)

// Status is where a ticket is in the pipeline, as support staff see it:
// no raw logs, which can hold personal data.
type Status struct {
	TicketID    string            `json:"ticket_id"`
	Stage       string            `json:"stage"`
	Subject     string            `json:"subject"`
	TenantID    string            `json:"tenant_id"`
	SubmittedAt time.Time         `json:"submitted_at"`
	LogsStatus  events.LogsStatus `json:"logs_status,omitempty"`
	Queue       string            `json:"queue,omitempty"`
	Severity    string            `json:"severity,omitempty"`
	Component   string            `json:"component,omitempty"`
	Reasons     []string          `json:"reasons,omitempty"`
	History     []StageTime       `json:"history"`
}

// StageTime is when a ticket reached a stage.
type StageTime struct {
	Stage string    `json:"stage"`
	At    time.Time `json:"at"`
}

func (s *Service) status(w http.ResponseWriter, r *http.Request) {
	id := strings.ToLower(r.PathValue("id"))
	if !ticketIDPattern.MatchString(id) {
		httpapi.WriteError(w, r, httpapi.Errorf(httpapi.CodeTicketNotFound, "no ticket %q: ticket ids look like 0193f0c2-7b1a-7d4e-9a53-2f0c1b9e4d11", r.PathValue("id")))
		return
	}
	st, err := s.lookup(r.Context(), id)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, st)
}

// lookup reads the ticket's own subjects in SUBMISSIONS and TICKETS: the
// streams are the ticket's history, so no separate status store is needed.
func (s *Service) lookup(ctx context.Context, id string) (Status, error) {
	st := Status{TicketID: id}
	for _, stage := range []struct {
		subject string
		stream  jetstream.Stream
	}{
		{events.SubjectSubmitted, s.submissions}, {events.SubjectEnriched, s.tickets}, {events.SubjectRouted, s.tickets},
	} {
		msg, err := stage.stream.GetLastMsgForSubject(ctx, events.TicketSubject(stage.subject, id))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return st, fmt.Errorf("look up ticket %s: %w", id, err)
		}
		name := strings.TrimPrefix(stage.subject, "tickets.")
		st.Stage = name
		st.History = append(st.History, StageTime{Stage: name, At: msg.Time.UTC()})
		var evt events.TicketRouted // a superset of the other two events
		if err := json.Unmarshal(msg.Data, &evt); err != nil {
			return st, fmt.Errorf("decode ticket %s %s event: %w", id, name, err)
		}
		st.Subject, st.TenantID, st.SubmittedAt = evt.Ticket.Subject, evt.Ticket.TenantID, evt.Ticket.SubmittedAt
		if evt.Enrichment.LogsStatus != "" {
			st.LogsStatus = evt.Enrichment.LogsStatus
		}
		if evt.Routing.Queue != "" {
			st.Queue, st.Severity, st.Component, st.Reasons = evt.Routing.Queue, evt.Routing.Severity, evt.Routing.Component, evt.Routing.Reasons
		}
	}
	if st.Stage == "" {
		return st, httpapi.Errorf(httpapi.CodeTicketNotFound, "no ticket %s", id)
	}
	return st, nil
}
