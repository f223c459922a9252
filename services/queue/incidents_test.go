package queue

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/paging"
)

// The queue shows the router's incidents: the open ones listed, any one by
// id (an ended one too), and its tickets through the list's incident filter.
func TestIncidentsAPI(t *testing.T) {
	f := startQueue(t)
	kv, err := f.s.JS.KeyValue(t.Context(), bus.BucketIncidents)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	put := func(key string, inc events.Incident) {
		t.Helper()
		b, err := json.Marshal(inc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(t.Context(), key, b); err != nil {
			t.Fatal(err)
		}
	}
	storm := events.Incident{ID: "0123456789abcdef-t0", Key: "signature:sig1234", Signature: "sig1234", Services: []string{"payment-gateway"},
		Component: "payment", Severity: "P1", Open: true,
		Tickets: []string{"t-s1", "t-s2", "t-s3"}, Tenants: []string{"rst-0042"}, Count: 3, FirstSeen: now, LastSeen: now, Until: now.Add(time.Hour),
		Reason: "grouped because signature sig1234"}
	put("group.0123456789abcdef", storm)
	gathering := events.Incident{ID: "fedcba9876543210-t1", Key: "component:menu:MENU-3001", ErrorCode: "MENU-3001", Component: "menu", Severity: "P3",
		Tickets: []string{"t-m1"}, Count: 1, FirstSeen: now, LastSeen: now, Until: now.Add(time.Hour)}
	put("group.fedcba9876543210", gathering)
	// Open once, but its window is over: last week's storm.
	over := events.Incident{ID: "aaaaaaaaaaaaaaaa-t2", Key: "component:auth", Component: "auth", Severity: "P1", Open: true,
		Tickets: []string{"t-a1"}, Count: 1, FirstSeen: now.Add(-7 * 24 * time.Hour), LastSeen: now.Add(-7 * 24 * time.Hour), Until: now.Add(-7*24*time.Hour + 30*time.Minute)}
	put("group.aaaaaaaaaaaaaaaa", over)
	ended := storm
	ended.ID = "0123456789abcdef-s0"
	put("past."+ended.ID, ended)
	for _, id := range storm.Tickets {
		f.route(id, events.QueueEscalation, "P1", 1, func(e *events.TicketRouted) { e.Routing.Incident = storm.ID })
	}
	f.route("t-other", events.QueueEscalation, "P3", 1, func(e *events.TicketRouted) { e.Routing.Incident = gathering.ID })

	// The queue learns of incidents by watching the bucket.
	testkit.Eventually(t, 10*time.Second, func() error {
		var list struct{ Incidents []events.Incident }
		f.do("kim", "GET", "/api/v1/incidents", nil).decode(t, &list)
		if len(list.Incidents) != 1 || list.Incidents[0].ID != storm.ID {
			return fmt.Errorf("open incidents %+v, want only %s (one has not opened, one is over)", list.Incidents, storm.ID)
		}
		return nil
	})
	for _, tc := range []struct {
		id       string
		status   int
		wantCode string
	}{
		{id: storm.ID, status: http.StatusOK},
		{id: ended.ID, status: http.StatusOK},
		{id: gathering.ID, status: http.StatusOK},
		{id: over.ID, status: http.StatusOK},
		{id: "0123456789abcdef-zz", status: http.StatusNotFound, wantCode: "incident_not_found"},
		{id: "not-an-id", status: http.StatusNotFound, wantCode: "incident_not_found"},
	} {
		a := f.do("kim", "GET", "/api/v1/incidents/"+tc.id, nil)
		if a.status != tc.status || a.code() != tc.wantCode {
			t.Errorf("GET incident %s: %d %s, want %d %s", tc.id, a.status, a.body, tc.status, tc.wantCode)
			continue
		}
		if tc.status == http.StatusOK {
			var inc events.Incident
			a.decode(t, &inc)
			if inc.ID != tc.id {
				t.Errorf("GET incident %s answered %s", tc.id, inc.ID)
			}
		}
	}
	if a := f.do("sato", "GET", "/api/v1/incidents", nil); a.status != http.StatusForbidden {
		t.Errorf("support staff listing incidents: %d, want 403", a.status)
	}
	// The pages say why the tickets are together, in the reader's words.
	for _, tc := range []struct{ lang, id, want string }{
		{"en", storm.ID, "grouped because the logs of payment-gateway tied to each ticket show the same error (signature sig1234)"},
		{"ja", storm.ID, "各チケットに紐づく payment-gateway のログに同じエラー（署名 sig1234）"},
		{"en", gathering.ID, "grouped by component and the error code MENU-3001 the tickets quote"},
		{"ja", gathering.ID, "エラーコード MENU-3001 でまとめています"},
	} {
		f.signIn("kim", tc.lang).get("/incidents/"+tc.id).mustContain(t, tc.lang+" page of "+tc.id, tc.want)
	}
	f.incidentListsInQueue(storm.ID, storm.Tickets)

	// The queue page shows the open incident above the list and links it
	// from its tickets' rows; a group still gathering is not shown.
	f.queued("t-other")
	p := f.signIn("kim", "en").get("/queue?queue=escalation")
	p.mustContain(t, "queue page", `data-incident="`+storm.ID+`"`, "tickets: 3 · restaurants: 1", "grouped by the same error in the logs of payment-gateway",
		`class="incident">Incident `+storm.ID)
	p.mustNotContain(t, "queue page", gathering.ID, over.ID)
}

// putIncident writes an incident as the router keeps it.
func (f *fixture) putIncident(inc events.Incident) {
	f.t.Helper()
	kv, err := f.s.JS.KeyValue(f.t.Context(), bus.BucketIncidents)
	if err != nil {
		f.t.Fatal(err)
	}
	b, err := json.Marshal(inc)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := kv.Put(f.t.Context(), "group."+inc.ID[:16], b); err != nil {
		f.t.Fatal(err)
	}
}

// incidentListsInQueue waits until the queue's incident filter lists
// exactly want (sorted).
func (f *fixture) incidentListsInQueue(id string, want []string) {
	f.t.Helper()
	testkit.Eventually(f.t, 20*time.Second, func() error {
		var page ListResponse
		f.do("kim", "GET", "/api/v1/queue?incident="+id, nil).decode(f.t, &page)
		var ids []string
		for _, s := range page.Tickets {
			ids = append(ids, s.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, want) {
			return fmt.Errorf("incident %s's tickets in the queue: %v, want %v", id, ids, want)
		}
		return nil
	})
}

func (f *fixture) getIncident(id string) IncidentView {
	f.t.Helper()
	var v IncidentView
	a := f.do("kim", "GET", "/api/v1/incidents/"+id, nil)
	if a.status != http.StatusOK {
		f.t.Fatalf("GET incident %s: %d %s", id, a.status, a.body)
	}
	a.decode(f.t, &v)
	return v
}

func stormIncident(id, component string, tickets ...string) events.Incident {
	now := time.Now().UTC().Truncate(time.Second)
	return events.Incident{ID: id, Key: "component:" + component + ":" + id, Component: component, Severity: "P2", Open: true,
		Tickets: tickets, Tenants: []string{"rst-0042"}, Count: len(tickets), FirstSeen: now, LastSeen: now, Until: now.Add(time.Hour),
		Reason: "grouped because component " + component}
}

// An incident's life: one owner; a ticket split out stays out (a late
// routing does not put it back); a merged incident's tickets count in the
// one it joined; resolving resolves every linked open ticket with one
// message that support staff see, and nothing else.
func TestIncidentOwnSplitMergeResolve(t *testing.T) {
	f := startQueue(t)
	a := stormIncident("1111111111111111-a1", "payment", "t-a1", "t-a2", "t-a3")
	b := stormIncident("2222222222222222-b1", "payment", "t-b1", "t-b2")
	f.putIncident(a)
	f.putIncident(b)
	for _, id := range a.Tickets {
		f.route(id, events.QueueEscalation, "P2", 1, func(e *events.TicketRouted) { e.Routing.Incident = a.ID })
	}
	for _, id := range b.Tickets {
		f.route(id, events.QueueEscalation, "P2", 1, func(e *events.TicketRouted) { e.Routing.Incident = b.ID })
	}
	f.route("t-alone", events.QueueEscalation, "P2", 1)
	for _, id := range []string{"t-a1", "t-a2", "t-a3", "t-b1", "t-b2", "t-alone"} {
		f.queued(id)
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		if v := f.do("kim", "GET", "/api/v1/incidents/"+b.ID, nil); v.status != http.StatusOK {
			return fmt.Errorf("incident %s not seen yet: %d", b.ID, v.status)
		}
		return nil
	})

	for _, tc := range []struct {
		name, who, path string
		body            any
		status          int
		code            string
	}{
		{"resolve before anyone owns it", "kim", "/resolve", map[string]string{"message": "fixed"}, http.StatusConflict, "not_owner"},
		{"claim", "kim", "/claim", nil, http.StatusOK, ""},
		{"claim again", "kim", "/claim", nil, http.StatusConflict, "already_claimed"},
		{"another engineer claims", "lee", "/claim", nil, http.StatusConflict, "already_claimed"},
		{"another engineer resolves", "lee", "/resolve", map[string]string{"message": "fixed"}, http.StatusConflict, "not_owner"},
		{"resolve without a message", "kim", "/resolve", map[string]string{}, http.StatusBadRequest, "invalid_request"},
		{"split without a reason", "kim", "/split", map[string]string{"ticket_id": "t-a3"}, http.StatusBadRequest, "invalid_request"},
		{"split a ticket of another incident", "kim", "/split", map[string]string{"ticket_id": "t-alone", "reason": "x"}, http.StatusConflict, "invalid_transition"},
		{"merge into itself", "kim", "/merge", map[string]string{"into": a.ID, "reason": "same"}, http.StatusBadRequest, "invalid_request"},
		{"unknown field", "kim", "/resolve", map[string]string{"mesage": "typo"}, http.StatusBadRequest, "invalid_json"},
		{"support staff", "sato", "/claim", nil, http.StatusForbidden, "forbidden"},
	} {
		got := f.do(tc.who, "POST", "/api/v1/incidents/"+a.ID+tc.path, tc.body)
		if got.status != tc.status || got.code() != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, got.status, got.body, tc.status, tc.code)
		}
	}
	if got := f.do("kim", "POST", "/api/v1/incidents/3333333333333333-zz/claim", nil); got.status != http.StatusNotFound || got.code() != "incident_not_found" {
		t.Errorf("claim of an unknown incident: %d %s", got.status, got.body)
	}
	if v := f.getIncident(a.ID); v.Owner != "kim" {
		t.Fatalf("owner %q, want kim", v.Owner)
	}

	// Split t-a3 out; a late routing that names the incident again (logs
	// arrived) does not put it back.
	if got := f.do("kim", "POST", "/api/v1/incidents/"+a.ID+"/split", map[string]string{"ticket_id": "t-a3", "reason": "different printer model"}); got.status != http.StatusOK {
		t.Fatalf("split: %d %s", got.status, got.body)
	}
	f.eventually("t-a3", "split out", func(r Record) bool { return r.Routing.Incident == "" && r.IncidentSplit })
	if h := string(f.do("kim", "GET", "/api/v1/queue/tickets/t-a3/history", nil).body); !strings.Contains(h, "split the ticket out of incident "+a.ID) || !strings.Contains(h, "different printer model") {
		t.Errorf("the split is not in the ticket's history: %s", h)
	}
	f.route("t-a3", events.QueueEscalation, "P2", 2, func(e *events.TicketRouted) { e.Routing.Incident = a.ID })
	f.eventually("t-a3", "re-routed", func(r Record) bool { return r.Enrichment.Attempt == 2 })
	if r, _ := f.queued("t-a3"); r.Routing.Incident != "" {
		t.Errorf("a late routing put t-a3 back into incident %s", r.Routing.Incident)
	}
	if v := f.getIncident(a.ID); slices.Contains(v.Tickets, "t-a3") || !slices.Contains(v.Split, "t-a3") || v.Count != 2 {
		t.Errorf("after the split the incident lists %v (split %v, count %d)", v.Tickets, v.Split, v.Count)
	}

	// Merge b into a: b's ticket counts and lists there.
	if got := f.do("kim", "POST", "/api/v1/incidents/"+b.ID+"/merge", map[string]string{"into": a.ID, "reason": "same outage"}); got.status != http.StatusOK {
		t.Fatalf("merge: %d %s", got.status, got.body)
	}
	// A ticket that came in through the merged incident is split out of
	// the one it joined (and only there: the merged one takes no actions).
	if got := f.do("kim", "POST", "/api/v1/incidents/"+b.ID+"/split", map[string]string{"ticket_id": "t-b2", "reason": "x"}); got.status != http.StatusConflict || got.code() != "invalid_transition" {
		t.Errorf("splitting through the merged incident: %d %s, want 409", got.status, got.body)
	}
	if got := f.do("kim", "POST", "/api/v1/incidents/"+a.ID+"/split", map[string]string{"ticket_id": "t-b2", "reason": "another restaurant's own printer"}); got.status != http.StatusOK {
		t.Fatalf("split of a merged incident's ticket: %d %s", got.status, got.body)
	}
	f.eventually("t-b2", "split out", func(r Record) bool { return r.Routing.Incident == "" && r.IncidentSplit })
	if v := f.getIncident(b.ID); !slices.Contains(v.Split, "t-b2") || slices.Contains(v.Tickets, "t-b2") {
		t.Errorf("the merged incident still holds t-b2: tickets %v, split %v", v.Tickets, v.Split)
	}
	v := f.getIncident(a.ID)
	if v.Total != 3 || !slices.Equal(v.Merged, []string{b.ID}) {
		t.Errorf("merged incident: total %d merged %v, want 3 and [%s]", v.Total, v.Merged, b.ID)
	}
	if f.getIncident(b.ID).MergedInto != a.ID {
		t.Errorf("incident %s does not say it was merged", b.ID)
	}
	f.incidentListsInQueue(a.ID, []string{"t-a1", "t-a2", "t-b1"}) // the list follows the split
	if got := f.do("kim", "POST", "/api/v1/incidents/"+b.ID+"/resolve", map[string]string{"message": "x"}); got.status != http.StatusConflict || got.code() != "invalid_transition" {
		t.Errorf("resolving a merged incident: %d %s", got.status, got.body)
	}

	// Resolve: every linked open ticket, merged ones included, is resolved
	// with the message; the split ticket and the unrelated one are not.
	const reply = "The payment provider had an outage from 19:02 to 19:40; card payments work again."
	if got := f.do("kim", "POST", "/api/v1/incidents/"+a.ID+"/resolve", map[string]string{"message": reply}); got.status != http.StatusOK {
		t.Fatalf("resolve: %d %s", got.status, got.body)
	}
	for _, id := range []string{"t-a1", "t-a2", "t-b1"} {
		f.eventually(id, "resolved by the incident", func(r Record) bool { return r.Status == StatusResolved && r.SupportMessage == reply })
		var sv SupportView
		f.do("sato", "GET", "/api/v1/queue/tickets/"+id, nil).decode(t, &sv)
		if !strings.Contains(string(mustJSON(t, sv)), "card payments work again") {
			t.Errorf("support staff do not see the incident's reply on %s: %+v", id, sv)
		}
	}
	for _, id := range []string{"t-a3", "t-b2", "t-alone"} {
		if r, _ := f.queued(id); r.Status != StatusNew {
			t.Errorf("ticket %s outside the incident is %s, want new", id, r.Status)
		}
	}
	if got := f.do("kim", "POST", "/api/v1/incidents/"+a.ID+"/resolve", map[string]string{"message": reply}); got.status != http.StatusConflict || got.code() != "invalid_transition" {
		t.Errorf("resolving twice: %d %s", got.status, got.body)
	}
	if f.getIncident(b.ID).Resolution == nil {
		t.Errorf("the merged incident %s was not resolved with the one it joined", b.ID)
	}
	if got := f.do("kim", "POST", "/api/v1/incidents/"+a.ID+"/split", map[string]string{"ticket_id": "t-a1", "reason": "late"}); got.status != http.StatusConflict {
		t.Errorf("splitting a ticket out of a resolved incident: %d %s", got.status, got.body)
	}
	c := stormIncident("7777777777777777-c1", "payment", "t-c1")
	f.putIncident(c)
	if got := f.do("kim", "POST", "/api/v1/incidents/"+c.ID+"/merge", map[string]string{"into": a.ID, "reason": "same"}); got.status != http.StatusConflict {
		t.Errorf("merging into a resolved incident: %d %s", got.status, got.body)
	}
	if got := f.do("kim", "POST", "/api/v1/incidents/"+c.ID+"/merge", map[string]string{"into": "7777777777777777-zz", "reason": "same"}); got.status != http.StatusBadRequest || !strings.Contains(string(got.body), `"field":"into"`) {
		t.Errorf("merging into an unknown incident: %d %s", got.status, got.body)
	}
	if v := f.getIncident(c.ID); v.MergedInto != "" {
		t.Errorf("a refused merge left %s merged into %s", c.ID, v.MergedInto)
	}
	// The sweep looks again: a resolved ticket is left alone.
	before, _ := f.queued("t-a1")
	f.s.settleIncident(t.Context(), a.ID)
	f.s.settleIncident(t.Context(), b.ID)
	if after, _ := f.queued("t-a1"); after.LastSeq != before.LastSeq {
		t.Errorf("settling a resolved incident again wrote to its ticket (last event %d → %d)", before.LastSeq, after.LastSeq)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Confirming a bug on an incident confirms it on each of its open tickets
// under one fingerprint: the bug filer files one issue for all of them.
func TestIncidentConfirmBug(t *testing.T) {
	f := startQueue(t)
	inc := stormIncident("4444444444444444-c1", "printer", "t-c1", "t-c2", "t-c3")
	inc.Signature, inc.Template, inc.Services = "sigprint", "printer offline code=<*>", []string{"printer-bridge"}
	f.putIncident(inc)
	for _, id := range inc.Tickets {
		f.route(id, events.QueueEscalation, "P2", 1, func(e *events.TicketRouted) {
			e.Routing.Incident, e.Routing.Component = inc.ID, "printer"
		})
		f.queued(id)
	}
	sub, err := f.s.JS.CreateOrUpdateConsumer(t.Context(), bus.StreamBugs, jetstream.ConsumerConfig{FilterSubject: "bugs.confirmed.>"})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		if v := f.do("kim", "POST", "/api/v1/incidents/"+inc.ID+"/claim", nil); v.status != http.StatusOK {
			return fmt.Errorf("claim: %d %s", v.status, v.body)
		}
		return nil
	})
	if got := f.do("kim", "POST", "/api/v1/incidents/"+inc.ID+"/confirm-bug", map[string]string{"fingerprint": "Not Valid!"}); got.status != http.StatusBadRequest {
		t.Errorf("bad fingerprint: %d %s", got.status, got.body)
	}
	if got := f.do("kim", "POST", "/api/v1/incidents/"+inc.ID+"/confirm-bug", map[string]string{"notes": "every printer of the bridge"}); got.status != http.StatusOK {
		t.Fatalf("confirm bug: %d %s", got.status, got.body)
	}
	if got := f.do("kim", "POST", "/api/v1/incidents/"+inc.ID+"/confirm-bug", nil); got.status != http.StatusConflict {
		t.Errorf("confirming twice: %d %s", got.status, got.body)
	}
	for _, id := range inc.Tickets {
		f.eventually(id, "bug confirmed", func(r Record) bool { return r.Status == StatusBugConfirmed && r.Bug != nil })
	}
	fps := map[string]int{}
	tickets := map[string]bool{}
	testkit.Eventually(t, 10*time.Second, func() error {
		batch, err := sub.FetchNoWait(10)
		if err != nil {
			return err
		}
		for m := range batch.Messages() {
			var c events.BugConfirmed
			if err := json.Unmarshal(m.Data(), &c); err != nil {
				return err
			}
			fps[c.Bug.Fingerprint]++
			tickets[c.TicketID] = true
			if len(c.Bug.TicketIDs) != 3 || c.Bug.TicketURL == "" || !strings.Contains(c.Bug.TicketURL, "/incidents/"+inc.ID) {
				t.Errorf("the report of %s does not stand for the incident: %+v", c.TicketID, c.Bug)
			}
		}
		if len(tickets) < 3 {
			return fmt.Errorf("confirmations passed on for %d tickets, want 3", len(tickets))
		}
		return nil
	})
	if want := "printer-sigprint"; len(fps) != 1 || fps[want] != 3 {
		t.Errorf("fingerprints %v, want all three under %s", fps, want)
	}
}

