package fakegithub

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Delivery is one webhook delivery, as GitHub's "Recent Deliveries" shows
// it: a redelivery is a new Delivery with the same GUID.
type Delivery struct {
	ID     int64  // the delivery's own number
	GUID   string // X-GitHub-Delivery
	Event  string // "issues"
	Action string // "closed", "reopened"
	Owner  string
	Repo   string
	Number int
	URL    string
	// Header is what was sent, signatures included.
	Header     http.Header
	Payload    []byte
	Redelivery bool
	Attempts   []DeliveryAttempt
}

// DeliveryAttempt is one try of a delivery.
type DeliveryAttempt struct {
	At     time.Time
	Status int    // 0 when there was no answer
	Err    string // why there was no answer
}

// Status is the answer to the last attempt (0: none yet, or no answer).
func (d Delivery) Status() int {
	if len(d.Attempts) == 0 {
		return 0
	}
	return d.Attempts[len(d.Attempts)-1].Status
}

// Delivered reports whether the receiver answered 2xx.
func (d Delivery) Delivered() bool { return d.Status() >= 200 && d.Status() < 300 }

type hookState struct {
	mu         sync.Mutex
	url        string
	secret     string
	id         int64
	deliveries []*Delivery
	nextID     int64
	closed     bool // no background delivery starts once set
}

// hookEvent is an event waiting to be delivered.
type hookEvent struct {
	event, action string
	owner, repo   string
	number        int
	repoID        int64
	payload       []byte
}

// SetWebhook points the repositories' webhook at url, signing deliveries
// with secret; an empty url turns webhooks off.
func (s *Server) SetWebhook(url, secret string) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.url, s.hooks.secret = url, secret
}

// Deliveries returns every delivery so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	out := make([]Delivery, 0, len(s.hooks.deliveries))
	for _, d := range s.hooks.deliveries {
		out = append(out, copyDelivery(d))
	}
	return out
}

func copyDelivery(d *Delivery) Delivery {
	c := *d
	c.Header = d.Header.Clone()
	c.Payload = slices.Clone(d.Payload)
	c.Attempts = slices.Clone(d.Attempts)
	return c
}

// issueEventLocked builds the "issues" event for an issue's current state
// (closed or reopened); s.mu is held.
func (s *Server) issueEventLocked(is *issue, sender *user) *hookEvent {
	action := "closed"
	if is.state == "open" {
		action = "reopened"
	}
	return s.buildEventLocked(is, action, sender)
}

func (s *Server) buildEventLocked(is *issue, action string, sender *user) *hookEvent {
	root := s.rootLocked()
	b := bases{api: root, web: root}
	payload, err := json.Marshal(map[string]any{
		"action":     action,
		"issue":      b.issue(is, false),
		"repository": b.repository(is.repo),
		"sender":     b.user(sender),
	})
	if err != nil {
		return nil
	}
	return &hookEvent{event: "issues", action: action, owner: is.repo.owner, repo: is.repo.name,
		number: is.number, repoID: is.repo.id, payload: payload}
}

// newDelivery records a delivery of ev to the current webhook, or returns
// nil when no webhook is set.
func (s *Server) newDelivery(ev *hookEvent, guid string) *Delivery {
	s.hooks.mu.Lock()
	url, secret, hookID := s.hooks.url, s.hooks.secret, s.hooks.id
	s.hooks.mu.Unlock()
	if url == "" {
		return nil
	}
	redelivery := guid != ""
	if !redelivery {
		guid = s.uuid()
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/"+s.hookshotVersion())
	h.Set("X-GitHub-Event", ev.event)
	h.Set("X-GitHub-Delivery", guid)
	h.Set("X-GitHub-Hook-ID", strconv.FormatInt(hookID, 10))
	h.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(ev.repoID, 10))
	h.Set("X-GitHub-Hook-Installation-Target-Type", "repository")
	if secret != "" {
		// GitHub signs only when the hook has a secret.
		h.Set("X-Hub-Signature", "sha1="+sign(sha1.New, secret, ev.payload))
		h.Set("X-Hub-Signature-256", "sha256="+sign(sha256.New, secret, ev.payload))
	}
	d := &Delivery{GUID: guid, Event: ev.event, Action: ev.action, Owner: ev.owner, Repo: ev.repo,
		Number: ev.number, URL: url, Header: h, Payload: ev.payload, Redelivery: redelivery}
	s.hooks.mu.Lock()
	s.hooks.nextID++
	d.ID = s.hooks.nextID
	s.hooks.deliveries = append(s.hooks.deliveries, d)
	s.hooks.mu.Unlock()
	return d
}

// rootLocked is the root URL of webhook payloads, where no request gives
// one: Options.BaseURL, else where Start listens, else the root of the
// latest API request. s.mu is held.
func (s *Server) rootLocked() string {
	switch {
	case s.opts.BaseURL != "":
		return strings.TrimSuffix(s.opts.BaseURL, "/")
	case s.URL() != "":
		return s.URL()
	case s.lastBase != "":
		return strings.TrimSuffix(s.lastBase, apiPrefix)
	}
	return "http://fakegithub.invalid"
}

