package router

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/extract"
	"github.com/triage-pipeline/triage/libs/incidents"
)

// IncidentConfig says how storms are grouped into incidents.
type IncidentConfig struct {
	Window time.Duration `name:"incident-window" env:"TRIAGE_ROUTER_INCIDENT_WINDOW" default:"30m" help:"A ticket grouped by component joins its group's incident if it comes within this long of the incident's last ticket; later ones start a new incident."`
	// A shared error signature is strong evidence of one failure, even when
	// its tickets trickle in over hours; a shared component is weak.
	SignatureWindow time.Duration `name:"incident-signature-window" env:"TRIAGE_ROUTER_INCIDENT_SIGNATURE_WINDOW" default:"4h" help:"The same for tickets grouped by an error signature of their logs."`
	Threshold       int           `name:"incident-threshold" env:"TRIAGE_ROUTER_INCIDENT_THRESHOLD" default:"3" help:"Tickets it takes to open an incident (one P1 ticket opens it at once)."`
}

// DefaultIncidentConfig is the flags' defaults, for evaluations.
func DefaultIncidentConfig() IncidentConfig {
	return IncidentConfig{Window: 30 * time.Minute, SignatureWindow: 4 * time.Hour, Threshold: 3}
}

// Validate refuses settings that would group nothing or everything.
func (c IncidentConfig) Validate() error {
	if c.Window <= 0 || c.SignatureWindow <= 0 {
		return fmt.Errorf("--incident-window and --incident-signature-window must be positive, got %s and %s", c.Window, c.SignatureWindow)
	}
	if c.Threshold < 1 {
		return fmt.Errorf("--incident-threshold must be at least 1, got %d", c.Threshold)
	}
	return nil
}

// stormGroup is what a ticket is grouped by, and why, in words.
type stormGroup struct {
	key       string // events.Incident.Key
	reason    string
	signature events.Signature // zero when grouped by component
	errorCode string           // the quoted code, grouped by component and code
	// declared: the group is an incident people declared; it has no
	// window and is never started by the router.
	declared bool
}

// window is how long after an incident's last ticket a ticket still joins.
func (c IncidentConfig) window(g stormGroup) time.Duration {
	if g.signature.ID != "" {
		return c.SignatureWindow
	}
	return c.Window
}

// groupOf says which storm group a routed ticket belongs to, if any. Only
// technical tickets are grouped. A signature of the logs tied to the ticket
// (not the tenant's other errors in the window) groups best; without one,
// the component and the error code the ticket quotes stand for the symptom.
func groupOf(e events.Enrichment, r events.Routing) (stormGroup, bool) {
	if !r.Technical || r.NeedsTriage {
		return stormGroup{}, false
	}
	var best *events.Signature
	for i := range e.Signatures {
		s := &e.Signatures[i]
		if s.Matched > 0 && (best == nil || s.Matched > best.Matched || (s.Matched == best.Matched && s.ID < best.ID)) {
			best = s
		}
	}
	if best != nil {
		where := strings.Join(best.Services, ", ")
		if where == "" {
			where = "an unnamed service"
		}
		return stormGroup{
			key:       "signature:" + best.ID,
			reason:    fmt.Sprintf("signature %s %q in %s", best.ID, best.Template, where),
			signature: *best,
		}, true
	}
	if r.Component == "" || r.Component == "other" {
		return stormGroup{}, false
	}
	key, reason := "component:"+r.Component, "component "+r.Component
	var codes []string
	for _, ev := range e.Evidence {
		if ev.Kind == string(extract.KindErrorCode) {
			codes = append(codes, strings.ToUpper(ev.Value))
		}
	}
	code := ""
	if len(codes) > 0 {
		slices.Sort(codes)
		code = codes[0]
		key += ":" + code
		reason += " with error code " + code
	}
	return stormGroup{key: key, reason: reason + " (no logs tied to the tickets)", errorCode: code}, true
}

// declaredFor finds the live declared incident a routed ticket belongs to:
// one declared for its component whose time covers the ticket (from a
// window before the declaration: customers call before monitoring fires,
// and tickets wait in the enricher). The newest declaration wins.
func (c IncidentConfig) declaredFor(view *incidents.View, t events.Ticket, r events.Routing, now time.Time) (stormGroup, bool) {
	if view == nil || !r.Technical || r.NeedsTriage || r.Component == "" {
		return stormGroup{}, false
	}
	at := t.SubmittedAt
	matches := view.Select(func(inc events.Incident) bool {
		d := inc.Declared
		return d != nil && inc.Live(now) && inc.Component == r.Component &&
			!at.Before(d.StartsAt.Add(-c.Window)) && (d.EndsAt.IsZero() || !at.After(d.EndsAt))
	})
	if len(matches) == 0 {
		return stormGroup{}, false
	}
	best := matches[0]
	for _, inc := range matches[1:] {
		if inc.Declared.StartsAt.After(best.Declared.StartsAt) {
			best = inc
		}
	}
	return stormGroup{key: best.Key, declared: true,
		reason: fmt.Sprintf("declared incident %q (%s, by %s)", best.Declared.Symptom, best.Declared.Source, best.Declared.By.Name)}, true
}

