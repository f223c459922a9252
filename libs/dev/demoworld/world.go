package demoworld

import (
	"fmt"
	"slices"
	"time"
)

// World is a generated demo world: restaurants, their logs and the tickets
// their staff file, with labels for evaluating the pipeline.
type World struct {
	// Config is the configuration with defaults applied.
	Config Config
	// Start and End bound the generated period [Start, End).
	Start, End time.Time
	Tenants    []Tenant
	// Logs are sorted by @timestamp (ties keep creation order).
	Logs []Log
	// Tickets are sorted by SubmittedAt.
	Tickets []Ticket
	// Incidents describe what was injected, for tests and reports.
	Incidents []Incident

	tenantByID map[string]int
	logByID    map[string]int
	// tenantLogs holds, per tenant, indexes into Logs in time order.
	tenantLogs map[string][]int
}

// Generate builds the world for cfg. It never fails: when cfg.LogHubDir
// cannot be read the legacy-batch logs are left out (New reports why).
func Generate(cfg Config) *World {
	w, err := New(cfg)
	if err != nil {
		cfg.LogHubDir = ""
		w, _ = New(cfg)
	}
	return w
}

// New builds the world for cfg and reports a LogHubDir it cannot read.
func New(cfg Config) (*World, error) {
	cfg = cfg.withDefaults()
	var legacy []legacyLine
	if cfg.LogHubDir != "" {
		var err error
		if legacy, err = loadLogHub(cfg.LogHubDir); err != nil {
			return nil, fmt.Errorf("demo world legacy logs: %w", err)
		}
	}
	g := newGenerator(cfg)
	g.generate(legacy)
	return g.world(), nil
}

// Tenant returns the tenant with id.
func (w *World) Tenant(id string) (Tenant, bool) {
	i, ok := w.tenantByID[id]
	if !ok {
		return Tenant{}, false
	}
	return w.Tenants[i], true
}

// TenantZone returns the time zone of tenant id, the zone in which the times
// its staff write in tickets are meant.
func (w *World) TenantZone(id string) (*time.Location, bool) {
	i, ok := w.tenantByID[id]
	if !ok {
		return nil, false
	}
	return w.Tenants[i].loc, true
}

// TenantZones maps every tenant id to its IANA zone name, the directory the
// enricher needs to read local times in tickets.
func (w *World) TenantZones() map[string]string {
	out := make(map[string]string, len(w.Tenants))
	for _, t := range w.Tenants {
		out[t.ID] = t.TimeZone
	}
	return out
}

// Log returns the log with event.id id.
func (w *World) Log(id string) (Log, bool) {
	i, ok := w.logByID[id]
	if !ok {
		return Log{}, false
	}
	return w.Logs[i], true
}

// TenantLogs returns the tenant's logs in time order (copies).
func (w *World) TenantLogs(tenantID string) []Log {
	idx := w.tenantLogs[tenantID]
	out := make([]Log, len(idx))
	for i, j := range idx {
		out[i] = w.Logs[j]
	}
	return out
}

// Indices lists the daily indices the logs fall into, in date order.
func (w *World) Indices() []string {
	var out []string
	for i := range w.Logs {
		if name := w.Logs[i].Index(); len(out) == 0 || out[len(out)-1] != name {
			out = append(out, name)
		}
	}
	return out
}

// buildIndexes sorts the logs and fills the lookup maps.
func (w *World) buildIndexes() {
	slices.SortStableFunc(w.Logs, func(a, b Log) int {
		return a.Timestamp.Compare(b.Timestamp.Time)
	})
	w.tenantByID = make(map[string]int, len(w.Tenants))
	for i, t := range w.Tenants {
		w.tenantByID[t.ID] = i
	}
	w.logByID = make(map[string]int, len(w.Logs))
	w.tenantLogs = make(map[string][]int, len(w.Tenants))
	for i := range w.Logs {
		l := &w.Logs[i]
		w.logByID[l.Event.ID] = i
		if tid := l.Labels.TenantID; tid != "" {
			w.tenantLogs[tid] = append(w.tenantLogs[tid], i)
		}
	}
}
