// Package paging pages the on-call engineer for P1 incidents outside
// business hours, without fatigue: one page per incident (whatever the
// number of replicas, restarts and updates), one resolve when it is
// resolved, and nothing while the owning team is at work, for incidents
// someone owns, or below P1.
//
// Targets are PagerDuty (Events API v2) and a generic JSON webhook. Which
// team an incident belongs to, and so whose business hours count, follows
// its component.
package paging

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
)

// KeyPrefix starts the key of every page marker in the bucket.
const KeyPrefix = "paged."

// MarkerKey is the bucket key of an incident's page marker.
func MarkerKey(incidentID string) string { return KeyPrefix + incidentID }

// Page events, as PagerDuty's event_action and the webhook's event.
const (
	EventTrigger = "trigger"
	EventResolve = "resolve"
)

// Suppression reasons, the values of triage_pages_suppressed_total's label.
const (
	ReasonNotP1         = "not_p1"
	ReasonBusinessHours = "business_hours"
	ReasonOwned         = "owned"
	ReasonRepeat        = "repeat"
)

// Marker states.
const (
	StateSending   = "sending"
	StateSent      = "sent"
	StateResolving = "resolving"
	StateResolved  = "resolved"
	// StateFailed: every target refused the page for good (a 4xx other
	// than 408 and 429); it is not sent again.
	StateFailed = "failed"
)