// member is one ticket joining a group.
type member struct {
	ticket, tenant, severity, component, runbook string
	at                                           time.Time
}

// memberOf is a routed ticket as an incident's member.
func memberOf(t events.Ticket, r events.Routing) member {
	return member{ticket: t.ID, tenant: t.TenantID, runbook: r.Runbook, severity: r.Severity, component: r.Component, at: t.SubmittedAt.UTC()}
}

type joinResult struct {
	incident events.Incident
	err      error
}

type joinRequest struct {
	m    member
	done chan joinResult
}

// groupQueue holds one group's waiting joins; one handler at a time writes
// them all (group commit), so 32 handlers joining one storm make one write
// instead of 32 competing ones.
type groupQueue struct {
	waiting []joinRequest
	writing bool
}

// incidents groups routed tickets into incidents kept in the incidents
// bucket. Every write is a compare-and-set on the group's key, so replicas
// racing on a new storm create one incident, not several.
type grouper struct {
	kv  jetstream.KeyValue
	cfg IncidentConfig
	now func() time.Time

	mu     sync.Mutex
	groups map[string]*groupQueue
}

func newGrouper(kv jetstream.KeyValue, cfg IncidentConfig, now func() time.Time) *grouper {
	return &grouper{kv: kv, cfg: cfg, now: now, groups: map[string]*groupQueue{}}
}

// join adds the ticket to its group's current incident (a redelivered
// ticket is already there and changes nothing) and returns the incident.
func (in *grouper) join(ctx context.Context, g stormGroup, m member) (events.Incident, error) {
	k := incidents.GroupKey(g.key)
	req := joinRequest{m: m, done: make(chan joinResult, 1)}
	in.mu.Lock()
	q := in.groups[k]
	if q == nil {
		q = &groupQueue{}
		in.groups[k] = q
	}
	q.waiting = append(q.waiting, req)
	lead := !q.writing
	q.writing = true
	in.mu.Unlock()
	if lead {
		// The writer outlives this handler if need be: what it writes for
		// a handler that gave up is found on redelivery, not doubled.
		go in.write(context.WithoutCancel(ctx), k, g)
	}
	select {
	case r := <-req.done:
		return r.incident, r.err
	case <-ctx.Done():
		return events.Incident{}, fmt.Errorf("join incident %s: %w", g.key, ctx.Err())
	}
}

// writeTimeout bounds one batch's write, retries included.
const writeTimeout = 10 * time.Second

// write applies the group's waiting joins, batch after batch, until none
// are left.
func (in *grouper) write(ctx context.Context, k string, g stormGroup) {
	for {
		in.mu.Lock()
		q := in.groups[k]
		batch := q.waiting
		q.waiting = nil
		if len(batch) == 0 {
			q.writing = false
			delete(in.groups, k)
			in.mu.Unlock()
			return
		}
		in.mu.Unlock()
		// Oldest first: a ticket may end one incident and start the next,
		// and each waiting handler gets the incident of its own ticket.
		slices.SortStableFunc(batch, func(a, b joinRequest) int { return a.m.at.Compare(b.m.at) })
		members := make([]member, len(batch))
		for i, r := range batch {
			members[i] = r.m
		}
		bctx, cancel := context.WithTimeout(ctx, writeTimeout)
		ids, err := in.apply(bctx, k, g, members)
		cancel()
		for i, r := range batch {
			if err != nil {
				r.done <- joinResult{err: err}
			} else {
				r.done <- joinResult{incident: ids[i]}
			}
		}
	}
}

// maxConflicts bounds compare-and-set retries; each conflict means another
// replica wrote, so the storm is making progress.
const maxConflicts = 1000

// apply merges members into the group's record with a compare-and-set and
// returns each member's incident.
// Members come oldest first.
func (in *grouper) apply(ctx context.Context, k string, g stormGroup, members []member) ([]events.Incident, error) {
	// kept: what this write kept of each ended incident, so an attempt
	// that lost the race to a person's change of the group's record keeps
	// the changed incident instead.
	kept := map[string]string{}
	for range maxConflicts {
		var cur *events.Incident
		var rev uint64
		entry, err := in.kv.Get(ctx, k)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return nil, fmt.Errorf("read incident %s: %w", k, err)
		default:
			cur, rev = new(events.Incident), entry.Revision()
			if err := json.Unmarshal(entry.Value(), cur); err != nil {
				return nil, fmt.Errorf("decode incident %s: %w", k, err)
			}
		}
		next, ended, results := in.merge(cur, g, k, members)
		// An incident that ended is kept under its id before the group's
		// key moves on, so a crash in between loses nothing.
		for _, old := range ended {
			data, err := json.Marshal(old)
			if err != nil {
				return nil, fmt.Errorf("encode incident %s: %w", old.ID, err)
			}
			if kept[old.ID] == string(data) {
				continue // by an earlier attempt that then conflicted
			}
			if err := (incidents.Store{KV: in.kv}).Keep(ctx, old.ID, data, kept[old.ID]); err != nil {
				return nil, err
			}
			kept[old.ID] = string(data)
		}
		data, err := json.Marshal(next)
		if err != nil {
			return nil, fmt.Errorf("encode incident %s: %w", next.ID, err)
		}
		if cur == nil {
			_, err = in.kv.Create(ctx, k, data)
		} else {
			_, err = in.kv.Update(ctx, k, data, rev)
		}
		if err == nil {
			return results, nil
		}
		if !bus.IsConflict(err) {
			return nil, fmt.Errorf("write incident %s: %w", next.ID, err)
		}
	}
	return nil, fmt.Errorf("write incident %s: still conflicting after %d attempts", k, maxConflicts)
}

