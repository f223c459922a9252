package queue

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/triage-pipeline/triage/libs/httpapi"
)

// hub fans changes out to live pages (Server-Sent Events). List changes
// keep their open-tickets bucket revision as the event id, and the last
// ones are kept, so a client that reconnects with Last-Event-ID gets what
// it missed (or, if that is older than what is kept, a reset telling it to
// reload). Ticket pages are told their ticket's new revision.
type hub struct {
	mu      sync.Mutex
	changes []listChange // the most recent, oldest first
	// floor is the newest revision of the view's initial load: changes
	// before it were never seen live here, so a client that left off
	// earlier reloads.
	floor   uint64
	loaded  bool
	wake    chan struct{}
	tickets map[string][]chan uint64
}

type listChange struct {
	Rev     uint64   `json:"rev"`
	ID      string   `json:"id"`
	Summary *Summary `json:"summary,omitempty"` // nil: the ticket left the list
}

// keptChanges bounds the replay buffer.
const keptChanges = 4096

func newHub() *hub {
	return &hub{wake: make(chan struct{}), tickets: map[string][]chan uint64{}}
}

func (h *hub) publishList(rev uint64, id string, s *Summary) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.loaded {
		h.floor = max(h.floor, rev)
		return
	}
	h.changes = append(h.changes, listChange{Rev: rev, ID: id, Summary: s})
	if len(h.changes) > keptChanges {
		h.changes = append(h.changes[:0:0], h.changes[len(h.changes)-keptChanges/2:]...)
	}
	close(h.wake)
	h.wake = make(chan struct{})
}

// since returns the changes after rev, a channel closed at the next
// change, and whether rev is too old to replay from.
func (h *hub) since(rev uint64) ([]listChange, <-chan struct{}, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rev < h.floor || (len(h.changes) > 0 && rev+1 < h.changes[0].Rev) {
		return nil, h.wake, true
	}
	i := len(h.changes)
	for i > 0 && h.changes[i-1].Rev > rev {
		i--
	}
	return append([]listChange(nil), h.changes[i:]...), h.wake, false
}

// markLoaded ends the initial load: from now on changes are live.
func (h *hub) markLoaded() {
	h.mu.Lock()
	h.loaded = true
	h.mu.Unlock()
}

// latest is the newest list revision seen.
func (h *hub) latest() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.changes) == 0 {
		return h.floor
	}
	return h.changes[len(h.changes)-1].Rev
}

func (h *hub) publishTicket(id string, rev uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range h.tickets[id] {
		select {
		case ch <- rev:
		default: // a slow page catches up with the next one
		}
	}
}

func (h *hub) watchTicket(id string) (<-chan uint64, func()) {
	ch := make(chan uint64, 1)
	h.mu.Lock()
	h.tickets[id] = append(h.tickets[id], ch)
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		list := h.tickets[id]
		for i, c := range list {
			if c == ch {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(h.tickets, id)
		} else {
			h.tickets[id] = list
		}
	}
}

// sseWriter writes Server-Sent Events.
type sseWriter struct {
	w http.ResponseWriter
	f http.Flusher
}

func startSSE(w http.ResponseWriter) (*sseWriter, bool) {
	f, ok := w.(http.Flusher)
	if !ok {
		return nil, false
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// Reconnect after a second if the connection drops.
	fmt.Fprint(w, "retry: 1000\n\n")
	f.Flush()
	return &sseWriter{w: w, f: f}, true
}

func (s *sseWriter) event(id uint64, name string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if id > 0 {
		if _, err := fmt.Fprintf(s.w, "id: %d\n", id); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", name, b); err != nil {
		return err
	}
	s.f.Flush()
	return nil
}

func (s *sseWriter) comment() error {
	if _, err := fmt.Fprint(s.w, ": keep-alive\n\n"); err != nil {
		return err
	}
	s.f.Flush()
	return nil
}

// lastEventID reads where a reconnecting client left off.
func lastEventID(r *http.Request) uint64 {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("last_event_id")
	}
	n, _ := strconv.ParseUint(v, 10, 64)
	return n
}

// keepAlive is how often an idle stream sends a comment, so proxies keep
// it open.
const keepAlive = 25 * time.Second

// listEvents streams the queue's changes: "change" events with the ticket
// summary (or its removal), "reset" when the client must reload. The
// stream ends at once when the service stops.
func (s *Service) listEvents(w http.ResponseWriter, r *http.Request) {
	sw, ok := startSSE(w)
	if !ok {
		httpapi.WriteError(w, r, fmt.Errorf("streaming unsupported by this connection"))
		return
	}
	last := lastEventID(r)
	if last == 0 {
		last = s.hub.latest()
		_ = sw.event(last, "hello", map[string]uint64{"rev": last})
	}
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	for {
		changes, wake, reset := s.hub.since(last)
		if reset {
			last = s.hub.latest()
			if sw.event(last, "reset", map[string]uint64{"rev": last}) != nil {
				return
			}
			continue
		}
		for _, c := range changes {
			if sw.event(c.Rev, "change", c) != nil {
				return
			}
			last = c.Rev
		}
		select {
		case <-wake:
		case <-ping.C:
			if sw.comment() != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-httpapi.Stopping(r.Context()):
			return
		}
	}
}

// ticketEvents streams "changed" events with the ticket's new revision
// whenever it changes; a client reconnecting with an older Last-Event-ID
// is told at once.
func (s *Service) ticketEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ch, stop := s.hub.watchTicket(id)
	defer stop()
	sw, ok := startSSE(w)
	if !ok {
		httpapi.WriteError(w, r, fmt.Errorf("streaming unsupported by this connection"))
		return
	}
	if last := lastEventID(r); last > 0 {
		if e, err := s.st.tickets.Get(r.Context(), id); err == nil && e.Revision() > last {
			if sw.event(e.Revision(), "changed", map[string]uint64{"rev": e.Revision()}) != nil {
				return
			}
		}
	}
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	for {
		select {
		case rev := <-ch:
			if sw.event(rev, "changed", map[string]uint64{"rev": rev}) != nil {
				return
			}
		case <-ping.C:
			if sw.comment() != nil {
				return
			}
		case <-r.Context().Done():
			return
		case <-httpapi.Stopping(r.Context()):
			return
		}
	}
}