// A P1 incident off-hours pages once (the webhook hears one trigger however
// often the incident changes), and resolving it sends one resolve.
func TestIncidentPagesOnceOffHours(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			IncidentID string `json:"incident_id"`
			Event      string `json:"event"`
		}
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got[ev.Event+":"+ev.IncidentID]++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hook.Close()
	saturdayNight := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	f := startQueueAt(t, func() time.Time { return saturdayNight }, "--paging-webhook-url", hook.URL, "--paging-timezone", "UTC")
	inc := stormIncident("5555555555555555-p1", "payment", "t-p1")
	inc.Severity, inc.FirstSeen, inc.LastSeen, inc.Until = "P1", saturdayNight, saturdayNight, saturdayNight.Add(time.Hour)
	quiet := stormIncident("6666666666666666-p3", "menu", "t-p3")
	quiet.Severity, quiet.FirstSeen, quiet.LastSeen, quiet.Until = "P3", saturdayNight, saturdayNight, saturdayNight.Add(time.Hour)
	f.putIncident(quiet)
	for i := range 5 { // the router writes it again as tickets join
		inc.Count = i + 1
		f.putIncident(inc)
	}
	count := func(key string) int {
		mu.Lock()
		defer mu.Unlock()
		return got[key]
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		if n := count("trigger:" + inc.ID); n != 1 {
			return fmt.Errorf("%d triggers for %s", n, inc.ID)
		}
		return nil
	})
	// The trigger is recorded as sent before the resolution comes (a
	// resolution during the send would wait for the sweep).
	kv, err := f.s.JS.KeyValue(t.Context(), bus.BucketIncidents)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		e, err := kv.Get(t.Context(), paging.MarkerKey(inc.ID))
		if err != nil {
			return err
		}
		var m paging.Marker
		if err := json.Unmarshal(e.Value(), &m); err != nil {
			return err
		}
		if m.State != paging.StateSent {
			return fmt.Errorf("page marker %s", m.State)
		}
		return nil
	})
	f.do("kim", "POST", "/api/v1/incidents/"+inc.ID+"/claim", nil)
	if a := f.do("kim", "POST", "/api/v1/incidents/"+inc.ID+"/resolve", map[string]string{"message": "provider fixed"}); a.status != http.StatusOK {
		t.Fatalf("resolve: %d %s", a.status, a.body)
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		if n := count("resolve:" + inc.ID); n != 1 {
			return fmt.Errorf("%d resolves for %s", n, inc.ID)
		}
		return nil
	})
	// Another look (the sweep) sends nothing more.
	f.s.settleIncident(t.Context(), inc.ID)
	f.s.settleIncident(t.Context(), quiet.ID)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got["trigger:"+inc.ID] != 1 || got["resolve:"+inc.ID] != 1 {
		t.Errorf("pages %v, want one trigger and one resolve for %s and nothing for the P3", got, inc.ID)
	}
}
