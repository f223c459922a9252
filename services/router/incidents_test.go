package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/incidents"
	"github.com/triage-pipeline/triage/libs/signature"
)

// stormKind is one underlying failure: the ticket text support writes and
// the error the enricher ties to it.
type stormKind struct {
	name, subject, description, service, template, code string
}

var stormKinds = []stormKind{
	{name: "payment", subject: "Card payments failing at the register", description: "Every card payment fails with a timeout error since dinner started; guests are paying cash. PAY-1042 on the terminal.",
		service: "payment-gateway", template: "payment provider timeout after <*> ms (order <*>)", code: "PAY-1042"},
	{name: "printer", subject: "キッチンプリンターが印刷されない", description: "注文を送ってもキッチンプリンターに印刷されない。再起動しても同じエラーが出る。PRN-3001 と表示。",
		service: "printer-bridge", template: "printer bridge <*> lost connection to printer <*>: PRN-3001", code: "PRN-3001"},
	{name: "menu", subject: "Menu changes not syncing to tablets", description: "Price changes made in the back office are not syncing to the tablets; the sync shows error MENU-2207 every time we retry.",
		service: "menu-sync", template: "menu sync for tenant <*> failed: schema version <*> rejected (MENU-2207)", code: "MENU-2207"},
}

func stormTicket(id string, kind stormKind, tenant string, at time.Time) events.TicketEnriched {
	sig := events.Signature{ID: signature.TemplateID(kind.template), Template: kind.template, Count: 14, Matched: 14,
		FirstSeen: at.Add(-5 * time.Minute), LastSeen: at, Services: []string{kind.service}}
	var logs []events.LogEntry
	for i := range 3 {
		logs = append(logs, events.LogEntry{ID: fmt.Sprintf("%s-log%d", id, i), Timestamp: at.Add(-time.Duration(i) * time.Minute),
			Level: "error", Service: kind.service, Message: kind.template, Fields: map[string]string{"error.code": kind.code},
			MatchedBy: []string{"service.name=" + kind.service, "error.code=" + kind.code}})
	}
	return events.TicketEnriched{
		SchemaVersion: events.SchemaVersion,
		Ticket:        events.Ticket{ID: id, TenantID: tenant, Subject: kind.subject, Description: kind.description, SubmittedAt: at},
		Enrichment: events.Enrichment{LogsStatus: events.LogsAttached, Logs: logs, Signatures: []events.Signature{sig},
			ErrorLogs: 14, Attempt: 1, EnrichedAt: at},
	}
}

// unrelatedTicket is a how-to question or a one-off fault with its own error.
func unrelatedTicket(id string, i int, at time.Time) events.TicketEnriched {
	t := events.TicketEnriched{SchemaVersion: events.SchemaVersion,
		Ticket:     events.Ticket{ID: id, TenantID: fmt.Sprintf("tenant-u%03d", i), SubmittedAt: at},
		Enrichment: events.Enrichment{LogsStatus: events.LogsNoneFound, Attempt: 1, EnrichedAt: at}}
	if i%2 == 0 {
		t.Ticket.Subject, t.Ticket.Description = "How do I add a new staff member?", "The owner asks where in the back office to add a new waiter account and how to set their PIN."
		return t
	}
	tmpl := fmt.Sprintf("report export %d failed: column %d out of range", i, i)
	t.Ticket.Subject, t.Ticket.Description = "Sales report export shows an error", "Exporting last month's sales report to CSV fails with an error; other reports work."
	t.Enrichment.LogsStatus = events.LogsAttached
	t.Enrichment.ErrorLogs = 1
	t.Enrichment.Logs = []events.LogEntry{{ID: id + "-log", Timestamp: at, Level: "error", Service: "report-api", Message: tmpl,
		MatchedBy: []string{"service.name=report-api"}}}
	t.Enrichment.Signatures = []events.Signature{{ID: signature.TemplateID(tmpl), Template: tmpl, Count: 1, Matched: 1,
		FirstSeen: at, LastSeen: at, Services: []string{"report-api"}}}
	return t
}

