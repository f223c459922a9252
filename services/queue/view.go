package queue

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// view is the queue's in-memory copy of the tickets bucket, fed by a KV
// watch; it answers listings and wakes requests waiting for a ticket.
type view struct {
	mu      sync.RWMutex
	tickets map[string]Summary
	loaded  bool
	// waiters are requests waiting for a ticket that is not there yet; only
	// that ticket's arrival wakes them.
	waiters map[string][]chan struct{}
}

// Summary is a ticket as listed in a queue.
type Summary struct {
	ID          string    `json:"id"`
	Subject     string    `json:"subject"`
	TenantID    string    `json:"tenant_id"`
	Queue       string    `json:"queue"`
	Status      string    `json:"status"`
	Severity    string    `json:"severity"`
	Component   string    `json:"component"`
	Language    string    `json:"language"`
	LogsStatus  string    `json:"logs_status"`
	ErrorLogs   int       `json:"error_logs"`
	SubmittedAt time.Time `json:"submitted_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func newView() *view {
	return &view{tickets: map[string]Summary{}, waiters: map[string][]chan struct{}{}}
}

func summarize(t Ticket) Summary {
	return Summary{
		ID: t.Ticket.ID, Subject: t.Ticket.Subject, TenantID: t.Ticket.TenantID,
		Queue: t.Routing.Queue, Status: t.Status, Severity: t.Routing.Severity, Component: t.Routing.Component,
		Language: t.Ticket.Language, LogsStatus: string(t.Enrichment.LogsStatus), ErrorLogs: t.Enrichment.ErrorLogs,
		SubmittedAt: t.Ticket.SubmittedAt, UpdatedAt: t.UpdatedAt,
	}
}

func (v *view) put(t Ticket) {
	v.mu.Lock()
	v.tickets[t.Ticket.ID] = summarize(t)
	for _, w := range v.waiters[t.Ticket.ID] {
		close(w)
	}
	delete(v.waiters, t.Ticket.ID)
	v.mu.Unlock()
}

func (v *view) remove(id string) {
	v.mu.Lock()
	delete(v.tickets, id)
	v.mu.Unlock()
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

// wait reports whether the ticket is in the view, waiting until ctx ends
// for it to arrive.
func (v *view) wait(ctx context.Context, id string) bool {
	v.mu.Lock()
	if _, ok := v.tickets[id]; ok {
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
		// It may have arrived while we took the lock.
		_, ok := v.tickets[id]
		return ok
	}
}

// list returns one queue ordered by priority (P1 first), then age (oldest
// first), and the queue's total size.
func (v *view) list(queue string, offset, limit int) ([]Summary, int) {
	v.mu.RLock()
	out := make([]Summary, 0, len(v.tickets))
	for _, s := range v.tickets {
		if s.Queue == queue {
			out = append(out, s)
		}
	}
	v.mu.RUnlock()
	slices.SortFunc(out, func(a, b Summary) int {
		if c := strings.Compare(a.Severity, b.Severity); c != 0 {
			return c
		}
		if c := a.SubmittedAt.Compare(b.SubmittedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	total := len(out)
	if offset >= total {
		return []Summary{}, total
	}
	out = out[offset:]
	if len(out) > limit {
		out = out[:limit]
	}
	return out, total
}
