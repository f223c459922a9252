package queue

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
	"github.com/triage-pipeline/triage/libs/incidents"
)

// AlertmanagerPayload is Prometheus Alertmanager's webhook body (version
// 4, https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
type AlertmanagerPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of the payload.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// maxAlerts bounds one payload (Alertmanager's max_alerts truncates).
const maxAlerts = 1000

// alertSeverity maps the usual Prometheus severity labels to P1–P4.
func alertSeverity(label string) (string, bool) {
	switch strings.ToLower(label) {
	case "critical", "page", "p1", "emergency":
		return "P1", true
	case "", "error", "major", "high", "p2":
		return "P2", true
	case "warning", "warn", "medium", "minor", "p3":
		return "P3", true
	case "info", "low", "none", "p4":
		return "P4", true
	}
	return "", false
}

// alertDecl is one checked alert.
type alertDecl struct {
	firing    bool
	component string
	severity  string
	runbook   string
	decl      events.Declaration
	resolved  string // the message for support when it resolves
}

// checkAlerts reads every alert or refuses the payload whole, naming each
// field to fix: a half-applied group would leave monitoring and the queue
// disagreeing.
func checkAlerts(p AlertmanagerPayload, by events.Actor) ([]alertDecl, error) {
	var fields []httpapi.FieldError
	bad := func(field string, code httpapi.FieldCode, format string, args ...any) {
		fields = append(fields, httpapi.FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	if p.Version != "" && p.Version != "4" {
		bad("version", httpapi.FieldInvalidValue, "webhook payload version %q; this endpoint reads version 4", p.Version)
	}
	switch {
	case len(p.Alerts) == 0:
		bad("alerts", httpapi.FieldRequired, "no alerts in the payload")
	case len(p.Alerts) > maxAlerts:
		bad("alerts", httpapi.FieldTooMany, "at most %d alerts per payload (set max_alerts in the webhook config)", maxAlerts)
	}
	var out []alertDecl
	for i, a := range p.Alerts {
		at := fmt.Sprintf("alerts[%d]", i)
		label := func(k string) string { return strings.TrimSpace(cmp.Or(a.Labels[k], p.CommonLabels[k])) }
		note := func(k string) string { return strings.TrimSpace(cmp.Or(a.Annotations[k], p.CommonAnnotations[k])) }
		d := alertDecl{firing: a.Status == "firing"}
		if a.Status != "firing" && a.Status != "resolved" {
			bad(at+".status", httpapi.FieldInvalidValue, "must be \"firing\" or \"resolved\", got %q", a.Status)
		}
		comp := label("component")
		switch {
		case comp == "":
			bad(at+".labels.component", httpapi.FieldRequired, "add a component label (one of %s) so tickets can be matched", strings.Join(events.Components(), ", "))
		case !slices.Contains(events.Components(), comp):
			bad(at+".labels.component", httpapi.FieldInvalidValue, "%q is not a component; use one of %s", comp, strings.Join(events.Components(), ", "))
		}
		sev, ok := alertSeverity(label("severity"))
		if !ok {
			bad(at+".labels.severity", httpapi.FieldInvalidValue, "%q is not a severity this endpoint knows (critical, error, warning, info, or P1–P4)", label("severity"))
		}
		if a.StartsAt.IsZero() {
			bad(at+".startsAt", httpapi.FieldRequired, "is required")
		}
		name := a.Fingerprint
		if name == "" {
			name = labelsKey(a.Labels)
		}
		symptom := cmp.Or(note("summary"), label("alertname"))
		if symptom == "" {
			bad(at+".annotations.summary", httpapi.FieldRequired, "add a summary annotation (or an alertname label) saying what is wrong")
		}
		message := cmp.Or(note("support_message"), note("description"), symptom)
		d.component, d.severity, d.runbook = comp, sev, note("runbook_url")
		d.decl = events.Declaration{Source: events.DeclaredByAlertmanager, By: by, Name: name, Symptom: truncateRunes(symptom, maxTitle),
			Message: truncateRunes(message, maxSupportMessage), StartsAt: a.StartsAt.UTC(), Labels: a.Labels}
		d.resolved = cmp.Or(note("resolved_message"), "Resolved: "+symptom+". Monitoring reports the problem has ended.")
		out = append(out, d)
	}
	if len(fields) > 0 {
		e := httpapi.Errorf(httpapi.CodeInvalidRequest, "the alert payload has %d problem(s), first %s: %s; nothing was applied", len(fields), fields[0].Field, fields[0].Message)
		e.Fields = fields
		return nil, e
	}
	return out, nil
}

// labelsKey stands for an alert without a fingerprint: its sorted labels.
func labelsKey(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, labels[k])
	}
	return b.String()
}

// AlertsResult says what a webhook call did.
type AlertsResult struct {
	Declared  []string `json:"declared"`
	Updated   []string `json:"updated"`
	Resolved  []string `json:"resolved"`
	Untracked int      `json:"untracked"`
}

// alertmanager answers POST /api/v1/alerts/alertmanager: a firing alert
// declares an incident (a repeat updates it), a resolved one resolves it.
func (s *Service) alertmanager(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var p AlertmanagerPayload
	if err := decodeBody(r, &payloadShape{&p}); err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	who, _ := auth.From(ctx)
	alerts, err := checkAlerts(p, actorOf(who))
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	res := AlertsResult{Declared: []string{}, Updated: []string{}, Resolved: []string{}}
	for _, a := range alerts {
		cur, err := s.istore().Group(ctx, incidents.DeclaredGroup(a.decl))
		if err != nil && !errors.Is(err, incidents.ErrNotFound) {
			httpapi.WriteError(w, r, err)
			return
		}
		known := err == nil && cur.Declared != nil
		if a.firing {
			if known && cur.Resolution != nil && cur.Declared.StartsAt.Equal(a.decl.StartsAt) {
				// Alertmanager repeats a firing alert; one a person
				// resolved stays resolved until it fires anew.
				res.Untracked++
				continue
			}
			inc, created, err := s.declareIncident(ctx, a.component, a.severity, a.runbook, a.decl)
			if err != nil {
				httpapi.WriteError(w, r, err)
				return
			}
			if created {
				res.Declared = append(res.Declared, inc.ID)
			} else {
				res.Updated = append(res.Updated, inc.ID)
			}
			continue
		}
		if !known || cur.Resolution != nil || cur.Declared.StartsAt.After(a.decl.StartsAt) {
			res.Untracked++ // never declared here, resolved already, or an older occurrence's late news
			continue
		}
		at := s.now().UTC()
		inc, err := s.istore().Update(ctx, cur.ID, func(inc *events.Incident) error {
			if inc.Resolution == nil {
				inc.Resolution = &events.IncidentResolution{By: actorOf(who), At: at, Message: a.resolved}
				inc.UpdatedAt = at
			}
			return nil
		})
		if err != nil {
			httpapi.WriteError(w, r, incidentErr(cur.ID, err))
			return
		}
		s.settleSoon(inc.ID)
		res.Resolved = append(res.Resolved, inc.ID)
	}
	s.Log.Info("alertmanager webhook", zap.String("group_key", p.GroupKey), zap.String("status", p.Status),
		zap.Int("declared", len(res.Declared)), zap.Int("updated", len(res.Updated)), zap.Int("resolved", len(res.Resolved)))
	httpapi.WriteJSON(w, http.StatusOK, res)
}

// payloadShape decodes the payload without refusing fields this version
// does not know: Alertmanager adds fields over time, and a webhook that
// failed on them would drop alerts.
type payloadShape struct{ p *AlertmanagerPayload }

func (ps *payloadShape) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, ps.p) }