// jetStream is a client of the test's server, closed when the test ends.
func jetStream(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func startRouter(t *testing.T, url string, args ...string) *Service {
	t.Helper()
	var cfg Config
	if err := config.Load("router", &cfg, append([]string{"--nats-url", url, "--http-addr", "127.0.0.1:0"}, args...)); err != nil {
		t.Fatal(err)
	}
	s, err := New(t.Context(), cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	testkit.RunService(t, s)
	return s
}

// A storm: 2,000 tickets of 3 underlying failures and 200 unrelated ones,
// submitted over one minute and arriving in random order, routed by two
// replicas of 32 handlers each: exactly 3 incidents open, each holding only
// its own tickets, and the unrelated tickets in none of them.
func TestStormGroupsIntoIncidents(t *testing.T) {
	srv := testkit.RunJetStream(t)
	for range 2 {
		startRouter(t, srv.ClientURL())
	}
	js := jetStream(t, srv.ClientURL())

	rng := rand.New(rand.NewPCG(7, 9))
	start := time.Date(2026, 11, 20, 10, 2, 0, 0, time.UTC) // 19:02 in Tokyo
	truth := map[string]string{}                            // ticket id → its failure, "" if unrelated
	var tickets []events.TicketEnriched
	for i := range 2000 {
		kind := stormKinds[i%len(stormKinds)]
		id := fmt.Sprintf("T-%s-%04d", kind.name, i)
		at := start.Add(time.Duration(rng.Int64N(int64(time.Minute))))
		tickets = append(tickets, stormTicket(id, kind, fmt.Sprintf("tenant-%03d", rng.IntN(400)), at))
		truth[id] = kind.name
	}
	for i := range 200 {
		id := fmt.Sprintf("T-unrelated-%03d", i)
		tickets = append(tickets, unrelatedTicket(id, i, start.Add(time.Duration(rng.Int64N(int64(time.Minute))))))
		truth[id] = ""
	}
	rng.Shuffle(len(tickets), func(i, j int) { tickets[i], tickets[j] = tickets[j], tickets[i] })

	var pub sync.WaitGroup
	errs := make(chan error, len(tickets))
	sem := make(chan struct{}, 64)
	for _, tk := range tickets {
		pub.Add(1)
		sem <- struct{}{}
		go func() {
			defer pub.Done()
			defer func() { <-sem }()
			_, err := bus.Publish(t.Context(), js, bus.Event{
				Subject: events.TicketSubject(events.SubjectEnriched, tk.Ticket.ID), Type: events.TypeTicketEnriched,
				ID: "enriched:" + tk.Ticket.ID + ":1", Source: "test", About: tk.Ticket.ID, Time: tk.Ticket.SubmittedAt, Data: tk,
			})
			if err != nil {
				errs <- err
			}
		}()
	}
	pub.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	routed := map[string]events.Routing{}
	cons, err := js.OrderedConsumer(t.Context(), bus.StreamTickets, jetstream.OrderedConsumerConfig{FilterSubjects: []string{events.SubjectRouted + ".>"}})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 3*time.Minute, func() error {
		for {
			batch, err := cons.FetchNoWait(500)
			if err != nil {
				return err
			}
			n := 0
			for msg := range batch.Messages() {
				n++
				var r events.TicketRouted
				if err := json.Unmarshal(msg.Data(), &r); err != nil {
					return err
				}
				routed[r.Ticket.ID] = r.Routing
			}
			if n == 0 {
				break
			}
		}
		if len(routed) < len(tickets) {
			return fmt.Errorf("%d of %d tickets routed", len(routed), len(tickets))
		}
		return nil
	})

	kv, err := js.KeyValue(t.Context(), bus.BucketIncidents)
	if err != nil {
		t.Fatal(err)
	}
	open := openIncidents(t, kv)
	if len(open) != len(stormKinds) {
		t.Fatalf("%d open incidents, want %d: %v", len(open), len(stormKinds), incidentKeys(open))
	}
	for _, inc := range open {
		kinds := map[string]int{}
		for _, id := range inc.Tickets {
			kinds[truth[id]]++
		}
		if len(kinds) != 1 || kinds[""] > 0 {
			t.Errorf("incident %s (%s) mixes failures: %v", inc.ID, inc.Key, kinds)
			continue
		}
		var kind string
		for k := range kinds {
			kind = k
		}
		want := 0
		for _, k := range truth {
			if k == kind {
				want++
			}
		}
		t.Logf("incident %s (%s): %d tickets from %d tenants, purity 1.000, completeness %.3f; %s",
			inc.ID, kind, inc.Count, len(inc.Tenants), float64(inc.Count)/float64(want), inc.Reason)
		if inc.Count != len(inc.Tickets) || inc.Count < want*9/10 {
			t.Errorf("incident %s holds %d tickets (%d listed) of %d", inc.ID, inc.Count, len(inc.Tickets), want)
		}
		for _, id := range inc.Tickets {
			if routed[id].Incident != inc.ID {
				t.Errorf("ticket %s routed with incident %q, listed in %s", id, routed[id].Incident, inc.ID)
				break
			}
		}
	}
	for id, kind := range truth {
		if kind == "" && slices.ContainsFunc(open, func(inc events.Incident) bool { return slices.Contains(inc.Tickets, id) }) {
			t.Errorf("unrelated ticket %s was grouped into an incident", id)
		}
	}
}

func openIncidents(t *testing.T, kv jetstream.KeyValue) []events.Incident {
	t.Helper()
	keys, err := kv.ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var open []events.Incident
	for k := range keys.Keys() {
		e, err := kv.Get(t.Context(), k)
		if err != nil {
			t.Fatal(err)
		}
		var inc events.Incident
		if err := json.Unmarshal(e.Value(), &inc); err != nil {
			t.Fatal(err)
		}
		if inc.Open {
			open = append(open, inc)
		}
	}
	return open
}

func incidentKeys(list []events.Incident) []string {
	var out []string
	for _, inc := range list {
		out = append(out, fmt.Sprintf("%s %s x%d", inc.Key, inc.Severity, inc.Count))
	}
	return out
}

// The evaluations group with the router's defaults.
func TestDefaultIncidentConfig(t *testing.T) {
	var cfg Config
	if err := config.Load("router", &cfg, nil); err != nil {
		t.Fatal(err)
	}
	if cfg.Incidents != DefaultIncidentConfig() {
		t.Fatalf("flags' defaults %+v, DefaultIncidentConfig %+v", cfg.Incidents, DefaultIncidentConfig())
	}
}

// Incidents open at the threshold or at once for a P1, split when the
// window passes, and never count a redelivered ticket twice.
func TestIncidentMerge(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	in := newGrouper(nil, DefaultIncidentConfig(), func() time.Time { return t0 })
	g := stormGroup{key: "component:printer", reason: "component printer"}
	m := func(id, sev string, min int) member {
		return member{ticket: id, tenant: "tenant-" + id, severity: sev, component: "printer", at: t0.Add(time.Duration(min) * time.Minute)}
	}
	for _, tc := range []struct {
		name      string
		sig       bool
		cur       *events.Incident
		members   []member
		wantCount int
		wantOpen  bool
		wantEnded int
	}{
		{name: "two tickets wait", members: []member{m("a", "P3", 0), m("b", "P2", 5)}, wantCount: 2},
		{name: "threshold opens", members: []member{m("a", "P3", 0), m("b", "P3", 5), m("c", "P3", 6)}, wantCount: 3, wantOpen: true},
		{name: "one P1 opens", members: []member{m("a", "P1", 0)}, wantCount: 1, wantOpen: true},
		{name: "redelivery counts once", members: []member{m("a", "P3", 0), m("a", "P3", 0), m("b", "P3", 1)}, wantCount: 2},
		{name: "after the window a new incident", members: []member{m("a", "P3", 0), m("b", "P3", 10), m("c", "P3", 41)}, wantCount: 1, wantEnded: 1},
		{name: "within the window of the last ticket", members: []member{m("a", "P3", 0), m("b", "P3", 25), m("c", "P3", 50)}, wantCount: 3, wantOpen: true},
		{name: "a signature's window is longer", sig: true, members: []member{m("a", "P3", 0), m("b", "P3", 100), m("c", "P3", 300)}, wantCount: 3, wantOpen: true},
		{name: "and ends too", sig: true, members: []member{m("a", "P3", 0), m("b", "P3", 241)}, wantCount: 1, wantEnded: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := g
			if tc.sig {
				g = stormGroup{key: "signature:abc", reason: "component printer", signature: events.Signature{ID: "abc"}}
			}
			got, ended, results := in.merge(tc.cur, g, "group.0123456789abcdef", slices.Clone(tc.members))
			if got.Count != tc.wantCount || got.Open != tc.wantOpen || len(ended) != tc.wantEnded {
				t.Fatalf("count %d open %v ended %d, want %d %v %d", got.Count, got.Open, len(ended), tc.wantCount, tc.wantOpen, tc.wantEnded)
			}
			if len(results) != len(tc.members) || results[len(results)-1].ID != got.ID {
				t.Fatalf("results %+v do not end with the incident %s", results, got.ID)
			}
			if tc.wantEnded > 0 && results[0].ID == got.ID {
				t.Fatalf("the first ticket is in the new incident %s, not the ended one", got.ID)
			}
			if got.Open && !strings.Contains(got.Reason, "grouped because component printer") {
				t.Fatalf("reason %q", got.Reason)
			}
		})
	}
}

