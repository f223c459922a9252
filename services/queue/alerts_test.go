package queue

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
)

func alertPayload(status string, alerts ...map[string]any) map[string]any {
	return map[string]any{"version": "4", "groupKey": `{}:{alertname="PaymentsDown"}`, "status": status, "receiver": "triage",
		"groupLabels": map[string]string{"alertname": "PaymentsDown"}, "commonLabels": map[string]string{}, "commonAnnotations": map[string]string{},
		"externalURL": "http://alertmanager:9093", "truncatedAlerts": 0, "alerts": alerts}
}

func paymentsAlert(status string) map[string]any {
	return map[string]any{"status": status,
		"labels": map[string]string{"alertname": "PaymentsDown", "component": "payment", "severity": "critical", "service": "payment-gateway"},
		"annotations": map[string]string{"summary": "Card payments fail at the register",
			"support_message": "Card payments are failing everywhere since 19:02; offer cash, we are on it.",
			"runbook_url":     "https://runbooks.example/payments"},
		"startsAt": "2026-12-07T19:02:00+09:00", "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "c6eadffa33fcdf37",
		"generatorURL": "http://prometheus:9090/graph"}
}

// Alertmanager's webhook: a firing alert declares one incident (repeats
// update it), a resolved one resolves it with its linked tickets; bad
// payloads get 400 and change nothing.
func TestAlertmanagerWebhook(t *testing.T) {
	f := startQueue(t)
	const path = "/api/v1/alerts/alertmanager"
	noComponent := paymentsAlert("firing")
	noComponent["labels"] = map[string]string{"alertname": "X", "severity": "critical"}
	badComponent := paymentsAlert("firing")
	badComponent["labels"] = map[string]string{"alertname": "X", "component": "kitchen"}
	badStatus := paymentsAlert("pending")
	badSeverity := paymentsAlert("firing")
	badSeverity["labels"] = map[string]string{"alertname": "X", "component": "payment", "severity": "apocalyptic"}
	noStart := paymentsAlert("firing")
	delete(noStart, "startsAt")
	for _, tc := range []struct {
		name  string
		who   string
		body  any
		want  int
		code  string
		field string
	}{
		{"no token", "", alertPayload("firing", paymentsAlert("firing")), http.StatusUnauthorized, "unauthenticated", ""},
		{"support token", "sato", alertPayload("firing", paymentsAlert("firing")), http.StatusForbidden, "forbidden", ""},
		{"not JSON", "kim", "firing!", http.StatusBadRequest, "invalid_json", ""},
		{"no alerts", "kim", alertPayload("firing"), http.StatusBadRequest, "invalid_request", "alerts"},
		{"no component label", "kim", alertPayload("firing", noComponent), http.StatusBadRequest, "invalid_request", "alerts[0].labels.component"},
		{"unknown component", "kim", alertPayload("firing", badComponent), http.StatusBadRequest, "invalid_request", "alerts[0].labels.component"},
		{"unknown status", "kim", alertPayload("firing", badStatus), http.StatusBadRequest, "invalid_request", "alerts[0].status"},
		{"unknown severity", "kim", alertPayload("firing", badSeverity), http.StatusBadRequest, "invalid_request", "alerts[0].labels.severity"},
		{"no start", "kim", alertPayload("firing", noStart), http.StatusBadRequest, "invalid_request", "alerts[0].startsAt"},
		{"one bad alert refuses the whole payload", "kim", alertPayload("firing", paymentsAlert("firing"), badComponent), http.StatusBadRequest, "invalid_request", "alerts[1].labels.component"},
		{"old payload version", "kim", func() map[string]any {
			p := alertPayload("firing", paymentsAlert("firing"))
			p["version"] = "3"
			return p
		}(), http.StatusBadRequest, "invalid_request", "version"},
	} {
		a := f.do(tc.who, "POST", path, tc.body)
		if a.status != tc.want || a.code() != tc.code || !strings.Contains(string(a.body), tc.field) {
			t.Errorf("%s: %d %s, want %d %s naming %q", tc.name, a.status, a.body, tc.want, tc.code, tc.field)
		}
	}
	var list struct{ Incidents []IncidentView }
	f.do("kim", "GET", "/api/v1/incidents", nil).decode(t, &list)
	if len(list.Incidents) != 0 {
		t.Fatalf("refused payloads declared %d incidents", len(list.Incidents))
	}

	var first, again AlertsResult
	a := f.do("alertmanager", "POST", path, alertPayload("firing", paymentsAlert("firing")))
	a.decode(t, &first)
	if a.status != http.StatusOK || len(first.Declared) != 1 {
		t.Fatalf("firing alert: %d %s, want one incident declared", a.status, a.body)
	}
	id := first.Declared[0]
	// Engineers may report alerts too (the monitoring token is narrower).
	f.do("kim", "POST", path, alertPayload("firing", paymentsAlert("firing"))).decode(t, &again)
	if len(again.Declared) != 0 || len(again.Updated) != 1 || again.Updated[0] != id {
		t.Fatalf("the repeated alert: %+v, want incident %s updated", again, id)
	}
	inc := f.getIncident(id)
	if inc.Declared == nil || inc.Severity != "P1" || inc.Component != "payment" || !inc.Open || inc.Runbook != "https://runbooks.example/payments" {
		t.Fatalf("declared incident %+v", inc.Incident)
	}
	// Support staff see its message: in the API and on the submit form.
	var declared struct{ Declared []DeclaredNotice }
	f.do("sato", "GET", "/api/v1/incidents/declared", nil).decode(t, &declared)
	if len(declared.Declared) != 1 || !strings.Contains(declared.Declared[0].Message, "offer cash") {
		t.Fatalf("support's declared incidents: %+v", declared.Declared)
	}
	f.signIn("sato", "en").get("/submit").mustContain(t, "submit form", "Known incidents now", "offer cash, we are on it", `data-incident="`+id+`"`)

	// A ticket the router linked to it is resolved with it.
	f.route("t-am1", events.QueueEscalation, "P1", 1, func(e *events.TicketRouted) { e.Routing.Incident = id })
	f.queued("t-am1")
	var res AlertsResult
	a = f.do("alertmanager", "POST", path, alertPayload("resolved", paymentsAlert("resolved")))
	a.decode(t, &res)
	if a.status != http.StatusOK || len(res.Resolved) != 1 || res.Resolved[0] != id {
		t.Fatalf("resolved alert: %d %s", a.status, a.body)
	}
	r := f.eventually("t-am1", "resolved with the alert", func(r Record) bool { return r.Status == StatusResolved })
	if !strings.Contains(r.SupportMessage, "Card payments fail at the register") {
		t.Errorf("support message %q", r.SupportMessage)
	}
	f.do("sato", "GET", "/api/v1/incidents/declared", nil).decode(t, &declared)
	if len(declared.Declared) != 0 {
		t.Errorf("a resolved declaration is still shown to support: %+v", declared.Declared)
	}
	// A resolved alert heard again changes nothing.
	f.do("alertmanager", "POST", path, alertPayload("resolved", paymentsAlert("resolved"))).decode(t, &res)
	if len(res.Resolved) != 0 || res.Untracked != 1 {
		t.Errorf("resolved twice: %+v", res)
	}
	// Alertmanager repeating the firing alert it resolved changes nothing;
	// the alert firing anew (a new start) declares a new incident.
	f.do("alertmanager", "POST", path, alertPayload("firing", paymentsAlert("firing"))).decode(t, &first)
	if len(first.Declared)+len(first.Updated) != 0 || first.Untracked != 1 {
		t.Errorf("a repeat of the resolved alert: %+v, want nothing declared", first)
	}
	anew := paymentsAlert("firing")
	anew["startsAt"] = "2026-12-07T21:30:00+09:00"
	f.do("alertmanager", "POST", path, alertPayload("firing", anew)).decode(t, &first)
	if len(first.Declared) != 1 || first.Declared[0] == id {
		t.Errorf("firing anew after the resolution: %+v, want a new incident", first)
	}
	// The older occurrence's resolution, arriving late, does not end it.
	f.do("alertmanager", "POST", path, alertPayload("resolved", paymentsAlert("resolved"))).decode(t, &res)
	if len(res.Resolved) != 0 {
		t.Errorf("a late resolution of the older occurrence resolved the new one: %+v", res)
	}
}

