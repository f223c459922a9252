package fakegithub

import (
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"time"
)

// FaultKind names a failure the fake can inject.
type FaultKind string

// Kinds of injected failures.
const (
	// FaultSecondaryLimit answers with GitHub's secondary-limit error (403,
	// or Options.SecondaryStatus) and a Retry-After counting down to the
	// fault's end (Options.SecondaryRetryAfter when it has no duration).
	FaultSecondaryLimit FaultKind = "secondary_limit"
	// FaultPrimaryLimit exhausts every user's primary limit (resource
	// "core") until the fault's end (For) or ClearFaults: each request but
	// GET /rate_limit gets the 403 with X-RateLimit-Remaining 0 and
	// X-RateLimit-Reset at that end, and GET /rate_limit shows it. It is a
	// state, not a per-request failure: Endpoints, Count and Fraction do
	// not apply.
	FaultPrimaryLimit FaultKind = "primary_limit"
	// FaultServerError answers Status (500, 502, 503 or 504; 502 by default).
	FaultServerError FaultKind = "server_error"
	// FaultLatency delays the answer by Delay.
	FaultLatency FaultKind = "latency"
	// FaultDrop closes the connection without an answer, before anything
	// is done: the client sees a transport error.
	FaultDrop FaultKind = "drop"
	// FaultLoseResponse does the request (an issue IS created) and then
	// closes the connection before the answer, as a timeout or a proxy
	// failure after GitHub acted does. Go's transport does not retry a POST
	// that failed this way, so the client sees a transport error.
	FaultLoseResponse FaultKind = "lose_response"
)

// Fault describes an injected failure. It hits the requests to Endpoints
// (operation names such as OpCreateIssue; all when empty), the next Count
// of them (0: no count limit), a Fraction of them chosen by the seeded RNG
// (0: all), until For has passed since it was injected (0: until cleared).
// Faults never touch /_fake/ endpoints or webhook deliveries.
type Fault struct {
	Kind      FaultKind
	Endpoints []string
	Count     int
	Fraction  float64
	For       time.Duration
	Delay     time.Duration // FaultLatency, and added to any other kind
	Status    int           // FaultServerError
}

func (f *Fault) validate() error {
	switch f.Kind {
	case FaultSecondaryLimit, FaultDrop, FaultLoseResponse:
	case FaultPrimaryLimit:
		if len(f.Endpoints) > 0 || f.Count != 0 || f.Fraction != 0 {
			return fmt.Errorf("a primary_limit fault exhausts the limit for everyone: endpoints, count and fraction do not apply")
		}
	case FaultServerError:
		switch f.Status {
		case 0:
			f.Status = 502
		case 500, 502, 503, 504:
		default:
			return fmt.Errorf("server error status %d: want 500, 502, 503 or 504", f.Status)
		}
	case FaultLatency:
		if f.Delay <= 0 {
			return fmt.Errorf("a latency fault needs a positive delay")
		}
	default:
		return fmt.Errorf("unknown fault kind %q (want secondary_limit, primary_limit, server_error, latency, drop or lose_response)", f.Kind)
	}
	if f.Count < 0 || f.Fraction < 0 || f.Fraction > 1 || f.For < 0 || f.Delay < 0 {
		return fmt.Errorf("fault %s: count, for and delay must not be negative and fraction must be in [0, 1]", f.Kind)
	}
	ops := Operations()
	for _, e := range f.Endpoints {
		if !slices.Contains(ops, e) {
			return fmt.Errorf("fault %s: unknown endpoint %q (want one of %v)", f.Kind, e, ops)
		}
	}
	return nil
}

type activeFault struct {
	Fault
	remaining int       // for Count > 0
	until     time.Time // zero: no end
}

func (f *activeFault) retryAfter(now time.Time, dflt time.Duration) time.Duration {
	if f.until.IsZero() {
		return dflt
	}
	return f.until.Sub(now)
}

type faultState struct {
	mu     sync.Mutex
	faults []*activeFault
	rng    *mrand.Rand
}

// pickedFaults is what the faults decided for one request.
type pickedFaults struct {
	delay        time.Duration
	drop         bool
	serverError  int
	secondary    *activeFault
	loseResponse bool
}

// InjectFault adds a fault. Faults are checked in the order they were
// added: delays add up, and the first failing one answers the request.
func (s *Server) InjectFault(f Fault) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("inject fault: %w", err)
	}
	af := &activeFault{Fault: f, remaining: f.Count}
	if f.For > 0 {
		af.until = s.now().Add(f.For)
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = append(s.faults.faults, af)
	return nil
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.faults = nil
}

// Faults lists the active faults; Count is what is left of a counted one
// and For what is left of a timed one.
func (s *Server) Faults() []Fault {
	now := s.now()
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	out := make([]Fault, 0, len(s.faults.faults))
	for _, f := range s.faults.faults {
		if !f.until.IsZero() && !now.Before(f.until) {
			continue
		}
		c := f.Fault
		if c.Count > 0 {
			c.Count = f.remaining
		}
		if !f.until.IsZero() {
			c.For = f.until.Sub(now)
		}
		out = append(out, c)
	}
	return out
}

// pick decides the faults of one request; counted faults are used up here.
func (fs *faultState) pick(op string, now time.Time) pickedFaults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var p pickedFaults
	failed := false
	use := func(f *activeFault) {
		if f.Count > 0 {
			f.remaining--
		}
	}
	applies := func(f *activeFault) bool {
		if len(f.Endpoints) > 0 && !slices.Contains(f.Endpoints, op) {
			return false
		}
		return f.Fraction == 0 || f.Fraction == 1 || fs.rng.Float64() < f.Fraction
	}
	live := fs.faults[:0]
	for _, f := range fs.faults {
		if (!f.until.IsZero() && !now.Before(f.until)) || (f.Count > 0 && f.remaining <= 0) {
			continue
		}
		live = append(live, f)
	}
	fs.faults = live
	for _, f := range fs.faults {
		if f.Kind == FaultLoseResponse || f.Kind == FaultPrimaryLimit || (failed && f.Kind != FaultLatency) || !applies(f) {
			continue
		}
		use(f)
		p.delay += f.Delay
		switch f.Kind {
		case FaultDrop:
			p.drop, failed = true, true
		case FaultServerError:
			p.serverError, failed = f.Status, true
		case FaultSecondaryLimit:
			p.secondary, failed = f, true
		}
	}
	// The response can only be lost if the request gets as far as being done.
	for _, f := range fs.faults {
		if f.Kind == FaultLoseResponse && !failed && !p.loseResponse && applies(f) {
			use(f)
			p.delay += f.Delay
			p.loseResponse = true
		}
	}
	return p
}

// primaryExhausted reports whether an injected primary_limit fault holds
// at now, and until when (zero: until cleared).
func (fs *faultState) primaryExhausted(now time.Time) (time.Time, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var until time.Time
	on := false
	for _, f := range fs.faults {
		if f.Kind != FaultPrimaryLimit || (!f.until.IsZero() && !now.Before(f.until)) {
			continue
		}
		if !on || f.until.IsZero() || (!until.IsZero() && f.until.After(until)) {
			until = f.until
		}
		on = true
	}
	return until, on
}
