package paging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

const routingKey = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY42"

// Wednesday 18 November 2026.
var (
	offHours      = time.Date(2026, 11, 18, 22, 0, 0, 0, time.UTC) // 07:00 Thursday in Tokyo: off-hours everywhere
	tokyoMorning  = time.Date(2026, 11, 18, 1, 0, 0, 0, time.UTC)  // 10:00 in Tokyo, 01:00 in UTC
	utcNoon       = time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC) // 21:00 in Tokyo
	saturdayNoon  = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	tokyoTeamSpec = "tokyo:Asia/Tokyo:Mon-Fri 09:00-18:00:printer,menu"
)

// testClock is the pagers' shared, settable time.
type testClock struct{ ns atomic.Int64 }

func newClock(t time.Time) *testClock { c := &testClock{}; c.set(t); return c }
func (c *testClock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *testClock) now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }

// received is what a fake target accepted.
type received struct {
	Action, DedupKey, IdempotencyKey string
	Body                             map[string]any
}

// fakeTarget is a page receiver: PagerDuty's Events API v2 (validating
// bodies as the published contract requires) or a generic webhook.
type fakeTarget struct {
	srv *httptest.Server
	// failures answers the next requests with this status (0: none left).
	mu       sync.Mutex
	failWith []int
	got      []received
	attempts int
}

func (f *fakeTarget) failNext(statuses ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failWith = append(f.failWith, statuses...)
}

// events lists the accepted events of one incident and action.
func (f *fakeTarget) events(dedup, action string) []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []received
	for _, r := range f.got {
		if r.DedupKey == dedup && r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeTarget) total() (accepted, attempts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got), f.attempts
}

// take returns the next forced failure, if any.
func (f *fakeTarget) take() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if len(f.failWith) == 0 {
		return 0
	}
	s := f.failWith[0]
	f.failWith = f.failWith[1:]
	return s
}

func (f *fakeTarget) record(r received) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// pdInvalid lists what makes an Events API v2 event invalid.
func pdInvalid(r *http.Request, ev map[string]any) []string {
	var errs []string
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		errs = append(errs, "POST application/json expected")
	}
	if str(ev, "routing_key") == "" {
		errs = append(errs, "'routing_key' is missing")
	}
	action := str(ev, "event_action")
	switch action {
	case "trigger", "acknowledge", "resolve":
	default:
		errs = append(errs, "'event_action' is invalid")
	}
	if d := str(ev, "dedup_key"); (action != "trigger" && d == "") || len(d) > 255 {
		errs = append(errs, "'dedup_key' is missing or too long")
	}
	if action == "trigger" {
		p, _ := ev["payload"].(map[string]any)
		if p == nil {
			return append(errs, "'payload' is missing")
		}
		if s := str(p, "summary"); s == "" || len(s) > 1024 {
			errs = append(errs, "'payload.summary' is missing or too long")
		}
		if str(p, "source") == "" {
			errs = append(errs, "'payload.source' is missing")
		}
		switch str(p, "severity") {
		case "critical", "error", "warning", "info":
		default:
			errs = append(errs, "'payload.severity' is invalid")
		}
		if ts := str(p, "timestamp"); ts != "" {
			if _, err := time.Parse(time.RFC3339, ts); err != nil {
				errs = append(errs, "'payload.timestamp' is invalid")
			}
		}
		links, _ := ev["links"].([]any)
		for _, l := range links {
			if m, _ := l.(map[string]any); m == nil || str(m, "href") == "" {
				errs = append(errs, "'links' need an href")
			}
		}
	}
	return errs
}