// Both replicas race to create the same new incident: one Create wins, the
// other sees the conflict, reads it and joins.
func TestConcurrentReplicasCreateOneIncident(t *testing.T) {
	srv := testkit.RunJetStream(t)
	js := jetStream(t, srv.ClientURL())
	kv, err := bus.EnsureBucket(t.Context(), js, bus.Topology{}.IncidentsBucket())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	cfg := DefaultIncidentConfig()
	replicas := []*grouper{newGrouper(kv, cfg, time.Now), newGrouper(kv, cfg, time.Now)}
	g := stormGroup{key: "signature:abc", reason: "signature abc"}
	var wg sync.WaitGroup
	ids := make([]string, 64)
	errs := make([]error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inc, err := replicas[i%2].join(context.Background(), g, member{ticket: fmt.Sprint("t", i), severity: "P3", at: t0.Add(time.Duration(i) * time.Second)})
			ids[i], errs[i] = inc.ID, err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if distinct := slices.Compact(slices.Sorted(slices.Values(ids))); len(distinct) != 1 {
		t.Fatalf("tickets joined %d incidents, want 1: %v", len(distinct), distinct)
	}
	list := openIncidents(t, kv)
	if len(list) != 1 || list[0].Count != 64 {
		t.Fatalf("incidents %v, want one of 64 tickets", incidentKeys(list))
	}
}

// Joins waiting in one batch may arrive out of time order and straddle a
// window: each ticket still gets its own incident, the ended one or the
// new one.
func TestBatchAcrossWindowGetsEachTicketItsIncident(t *testing.T) {
	srv := testkit.RunJetStream(t)
	kv, err := bus.EnsureBucket(t.Context(), jetStream(t, srv.ClientURL()), bus.Topology{}.IncidentsBucket())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	in := newGrouper(kv, DefaultIncidentConfig(), time.Now)
	g := stormGroup{key: "component:printer", reason: "component printer"}
	k := incidents.GroupKey(g.key)
	late := joinRequest{m: member{ticket: "late", severity: "P3", at: t0.Add(2 * time.Hour)}, done: make(chan joinResult, 1)}
	early := joinRequest{m: member{ticket: "early", severity: "P3", at: t0}, done: make(chan joinResult, 1)}
	// As the handlers queue them: the later ticket first.
	in.groups[k] = &groupQueue{waiting: []joinRequest{late, early}, writing: true}
	in.write(t.Context(), k, g)
	got := map[string]events.Incident{}
	for name, r := range map[string]joinRequest{"late": late, "early": early} {
		res := <-r.done
		if res.err != nil {
			t.Fatal(res.err)
		}
		got[name] = res.incident
	}
	if got["early"].ID == got["late"].ID {
		t.Fatalf("both tickets in incident %s; the 2 h gap is past the 30 min window", got["early"].ID)
	}
	for name, inc := range got {
		if !slices.Contains(inc.Tickets, name) {
			t.Errorf("ticket %s was told incident %s, which lists %v", name, inc.ID, inc.Tickets)
		}
	}
}

// What people decided stays when the router adds tickets: a ticket split
// out gets no incident and is not listed again; a resolved incident ends
// (the group's next ticket starts a new one); a declared incident has no
// window, and once resolved takes no more tickets.
func TestMergeKeepsPeoplesDecisions(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	in := newGrouper(nil, DefaultIncidentConfig(), func() time.Time { return t0 })
	g := stormGroup{key: "component:printer", reason: "component printer"}
	m := func(id string, min int) member {
		return member{ticket: id, tenant: "tenant-" + id, severity: "P3", component: "printer", at: t0.Add(time.Duration(min) * time.Minute)}
	}
	base := func() *events.Incident {
		return &events.Incident{ID: "0123456789abcdef-a", Key: g.key, Component: "printer", Severity: "P3", Open: true, Owner: "kim",
			Tickets: []string{"a", "b", "c"}, Tenants: []string{"tenant-a"}, Count: 3, FirstSeen: t0, LastSeen: t0, Until: t0.Add(30 * time.Minute)}
	}

	split := base()
	split.Split, split.Tickets, split.Count = []string{"x"}, []string{"a", "b"}, 2
	got, _, res := in.merge(split, g, "group.0123456789abcdef", []member{m("x", 1), m("d", 2)})
	if res[0].ID != "" || slices.Contains(got.Tickets, "x") || got.Count != 3 || got.Owner != "kim" || !slices.Equal(got.Split, []string{"x"}) {
		t.Errorf("split ticket rejoined or decisions lost: result %q, incident %+v", res[0].ID, got)
	}

	resolved := base()
	resolved.Resolution = &events.IncidentResolution{By: events.Actor{Name: "kim"}, At: t0, Message: "fixed"}
	got, ended, res := in.merge(resolved, g, "group.0123456789abcdef", []member{m("d", 2)})
	if len(ended) != 1 || ended[0].Resolution == nil || got.ID == resolved.ID || res[0].ID != got.ID || got.Owner != "" || got.Count != 1 {
		t.Errorf("after a resolution: ended %d, new incident %+v", len(ended), got)
	}

	// A ticket of the resolved incident routed again (its logs arrived)
	// stays in it and starts nothing.
	got, ended, res = in.merge(resolved, g, "group.0123456789abcdef", []member{m("a", 40)})
	if len(ended) != 0 || got.ID != resolved.ID || res[0].ID != resolved.ID || got.Count != 3 {
		t.Errorf("a re-routed ticket of a resolved incident: ended %d, %+v", len(ended), got)
	}

	decl := base()
	decl.Declared = &events.Declaration{Source: events.DeclaredByEngineer, Symptom: "printers down", StartsAt: t0}
	decl.Until = time.Time{}
	dg := stormGroup{key: "declared:x", reason: "declared", declared: true}
	got, ended, res = in.merge(decl, dg, "group.0123456789abcdef", []member{m("d", 300)}) // hours later
	if len(ended) != 0 || got.ID != decl.ID || res[0].ID != decl.ID || !got.Until.IsZero() || got.Count != 4 {
		t.Errorf("declared incident: ended %d, %+v", len(ended), got)
	}
	decl.Resolution = &events.IncidentResolution{At: t0}
	got, ended, res = in.merge(decl, dg, "group.0123456789abcdef", []member{m("e", 301)})
	if len(ended) != 0 || res[0].ID != "" || got.ID != decl.ID || slices.Contains(got.Tickets, "e") {
		t.Errorf("a resolved declared incident took a ticket: %+v", got)
	}
}

// A ticket for a component with a declared incident links to it, ahead of
// any storm grouping; tickets of other components do not.
func TestTicketsLinkToDeclaredIncident(t *testing.T) {
	srv := testkit.RunJetStream(t)
	js := jetStream(t, srv.ClientURL())
	kv, err := bus.EnsureBucket(t.Context(), js, bus.Topology{}.IncidentsBucket())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	store := incidents.Store{KV: kv}
	decl, _, err := store.Declare(t.Context(), "declared:engineer:payment:cards", events.Incident{Component: "payment", Severity: "P1", Open: true,
		Tickets: []string{}, Tenants: []string{}, FirstSeen: now, LastSeen: now, UpdatedAt: now,
		Declared: &events.Declaration{Source: events.DeclaredByEngineer, By: events.Actor{Name: "kim"}, Name: "payment:cards",
			Symptom: "Card payments fail", Message: "offer cash", StartsAt: now.Add(-10 * time.Minute)}}, func(*events.Incident) {})
	if err != nil {
		t.Fatal(err)
	}
	startRouter(t, srv.ClientURL())
	pay := stormTicket("T-decl-pay", stormKinds[0], "tenant-1", now)
	menu := stormTicket("T-decl-menu", stormKinds[2], "tenant-2", now)
	for _, e := range []events.TicketEnriched{pay, menu} {
		if _, err := bus.Publish(t.Context(), js, bus.Event{Subject: events.TicketSubject(events.SubjectEnriched, e.Ticket.ID),
			Type: events.TypeTicketEnriched, ID: "enriched:" + e.Ticket.ID, Source: "test", About: e.Ticket.ID, Time: now, Data: e}); err != nil {
			t.Fatal(err)
		}
	}
	routed := map[string]events.Routing{}
	cons, err := js.OrderedConsumer(t.Context(), bus.StreamTickets, jetstream.OrderedConsumerConfig{FilterSubjects: []string{events.SubjectRouted + ".>"}})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 30*time.Second, func() error {
		batch, err := cons.FetchNoWait(10)
		if err != nil {
			return err
		}
		for msg := range batch.Messages() {
			var r events.TicketRouted
			if err := json.Unmarshal(msg.Data(), &r); err != nil {
				return err
			}
			routed[r.Ticket.ID] = r.Routing
		}
		if len(routed) < 2 {
			return fmt.Errorf("%d of 2 routed", len(routed))
		}
		return nil
	})
	if r := routed[pay.Ticket.ID]; r.Incident != decl.ID || !slices.ContainsFunc(r.Reasons, func(s string) bool { return strings.Contains(s, "declared incident") }) {
		t.Errorf("payment ticket routed with incident %q (reasons %v), want the declared %s", r.Incident, r.Reasons, decl.ID)
	}
	if r := routed[menu.Ticket.ID]; r.Incident == decl.ID {
		t.Errorf("a menu ticket joined the payment declaration")
	}
	got, _, _, err := store.Get(t.Context(), decl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Tickets, []string{pay.Ticket.ID}) || got.Declared == nil || got.Declared.Message != "offer cash" {
		t.Errorf("declared incident after the ticket: %+v", got)
	}
}