// Marker is what the bucket keeps per paged incident, under MarkerKey. It
// is created (compare-and-set) before anything is sent, so only one
// replica sends.
type Marker struct {
	State string `json:"state"`
	// Lease: while sending or resolving, when the sender's claim lapses;
	// after it another replica sends again (the sender crashed or failed).
	Lease time.Time `json:"lease,omitzero"`
	Team  string    `json:"team,omitempty"`
	// Paged lists the targets that accepted the trigger: they get the
	// resolve.
	Paged []string `json:"paged,omitempty"`
	// Done lists the targets finished with the event being sent (accepted
	// or refused for good), which a retry skips.
	Done []string `json:"done,omitempty"`
	// Rejected lists the targets that refused the trigger for good.
	Rejected  []string  `json:"rejected,omitempty"`
	Error     string    `json:"error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SuppressedPrefix starts the key that says an incident was counted as
// suppressed for a reason: suppressed.<incident id>.<reason>.
const SuppressedPrefix = "suppressed."

// maxCounted bounds the suppressions a replica remembers having counted;
// past it, it forgets them all and asks the bucket again.
const maxCounted = 10000

// maxConflicts bounds the compare-and-set retries of one Handle; each
// conflict means another replica moved the marker on.
const maxConflicts = 10

// Pager decides whether an incident pages and sends the page. Its state
// lives in the bucket (markers), so it is safe for concurrent use and
// across replicas; it only remembers which suppressions it has counted.
type Pager struct {
	kv       jetstream.KeyValue
	log      *zap.Logger
	now      func() time.Time
	lease    time.Duration
	timeout  time.Duration
	fallback *team
	teams    map[string]*team
	targets  []target

	sent       *prometheus.CounterVec
	suppressed *prometheus.CounterVec

	mu      sync.Mutex
	counted map[string]bool // suppression keys known to be counted
}

// New makes a pager from a validated cfg. It reads the routing key file.
// kv holds the markers (it may be nil only with paging off); metrics are
// registered on reg unless it is nil; a nil httpClient gets one with
// cfg.Timeout; now is the clock (nil: time.Now).
func New(cfg Config, kv jetstream.KeyValue, reg prometheus.Registerer, log *zap.Logger, httpClient *http.Client, now func() time.Time) (*Pager, error) {
	fallback, teams, err := cfg.validate()
	if err != nil {
		return nil, fmt.Errorf("paging: %w", err)
	}
	if log == nil {
		log = zap.NewNop()
	}
	if now == nil {
		now = time.Now
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: cfg.Timeout}
	}
	p := &Pager{kv: kv, log: log.Named("paging"), now: now, lease: cfg.Lease, timeout: cfg.Timeout,
		fallback: fallback, teams: teams, counted: map[string]bool{}}
	if cfg.RoutingKeyFile != "" {
		key, err := readSecret(cfg.RoutingKeyFile)
		if err != nil {
			return nil, fmt.Errorf("paging: --paging-pagerduty-routing-key-file: %w", err)
		}
		p.targets = append(p.targets, &pagerDuty{url: cfg.PagerDutyURL, routingKey: key, client: httpClient, timeout: cfg.Timeout})
	}
	if cfg.WebhookURL != "" {
		p.targets = append(p.targets, &webhook{url: cfg.WebhookURL, client: httpClient, timeout: cfg.Timeout})
	}
	if cfg.Enabled() && kv == nil {
		return nil, errors.New("paging: a bucket for the page markers is required")
	}
	if err := p.metrics(reg); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		p.log.Info("paging off: neither --paging-pagerduty-routing-key-file nor --paging-webhook-url is set; no pages will be sent")
		return p, nil
	}
	var names []string
	for _, t := range p.targets {
		names = append(names, t.name())
	}
	p.log.Info("paging on", zap.Strings("targets", names), zap.Stringer("default_hours", fallback.hours),
		zap.Int("teams", len(cfg.Teams)))
	return p, nil
}

func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	key := strings.TrimSpace(string(b))
	if key == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return key, nil
}

func (p *Pager) metrics(reg prometheus.Registerer) error {
	p.sent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "triage_pages_sent_total",
		Help: "Pages (trigger) and their resolutions (resolve) accepted by a target (pagerduty, webhook).",
	}, []string{"event", "target"})
	p.suppressed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "triage_pages_suppressed_total",
		Help: "Live incidents kept from paging (not_p1, business_hours, owned) or from paging again (repeat), each counted once per reason.",
	}, []string{"reason"})
	// Zeros from the start, so rates and alerts see every series.
	for _, t := range p.targets {
		p.sent.WithLabelValues(EventTrigger, t.name())
		p.sent.WithLabelValues(EventResolve, t.name())
	}
	for _, r := range []string{ReasonNotP1, ReasonBusinessHours, ReasonOwned, ReasonRepeat} {
		p.suppressed.WithLabelValues(r)
	}
	if reg == nil {
		return nil
	}
	for _, c := range []**prometheus.CounterVec{&p.sent, &p.suppressed} {
		if err := reg.Register(*c); err != nil {
			// A second pager on the same registry counts in the first's
			// series.
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
					*c = existing
					continue
				}
			}
			return fmt.Errorf("paging: register metrics: %w", err)
		}
	}
	return nil
}

// teamFor is the team of a component: the one naming it, or the default.
func (p *Pager) teamFor(component string) *team {
	if t, ok := p.teams[strings.ToLower(strings.TrimSpace(component))]; ok {
		return t
	}
	return p.fallback
}

// Handle pages for inc if it calls for a page and none was sent, and
// sends the resolve once a paged incident is resolved. It is idempotent:
// call it on every change of an incident, from every replica, and from a
// periodic sweep (which is what retries failed sends, once their lease
// lapses). link is the incident's page in the triage queue.
//
// A failed send returns an error naming the incident; nothing is retried
// here.
func (p *Pager) Handle(ctx context.Context, inc events.Incident, link string) error {
	if len(p.targets) == 0 {
		return nil
	}
	if inc.ID == "" {
		return errors.New("paging: incident without an id")
	}
	now := p.now()
	t := p.teamFor(inc.Component)
	log := p.log.With(zap.String("incident", inc.ID), zap.String("team", t.name))
	if inc.Resolved() {
		return p.resolve(ctx, inc, link, t, now, log)
	}
	// Not open yet (still collecting), over by its window, or merged
	// away: nothing to page and, unresolved, nothing to resolve.
	if !inc.Live(now) {
		return nil
	}
	reason := ""
	switch {
	case inc.Severity != "P1":
		reason = ReasonNotP1
	case inc.Owner != "":
		reason = ReasonOwned
	case t.hours.InHours(now):
		reason = ReasonBusinessHours
	}
	if reason != "" {
		p.suppress(ctx, inc.ID, reason, log)
		return nil
	}
	return p.trigger(ctx, inc, link, t, now, log)
}

// suppress counts an incident kept from paging (or from paging again)
// once per reason, however many replicas look at it how often: the first
// to create its key in the bucket counts it. A failure to count is logged,
// never a failure of the handling.
func (p *Pager) suppress(ctx context.Context, incidentID, reason string, log *zap.Logger) {
	key := SuppressedPrefix + incidentID + "." + reason
	p.mu.Lock()
	known := p.counted[key]
	p.mu.Unlock()
	if known {
		return
	}
	_, err := p.kv.Create(ctx, key, []byte(p.now().UTC().Format(time.RFC3339)))
	switch {
	case err == nil:
		p.suppressed.WithLabelValues(reason).Inc()
		log.Debug("page suppressed", zap.String("reason", reason))
	case bus.IsConflict(err):
		// Counted already, by this replica before a restart or another.
	default:
		log.Warn("could not count a suppressed page", zap.String("reason", reason), zap.Error(err))
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.counted) >= maxCounted {
		clear(p.counted)
	}
	p.counted[key] = true
}

// trigger claims the incident's marker and sends the page, or suppresses
// a repeat.
func (p *Pager) trigger(ctx context.Context, inc events.Incident, link string, t *team, now time.Time, log *zap.Logger) error {
	key := MarkerKey(inc.ID)
	for range maxConflicts {
		m, rev, err := p.load(ctx, key)
		takeover := false
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			m = Marker{State: StateSending, Lease: now.Add(p.lease), Team: t.name, UpdatedAt: now}
			rev, err = p.kv.Create(ctx, key, encode(m))
		case err != nil:
			return fmt.Errorf("paging: incident %s: %w", inc.ID, err)
		case m.State == StateSending && !now.Before(m.Lease):
			// The sender crashed, or its send failed: send again.
			// PagerDuty drops the repeat by its dedup_key; the webhook may
			// see the same event twice, with the same Idempotency-Key.
			takeover = true
			m.Lease, m.UpdatedAt = now.Add(p.lease), now
			rev, err = p.kv.Update(ctx, key, encode(m), rev)
		default:
			p.suppress(ctx, inc.ID, ReasonRepeat, log)
			return nil
		}
		if bus.IsConflict(err) {
			continue // another replica got there first: look again
		}
		if err != nil {
			return fmt.Errorf("paging: claim page of incident %s: %w", inc.ID, err)
		}
		if takeover {
			log.Warn("page left unfinished past its lease; sending again", zap.Strings("done", m.Done))
		}
		return p.deliver(ctx, EventTrigger, inc, link, t, key, m, rev, log)
	}
	return fmt.Errorf("paging: incident %s: marker %s kept changing", inc.ID, key)
}

// resolve sends the resolve of a paged incident once.
func (p *Pager) resolve(ctx context.Context, inc events.Incident, link string, t *team, now time.Time, log *zap.Logger) error {
	key := MarkerKey(inc.ID)
	for range maxConflicts {
		m, rev, err := p.load(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil // never paged: nothing to resolve
		}
		if err != nil {
			return fmt.Errorf("paging: incident %s: %w", inc.ID, err)
		}
		lapsed := !now.Before(m.Lease)
		switch {
		case m.State == StateSent:
			m.Done = nil
		case m.State == StateSending && lapsed:
			// The trigger may have reached any target that did not refuse
			// it: resolve it there.
			for _, tg := range p.targets {
				if !slices.Contains(m.Rejected, tg.name()) && !slices.Contains(m.Paged, tg.name()) {
					m.Paged = append(m.Paged, tg.name())
				}
			}
			m.Done = nil
		case m.State == StateResolving && lapsed:
			// Keep Done: those targets have the resolve already.
		default:
			// Resolved or failed: nothing left. Sending or resolving under
			// a live lease: its sender is at work; a later call resolves.
			return nil
		}
		m.State, m.Lease, m.UpdatedAt = StateResolving, now.Add(p.lease), now
		rev, err = p.kv.Update(ctx, key, encode(m), rev)
		if bus.IsConflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("paging: claim resolve of incident %s: %w", inc.ID, err)
		}
		return p.deliver(ctx, EventResolve, inc, link, t, key, m, rev, log)
	}
	return fmt.Errorf("paging: incident %s: marker %s kept changing", inc.ID, key)
}

// deliver sends the event to every target not done with it, under the
// marker claimed at rev, and records the outcome.
func (p *Pager) deliver(ctx context.Context, action string, inc events.Incident, link string, t *team, key string, m Marker, rev uint64, log *zap.Logger) error {
	ev := event{action: action, inc: inc, link: link, team: t.name}
	var errs []error
	for _, tg := range p.targets {
		name := tg.name()
		if slices.Contains(m.Done, name) || (action == EventResolve && !slices.Contains(m.Paged, name)) {
			continue
		}
		err := tg.send(ctx, ev)
		var se *statusError
		switch {
		case err == nil:
			p.sent.WithLabelValues(action, name).Inc()
			m.Done = append(m.Done, name)
			if action == EventTrigger && !slices.Contains(m.Paged, name) {
				m.Paged = append(m.Paged, name)
			}
			log.Info("page sent", zap.String("event", action), zap.String("target", name))
		case errors.As(err, &se) && se.permanent():
			// Sending it again would be refused again: record and stop.
			m.Done = append(m.Done, name)
			if action == EventTrigger {
				m.Rejected = append(m.Rejected, name)
			}
			m.Error = err.Error()
			log.Error("page refused; not sent again", zap.String("event", action), zap.String("target", name),
				zap.Int("status", se.status), zap.String("response", se.body))
		default:
			errs = append(errs, err)
			log.Warn("page not sent; a later call sends it once the lease lapses", zap.String("event", action),
				zap.String("target", name), zap.Time("lease", m.Lease), zap.Error(err))
		}
	}
	if len(errs) == 0 {
		m.Done, m.Lease = nil, time.Time{}
		switch {
		case action == EventResolve:
			m.State = StateResolved
		case len(m.Paged) > 0:
			m.State = StateSent
		default:
			m.State = StateFailed
		}
	}
	m.UpdatedAt = p.now()
	// Record the outcome even when ctx ended meanwhile: a lost record
	// means sending again.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
	defer cancel()
	if _, err := p.kv.Update(wctx, key, encode(m), rev); bus.IsConflict(err) {
		// Our lease lapsed and another replica took over: it sends.
		log.Warn("page marker taken over by another replica while sending", zap.String("event", action))
	} else if err != nil {
		errs = append(errs, fmt.Errorf("record marker: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("paging: %s incident %s: %w", action, inc.ID, err)
	}
	return nil
}

func (p *Pager) load(ctx context.Context, key string) (Marker, uint64, error) {
	e, err := p.kv.Get(ctx, key)
	if err != nil {
		return Marker{}, 0, fmt.Errorf("read marker %s: %w", key, err)
	}
	var m Marker
	if err := json.Unmarshal(e.Value(), &m); err != nil {
		return Marker{}, 0, fmt.Errorf("decode marker %s: %w", key, err)
	}
	return m, e.Revision(), nil
}

func encode(m Marker) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("paging: encode marker: %v", err)) // strings, slices and times always encode
	}
	return b
}

// conflict reports a lost compare-and-set.

// summary is the one line the on-call engineer reads first.
func summary(inc events.Incident) string {
	what := inc.Reason
	if what == "" && inc.Declared != nil {
		what = inc.Declared.Symptom
	}
	s := fmt.Sprintf("%s incident on %s: %s (%d tickets, %d tenants)", inc.Severity,
		cmp.Or(inc.Component, "an unknown component"), cmp.Or(what, inc.Key), inc.Count, len(inc.Tenants))
	return truncate(s, 1024) // PagerDuty's limit
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