func newFakePagerDuty(t *testing.T) *fakeTarget {
	f := &fakeTarget{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		err := json.NewDecoder(r.Body).Decode(&ev)
		if status := f.take(); status != 0 {
			// Echoes the routing key, to check the pager never logs it.
			writeJSON(w, status, map[string]any{"status": "refused", "message": "forced failure",
				"errors": []string{fmt.Sprintf("routing key %v", ev["routing_key"])}})
			return
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "Event object is invalid"})
			return
		}
		if errs := pdInvalid(r, ev); len(errs) > 0 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": errs})
			return
		}
		dedup, _ := ev["dedup_key"].(string)
		action, _ := ev["event_action"].(string)
		f.record(received{Action: action, DedupKey: dedup, Body: ev})
		writeJSON(w, http.StatusAccepted, map[string]any{"status": "success", "message": "Event processed", "dedup_key": dedup})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func newFakeWebhook(t *testing.T) *fakeTarget {
	f := &fakeTarget{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev WebhookEvent
		err := json.NewDecoder(r.Body).Decode(&ev)
		if status := f.take(); status != 0 {
			w.WriteHeader(status)
			return
		}
		key := r.Header.Get("Idempotency-Key")
		if err != nil || ev.IncidentID == "" || (ev.Event != EventTrigger && ev.Event != EventResolve) || key != ev.IncidentID+":"+ev.Event {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		var body map[string]any
		raw, _ := json.Marshal(ev)
		_ = json.Unmarshal(raw, &body)
		f.record(received{Action: ev.Event, DedupKey: ev.IncidentID, IdempotencyKey: key, Body: body})
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// markerBucket starts a JetStream server and returns n clients (one per
// replica) of one KV bucket.
func markerBucket(t *testing.T, n int) []jetstream.KeyValue {
	t.Helper()
	srv := testkit.RunJetStream(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var kvs []jetstream.KeyValue
	for i := range n {
		nc, err := nats.Connect(srv.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		var kv jetstream.KeyValue
		if i == 0 {
			kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "incidents", History: 5})
		} else {
			kv, err = js.KeyValue(ctx, "incidents")
		}
		if err != nil {
			t.Fatal(err)
		}
		kvs = append(kvs, kv)
	}
	return kvs
}

// env is a test's targets, bucket and clock.
type env struct {
	pd, hook *fakeTarget
	kvs      []jetstream.KeyValue
	clock    *testClock
	client   *http.Client
	keyFile  string
}

func newEnv(t *testing.T, replicas int) *env {
	t.Helper()
	e := &env{pd: newFakePagerDuty(t), hook: newFakeWebhook(t), kvs: markerBucket(t, replicas), clock: newClock(offHours)}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	e.client = &http.Client{Transport: tr}
	e.keyFile = filepath.Join(t.TempDir(), "routing-key")
	if err := os.WriteFile(e.keyFile, []byte(routingKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// config loads the flags the way a service does, targets first.
func (e *env) config(t *testing.T, args ...string) Config {
	t.Helper()
	var cfg Config
	base := []string{"--paging-pagerduty-url", e.pd.srv.URL, "--paging-pagerduty-routing-key-file", e.keyFile,
		"--paging-webhook-url", e.hook.srv.URL + "/hooks/page", "--paging-team", tokyoTeamSpec}
	if err := config.Load("paging-test", &cfg, append(base, args...)); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// replica is one pager with its own registry and logs.
type replica struct {
	*Pager
	reg  *prometheus.Registry
	logs *observer.ObservedLogs
}

func (e *env) pager(t *testing.T, i int, cfg Config) replica {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	reg := prometheus.NewRegistry()
	p, err := New(cfg, e.kvs[i], reg, zap.New(core), e.client, e.clock.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { noSecretLogged(t, logs) })
	return replica{Pager: p, reg: reg, logs: logs}
}

func noSecretLogged(t *testing.T, logs *observer.ObservedLogs) {
	t.Helper()
	for _, l := range logs.All() {
		if s := fmt.Sprint(l.Message, l.ContextMap()); strings.Contains(s, routingKey) {
			t.Errorf("the routing key was logged: %s", s)
		}
	}
}

var incidentSeq atomic.Int64

// p1 is a live P1 incident, unowned, of the default team.
func p1(component string) events.Incident {
	n := incidentSeq.Add(1)
	return events.Incident{ID: fmt.Sprintf("%016x-t%d", n, n), Key: "component:" + component, Component: component,
		Reason: "12 tickets report card payments timing out", Severity: "P1", Open: true, Count: 12,
		Tenants: []string{"tenant-001", "tenant-002", "tenant-003"}, FirstSeen: offHours.Add(-10 * time.Minute),
		Runbook: "https://runbooks.example.com/payments"}
}

func resolved(inc events.Incident, at time.Time) events.Incident {
	inc.Resolution = &events.IncidentResolution{At: at, Message: "Fixed by the payment provider."}
	return inc
}

func link(inc events.Incident) string { return "https://triage.example.com/incidents/" + inc.ID }

func marker(t *testing.T, kv jetstream.KeyValue, id string) (Marker, bool) {
	t.Helper()
	e, err := kv.Get(t.Context(), MarkerKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Marker{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var m Marker
	if err := json.Unmarshal(e.Value(), &m); err != nil {
		t.Fatal(err)
	}
	return m, true
}

func sent(p replica, event, target string) float64 {
	return testutil.ToFloat64(p.sent.WithLabelValues(event, target))
}

func suppressed(p replica, reason string) float64 {
	return testutil.ToFloat64(p.suppressed.WithLabelValues(reason))
}

// Two replicas handle three P1 incidents off-hours, each 100 times,
// concurrently: each incident is paged exactly once at PagerDuty and once
// at the webhook, with the body the Events API v2 expects.
func TestOnePagePerIncidentAcrossReplicas(t *testing.T) {
	e := newEnv(t, 2)
	cfg := e.config(t)
	replicas := []replica{e.pager(t, 0, cfg), e.pager(t, 1, cfg)}
	incs := []events.Incident{p1("payment"), p1("printer"), p1("billing")}

	const goroutines, calls = 10, 10
	var wg sync.WaitGroup
	errs := make(chan error, 2*goroutines*calls*len(incs))
	for _, r := range replicas {
		for range goroutines {
			wg.Go(func() {
				for range calls {
					for _, inc := range incs {
						if err := r.Handle(t.Context(), inc, link(inc)); err != nil {
							errs <- err
						}
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	for _, inc := range incs {
		pd := e.pd.events(inc.ID, EventTrigger)
		hook := e.hook.events(inc.ID, EventTrigger)
		if len(pd) != 1 || len(hook) != 1 {
			t.Fatalf("incident %s: %d PagerDuty triggers and %d webhook triggers, want 1 and 1", inc.ID, len(pd), len(hook))
		}
		if m, ok := marker(t, e.kvs[0], inc.ID); !ok || m.State != StateSent || len(m.Paged) != 2 {
			t.Errorf("incident %s: marker %+v (found %v), want sent to both targets", inc.ID, m, ok)
		}
	}
	total := 2 * goroutines * calls * len(incs)
	var triggers, hooks, repeats float64
	for _, r := range replicas {
		triggers += sent(r, EventTrigger, "pagerduty")
		hooks += sent(r, EventTrigger, "webhook")
		repeats += suppressed(r, ReasonRepeat)
	}
	// Each incident's repeats count once, across replicas, however many
	// of the other calls were repeats.
	if triggers != 3 || hooks != 3 || repeats != 3 {
		t.Errorf("metrics: %v PagerDuty and %v webhook triggers, %v repeats (of %d calls); want 3, 3 and 3", triggers, hooks, repeats, total)
	}

	// The body, as PagerDuty reads it.
	inc := incs[0]
	body := e.pd.events(inc.ID, EventTrigger)[0].Body
	payload := body["payload"].(map[string]any)
	details := payload["custom_details"].(map[string]any)
	links := body["links"].([]any)
	checks := map[string][2]any{
		"routing_key":        {body["routing_key"], routingKey},
		"dedup_key":          {body["dedup_key"], inc.ID},
		"payload.severity":   {payload["severity"], "critical"},
		"payload.source":     {payload["source"], "payment"},
		"payload.component":  {payload["component"], "payment"},
		"payload.group":      {payload["group"], DefaultTeam},
		"payload.timestamp":  {payload["timestamp"], inc.FirstSeen.Format(time.RFC3339)},
		"details.tickets":    {details["tickets"], float64(12)},
		"details.tenants":    {details["tenants"], float64(3)},
		"details.reason":     {details["reason"], inc.Reason},
		"links[0].href":      {links[0].(map[string]any)["href"], link(inc)},
		"links[0].text":      {links[0].(map[string]any)["text"], "Incident in the triage queue"},
		"links[1].href":      {links[1].(map[string]any)["href"], inc.Runbook},
		"second team group":  {e.pd.events(incs[1].ID, EventTrigger)[0].Body["payload"].(map[string]any)["group"], "tokyo"},
		"webhook.summary":    {e.hook.events(inc.ID, EventTrigger)[0].Body["summary"], payload["summary"]},
		"webhook.link":       {e.hook.events(inc.ID, EventTrigger)[0].Body["link"], link(inc)},
		"webhook.runbook":    {e.hook.events(inc.ID, EventTrigger)[0].Body["runbook"], inc.Runbook},
		"webhook.severity":   {e.hook.events(inc.ID, EventTrigger)[0].Body["severity"], "P1"},
		"webhook idempotent": {e.hook.events(inc.ID, EventTrigger)[0].IdempotencyKey, inc.ID + ":trigger"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %v, want %v", name, c[0], c[1])
		}
	}
	if s, _ := payload["summary"].(string); !strings.Contains(s, "payment") || !strings.Contains(s, inc.Reason) {
		t.Errorf("summary %q names neither the component nor the reason", s)
	}
}

// Only a live, unowned P1 outside its team's business hours pages; the
// rest is counted as suppressed and leaves no marker.
func TestSuppression(t *testing.T) {
	e := newEnv(t, 1)
	p := e.pager(t, 0, e.config(t))
	cases := []struct {
		name   string
		at     time.Time
		change func(*events.Incident)
		reason string // "" pages; "-" neither pages nor counts
	}{
		{name: "P1 off-hours pages", at: offHours},
		{name: "P2 off-hours", at: offHours, change: func(i *events.Incident) { i.Severity = "P2" }, reason: ReasonNotP1},
		{name: "owned", at: offHours, change: func(i *events.Incident) { i.Owner = "aiko" }, reason: ReasonOwned},
		{name: "default team at noon UTC", at: utcNoon, reason: ReasonBusinessHours},
		{name: "default team at 01:00 UTC pages", at: tokyoMorning},
		{name: "Tokyo team at 10:00 in Tokyo", at: tokyoMorning, change: func(i *events.Incident) { i.Component = "printer" }, reason: ReasonBusinessHours},
		{name: "Tokyo team, component in another case", at: tokyoMorning, change: func(i *events.Incident) { i.Component = "Menu" }, reason: ReasonBusinessHours},
		{name: "Tokyo team at 21:00 in Tokyo pages", at: utcNoon, change: func(i *events.Incident) { i.Component = "printer" }},
		{name: "default team on Saturday pages", at: saturdayNoon},
		{name: "still collecting", at: offHours, change: func(i *events.Incident) { i.Open = false }, reason: "-"},
		{name: "window over", at: offHours, change: func(i *events.Incident) { i.Until = offHours.Add(-time.Minute) }, reason: "-"},
		{name: "merged away", at: offHours, change: func(i *events.Incident) { i.MergedInto = "0000000000000001-x" }, reason: "-"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.clock.set(c.at)
			inc := p1("payment")
			if c.change != nil {
				c.change(&inc)
			}
			before := map[string]float64{}
			for _, r := range []string{ReasonNotP1, ReasonOwned, ReasonBusinessHours, ReasonRepeat} {
				before[r] = suppressed(p, r)
			}
			if err := p.Handle(t.Context(), inc, link(inc)); err != nil {
				t.Fatal(err)
			}
			pages := len(e.pd.events(inc.ID, EventTrigger)) + len(e.hook.events(inc.ID, EventTrigger))
			_, marked := marker(t, e.kvs[0], inc.ID)
			if want := map[bool]int{true: 2, false: 0}[c.reason == ""]; pages != want || marked != (c.reason == "") {
				t.Fatalf("%d pages, marker %v; want %d pages", pages, marked, want)
			}
			for r, b := range before {
				want := b
				if r == c.reason {
					want++
				}
				if got := suppressed(p, r); got != want {
					t.Errorf("suppressed{reason=%q} = %v, want %v", r, got, want)
				}
			}
			// Looked at again, here and by a replica that restarted (it
			// remembers nothing): not counted again.
			again := e.pager(t, 0, e.config(t))
			for _, q := range []replica{p, again, p} {
				if err := q.Handle(t.Context(), inc, link(inc)); err != nil {
					t.Fatal(err)
				}
			}
			if c.reason != "" && c.reason != "-" {
				if got, want := suppressed(p, c.reason)+suppressed(again, c.reason), before[c.reason]+1; got != want {
					t.Errorf("after three more looks suppressed{reason=%q} = %v, want %v", c.reason, got, want)
				}
			}
		})
	}
}

// A paged incident handled again is a repeat, whatever changes later.
func TestNoRepeatedPage(t *testing.T) {
	e := newEnv(t, 1)
	p := e.pager(t, 0, e.config(t))
	inc := p1("payment")
	for range 5 {
		if err := p.Handle(t.Context(), inc, link(inc)); err != nil {
			t.Fatal(err)
		}
	}
	inc.Count, inc.Tenants = 40, append(inc.Tenants, "tenant-004")
	e.clock.set(offHours.Add(3 * time.Hour)) // long past any lease
	if err := p.Handle(t.Context(), inc, link(inc)); err != nil {
		t.Fatal(err)
	}
	if n := len(e.pd.events(inc.ID, EventTrigger)); n != 1 {
		t.Errorf("%d PagerDuty triggers, want 1", n)
	}
	if got := suppressed(p, ReasonRepeat); got != 1 {
		t.Errorf("repeats = %v, want 1 (the incident, once)", got)
	}
}

// A paged incident, once resolved, gets one resolve however many replicas
// see it; one never paged gets none.
func TestResolve(t *testing.T) {
	e := newEnv(t, 2)
	cfg := e.config(t)
	replicas := []replica{e.pager(t, 0, cfg), e.pager(t, 1, cfg)}
	inc := p1("payment")
	if err := replicas[0].Handle(t.Context(), inc, link(inc)); err != nil {
		t.Fatal(err)
	}
	e.clock.set(offHours.Add(20 * time.Minute))
	done := resolved(inc, e.clock.now())
	var wg sync.WaitGroup
	for _, r := range replicas {
		for range 5 {
			wg.Go(func() {
				for range 4 {
					if err := r.Handle(t.Context(), done, link(done)); err != nil {
						t.Error(err)
					}
				}
			})
		}
	}
	wg.Wait()
	pd, hook := e.pd.events(inc.ID, EventResolve), e.hook.events(inc.ID, EventResolve)
	if len(pd) != 1 || len(hook) != 1 {
		t.Fatalf("%d PagerDuty and %d webhook resolves, want 1 and 1", len(pd), len(hook))
	}
	if pd[0].Body["payload"] != nil || pd[0].Body["routing_key"] != routingKey {
		t.Errorf("resolve body %v: want routing_key, event_action and dedup_key only", pd[0].Body)
	}
	if hook[0].IdempotencyKey != inc.ID+":resolve" {
		t.Errorf("webhook resolve Idempotency-Key %q", hook[0].IdempotencyKey)
	}
	if m, _ := marker(t, e.kvs[1], inc.ID); m.State != StateResolved {
		t.Errorf("marker state %q, want resolved", m.State)
	}
	if got := sent(replicas[0], EventResolve, "pagerduty") + sent(replicas[1], EventResolve, "pagerduty"); got != 1 {
		t.Errorf("sent{resolve,pagerduty} = %v, want 1", got)
	}

	// Resolved without ever being paged (it was owned): nothing at all.
	quiet := p1("payment")
	quiet.Owner = "aiko"
	if err := replicas[0].Handle(t.Context(), quiet, link(quiet)); err != nil {
		t.Fatal(err)
	}
	if err := replicas[0].Handle(t.Context(), resolved(quiet, e.clock.now()), link(quiet)); err != nil {
		t.Fatal(err)
	}
	if n := len(e.pd.events(quiet.ID, EventResolve)) + len(e.hook.events(quiet.ID, EventResolve)); n != 0 {
		t.Errorf("%d resolves of an incident never paged", n)
	}
	if _, ok := marker(t, e.kvs[0], quiet.ID); ok {
		t.Error("a marker was written for an incident never paged")
	}
}

// A replica that claimed the page and died before sending it leaves a
// "sending" marker: nobody sends while its lease runs, the next call after
// it lapses sends once.
func TestCrashedSenderIsRetried(t *testing.T) {
	e := newEnv(t, 2)
	cfg := e.config(t)
	p := e.pager(t, 1, cfg)
	inc := p1("payment")
	crashed := Marker{State: StateSending, Lease: offHours.Add(cfg.Lease), Team: DefaultTeam, UpdatedAt: offHours}
	if _, err := e.kvs[0].Create(t.Context(), MarkerKey(inc.ID), encode(crashed)); err != nil {
		t.Fatal(err)
	}
	if err := p.Handle(t.Context(), inc, link(inc)); err != nil {
		t.Fatal(err)
	}
	if accepted, _ := e.pd.total(); accepted != 0 {
		t.Fatalf("sent while the crashed sender's lease ran")
	}
	e.clock.set(offHours.Add(cfg.Lease))
	for range 3 {
		if err := p.Handle(t.Context(), inc, link(inc)); err != nil {
			t.Fatal(err)
		}
	}
	if pd, hook := e.pd.events(inc.ID, EventTrigger), e.hook.events(inc.ID, EventTrigger); len(pd) != 1 || len(hook) != 1 {
		t.Fatalf("%d PagerDuty and %d webhook triggers after the lease lapsed, want 1 and 1", len(pd), len(hook))
	}
	if m, _ := marker(t, e.kvs[0], inc.ID); m.State != StateSent {
		t.Errorf("marker state %q, want sent", m.State)
	}
	if got := suppressed(p, ReasonRepeat); got != 1 {
		t.Errorf("repeats = %v, want 1 (the incident, once: under the lease and after the page)", got)
	}
}

// 429 and 5xx from PagerDuty fail the call and are sent again once the
// lease lapses; the webhook, which took the page, does not get it twice.
func TestTransientFailureIsRetried(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e := newEnv(t, 1)
			cfg := e.config(t)
			p := e.pager(t, 0, cfg)
			inc := p1("payment")
			e.pd.failNext(status)
			err := p.Handle(t.Context(), inc, link(inc))
			var se *statusError
			if err == nil || !errors.As(err, &se) || se.status != status || !strings.Contains(err.Error(), inc.ID) {
				t.Fatalf("Handle = %v, want a wrapped %d naming incident %s", err, status, inc.ID)
			}
			if strings.Contains(err.Error(), routingKey) {
				t.Errorf("the error holds the routing key: %v", err)
			}
			if m, _ := marker(t, e.kvs[0], inc.ID); m.State != StateSending || len(m.Done) != 1 || m.Done[0] != "webhook" {
				t.Fatalf("marker %+v: want sending, with the webhook done", m)
			}
			// Under the lease: a repeat, not a retry.
			if err := p.Handle(t.Context(), inc, link(inc)); err != nil {
				t.Fatal(err)
			}
			if _, attempts := e.pd.total(); attempts != 1 {
				t.Fatalf("%d PagerDuty attempts under the lease, want 1", attempts)
			}
			e.clock.set(offHours.Add(cfg.Lease + time.Second))
			if err := p.Handle(t.Context(), inc, link(inc)); err != nil {
				t.Fatal(err)
			}
			if pd, hook := e.pd.events(inc.ID, EventTrigger), e.hook.events(inc.ID, EventTrigger); len(pd) != 1 || len(hook) != 1 {
				t.Fatalf("%d PagerDuty and %d webhook triggers, want 1 and 1", len(pd), len(hook))
			}
			if m, _ := marker(t, e.kvs[0], inc.ID); m.State != StateSent {
				t.Errorf("marker state %q, want sent", m.State)
			}
			if got := sent(p, EventTrigger, "pagerduty"); got != 1 {
				t.Errorf("sent{trigger,pagerduty} = %v, want 1", got)
			}
		})
	}
}

// A 400 from PagerDuty is final: logged without the routing key, the
// marker failed, never sent again, and no resolve follows.
func TestRefusedPageIsNotRetried(t *testing.T) {
	e := newEnv(t, 1)
	var cfg Config
	if err := config.Load("paging-test", &cfg, []string{"--paging-pagerduty-url", e.pd.srv.URL,
		"--paging-pagerduty-routing-key-file", e.keyFile}); err != nil {
		t.Fatal(err)
	}
	p := e.pager(t, 0, cfg)
	inc := p1("payment")
	e.pd.failNext(http.StatusBadRequest)
	if err := p.Handle(t.Context(), inc, link(inc)); err != nil {
		t.Fatalf("a refused page is logged, not returned: %v", err)
	}
	if m, _ := marker(t, e.kvs[0], inc.ID); m.State != StateFailed || strings.Contains(m.Error, routingKey) {
		t.Fatalf("marker %+v: want failed, without the routing key", m)
	}
	refused := p.logs.FilterMessage("page refused; not sent again").All()
	if len(refused) != 1 || refused[0].ContextMap()["incident"] != inc.ID || refused[0].ContextMap()["status"] != int64(400) {
		t.Errorf("refusal logs %v, want one with the incident and status", refused)
	}
	e.clock.set(offHours.Add(time.Hour))
	if err := p.Handle(t.Context(), inc, link(inc)); err != nil {
		t.Fatal(err)
	}
	if err := p.Handle(t.Context(), resolved(inc, e.clock.now()), link(inc)); err != nil {
		t.Fatal(err)
	}
	if accepted, attempts := e.pd.total(); accepted != 0 || attempts != 1 {
		t.Errorf("PagerDuty: %d accepted, %d attempts; want 0 and 1", accepted, attempts)
	}
	// noSecretLogged runs at cleanup: the refusal echoed the key.
}

// With no target paging is off: nothing sent, nothing written, said once.
func TestPagingOff(t *testing.T) {
	var cfg Config
	if err := config.Load("paging-test", &cfg, nil); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.InfoLevel)
	reg := prometheus.NewRegistry()
	p, err := New(cfg, nil, reg, zap.New(core), nil, newClock(offHours).now)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		inc := p1("payment")
		if err := p.Handle(t.Context(), inc, link(inc)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "triage_pages_sent_total"); err != nil || n != 0 {
		t.Errorf("%d sent series (%v), want none", n, err)
	}
	if n := logs.FilterMessageSnippet("paging off").Len(); n != 1 || logs.Len() != 1 {
		t.Errorf("logged %v; want the one line saying paging is off", logs.All())
	}
	// A second pager on the same registry, and one on another, both fine.
	for _, r := range []*prometheus.Registry{reg, prometheus.NewRegistry()} {
		if _, err := New(cfg, nil, r, nil, nil, nil); err != nil {
			t.Errorf("second pager: %v", err)
		}
	}
}
