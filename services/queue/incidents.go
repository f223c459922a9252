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

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
)

// incidentIDPattern is the router's incident id: the group's hash, a dash,
// the first ticket's time in base 36.
var incidentIDPattern = regexp.MustCompile(`^([0-9a-f]{16})-[0-9a-z]{1,13}$`)

var errNoIncident = errors.New("no such incident")

// openIncidents lists the incidents the router opened whose group is still
// current (a storm of the last window), most severe and newest first.
func (st *store) openIncidents(ctx context.Context) ([]events.Incident, error) {
	keys, err := st.incidents.ListKeysFiltered(ctx, "group.*")
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	out := []events.Incident{}
	for k := range keys.Keys() {
		inc, err := st.incidentAt(ctx, k)
		if errors.Is(err, errNoIncident) {
			continue // removed since it was listed
		}
		if err != nil {
			return nil, err
		}
		if inc.Open {
			out = append(out, inc)
		}
	}
	slices.SortFunc(out, func(a, b events.Incident) int {
		return cmp.Or(strings.Compare(a.Severity, b.Severity), b.LastSeen.Compare(a.LastSeen), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// incident finds an incident by id: its group's current one, or one that
// ended.
func (st *store) incident(ctx context.Context, id string) (events.Incident, error) {
	m := incidentIDPattern.FindStringSubmatch(id)
	if m == nil {
		return events.Incident{}, errNoIncident
	}
	inc, err := st.incidentAt(ctx, "group."+m[1])
	if err == nil && inc.ID == id {
		return inc, nil
	}
	if err != nil && !errors.Is(err, errNoIncident) {
		return events.Incident{}, err
	}
	return st.incidentAt(ctx, "past."+id)
}

func (st *store) incidentAt(ctx context.Context, key string) (events.Incident, error) {
	e, err := st.incidents.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return events.Incident{}, errNoIncident
	}
	if err != nil {
		return events.Incident{}, fmt.Errorf("read incident %s: %w", key, err)
	}
	var inc events.Incident
	if err := json.Unmarshal(e.Value(), &inc); err != nil {
		return events.Incident{}, fmt.Errorf("decode incident %s: %w", key, err)
	}
	return inc, nil
}

// listIncidents answers GET /api/v1/incidents: the storms now open.
func (s *Service) listIncidents(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.openIncidents(r.Context())
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"incidents": list})
}

// getIncident answers GET /api/v1/incidents/{iid}.
func (s *Service) getIncident(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("iid")
	inc, err := s.st.incident(r.Context(), id)
	if errors.Is(err, errNoIncident) {
		err = httpapi.Errorf(httpapi.CodeIncidentNotFound, "no incident %q; GET /api/v1/incidents lists the open ones", id)
	}
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, inc)
}