// sign is the hex HMAC of body with secret, as X-Hub-Signature(-256) carry it.
func sign(h func() hash.Hash, secret string, body []byte) string {
	m := hmac.New(h, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// uuid is a version-4 UUID from the seeded RNG, so delivery ids repeat
// from run to run.
func (s *Server) uuid() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// hookshotVersion is the hex build id in GitHub-Hookshot/<hex>.
func (s *Server) hookshotVersion() string {
	return fmt.Sprintf("%07x", s.opts.Seed%0xfffffff|0x1000000)
}

// deliverAsync delivers ev in the background, retrying failures with
// backoff; it never blocks the API answer. Nothing starts after Close.
func (s *Server) deliverAsync(ev *hookEvent) {
	if ev == nil {
		return
	}
	d := s.newDelivery(ev, "")
	if d == nil {
		return
	}
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	if s.hooks.closed {
		return
	}
	s.deliveries.Add(1)
	go func() {
		defer s.deliveries.Done()
		wait := s.opts.WebhookBackoff
		for attempt := 1; ; attempt++ {
			if s.attempt(s.ctx, d) || attempt >= s.opts.WebhookAttempts {
				return
			}
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return
			}
			wait *= 2
		}
	}()
}

// attempt sends a delivery once and records the outcome; it reports
// whether the receiver answered 2xx.
func (s *Server) attempt(ctx context.Context, d *Delivery) bool {
	s.hooks.mu.Lock()
	url, header, payload := d.URL, d.Header.Clone(), d.Payload
	s.hooks.mu.Unlock()
	at := DeliveryAttempt{At: s.now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err == nil {
		req.Header = header
		var resp *http.Response
		resp, err = s.hookClient.Do(req)
		if err == nil {
			// Drain a little so the connection can be reused.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
			at.Status = resp.StatusCode
		}
	}
	if err != nil {
		at.Err = err.Error()
	}
	s.hooks.mu.Lock()
	d.Attempts = append(d.Attempts, at)
	s.hooks.mu.Unlock()
	return at.Status >= 200 && at.Status < 300
}

// ErrNoWebhook is returned when a delivery is asked for but no webhook is set.
var ErrNoWebhook = errors.New("no webhook configured (SetWebhook)")

// Redeliver sends a recorded delivery again now, with the same
// X-GitHub-Delivery, as GitHub's "Redeliver" button does (to the current
// webhook URL and secret). It waits for the answer and returns the new
// delivery; err is set when the receiver did not answer.
func (s *Server) Redeliver(ctx context.Context, guid string) (Delivery, error) {
	s.hooks.mu.Lock()
	var orig *Delivery
	for _, d := range s.hooks.deliveries {
		if d.GUID == guid {
			orig = d
		}
	}
	s.hooks.mu.Unlock()
	if orig == nil {
		return Delivery{}, fmt.Errorf("redeliver %s: %w", guid, ErrNotFound)
	}
	ev := &hookEvent{event: orig.Event, action: orig.Action, owner: orig.Owner, repo: orig.Repo,
		number: orig.Number, payload: orig.Payload}
	ev.repoID, _ = strconv.ParseInt(orig.Header.Get("X-GitHub-Hook-Installation-Target-ID"), 10, 64)
	return s.deliverNow(ctx, ev, guid)
}

// SendIssueEvent delivers an "issues" event with action (for example
// "closed" or "reopened") for the issue as it is now, synchronously, once.
// It returns the recorded delivery; err is set when the receiver did not
// answer.
func (s *Server) SendIssueEvent(ctx context.Context, owner, repo string, number int, action string) (Delivery, error) {
	s.mu.Lock()
	is, err := s.findIssue(owner, repo, number)
	if err != nil {
		s.mu.Unlock()
		return Delivery{}, fmt.Errorf("send issue event: %w", err)
	}
	sender := is.author
	if is.closedBy != nil {
		sender = is.closedBy
	}
	ev := s.buildEventLocked(is, action, sender)
	s.mu.Unlock()
	return s.deliverNow(ctx, ev, "")
}

func (s *Server) deliverNow(ctx context.Context, ev *hookEvent, guid string) (Delivery, error) {
	d := s.newDelivery(ev, guid)
	if d == nil {
		return Delivery{}, ErrNoWebhook
	}
	s.attempt(ctx, d)
	s.hooks.mu.Lock()
	out := copyDelivery(d)
	s.hooks.mu.Unlock()
	if last := out.Attempts[len(out.Attempts)-1]; last.Err != "" {
		return out, fmt.Errorf("deliver %s to %s: %s", out.GUID, out.URL, last.Err)
	}
	return out, nil
}
