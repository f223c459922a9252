package fakegithub

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxRecorded bounds the request log of a long local run; the oldest
// requests are forgotten first (Calls keeps counting them).
const maxRecorded = 10000

// RecordedRequest is an API request as the fake received it.
type RecordedRequest struct {
	Time     time.Time
	Endpoint string // an Op* name, or OpUnknown
	Method   string
	Path     string // as sent, /api/v3 prefix included
	Query    string // the raw query
	// Header is the request's headers; the Authorization value is
	// replaced by "[redacted]".
	Header http.Header
	Body   []byte
	// Status is what was answered; 0 when no answer was sent (a dropped
	// connection, with Note saying why).
	Status int
	Note   string
}

type requestLog struct {
	mu    sync.Mutex
	reqs  []RecordedRequest
	first int // sequence number of reqs[0]
	calls map[string]int
}

func (l *requestLog) record(r *http.Request, op string, body []byte, now time.Time) int {
	h := r.Header.Clone()
	if h.Get("Authorization") != "" {
		h.Set("Authorization", "[redacted]")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		l.calls = map[string]int{}
	}
	l.calls[op]++
	if len(l.reqs) == maxRecorded {
		l.reqs = slices.Delete(l.reqs, 0, 1)
		l.first++
	}
	l.reqs = append(l.reqs, RecordedRequest{Time: now, Endpoint: op, Method: r.Method, Path: r.URL.Path,
		Query: r.URL.RawQuery, Header: h, Body: slices.Clone(body)})
	return l.first + len(l.reqs) - 1
}

func (l *requestLog) setStatus(seq, status int, note string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i := seq - l.first; i >= 0 && i < len(l.reqs) {
		l.reqs[i].Status, l.reqs[i].Note = status, note
	}
}

// Requests returns the recorded API requests in arrival order (/_fake/
// endpoints and issue pages are not recorded).
func (s *Server) Requests() []RecordedRequest {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	out := make([]RecordedRequest, len(s.log.reqs))
	for i, r := range s.log.reqs {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// Calls counts API requests per operation (Op* names; OpUnknown for
// requests no implemented operation matched), failed and faulted ones
// included: what reached GitHub.
func (s *Server) Calls() map[string]int {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return maps.Clone(s.log.calls)
}

// TotalCalls is the number of API requests received, GET /rate_limit
// excluded (it costs nothing on GitHub).
func (s *Server) TotalCalls() int {
	n := 0
	for op, c := range s.Calls() {
		if op != OpGetRateLimit {
			n += c
		}
	}
	return n
}

// ResetRequests forgets the recorded requests and the call counts.
func (s *Server) ResetRequests() {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	s.log.first += len(s.log.reqs)
	s.log.reqs, s.log.calls = nil, nil
}

// RequestsTo returns the recorded requests to one operation.
func (s *Server) RequestsTo(op string) []RecordedRequest {
	var out []RecordedRequest
	for _, r := range s.Requests() {
		if strings.EqualFold(r.Endpoint, op) {
			out = append(out, r)
		}
	}
	return out
}
