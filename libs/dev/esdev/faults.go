package esdev

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// FaultKind says how requests hit by a fault are answered.
type FaultKind string

const (
	// FaultLatency only delays matching requests by Fault.Delay.
	FaultLatency FaultKind = "latency"
	// FaultRejected answers 429 es_rejected_execution_exception, as a node
	// with a full search or write queue does. go-elasticsearch does not retry it.
	FaultRejected FaultKind = "rejected"
	// FaultUnavailable answers 503 (cluster_block_exception), as a cluster
	// without a master or still recovering does. go-elasticsearch retries 503.
	FaultUnavailable FaultKind = "unavailable"
	// FaultGatewayTimeout answers 504 with a non-JSON body, as a proxy or
	// load balancer in front of Elasticsearch does.
	FaultGatewayTimeout FaultKind = "gateway_timeout"
	// FaultRefuse drops the connection without answering (a TCP reset where
	// possible), so the client sees a transport error as it would from a
	// node that went away. /_dev endpoints are never faulted, so a running
	// demo can still be repaired over HTTP.
	FaultRefuse FaultKind = "refuse"
)

// Fault describes an injected failure.
type Fault struct {
	Kind FaultKind `json:"kind"`
	// Endpoints limits the fault to these API names ("search", "msearch",
	// "bulk", "count", "info", …, as in Stats); empty means every endpoint.
	Endpoints []string `json:"endpoints,omitempty"`
	// Count is how many requests the fault hits before it expires; 0 means
	// until cleared.
	Count int `json:"count,omitempty"`
	// Fraction, when between 0 and 1, hits that share of matching requests
	// at random; 0 means all of them.
	Fraction float64 `json:"fraction,omitempty"`
	// Delay is added before the request is answered (for any kind).
	Delay time.Duration `json:"-"`
}

// faultJSON is a Fault on the wire: the delay is a duration string ("250ms").
type faultJSON struct {
	Kind      FaultKind `json:"kind"`
	Endpoints []string  `json:"endpoints,omitempty"`
	Count     int       `json:"count,omitempty"`
	Fraction  float64   `json:"fraction,omitempty"`
	Delay     string    `json:"delay,omitempty"`
}

func (f Fault) validate() error {
	switch f.Kind {
	case FaultLatency, FaultRejected, FaultUnavailable, FaultGatewayTimeout, FaultRefuse:
	default:
		return fmt.Errorf("unknown fault kind %q (want latency, rejected, unavailable, gateway_timeout or refuse)", f.Kind)
	}
	if f.Count < 0 {
		return fmt.Errorf("fault count %d is negative", f.Count)
	}
	if f.Fraction < 0 || f.Fraction > 1 {
		return fmt.Errorf("fault fraction %v is outside [0, 1]", f.Fraction)
	}
	if f.Delay < 0 {
		return fmt.Errorf("fault delay %v is negative", f.Delay)
	}
	if f.Kind == FaultLatency && f.Delay == 0 {
		return fmt.Errorf("a latency fault needs a delay")
	}
	return nil
}

type activeFault struct {
	Fault
	remaining int // for Count > 0
}

// faultState holds injected faults and request statistics.
type faultState struct {
	mu     sync.Mutex
	faults []*activeFault
	rng    *rand.Rand
}

func newFaultState(seed uint64) *faultState {
	return &faultState{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// InjectFault adds a fault. Faults are checked in the order they were added;
// delays of all matching faults add up, and the first matching failing
// fault answers the request.
func (s *Server) InjectFault(f Fault) error { return s.injectFaults([]Fault{f}) }

// injectFaults adds all of fs or, if one is invalid, none of them.
func (s *Server) injectFaults(fs []Fault) error {
	for _, f := range fs {
		if err := f.validate(); err != nil {
			return fmt.Errorf("inject fault: %w", err)
		}
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	for _, f := range fs {
		s.faults.faults = append(s.faults.faults, &activeFault{Fault: f, remaining: f.Count})
	}
	return nil
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = nil
}

// Faults lists the active faults; Count holds what is left of a counted fault.
func (s *Server) Faults() []Fault {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	out := make([]Fault, 0, len(s.faults.faults))
	for _, f := range s.faults.faults {
		c := f.Fault
		if c.Count > 0 {
			c.Count = f.remaining
		}
		out = append(out, c)
	}
	return out
}

// pickFault decides, for one request, the delay to add and the failing
// fault (if any) that answers it. Counted faults are consumed here.
func (fs *faultState) pick(endpoint string) (time.Duration, *Fault) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var delay time.Duration
	var hit *Fault
	kept := fs.faults[:0]
	for _, f := range fs.faults {
		applies := len(f.Endpoints) == 0
		for _, e := range f.Endpoints {
			if e == endpoint {
				applies = true
			}
		}
		if applies && f.Fraction > 0 && f.Fraction < 1 && fs.rng.Float64() >= f.Fraction {
			applies = false
		}
		if applies && (f.Kind == FaultLatency || hit == nil) {
			delay += f.Delay
			if f.Kind != FaultLatency {
				c := f.Fault
				hit = &c
			}
			if f.Count > 0 {
				f.remaining--
				if f.remaining == 0 {
					continue
				}
			}
		}
		kept = append(kept, f)
	}
	fs.faults = kept
	return delay, hit
}

// applyFault delays and possibly answers a request. It reports whether the
// request was answered (or its connection dropped).
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, endpoint string) bool {
	delay, f := s.faults.pick(endpoint)
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	if f == nil {
		return false
	}
	s.stats.faulted(endpoint)
	switch f.Kind {
	case FaultRejected:
		s.writeError(w, r, errRejected())
	case FaultUnavailable:
		s.writeError(w, r, errUnavailable())
	case FaultGatewayTimeout:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusGatewayTimeout)
		_, _ = w.Write([]byte("<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n"))
	case FaultRefuse:
		dropConnection(w)
	}
	return true
}