// merge adds members (oldest first) to cur, starting a new incident when a
// member comes more than the window after the current one's last ticket,
// or after a person resolved it. What people decided stays: a ticket they
// split out gets no incident; a declared incident has no window, and once
// resolved takes no more tickets (the router never starts one).
func (in *grouper) merge(cur *events.Incident, g stormGroup, k string, members []member) (events.Incident, []events.Incident, []events.Incident) {
	var ended []events.Incident
	results := make([]events.Incident, len(members))
	var inc events.Incident
	fresh := cur == nil
	if !fresh {
		inc = *cur
		inc.Tickets, inc.Tenants = slices.Clone(cur.Tickets), slices.Clone(cur.Tenants)
	}
	now := in.now().UTC()
	for i, m := range members {
		if !fresh && slices.Contains(inc.Tickets, m.ticket) {
			// Routed again (its logs arrived): it stays where it is, even
			// in an incident that ended or was resolved meanwhile.
			results[i] = inc
			continue
		}
		if g.declared && (fresh || inc.Resolved()) {
			continue // resolved (or gone) since the router matched it
		}
		if !fresh && (inc.Resolved() || (inc.Declared == nil && m.at.After(inc.LastSeen.Add(in.cfg.window(g))))) {
			ended = append(ended, inc)
			fresh = true
		}
		if fresh {
			inc = events.Incident{
				ID:  incidents.NewID(k, m.at),
				Key: g.key, Component: m.component, Severity: m.severity, Runbook: m.runbook,
				Signature: g.signature.ID, Template: g.signature.Template, Services: g.signature.Services, ErrorCode: g.errorCode,
				Tickets: []string{}, Tenants: []string{}, FirstSeen: m.at, LastSeen: m.at,
			}
			fresh = false
		}
		if slices.Contains(inc.Split, m.ticket) {
			continue // a person took it out: it stays out
		}
		if !slices.Contains(inc.Tickets, m.ticket) {
			inc.Count++
			if len(inc.Tickets) < events.MaxIncidentTickets {
				inc.Tickets = append(inc.Tickets, m.ticket)
			}
			if m.tenant != "" && len(inc.Tenants) < events.MaxIncidentTickets && !slices.Contains(inc.Tenants, m.tenant) {
				inc.Tenants = append(inc.Tenants, m.tenant)
			}
			if m.at.Before(inc.FirstSeen) {
				inc.FirstSeen = m.at
			}
			if m.at.After(inc.LastSeen) {
				inc.LastSeen = m.at
			}
			if events.SeverityRank(m.severity) < events.SeverityRank(inc.Severity) {
				inc.Severity = m.severity
			}
			if !inc.Open && (inc.Count >= in.cfg.Threshold || m.severity == "P1") {
				inc.Open, inc.OpenedAt = true, &now
			}
			if inc.Runbook == "" {
				inc.Runbook = m.runbook
			}
			inc.UpdatedAt = now
		}
		if inc.Declared == nil {
			inc.Until = inc.LastSeen.Add(in.cfg.window(g))
		}
		inc.Reason = fmt.Sprintf("grouped because %s: %d tickets from %d tenants since %s",
			g.reason, inc.Count, len(inc.Tenants), inc.FirstSeen.Format("2006-01-02 15:04 MST"))
		results[i] = inc
	}
	return inc, ended, results
}

// Routed is one routed ticket, for GroupTickets.
type Routed struct {
	Ticket     events.Ticket
	Enrichment events.Enrichment
	Routing    events.Routing
}

// GroupTickets groups routed tickets as the router does when they arrive
// in submission order, without a bucket: for evaluations. It returns every
// incident, those that never opened too.
func GroupTickets(items []Routed, cfg IncidentConfig) []events.Incident {
	in := newGrouper(nil, cfg, time.Now)
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return items[a].Ticket.SubmittedAt.Compare(items[b].Ticket.SubmittedAt) })
	current := map[string]*events.Incident{}
	var out []events.Incident
	for _, i := range order {
		it := items[i]
		g, ok := groupOf(it.Enrichment, it.Routing)
		if !ok {
			continue
		}
		k := incidents.GroupKey(g.key)
		next, ended, _ := in.merge(current[k], g, k, []member{memberOf(it.Ticket, it.Routing)})
		out = append(out, ended...)
		current[k] = &next
	}
	for _, inc := range current {
		out = append(out, *inc)
	}
	slices.SortFunc(out, func(a, b events.Incident) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
