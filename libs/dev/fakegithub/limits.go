package fakegithub

import (
	"sync"
	"time"
)

// Rate-limit resources, as X-RateLimit-Resource names them.
const (
	resourceCore   = "core"
	resourceSearch = "search"
	// GitHub's limits for requests without valid credentials.
	unauthenticatedCoreLimit   = 60
	unauthenticatedSearchLimit = 10
)

// rateInfo is one resource's state, as the X-RateLimit-* headers tell it.
type rateInfo struct {
	limit, used int
	reset       time.Time
	resource    string
}

func (ri rateInfo) remaining() int { return max(0, ri.limit-ri.used) }

// exhausted shows a resource with nothing left, resetting at until (or at
// its own reset when until is zero).
func exhausted(ri rateInfo, until time.Time) rateInfo {
	ri.used = ri.limit
	if !until.IsZero() {
		ri.reset = ceilSecond(until)
	}
	return ri
}

type bucket struct {
	used  int
	reset time.Time
}

// limiter counts requests per user and resource in fixed windows (an hour
// for core, a minute for search, as GitHub's are), and content creation in
// sliding windows for the secondary limit.
type limiter struct {
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
	created map[string][]time.Time // per login, within the last hour
}

type bucketKey struct{ login, resource string }

func (l *limiter) init() {
	l.buckets = map[bucketKey]*bucket{}
	l.created = map[string][]time.Time{}
}

func windowOf(resource string) time.Duration {
	if resource == resourceSearch {
		return time.Minute
	}
	return time.Hour
}

func limitOf(u *user, resource string, o Options) int {
	switch {
	case u == nil && resource == resourceSearch:
		return unauthenticatedSearchLimit
	case u == nil:
		return unauthenticatedCoreLimit
	case resource == resourceSearch:
		return o.SearchLimit
	}
	return o.PrimaryLimit
}

// ceilSecond rounds up, so a client waiting until X-RateLimit-Reset (whole
// seconds) never comes back early.
func ceilSecond(t time.Time) time.Time {
	if r := t.Truncate(time.Second); !r.Equal(t) {
		return r.Add(time.Second)
	}
	return t
}

// bucketLocked returns the user's current window, starting a new one when
// the last has ended.
func (l *limiter) bucketLocked(u *user, resource string, now time.Time) *bucket {
	k := bucketKey{resource: resource}
	if u != nil {
		k.login = u.login
	}
	b := l.buckets[k]
	if b == nil || !now.Before(b.reset) {
		b = &bucket{reset: ceilSecond(now.Add(windowOf(resource)))}
		l.buckets[k] = b
	}
	return b
}

func info(b *bucket, u *user, resource string, o Options) rateInfo {
	return rateInfo{limit: limitOf(u, resource, o), used: b.used, reset: b.reset, resource: resource}
}

// peek reports a resource without counting a request.
func (l *limiter) peek(u *user, resource string, now time.Time, o Options) rateInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return info(l.bucketLocked(u, resource, now), u, resource, o)
}

// charge counts a request whatever the limit (a failed authentication).
func (l *limiter) charge(u *user, resource string, now time.Time, o Options) rateInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketLocked(u, resource, now)
	b.used = min(b.used+1, limitOf(u, resource, o))
	return info(b, u, resource, o)
}

// chargeChecked counts a request if the limit allows it.
func (l *limiter) chargeChecked(u *user, resource string, now time.Time, o Options) (rateInfo, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketLocked(u, resource, now)
	if b.used >= limitOf(u, resource, o) {
		return info(b, u, resource, o), false
	}
	b.used++
	return info(b, u, resource, o), true
}

// refund takes back a counted request (a 304 is free on GitHub).
func (l *limiter) refund(u *user, resource string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.bucketLocked(u, resource, now); b.used > 0 {
		b.used--
	}
}

// content applies the secondary limit on content creation: it counts the
// request, or says how long to wait before one would be allowed.
func (l *limiter) content(u *user, now time.Time, o Options) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	times := l.created[u.login]
	for len(times) > 0 && !times[0].After(now.Add(-time.Hour)) {
		times = times[1:]
	}
	wait := time.Duration(0)
	if o.ContentPerHour > 0 && len(times) >= o.ContentPerHour {
		wait = times[len(times)-o.ContentPerHour].Add(time.Hour).Sub(now)
	}
	if o.ContentPerMinute > 0 && len(times) >= o.ContentPerMinute {
		if oldest := times[len(times)-o.ContentPerMinute]; oldest.After(now.Add(-time.Minute)) {
			wait = max(wait, oldest.Add(time.Minute).Sub(now))
		}
	}
	if wait > 0 {
		l.created[u.login] = times
		return wait, false
	}
	l.created[u.login] = append(times, now)
	return 0, true
}

// ResetRateLimits forgets every counted request: all users start with
// their full primary, search and content-creation allowances.
func (s *Server) ResetRateLimits() {
	s.limits.mu.Lock()
	defer s.limits.mu.Unlock()
	s.limits.init()
}

// RateLimit is one resource's state for a user, as GET /rate_limit tells it.
type RateLimit struct {
	Limit, Used, Remaining int
	Reset                  time.Time
}

// RateLimit reports the user's "core" or "search" resource.
func (s *Server) RateLimit(login, resource string) RateLimit {
	s.mu.Lock()
	u := s.store.user(login)
	s.mu.Unlock()
	ri := s.limits.peek(u, resource, s.now(), s.opts)
	if resource == resourceCore {
		ri = s.coreRate(u, s.now())
	}
	return RateLimit{Limit: ri.limit, Used: ri.used, Remaining: ri.remaining(), Reset: ri.reset}
}

// coreRate is the user's "core" resource, used up while an injected
// primary_limit fault holds.
func (s *Server) coreRate(u *user, now time.Time) rateInfo {
	ri := s.limits.peek(u, resourceCore, now, s.opts)
	if until, on := s.faults.primaryExhausted(now); on {
		ri = exhausted(ri, until)
	}
	return ri
}
