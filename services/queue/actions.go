package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
	"github.com/triage-pipeline/triage/libs/logging"
)

// ActionRequest is the body of every action; each action reads the fields
// it needs and refuses the rest as missing or invalid.
type ActionRequest struct {
	Assignee   string `json:"assignee,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Status     string `json:"status,omitempty"`
	Message    string `json:"message,omitempty"`
	Text       string `json:"text,omitempty"`
	Visibility string `json:"visibility,omitempty"`
	Queue      string `json:"queue,omitempty"`
	// Confirm bug.
	Fingerprint string   `json:"fingerprint,omitempty"`
	Title       string   `json:"title,omitempty"`
	Notes       string   `json:"notes,omitempty"`
	LogIDs      []string `json:"log_ids,omitempty"`
}

// actionKind builds one action's event from the current record, or refuses
// it with the API's error.
type actionKind struct {
	name  string
	build func(ctx context.Context, s *Service, r *Record, p auth.Principal, req ActionRequest, at time.Time) (draft, error)
}

// draft is an action's event before it is written.
type draft struct {
	subject, typ string
	data         any
}

const (
	maxReason = 1000
	maxTitle  = 200
)

func fieldErr(field string, code httpapi.FieldCode, format string, args ...any) error {
	e := httpapi.Errorf(httpapi.CodeInvalidRequest, "%s: "+format, append([]any{field}, args...)...)
	e.Fields = []httpapi.FieldError{{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}}
	return e
}

// text checks a free-text field: required or not, length, no control
// characters but line breaks.
func text(field, v string, max int, required bool) error {
	switch n := utf8.RuneCountInString(v); {
	case required && strings.TrimSpace(v) == "":
		return fieldErr(field, httpapi.FieldRequired, "is required")
	case n > max:
		return fieldErr(field, httpapi.FieldTooLong, "at most %d characters, got %d", max, n)
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\r' && r != '\t' }):
		return fieldErr(field, httpapi.FieldControlCharacters, "contains control characters; send plain text")
	}
	return nil
}

func base(r *Record, p auth.Principal, at time.Time, reason string) events.Action {
	return events.Action{SchemaVersion: events.SchemaVersion, TicketID: r.Ticket.ID, Actor: actorOf(p), At: at, Reason: reason}
}

// owns reports whether p may act as the ticket's owner.
func owns(r *Record, p auth.Principal) error {
	if r.Assignee == p.Name || p.Role.Includes(auth.RoleAdmin) {
		return nil
	}
	if r.Assignee == "" {
		return httpapi.Errorf(httpapi.CodeNotOwner, "nobody owns ticket %s; claim it first", r.Ticket.ID)
	}
	return httpapi.Errorf(httpapi.CodeNotOwner, "ticket %s is owned by %s; only they (or an admin) can do this", r.Ticket.ID, r.Assignee)
}

var (
	actClaim = actionKind{"claim", func(_ context.Context, _ *Service, r *Record, p auth.Principal, _ ActionRequest, at time.Time) (draft, error) {
		switch {
		case r.Assignee == p.Name:
			return draft{}, httpapi.Errorf(httpapi.CodeAlreadyClaimed, "you already own ticket %s", r.Ticket.ID)
		case r.Assignee != "":
			return draft{}, httpapi.Errorf(httpapi.CodeAlreadyClaimed, "ticket %s is already claimed by %s", r.Ticket.ID, r.Assignee)
		case !r.Open():
			return draft{}, httpapi.Errorf(httpapi.CodeInvalidTransition, "ticket %s is closed; reopen it (status investigating) first", r.Ticket.ID)
		}
		return draft{events.SubjectClaimed, events.TypeTicketClaimed, events.TicketClaimed{Action: base(r, p, at, "")}}, nil
	}}
	actRelease = actionKind{"release", func(_ context.Context, _ *Service, r *Record, p auth.Principal, req ActionRequest, at time.Time) (draft, error) {
		if err := owns(r, p); err != nil {
			return draft{}, err
		}
		if !working(r.Status) {
			return draft{}, httpapi.Errorf(httpapi.CodeInvalidTransition, "ticket %s is %s: only a ticket being worked (%s) can be released; reopen it first",
				r.Ticket.ID, r.Status, strings.Join([]string{StatusClaimed, StatusInvestigate, StatusWaiting}, ", "))
		}
		if err := text("reason", req.Reason, maxReason, false); err != nil {
			return draft{}, err
		}
		return draft{events.SubjectReleased, events.TypeTicketReleased, events.TicketReleased{Action: base(r, p, at, req.Reason), Previous: r.Assignee}}, nil
	}}
	actAssign = actionKind{"assign", func(_ context.Context, _ *Service, r *Record, p auth.Principal, req ActionRequest, at time.Time) (draft, error) {
		req.Assignee = strings.TrimSpace(req.Assignee)
		if err := text("assignee", req.Assignee, 100, true); err != nil {
			return draft{}, err
		}
		if err := text("reason", req.Reason, maxReason, true); err != nil {
			return draft{}, err
		}
		if r.Assignee != "" && r.Assignee != p.Name && !p.Role.Includes(auth.RoleAdmin) {
			return draft{}, httpapi.Errorf(httpapi.CodeNotOwner, "ticket %s is owned by %s; only they (or an admin) can hand it on", r.Ticket.ID, r.Assignee)
		}
		if req.Assignee == r.Assignee {
			return draft{}, httpapi.Errorf(httpapi.CodeAlreadyClaimed, "%s already owns ticket %s", req.Assignee, r.Ticket.ID)
		}
		return draft{events.SubjectReassigned, events.TypeTicketReassigned,
			events.TicketReassigned{Action: base(r, p, at, req.Reason), Previous: r.Assignee, Assignee: req.Assignee}}, nil
	}}
	actStatus = actionKind{"status", func(_ context.Context, _ *Service, r *Record, p auth.Principal, req ActionRequest, at time.Time) (draft, error) {
		if !isStatus(req.Status) {
			return draft{}, fieldErr("status", httpapi.FieldInvalidValue, "must be one of %s", strings.Join(Statuses(), ", "))
		}
		if err := text("message", req.Message, 4000, false); err != nil {
			return draft{}, err
		}
		if err := text("reason", req.Reason, maxReason, false); err != nil {
			return draft{}, err
		}
		allowed := transitions(r.Status)
		if !slices.Contains(allowed, req.Status) {
			if len(allowed) == 0 {
				return draft{}, httpapi.Errorf(httpapi.CodeInvalidTransition, "ticket %s is %s: claim it first", r.Ticket.ID, r.Status)
			}
			return draft{}, httpapi.Errorf(httpapi.CodeInvalidTransition, "ticket %s is %s; it can go to %s, not %s",
				r.Ticket.ID, r.Status, strings.Join(allowed, ", "), req.Status)
		}
		if err := owns(r, p); err != nil && r.Open() {
			return draft{}, err
		}
		return draft{events.SubjectStatusChanged, events.TypeTicketStatusChanged,
			events.TicketStatusChanged{Action: base(r, p, at, req.Reason), From: r.Status, To: req.Status, Message: req.Message}}, nil
	}}
	actComment = actionKind{"comment", func(_ context.Context, s *Service, r *Record, p auth.Principal, req ActionRequest, at time.Time) (draft, error) {
		if err := text("text", req.Text, s.cfg.MaxComment, true); err != nil {
			return draft{}, err
		}
		switch {
		case req.Visibility == "" && p.Role.Includes(auth.RoleEngineer):
			req.Visibility = events.VisibilityInternal
		case req.Visibility == "" || !p.Role.Includes(auth.RoleEngineer):
			// Support staff's notes are for everyone working the ticket.
			req.Visibility = events.VisibilitySupport
		case req.Visibility != events.VisibilityInternal && req.Visibility != events.VisibilitySupport:
			return draft{}, fieldErr("visibility", httpapi.FieldInvalidValue, "must be %q or %q", events.VisibilityInternal, events.VisibilitySupport)
		}
		return draft{events.SubjectCommented, events.TypeTicketCommented,
			events.TicketCommented{Action: base(r, p, at, ""), Text: req.Text, Visibility: req.Visibility}}, nil
	}}
	actReroute = actionKind{"reroute", func(_ context.Context, _ *Service, r *Record, p auth.Principal, req ActionRequest, at time.Time) (draft, error) {
		if req.Queue != events.QueueEscalation && req.Queue != events.QueueSupport {
			return draft{}, fieldErr("queue", httpapi.FieldInvalidValue, "must be %q or %q", events.QueueEscalation, events.QueueSupport)
		}
		if err := text("reason", req.Reason, maxReason, true); err != nil {
			return draft{}, err
		}
		switch {
		case req.Queue == r.Queue:
			return draft{}, httpapi.Errorf(httpapi.CodeInvalidTransition, "ticket %s is in the %s queue already", r.Ticket.ID, r.Queue)
		case req.Queue == events.QueueSupport && !p.Role.Includes(auth.RoleEngineer):
			return draft{}, httpapi.Errorf(httpapi.CodeForbidden, "support staff may send a ticket to escalation; only engineers send one back to support")
		case r.Assignee != "" && r.Assignee != p.Name && !p.Role.Includes(auth.RoleAdmin) && p.Role.Includes(auth.RoleEngineer):
			return draft{}, httpapi.Errorf(httpapi.CodeNotOwner, "ticket %s is owned by %s; only they (or an admin) can re-route it", r.Ticket.ID, r.Assignee)
		}
		return draft{events.SubjectRerouted, events.TypeTicketRerouted,
			events.TicketRerouted{Action: base(r, p, at, req.Reason), From: r.Queue, To: req.Queue, RouterDecision: r.Routing}}, nil
	}}
	actConfirmBug = actionKind{"confirm-bug", func(ctx context.Context, s *Service, r *Record, p auth.Principal, req ActionRequest, at time.Time) (draft, error) {
		if err := owns(r, p); err != nil {
			return draft{}, err
		}
		allowed := []string{StatusClaimed, StatusInvestigate, StatusWaiting}
		if !slices.Contains(allowed, r.Status) {
			return draft{}, httpapi.Errorf(httpapi.CodeInvalidTransition, "ticket %s is %s; a bug is confirmed from %s", r.Ticket.ID, r.Status, strings.Join(allowed, ", "))
		}
		if err := text("title", req.Title, maxTitle, false); err != nil {
			return draft{}, err
		}
		if err := text("notes", req.Notes, s.cfg.MaxComment, false); err != nil {
			return draft{}, err
		}
		bug, err := s.bugReport(ctx, r, req)
		if err != nil {
			return draft{}, err
		}
		return draft{events.SubjectBugConfirmed, events.TypeTicketBugConfirmed,
			events.TicketBugConfirmed{Action: base(r, p, at, ""), Bug: bug}}, nil
	}}
)

// action is the handler of one action kind: it decodes the body and runs
// the action with the If-Match the client sent.
func (s *Service) action(kind actionKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req ActionRequest
		if r.ContentLength != 0 {
			if err := decodeBody(r, &req); err != nil {
				httpapi.WriteError(w, r, err)
				return
			}
		}
		p, _ := auth.From(r.Context())
		rec, err := s.act(r.Context(), r.PathValue("id"), p, r.Header.Get("If-Match"), kind, req)
		if err != nil {
			var stale *staleError
			if errors.As(err, &stale) {
				w.Header().Set("ETag", etag(stale.current))
			}
			httpapi.WriteError(w, r, err)
			return
		}
		w.Header().Set("ETag", etag(rec))
		httpapi.WriteJSON(w, http.StatusOK, viewFor(rec, p))
	}
}

// staleError is a 412 that carries the ticket's current state, whose ETag
// the answer sends.
type staleError struct {
	apiErr  *httpapi.Error
	current *Record
}

func (e *staleError) Error() string { return e.apiErr.Error() }
func (e *staleError) Unwrap() error { return e.apiErr }

// act runs one person's action: it reads the ticket's current state,
// checks the action against it (the transition, then If-Match), and writes
// the action as an event on the ticket's subject only if the ticket's
// history has not grown since that state (compare-and-set on every event
// of the ticket). If it has, it checks again against the new state, so of
// people racing, one wins and the others are told why they lost.
func (s *Service) act(ctx context.Context, id string, p auth.Principal, ifMatch string, kind actionKind, req ActionRequest) (*Record, error) {
	outcome := "refused"
	defer func() { s.metrics.actions.WithLabelValues(kind.name, outcome).Inc() }()
	if ifMatch == "" {
		return nil, httpapi.Errorf(httpapi.CodePreconditionRequired, "send If-Match with the ticket's ETag (or *) so a change made meanwhile is not overwritten")
	}
	for try := 0; try < maxActionTries; try++ {
		r, _, err := s.st.current(ctx, id)
		if err != nil {
			return nil, ticketError(id, err)
		}
		at := s.now().UTC()
		d, err := kind.build(ctx, s, r, p, req, at)
		if err != nil {
			var apiErr *httpapi.Error
			if errors.As(err, &apiErr) && apiErr.Status == http.StatusConflict {
				outcome = "conflict"
			}
			return nil, err
		}
		if ifMatch != "*" && ifMatch != etag(r) && strings.Trim(ifMatch, `"`) != strings.Trim(etag(r), `"`) {
			outcome = "stale"
			return nil, &staleError{httpapi.Errorf(httpapi.CodePreconditionFailed,
				"ticket %s changed since version %s (now %s); read it again", id, ifMatch, etag(r)), r}
		}
		data, err := json.Marshal(d.data)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", d.typ, err)
		}
		seq, err := s.publishAt(ctx, d, id, at, r.LastSeq)
		if bus.IsWrongLastSequence(err) {
			continue // the ticket's history grew meanwhile: check again
		}
		if err != nil {
			outcome = "failed"
			return nil, err
		}
		if err := apply(r, storedEvent{Seq: seq, Type: d.typ, Time: at, Data: data}, s.st.due); err != nil {
			return nil, err
		}
		outcome = "done"
		s.Log.Info("ticket "+kind.name, logging.TicketID(id), zap.String("by", p.Name), zap.String("status", r.Status), zap.String("assignee", r.Assignee))
		return r, nil
	}
	outcome = "conflict"
	return nil, httpapi.Errorf(httpapi.CodeTicketBusy, "ticket %s kept changing; %d tries to %s lost the race to other writers", id, maxActionTries, kind.name)
}

// publishAt writes an action if the ticket's last event is still lastSeq.
func (s *Service) publishAt(ctx context.Context, d draft, id string, at time.Time, lastSeq uint64) (uint64, error) {
	ack, err := bus.Publish(ctx, s.JS, bus.Event{
		Subject: events.TicketSubject(d.subject, id), Type: d.typ,
		// Unique per attempt: the compare-and-set, not the duplicate
		// window, makes an action happen once. (Two attempts with one id
		// would be taken for duplicates on a cluster, where duplicate
		// detection runs before the sequence check, and the loser told
		// it had won.)
		ID:     fmt.Sprintf("%s:%s:%d:%s", d.subject, id, lastSeq, nuid.Next()),
		Source: source, About: id, Time: at, Data: d.data,
	}, jetstream.WithExpectLastSequenceForSubject(lastSeq, events.TicketHistoryFilter(id)))
	if err != nil {
		return 0, err
	}
	return ack.Sequence, nil
}

// publish writes an event that needs no compare-and-set (a logs read).
func (s *Service) publish(ctx context.Context, subject, typ, id string, at time.Time, data any, h nats.Header) error {
	_, err := bus.Publish(ctx, s.JS, bus.Event{
		Subject: events.TicketSubject(subject, id), Type: typ, ID: fmt.Sprintf("%s:%s:%d", subject, id, at.UnixNano()),
		Source: source, About: id, Time: at, Data: data, Header: h,
	})
	return err
}
