package incidents

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
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
)

// View holds each group's current incident, kept in step with the bucket
// by Watch, so pages, their live refreshes and the router's matching read
// memory, not the bucket.
type View struct {
	mu    sync.RWMutex
	byKey map[string]events.Incident // "group.<hash>" or "declared.<hash>" → its current incident
	// changed is told each incident that changed, if set (before Watch).
	changed func(events.Incident)
}

// NewView returns an empty view; onChange, if not nil, is called (from the
// watch's goroutine) with every incident written.
func NewView(onChange func(events.Incident)) *View {
	return &View{byKey: map[string]events.Incident{}, changed: onChange}
}

// Put records a group's current incident.
func (v *View) Put(key string, inc events.Incident) {
	v.mu.Lock()
	v.byKey[key] = inc
	v.mu.Unlock()
}

func (v *View) remove(key string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.byKey, key)
}

// Current returns the incident if it is its group's current one.
func (v *View) Current(id string) (events.Incident, bool) {
	m := idPattern.FindStringSubmatch(id)
	if m == nil {
		return events.Incident{}, false
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, key := range currentKeys(m[1]) {
		if inc, ok := v.byKey[key]; ok && inc.ID == id {
			return inc, true
		}
	}
	return events.Incident{}, false
}

// Live lists the incidents open at now, most severe first, then newest.
func (v *View) Live(now time.Time) []events.Incident {
	return v.Select(func(inc events.Incident) bool { return inc.Live(now) })
}

// Select lists the current incidents keep accepts, most severe first, then
// newest.
func (v *View) Select(keep func(events.Incident) bool) []events.Incident {
	v.mu.RLock()
	out := []events.Incident{}
	for _, inc := range v.byKey {
		if keep(inc) {
			out = append(out, inc)
		}
	}
	v.mu.RUnlock()
	slices.SortFunc(out, func(a, b events.Incident) int {
		return cmp.Or(cmp.Compare(events.SeverityRank(a.Severity), events.SeverityRank(b.Severity)),
			b.LastSeen.Compare(a.LastSeen), strings.Compare(a.ID, b.ID))
	})
	return out
}

// Which incidents a view watches.
const (
	AllCurrent   = iota // storms and declarations (and ended ones' changes)
	DeclaredOnly        // declarations (the router's matching)
)

// Watch keeps the view in step with the bucket until ctx ends. ready, if
// not nil, is closed once the bucket's current values are in.
func (v *View) Watch(ctx context.Context, kv jetstream.KeyValue, which int, log *zap.Logger, ready chan<- struct{}) error {
	filter := []string{declaredKeys + "*"}
	if which == AllCurrent {
		// Ended incidents too: they are not kept in the view, but their
		// changes are told (a resolution still to carry out).
		filter = append(filter, stormKeys+"*", pastKeys+"*")
	}
	w, err := kv.WatchFiltered(ctx, filter)
	if err != nil {
		return fmt.Errorf("watch %s: %w", bus.BucketIncidents, err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			switch {
			case !ok && ctx.Err() != nil:
				return nil // stopping: the watch closed with ctx
			case !ok:
				return errors.New("incidents watch ended")
			case e == nil: // the initial values are in
				if ready != nil {
					close(ready)
					ready = nil
				}
			case e.Operation() != jetstream.KeyValuePut:
				v.remove(e.Key())
			default:
				var inc events.Incident
				if err := json.Unmarshal(e.Value(), &inc); err != nil {
					log.Error("undecodable incident in bucket", zap.String("key", e.Key()), zap.Error(err))
					continue
				}
				if !strings.HasPrefix(e.Key(), pastKeys) {
					v.Put(e.Key(), inc)
				}
				if v.changed != nil {
					v.changed(inc)
				}
			}
		}
	}
}
