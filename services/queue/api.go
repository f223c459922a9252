package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
)

const (
	defaultLimit = 100
	maxLimit     = 1000
)

func (s *Service) routes() {
	s.Mux.Handle("/api/v1/queue", httpapi.Methods(map[string]http.HandlerFunc{http.MethodGet: s.list}))
	s.Mux.Handle("/api/v1/queue/tickets/{id}", httpapi.Methods(map[string]http.HandlerFunc{http.MethodGet: s.ticket}))
	s.Mux.HandleFunc("/", httpapi.NotFound)
}

// ListResponse is one page of a queue.
type ListResponse struct {
	Queue   string    `json:"queue"`
	Total   int       `json:"total"`
	Offset  int       `json:"offset"`
	Limit   int       `json:"limit"`
	Tickets []Summary `json:"tickets"`
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	queue := q.Get("queue")
	if queue == "" {
		queue = events.QueueEscalation
	}
	if queue != events.QueueEscalation && queue != events.QueueSupport {
		httpapi.WriteError(w, badParam("queue", "must be %q or %q", events.QueueEscalation, events.QueueSupport))
		return
	}
	limit, err := intParam(q.Get("limit"), defaultLimit, 1, maxLimit)
	if err != nil {
		httpapi.WriteError(w, badParam("limit", "%v", err))
		return
	}
	offset, err := intParam(q.Get("offset"), 0, 0, 1<<30)
	if err != nil {
		httpapi.WriteError(w, badParam("offset", "%v", err))
		return
	}
	if !s.view.isLoaded() {
		httpapi.WriteError(w, httpapi.Errorf(http.StatusServiceUnavailable, "loading", "the queue is still loading; retry in a moment"))
		return
	}
	tickets, total := s.view.list(queue, offset, limit)
	httpapi.WriteJSON(w, http.StatusOK, ListResponse{Queue: queue, Total: total, Offset: offset, Limit: limit, Tickets: tickets})
}

// ticket returns one ticket's full state from the bucket. With ?wait=5s it
// waits that long for a ticket that is not there yet (live clients and the
// benchmark use it instead of polling).
func (s *Service) ticket(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var wait time.Duration
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > s.cfg.MaxWait {
			httpapi.WriteError(w, badParam("wait", "must be a duration up to %s, such as 5s", s.cfg.MaxWait))
			return
		}
		wait = d
	}
	wctx, cancel := context.WithTimeout(r.Context(), wait)
	found := s.view.wait(wctx, id)
	cancel()
	// Until the view has loaded, only the bucket knows: read it.
	if !found && s.view.isLoaded() {
		if r.Context().Err() == nil {
			httpapi.WriteError(w, notQueued(id))
		}
		return
	}
	entry, err := s.kv.Get(r.Context(), id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		httpapi.WriteError(w, notQueued(id))
		return
	}
	if err != nil {
		httpapi.WriteError(w, fmt.Errorf("read ticket %s: %w", id, err))
		return
	}
	var t Ticket
	if err := json.Unmarshal(entry.Value(), &t); err != nil {
		httpapi.WriteError(w, fmt.Errorf("decode ticket %s: %w", id, err))
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatUint(entry.Revision(), 10)))
	httpapi.WriteJSON(w, http.StatusOK, t)
}

func notQueued(id string) error {
	return httpapi.Errorf(http.StatusNotFound, "ticket_not_queued", "ticket %s is not in a queue (yet); intake's /api/v1/tickets/%s shows where it is", id, id)
}

func badParam(name, format string, args ...any) error {
	e := httpapi.Errorf(http.StatusBadRequest, "invalid_parameter", "query parameter %q: "+format, append([]any{name}, args...)...)
	e.Fields = []httpapi.FieldError{{Field: name, Code: "invalid_value", Message: e.Message}}
	return e
}

func intParam(v string, def, min, max int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, fmt.Errorf("must be a whole number from %d to %d", min, max)
	}
	return n, nil
}
