package queue

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
)

// incidentIDPattern is the router's incident id: the group's hash, a dash,
// the first ticket's time in base 36.
var incidentIDPattern = regexp.MustCompile(`^([0-9a-f]{16})-[0-9a-z]{1,13}$`)

var errNoIncident = errors.New("no such incident")

// incidentView holds each storm group's current incident, kept in step
// with the router's bucket by watchIncidents, so pages and their live
// refreshes read memory, not the bucket.
type incidentView struct {
	mu    sync.RWMutex
	byKey map[string]events.Incident // "group.<hash>" → its current incident
}

func newIncidentView() *incidentView { return &incidentView{byKey: map[string]events.Incident{}} }

func (v *incidentView) put(key string, inc events.Incident) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.byKey[key] = inc
}

func (v *incidentView) remove(key string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.byKey, key)
}

func (v *incidentView) get(key string) (events.Incident, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	inc, ok := v.byKey[key]
	return inc, ok
}

// live lists the incidents open at now, most severe first, then newest.
func (v *incidentView) live(now time.Time) []events.Incident {
	v.mu.RLock()
	out := []events.Incident{}
	for _, inc := range v.byKey {
		if inc.Live(now) {
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

// watchIncidents keeps the incident view in step with the router's bucket.
func (s *Service) watchIncidents(ctx context.Context) error {
	w, err := s.st.incidents.WatchFiltered(ctx, []string{"group.*"})
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
			case !ok:
				return errors.New("incidents watch ended")
			case e == nil: // the initial values are in
			case e.Operation() != jetstream.KeyValuePut:
				s.incidents.remove(e.Key())
			default:
				var inc events.Incident
				if err := json.Unmarshal(e.Value(), &inc); err != nil {
					s.Log.Error("undecodable incident in bucket", zap.String("key", e.Key()), zap.Error(err))
					continue
				}
				s.incidents.put(e.Key(), inc)
			}
		}
	}
}

// incident finds an incident by id: its group's current one (in memory),
// or one that ended (in the bucket).
func (s *Service) incident(ctx context.Context, id string) (events.Incident, error) {
	m := incidentIDPattern.FindStringSubmatch(id)
	if m == nil {
		return events.Incident{}, errNoIncident
	}
	if inc, ok := s.incidents.get("group." + m[1]); ok && inc.ID == id {
		return inc, nil
	}
	e, err := s.st.incidents.Get(ctx, "past."+id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return events.Incident{}, errNoIncident
	}
	if err != nil {
		return events.Incident{}, fmt.Errorf("read incident %s: %w", id, err)
	}
	var inc events.Incident
	if err := json.Unmarshal(e.Value(), &inc); err != nil {
		return events.Incident{}, fmt.Errorf("decode incident %s: %w", id, err)
	}
	return inc, nil
}

// listIncidents answers GET /api/v1/incidents: the storms open now.
func (s *Service) listIncidents(w http.ResponseWriter, r *http.Request) {
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"incidents": s.incidents.live(s.now())})
}

// getIncident answers GET /api/v1/incidents/{iid}.
func (s *Service) getIncident(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("iid")
	inc, err := s.incident(r.Context(), id)
	if errors.Is(err, errNoIncident) {
		err = httpapi.Errorf(httpapi.CodeIncidentNotFound, "no incident %q; GET /api/v1/incidents lists the open ones", id)
	}
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, inc)
}
