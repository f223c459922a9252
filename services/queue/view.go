package queue

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/triage-pipeline/triage/libs/events"
)

// Summary is a ticket as the queue lists it: what the list view keeps in
// memory for each open ticket, and the value in the open-tickets bucket.
type Summary struct {
	ID          string    `json:"id"`
	Subject     string    `json:"subject"`
	TenantID    string    `json:"tenant_id"`
	Reporter    string    `json:"reporter,omitempty"`
	Queue       string    `json:"queue"`
	Status      string    `json:"status"`
	Severity    string    `json:"severity"`
	Component   string    `json:"component"`
	Assignee    string    `json:"assignee,omitempty"`
	Incident    string    `json:"incident,omitempty"`
	Language    string    `json:"language"`
	LogsStatus  string    `json:"logs_status"`
	ErrorLogs   int       `json:"error_logs"`
	SubmittedAt time.Time `json:"submitted_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Due is the SLA time that matters now (zero once resolved).
	Due     time.Time `json:"due,omitzero"`
	DueKind string    `json:"due_kind,omitempty"`
	// ResolutionDue stays until resolved, for the watch of both targets.
	ResolutionDue      time.Time `json:"resolution_due,omitzero"`
	ResponseBreached   bool      `json:"response_breached,omitempty"`
	ResolutionBreached bool      `json:"resolution_breached,omitempty"`
	BugState           string    `json:"bug_state,omitempty"`
	IssueURL           string    `json:"issue_url,omitempty"`
	RouterSuggests     string    `json:"router_suggests,omitempty"`
	// NeedsTriage: the router was unsure and nobody has decided yet.
	NeedsTriage bool   `json:"needs_triage,omitempty"`
	Version     uint64 `json:"version"`
}

func summarize(r *Record) Summary {
	s := Summary{
		ID: r.Ticket.ID, Subject: r.Ticket.Subject, TenantID: r.Ticket.TenantID, Reporter: r.Ticket.SubmittedBy,
		Queue: r.Queue, Status: r.Status, Severity: r.Routing.Severity, Component: r.Routing.Component,
		Assignee: r.Assignee, Incident: r.Routing.Incident, Language: r.Ticket.Language,
		LogsStatus: string(r.Enrichment.LogsStatus), ErrorLogs: r.Enrichment.ErrorLogs,
		SubmittedAt: r.Ticket.SubmittedAt, UpdatedAt: r.UpdatedAt, Due: r.SLA.Next(), DueKind: r.SLA.NextKind(),
		ResponseBreached: r.SLA.ResponseBreached, ResolutionBreached: r.SLA.ResolutionBreached, Version: r.Version,
	}
	if r.Bug != nil {
		s.BugState, s.IssueURL = r.Bug.State, r.Bug.IssueURL
	}
	if r.RouterSuggests != nil {
		s.RouterSuggests = r.RouterSuggests.Queue
	}
	s.NeedsTriage = r.Routing.NeedsTriage && !r.PersonTouched
	if r.SLA.ResolvedAt == nil {
		s.ResolutionDue = r.SLA.ResolutionDue
	}
	return s
}

// SLA states of a listed ticket.
const (
	SLAOK       = "ok"
	SLADueSoon  = "due_soon"
	SLABreached = "breached"
	// dueSoon is how close a due time counts as soon.
	dueSoon = time.Hour
)

// SLAState says how the ticket stands against its SLA at now.
func (s Summary) SLAState(now time.Time) string {
	switch {
	case s.ResponseBreached || s.ResolutionBreached || (!s.Due.IsZero() && now.After(s.Due)):
		return SLABreached
	case !s.Due.IsZero() && s.Due.Sub(now) < dueSoon:
		return SLADueSoon
	}
	return SLAOK
}

// sortKey orders the queue: severity, then the SLA due time, then age.
type sortKey struct {
	Severity  string    `json:"s"`
	Due       time.Time `json:"d"`
	Submitted time.Time `json:"t"`
	ID        string    `json:"i"`
}

// farFuture puts tickets without a due time after every due time.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func keyOf(s Summary) sortKey {
	due := s.Due
	if due.IsZero() {
		due = farFuture
	}
	sev := s.Severity
	if sev == "" {
		sev = "P9"
	}
	return sortKey{Severity: sev, Due: due, Submitted: s.SubmittedAt, ID: s.ID}
}

func (a sortKey) less(b sortKey) bool {
	if a.Severity != b.Severity {
		return a.Severity < b.Severity
	}
	if !a.Due.Equal(b.Due) {
		return a.Due.Before(b.Due)
	}
	if !a.Submitted.Equal(b.Submitted) {
		return a.Submitted.Before(b.Submitted)
	}
	return a.ID < b.ID
}

// cursor encodes a position in the ordered queue for the next page.
func (k sortKey) cursor() string {
	b, _ := json.Marshal(k)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseCursor(c string) (sortKey, error) {
	var k sortKey
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		err = json.Unmarshal(b, &k)
	}
	if err != nil || k.ID == "" {
		return k, fmt.Errorf("not a cursor from this queue; use next_cursor from the previous page")
	}
	return k, nil
}

type entry struct {
	key sortKey
	s   Summary
}

// view is the queue's in-memory index of open tickets, fed by a watch on
// the open-tickets bucket: every replica serves the same queue without a
// store of its own, and memory grows with open tickets only. Tickets are
// kept in queue order (a B-tree), so a page is read from its cursor
// without copying or sorting the queue.
type view struct {
	mu      sync.RWMutex
	byID    map[string]*entry
	ordered *btree.BTreeG[*entry]
	// counts by queue, then status, kept as tickets come and go.
	counts map[string]map[string]int
	loaded bool
	// waiters are requests waiting for a ticket that is not there yet.
	waiters map[string][]chan struct{}
}

func newView() *view {
	return &view{
		byID:    map[string]*entry{},
		ordered: btree.NewG(32, func(a, b *entry) bool { return a.key.less(b.key) }),
		counts:  map[string]map[string]int{},
		waiters: map[string][]chan struct{}{},
	}
}

func (v *view) put(s Summary) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if old, ok := v.byID[s.ID]; ok {
		if old.s.Version > s.Version {
			return // a late, older summary
		}
		v.drop(old)
	}
	e := &entry{key: keyOf(s), s: s}
	v.byID[s.ID] = e
	v.ordered.ReplaceOrInsert(e)
	if v.counts[s.Queue] == nil {
		v.counts[s.Queue] = map[string]int{}
	}
	v.counts[s.Queue][s.Status]++
	for _, w := range v.waiters[s.ID] {
		close(w)
	}
	delete(v.waiters, s.ID)
}

// drop removes e; the lock is held.
func (v *view) drop(e *entry) {
	delete(v.byID, e.s.ID)
	v.ordered.Delete(e)
	v.counts[e.s.Queue][e.s.Status]--
}

func (v *view) remove(id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e, ok := v.byID[id]; ok {
		v.drop(e)
	}
}

func (v *view) get(id string) (Summary, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	e, ok := v.byID[id]
	if !ok {
		return Summary{}, false
	}
	return e.s, true
}

func (v *view) markLoaded() {
	v.mu.Lock()
	v.loaded = true
	v.mu.Unlock()
}

func (v *view) isLoaded() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.loaded
}

// size is the number of open tickets held.
func (v *view) size() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.byID)
}

// Filter selects tickets of a listing; empty fields select all.
type Filter struct {
	Queue     string
	Status    string
	Component string
	// Assignee is a name, or AssigneeNone for unassigned tickets.
	Assignee string
	Tenant   string
	// Incidents selects the tickets of any of these incidents (one, and
	// those merged into it).
	Incidents []string
	Reporter  string
	// NeedsTriage selects the lane of tickets the router was unsure of.
	NeedsTriage bool
}

// AssigneeNone selects unassigned tickets.
const AssigneeNone = "\x00unassigned"

func (f Filter) match(s *Summary) bool {
	switch {
	case f.Queue != "" && s.Queue != f.Queue,
		f.Status != "" && s.Status != f.Status,
		f.Component != "" && s.Component != f.Component,
		f.Tenant != "" && s.TenantID != f.Tenant,
		len(f.Incidents) > 0 && !slices.Contains(f.Incidents, s.Incident),
		f.Reporter != "" && !strings.EqualFold(s.Reporter, f.Reporter),
		f.NeedsTriage && !s.NeedsTriage,
		f.Assignee == AssigneeNone && s.Assignee != "",
		f.Assignee != "" && f.Assignee != AssigneeNone && s.Assignee != f.Assignee:
		return false
	}
	return true
}

// list returns up to limit tickets matching f after the cursor position,
// in queue order, and the cursor of the next page ("" at the end).
func (v *view) list(f Filter, after *sortKey, limit int) ([]Summary, string) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]Summary, 0, min(limit, 64))
	next := ""
	visit := func(e *entry) bool {
		if after != nil && !after.less(e.key) {
			return true // the cursor's own ticket
		}
		if !f.match(&e.s) {
			return true
		}
		if len(out) == limit {
			next = keyOf(out[len(out)-1]).cursor()
			return false
		}
		out = append(out, e.s)
		return true
	}
	if after != nil {
		v.ordered.AscendGreaterOrEqual(&entry{key: *after}, visit)
	} else {
		v.ordered.Ascend(visit)
	}
	return out, next
}

// Counts are a queue's tickets by status and SLA state.
type Counts struct {
	Total int `json:"total"`
	// NeedsTriage counts the open tickets the router was unsure of.
	NeedsTriage int            `json:"needs_triage"`
	ByStatus    map[string]int `json:"by_status"`
	BySLA       map[string]int `json:"by_sla"`
}

// count tallies one queue at now. Status counts are kept as tickets come
// and go; the SLA states depend on the clock, so they are read off the
// tickets.
func (v *view) count(queue string, now time.Time) Counts {
	v.mu.RLock()
	defer v.mu.RUnlock()
	c := Counts{ByStatus: map[string]int{}, BySLA: map[string]int{SLAOK: 0, SLADueSoon: 0, SLABreached: 0}}
	for st, n := range v.counts[queue] {
		if n > 0 {
			c.ByStatus[st] = n
			c.Total += n
		}
	}
	for _, e := range v.byID {
		if e.s.Queue == queue {
			c.BySLA[e.s.SLAState(now)]++
			if e.s.NeedsTriage {
				c.NeedsTriage++
			}
		}
	}
	return c
}

// overdue lists open tickets whose next due time has passed and that are
// not yet marked breached, for the SLA watcher.
func (v *view) overdue(now time.Time) []Summary {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []Summary
	for _, e := range v.byID {
		s := e.s
		response := s.DueKind == events.SLAResponse && !s.ResponseBreached && !s.Due.IsZero() && !now.Before(s.Due)
		resolution := !s.ResolutionBreached && !s.ResolutionDue.IsZero() && !now.Before(s.ResolutionDue)
		if response || resolution {
			out = append(out, s)
		}
	}
	return out
}

// wait reports whether the ticket is in the view, waiting until ctx ends
// for it to arrive.
func (v *view) wait(ctx context.Context, id string) bool {
	v.mu.Lock()
	if _, ok := v.byID[id]; ok {
		v.mu.Unlock()
		return true
	}
	if ctx.Err() != nil {
		v.mu.Unlock()
		return false
	}
	ch := make(chan struct{})
	v.waiters[id] = append(v.waiters[id], ch)
	v.mu.Unlock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		v.mu.Lock()
		defer v.mu.Unlock()
		list := v.waiters[id]
		for i, w := range list {
			if w == ch {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(v.waiters, id)
		} else {
			v.waiters[id] = list
		}
		_, ok := v.byID[id]
		return ok
	}
}

// waiting counts the requests waiting for a ticket.
func (v *view) waiting(id string) int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.waiters[id])
}

// waitingAll counts the requests waiting for any ticket.
func (v *view) waitingAll() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	n := 0
	for _, w := range v.waiters {
		n += len(w)
	}
	return n
}