// What a routed ticket is grouped by: the signature of its own logs, else
// its component and the error code it quotes; and the incident says which
// code.
func TestGroupOf(t *testing.T) {
	tech := events.Routing{Technical: true, Component: "payment", Severity: "P2"}
	codes := []events.Evidence{{Kind: "error_code", Value: "pay-2001"}, {Kind: "error_code", Value: "PAY-1042"}, {Kind: "order_id", Value: "ord_1"}}
	sigs := []events.Signature{{ID: "b2", Matched: 2, Services: []string{"payment-gateway"}}, {ID: "a1", Matched: 2}, {ID: "c3", Matched: 0}}
	for _, tc := range []struct {
		name     string
		enr      events.Enrichment
		routing  events.Routing
		wantKey  string // "" for no group
		wantCode string
	}{
		{"its logs' signature, ties by id", events.Enrichment{Signatures: sigs, Evidence: codes}, tech, "signature:a1", ""},
		{"no logs: component and the first code", events.Enrichment{Evidence: codes}, tech, "component:payment:PAY-1042", "PAY-1042"},
		{"no logs, no code: the component", events.Enrichment{}, tech, "component:payment", ""},
		{"not technical", events.Enrichment{Evidence: codes}, events.Routing{Component: "payment"}, "", ""},
		{"needs triage", events.Enrichment{Evidence: codes}, events.Routing{Technical: true, NeedsTriage: true, Component: "payment"}, "", ""},
		{"component other", events.Enrichment{Evidence: codes}, events.Routing{Technical: true, Component: "other"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, ok := groupOf(tc.enr, tc.routing)
			if ok != (tc.wantKey != "") || g.key != tc.wantKey || g.errorCode != tc.wantCode {
				t.Fatalf("group %q code %q (%v), want %q code %q", g.key, g.errorCode, ok, tc.wantKey, tc.wantCode)
			}
			if !ok {
				return
			}
			in := newGrouper(nil, DefaultIncidentConfig(), time.Now)
			inc, _, _ := in.merge(nil, g, "group.0123456789abcdef", []member{{ticket: "t-1", tenant: "rst-1", severity: "P1", component: "payment", at: time.Now()}})
			if inc.Key != tc.wantKey || inc.ErrorCode != tc.wantCode {
				t.Errorf("incident key %q code %q, want %q and %q", inc.Key, inc.ErrorCode, tc.wantKey, tc.wantCode)
			}
		})
	}
}