// dropConnection closes the client's connection without a response.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // reset rather than a polite FIN
			}
			_ = conn.Close()
			return
		}
	}
	// http.ErrAbortHandler makes net/http drop the connection quietly.
	panic(http.ErrAbortHandler)
}

// Stats counts the requests the server received.
type Stats struct {
	// Total is every request, /_dev endpoints included.
	Total int64 `json:"total"`
	// ByEndpoint counts requests per API name ("search", "msearch", "bulk",
	// "count", "info", "indices.create", …, "unknown").
	ByEndpoint map[string]int64 `json:"by_endpoint"`
	// Faulted counts requests answered by an injected fault, per API name.
	Faulted map[string]int64 `json:"faulted"`
}

type statsState struct {
	mu     sync.Mutex
	total  int64
	counts map[string]int64
	faults map[string]int64
}

func (st *statsState) count(endpoint string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.counts == nil {
		st.counts = map[string]int64{}
	}
	st.total++
	st.counts[endpoint]++
}

func (st *statsState) faulted(endpoint string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.faults == nil {
		st.faults = map[string]int64{}
	}
	st.faults[endpoint]++
}

// Stats returns a snapshot of the request counters.
func (s *Server) Stats() Stats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	out := Stats{Total: s.stats.total, ByEndpoint: map[string]int64{}, Faulted: map[string]int64{}}
	for k, v := range s.stats.counts {
		out.ByEndpoint[k] = v
	}
	for k, v := range s.stats.faults {
		out.Faulted[k] = v
	}
	return out
}

// ResetStats zeroes the request counters.
func (s *Server) ResetStats() {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	s.stats.total, s.stats.counts, s.stats.faults = 0, nil, nil
}

// handleDevFaults serves /_dev/faults: GET lists, POST adds (a fault object
// or an array of them), DELETE clears.
func (s *Server) handleDevFaults(w http.ResponseWriter, r *http.Request, body []byte) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodDelete:
		s.ClearFaults()
	case http.MethodPost, http.MethodPut:
		var list []faultJSON
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) > 0 && trimmed[0] == '[' {
			if err := json.Unmarshal(body, &list); err != nil {
				s.writeError(w, r, errIllegalArgument("invalid fault list: "+err.Error()))
				return
			}
		} else {
			var one faultJSON
			if err := json.Unmarshal(body, &one); err != nil {
				s.writeError(w, r, errIllegalArgument("invalid fault: "+err.Error()))
				return
			}
			list = []faultJSON{one}
		}
		faults := make([]Fault, 0, len(list))
		for _, fj := range list {
			f := Fault{Kind: fj.Kind, Endpoints: fj.Endpoints, Count: fj.Count, Fraction: fj.Fraction}
			if fj.Delay != "" {
				d, err := time.ParseDuration(fj.Delay)
				if err != nil {
					s.writeError(w, r, errIllegalArgument(fmt.Sprintf("invalid fault delay %q: %v", fj.Delay, err)))
					return
				}
				f.Delay = d
			}
			faults = append(faults, f)
		}
		if err := s.injectFaults(faults); err != nil {
			s.writeError(w, r, errIllegalArgument(err.Error()))
			return
		}
	default:
		s.writeError(w, r, errMethodNotAllowed(r.Method, r.URL.Path, []string{"GET", "POST", "PUT", "DELETE"}))
		return
	}
	active := []faultJSON{}
	for _, f := range s.Faults() {
		fj := faultJSON{Kind: f.Kind, Endpoints: f.Endpoints, Count: f.Count, Fraction: f.Fraction}
		if f.Delay > 0 {
			fj.Delay = f.Delay.String()
		}
		active = append(active, fj)
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"faults": active})
}