// Engineers declare an incident ahead of the tickets; declaring the same
// again updates it; bad declarations get 400 naming the field.
func TestDeclareIncident(t *testing.T) {
	f := startQueue(t)
	good := map[string]string{"component": "printer", "symptom": "Kitchen printers print nothing", "message": "Known issue; orders still reach the screen.", "severity": "P2"}
	for _, tc := range []struct {
		name, field string
		change      func(m map[string]string)
	}{
		{"unknown component", "component", func(m map[string]string) { m["component"] = "kitchen" }},
		{"no symptom", "symptom", func(m map[string]string) { delete(m, "symptom") }},
		{"no message", "message", func(m map[string]string) { m["message"] = " " }},
		{"bad severity", "severity", func(m map[string]string) { m["severity"] = "P9" }},
		{"ends before it starts", "ends_at", func(m map[string]string) {
			m["starts_at"], m["ends_at"] = "2026-12-07T10:00:00Z", "2026-12-07T09:00:00Z"
		}},
	} {
		body := map[string]string{}
		for k, v := range good {
			body[k] = v
		}
		tc.change(body)
		a := f.do("kim", "POST", "/api/v1/incidents", body)
		if a.status != http.StatusBadRequest || !strings.Contains(string(a.body), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.name, a.status, a.body, tc.field)
		}
	}
	if a := f.do("sato", "POST", "/api/v1/incidents", good); a.status != http.StatusForbidden {
		t.Errorf("support staff declaring: %d", a.status)
	}
	a := f.do("kim", "POST", "/api/v1/incidents", good)
	if a.status != http.StatusCreated {
		t.Fatalf("declare: %d %s", a.status, a.body)
	}
	var inc IncidentView
	a.decode(t, &inc)
	good["message"] = "Fixed firmware is rolling out; restart the printer."
	b := f.do("kim", "POST", "/api/v1/incidents", good)
	var again IncidentView
	b.decode(t, &again)
	if b.status != http.StatusOK || again.ID != inc.ID || again.Declared.Message != good["message"] {
		t.Errorf("declaring again: %d %s, want incident %s updated", b.status, b.body, inc.ID)
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		var list struct{ Incidents []IncidentView }
		f.do("kim", "GET", "/api/v1/incidents", nil).decode(t, &list)
		if len(list.Incidents) != 1 || list.Incidents[0].Declared == nil || list.Incidents[0].Declared.Message != good["message"] {
			return fmt.Errorf("open incidents %+v", list.Incidents)
		}
		return nil
	})
}
