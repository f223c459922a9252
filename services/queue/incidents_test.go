package queue

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
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
	gathering := events.Incident{ID: "fedcba9876543210-t1", Key: "component:menu", Component: "menu", Severity: "P3",
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
	testkit.Eventually(t, 20*time.Second, func() error {
		var page ListResponse
		f.do("kim", "GET", "/api/v1/queue?incident="+storm.ID, nil).decode(t, &page)
		var ids []string
		for _, s := range page.Tickets {
			ids = append(ids, s.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, storm.Tickets) {
			return fmt.Errorf("incident's tickets in the queue: %v, want %v", ids, storm.Tickets)
		}
		return nil
	})

	// The queue page shows the open incident above the list and links it
	// from its tickets' rows; a group still gathering is not shown.
	f.queued("t-other")
	p := f.signIn("kim", "en").get("/queue?queue=escalation")
	p.mustContain(t, "queue page", `data-incident="`+storm.ID+`"`, "tickets: 3 · restaurants: 1", "grouped by the same error in the logs of payment-gateway",
		`class="incident">Incident `+storm.ID)
	p.mustNotContain(t, "queue page", gathering.ID, over.ID)
}
