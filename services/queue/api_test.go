package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
)

// Twenty engineers race to claim one ticket: exactly one wins, and every
// other is told who did.
func TestTwentyEngineersClaimOnce(t *testing.T) {
	f := startQueue(t)
	f.route("t-race", events.QueueEscalation, "P1", 1)
	_, tag := f.queued("t-race")
	for i := range 20 {
		name := fmt.Sprintf("eng-%02d", i)
		text, _, err := f.s.auth.Issue(t.Context(), name, "engineer", time.Hour, "test")
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[name] = text
	}
	var mu sync.Mutex
	won, lost := []string{}, 0
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			a := f.do(name, "POST", "/api/v1/queue/tickets/t-race/claim", nil, "If-Match", tag)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case a.status == http.StatusOK:
				won = append(won, name)
			case a.status == http.StatusConflict && a.code() == "already_claimed":
				lost++
			default:
				t.Errorf("%s's claim: %d %s", name, a.status, a.body)
			}
		}(fmt.Sprintf("eng-%02d", i))
	}
	wg.Wait()
	if len(won) != 1 || lost != 19 {
		t.Fatalf("%d won (%v), %d got 409; want 1 and 19", len(won), won, lost)
	}
	a := f.do("kim", "POST", "/api/v1/queue/tickets/t-race/claim", nil, "If-Match", "*")
	if a.status != http.StatusConflict || !strings.Contains(string(a.body), won[0]) {
		t.Fatalf("a later claim: %d %s, want 409 naming %s", a.status, a.body, won[0])
	}
	v := f.eventually("t-race", "claimed", func(v Record) bool { return v.Assignee == won[0] })
	if v.Status != StatusClaimed {
		t.Fatalf("status %s", v.Status)
	}
	h := f.do("kim", "GET", "/api/v1/queue/tickets/t-race/history", nil)
	if n := strings.Count(string(h.body), `"type":"claimed"`); n != 1 {
		t.Fatalf("%d claims in the history, want 1: %s", n, h.body)
	}
}

// Bad input gets the documented status and changes nothing.
func TestBadActionsChangeNothing(t *testing.T) {
	f := startQueue(t, "--max-comment", "200")
	f.route("t-bad", events.QueueEscalation, "P2", 1)
	v, tag := f.queued("t-bad")
	if a := f.do("kim", "POST", "/api/v1/queue/tickets/t-bad/claim", nil, "If-Match", tag); a.status != 200 {
		t.Fatalf("claim: %d %s", a.status, a.body)
	}
	after, tag := f.queued("t-bad")
	for _, tc := range []struct {
		name, who, path string
		body            any
		ifMatch         string
		status          int
		code            string
	}{
		{"no If-Match", "kim", "status", map[string]string{"status": "investigating"}, "", 428, "precondition_required"},
		{"stale If-Match", "kim", "status", map[string]string{"status": "investigating"}, fmt.Sprintf(`"%d"`, v.Version), 412, "precondition_failed"},
		{"invalid transition", "kim", "status", map[string]string{"status": "fixed"}, tag, 409, "invalid_transition"},
		{"unknown status", "kim", "status", map[string]string{"status": "done"}, tag, 400, "invalid_request"},
		{"not the owner", "lee", "status", map[string]string{"status": "investigating"}, tag, 409, "not_owner"},
		{"oversize comment", "kim", "comments", map[string]string{"text": strings.Repeat("あ", 201)}, tag, 400, "invalid_request"},
		{"empty comment", "kim", "comments", map[string]string{"text": "  "}, tag, 400, "invalid_request"},
		{"unknown field", "kim", "comments", map[string]string{"txt": "x"}, tag, 400, "invalid_json"},
		{"reassign without reason", "kim", "assign", map[string]string{"assignee": "lee"}, tag, 400, "invalid_request"},
		{"support sends back to support", "sato", "reroute", map[string]string{"queue": "support", "reason": "x"}, tag, 403, "forbidden"},
		{"support changes status", "sato", "status", map[string]string{"status": "resolved"}, tag, 403, "forbidden"},
		{"bad fingerprint", "kim", "confirm-bug", map[string]string{"fingerprint": "Has Spaces!"}, tag, 400, "invalid_request"},
		{"unknown log excerpt", "kim", "confirm-bug", map[string]any{"log_ids": []string{"nope"}}, tag, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h []string
			if tc.ifMatch != "" {
				h = []string{"If-Match", tc.ifMatch}
			}
			a := f.do(tc.who, "POST", "/api/v1/queue/tickets/t-bad/"+tc.path, tc.body, h...)
			if a.status != tc.status || a.code() != tc.code {
				t.Fatalf("%d %s, want %d %s", a.status, a.body, tc.status, tc.code)
			}
			if tc.status == 412 && a.header.Get("ETag") != tag {
				t.Fatalf("412 sent ETag %q, want the current %q", a.header.Get("ETag"), tag)
			}
		})
	}
	now, _ := f.queued("t-bad")
	if now.Version != after.Version || now.Comments != 0 || now.Status != StatusClaimed {
		t.Fatalf("refused actions changed the ticket: version %d→%d, comments %d, status %s", after.Version, now.Version, now.Comments, now.Status)
	}
	if a := f.do("kim", "POST", "/api/v1/queue/tickets/no-such/claim", nil, "If-Match", "*"); a.status != 404 || a.code() != "ticket_not_queued" {
		t.Fatalf("unknown ticket: %d %s", a.status, a.body)
	}
}

// A ticket's working life: claim, comment, logs read (recorded), status,
// confirm bug (handed to the filer), then GitHub's answers.
func TestWorkingATicket(t *testing.T) {
	f := startQueue(t)
	f.route("t-work", events.QueueEscalation, "P2", 1)
	_, tag := f.queued("t-work")
	step := func(who, action string, body any) {
		t.Helper()
		a := f.do(who, "POST", "/api/v1/queue/tickets/t-work/"+action, body, "If-Match", tag)
		if a.status != 200 {
			t.Fatalf("%s: %d %s", action, a.status, a.body)
		}
		tag = a.header.Get("ETag")
	}
	step("kim", "claim", nil)
	step("kim", "comments", map[string]string{"text": "Looking at the gateway logs <b>now</b>"})
	step("kim", "comments", map[string]string{"text": "We are on it; card payments fail for this restaurant.", "visibility": "support"})
	a := f.do("kim", "POST", "/api/v1/queue/tickets/t-work/logs", nil)
	if a.status != 200 || !strings.Contains(string(a.body), "provider timeout") {
		t.Fatalf("logs: %d %s", a.status, a.body)
	}
	step("kim", "status", map[string]string{"status": "investigating"})
	sub, err := f.s.JS.CreateOrUpdateConsumer(t.Context(), bus.StreamBugs, jetstream.ConsumerConfig{FilterSubject: "bugs.confirmed.>"})
	if err != nil {
		t.Fatal(err)
	}
	step("kim", "confirm-bug", map[string]any{"notes": "Provider times out at dinner peak", "log_ids": []string{"log-2"}})

	msgs, err := sub.Fetch(1, jetstream.FetchMaxWait(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var confirmed events.BugConfirmed
	for m := range msgs.Messages() {
		if err := json.Unmarshal(m.Data(), &confirmed); err != nil {
			t.Fatal(err)
		}
	}
	b := confirmed.Bug
	if b.Fingerprint != "payment-sig1234" || len(b.Excerpts) != 1 || b.Excerpts[0].ID != "log-2" || b.Notes == "" ||
		b.Severity != "P2" || b.Component != "payment" || len(b.TicketIDs) != 1 || !strings.HasSuffix(b.TicketURL, "/tickets/t-work") {
		t.Fatalf("bug passed to the filer: %+v", b)
	}

	// GitHub's side: filed, then closed.
	for _, st := range []struct{ typ, subject string }{{events.TypeBugFiled, events.SubjectFiled}, {events.TypeBugClosed, events.SubjectClosed}} {
		if _, err := bus.Publish(t.Context(), f.s.JS, bus.Event{Subject: st.subject + "." + b.Fingerprint, Type: st.typ, ID: st.typ,
			Source: "test", Time: time.Now(), Data: events.BugState{SchemaVersion: 1, Fingerprint: b.Fingerprint, TicketIDs: []string{"t-work"},
				IssueNumber: 7, IssueURL: "https://github.example/o/r/issues/7", At: time.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
	v := f.eventually("t-work", "fixed", func(v Record) bool { return v.Status == StatusFixed })
	if v.Bug == nil || v.Bug.IssueNumber != 7 || v.Comments != 2 || v.SLA.RespondedAt == nil {
		t.Fatalf("after the fix: %+v", v)
	}

	// Support staff see the link and the message, never logs or internal notes.
	sup := f.do("sato", "GET", "/api/v1/queue/tickets/t-work", nil)
	for _, hidden := range []string{"provider timeout", "usr-991", "log-1", "evidence", "Looking at the gateway"} {
		if strings.Contains(string(sup.body), hidden) {
			t.Errorf("support's view shows %q: %s", hidden, sup.body)
		}
	}
	if !strings.Contains(string(sup.body), "issues/7") || !strings.Contains(string(sup.body), "card payments fail for this restaurant") {
		t.Errorf("support's view lacks the issue link or the engineers' message: %s", sup.body)
	}
	if a := f.do("sato", "POST", "/api/v1/queue/tickets/t-work/logs", nil); a.status != 403 {
		t.Fatalf("support reading logs: %d", a.status)
	}
	hist := string(f.do("kim", "GET", "/api/v1/queue/tickets/t-work/history", nil).body)
	for _, want := range []string{`"claimed"`, `"logs_viewed"`, "read the 2 attached logs", `"bug_confirmed"`, "fixed: GitHub issue #7"} {
		if !strings.Contains(hist, want) {
			t.Errorf("engineer's history lacks %s: %s", want, hist)
		}
	}
	supHist := string(f.do("sato", "GET", "/api/v1/queue/tickets/t-work/history", nil).body)
	if strings.Contains(supHist, "logs_viewed") || strings.Contains(supHist, "Looking at the gateway") {
		t.Errorf("support's history shows internal entries: %s", supHist)
	}
	// The router's reasons quote the logs: engineers see them, support not.
	if !strings.Contains(hist, "ERROR logs from payment-gateway") || strings.Contains(supHist, "ERROR logs from payment-gateway") || !strings.Contains(supHist, "routed to the Escalation queue") {
		t.Errorf("routing reasons: engineer's history %q, support's %q", hist, supHist)
	}
}

// A late routing (logs were pending, a dead letter replayed) never
// overrides what people decided; it is shown as a suggestion.
func TestLateRoutingOnlySuggests(t *testing.T) {
	f := startQueue(t)
	f.route("t-late", events.QueueEscalation, "P3", 1)
	_, tag := f.queued("t-late")
	if a := f.do("kim", "POST", "/api/v1/queue/tickets/t-late/claim", nil, "If-Match", tag); a.status != 200 {
		t.Fatalf("claim: %d %s", a.status, a.body)
	}
	f.route("t-late", events.QueueSupport, "P4", 2)
	v := f.eventually("t-late", "suggested", func(v Record) bool { return v.RouterSuggests != nil })
	if v.Queue != events.QueueEscalation || v.Assignee != "kim" || v.Status != StatusClaimed || v.RouterSuggests.Queue != events.QueueSupport {
		t.Fatalf("late routing moved the ticket: queue %s, owner %s, status %s", v.Queue, v.Assignee, v.Status)
	}
	// An untouched ticket follows the router.
	f.route("t-free", events.QueueEscalation, "P3", 1)
	f.queued("t-free")
	f.route("t-free", events.QueueSupport, "P4", 2)
	f.eventually("t-free", "re-routed", func(v Record) bool { return v.Queue == events.QueueSupport && v.RouterSuggests == nil })
}

// A crash between a claim's acknowledgement and the state's update: once a
// queue runs again, the ticket has one owner and one claim in its history.
func TestCrashAfterClaimBeforeViewUpdate(t *testing.T) {
	f := startQueue(t)
	f.route("t-crash", events.QueueEscalation, "P2", 1)
	_, tag := f.queued("t-crash")
	// A second queue that answers and writes actions but never updates the
	// state: it "crashes" right after each acknowledgement.
	crashing, _ := f.start(loadConfig(t, f.srv.ClientURL()), false)
	f.stopFirst()
	a := f.doAt(crashing, "kim", "POST", "/api/v1/queue/tickets/t-crash/claim", nil, "If-Match", tag)
	if a.status != 200 {
		t.Fatalf("claim: %d %s", a.status, a.body)
	}
	rec, _, err := crashing.st.read(t.Context(), "t-crash")
	if err != nil || rec.Assignee != "" {
		t.Fatalf("the stored state changed without a materializer: %+v %v", rec, err)
	}
	// A queue starts again and catches up.
	f.s, _ = f.start(loadConfig(t, f.srv.ClientURL()), true)
	testkit.Eventually(t, 20*time.Second, func() error {
		rec, _, err := f.s.st.read(t.Context(), "t-crash")
		if err != nil || rec.Assignee != "kim" {
			return fmt.Errorf("stored owner %q (%v)", rec.Assignee, err)
		}
		return nil
	})
	h := string(f.do("kim", "GET", "/api/v1/queue/tickets/t-crash/history", nil).body)
	if n := strings.Count(h, `"type":"claimed"`); n != 1 {
		t.Fatalf("%d claims in the history, want 1", n)
	}
}

// A record written by a newer version keeps the fields this one does not
// know, and this version refuses to write it back.
func TestNewerRecordIsNotOverwritten(t *testing.T) {
	r := &Record{}
	in := `{"schema_version":1,"ticket":{"id":"x"},"status":"new","future_field":{"a":1},"version":3}`
	if err := json.Unmarshal([]byte(in), r); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(out), `"future_field":{"a":1}`) {
		t.Fatalf("unknown field lost on write back: %s %v", out, err)
	}
	r.SchemaVersion = RecordSchemaVersion + 1
	if err := r.writable(); err == nil {
		t.Fatal("a newer schema's record was writable")
	}
}

// Every route and page, with every role and with none.
func TestAccessByRole(t *testing.T) {
	f := startQueue(t)
	f.route("t-acl", events.QueueEscalation, "P3", 1)
	f.queued("t-acl")
	who := map[string]string{"support": "sato", "engineer": "kim", "admin": "root", "monitoring": "alertmanager"}
	for _, rt := range f.s.Routes() {
		if rt.Role == "" {
			continue
		}
		path := strings.NewReplacer("{id}", "t-acl", "{tid}", "nope").Replace(rt.Pattern)
		t.Run(rt.Method+" "+path, func(t *testing.T) {
			a := f.do("", rt.Method, path, nil)
			switch {
			case rt.Page && rt.Method == "GET":
				if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/login?next=") {
					t.Errorf("without credentials: %d to %q, want 303 to /login?next=", a.status, a.header.Get("Location"))
				}
			case a.status != http.StatusUnauthorized:
				t.Errorf("without credentials: %d, want 401", a.status)
			}
			rank := map[string]int{"support": 1, "engineer": 2, "admin": 3}
			for _, role := range []string{"support", "engineer", "admin", "monitoring"} {
				// People's roles include those below; monitoring may only
				// report alerts, which engineers and admins may too.
				allowed := rank[role] >= rank[string(rt.Role)]
				switch {
				case role == "monitoring":
					allowed = rt.Role == auth.RoleMonitoring
				case rt.Role == auth.RoleMonitoring:
					allowed = rank[role] >= rank["engineer"]
				}
				if allowed && strings.HasSuffix(path, "/events") {
					continue // an open stream: live_test.go reads those
				}
				a := f.do(who[role], rt.Method, path, nil)
				if !allowed {
					if a.status != http.StatusForbidden {
						t.Errorf("as %s: %d, want 403", role, a.status)
					}
					continue
				}
				// Allowed: whatever the action says of an empty body, it is
				// not an authentication or role refusal.
				if a.status == http.StatusUnauthorized || (a.status == http.StatusForbidden && a.code() != "forbidden" && a.code() != "") {
					t.Errorf("as %s (allowed): %d %s", role, a.status, a.body)
				}
				if a.status == http.StatusForbidden && rt.Method == "GET" {
					t.Errorf("as %s (allowed): 403 %s", role, a.body)
				}
			}
		})
	}
}

// A long poll outlives the shutdown grace; SIGTERM must still end it at
// once with an answer, and the service must stop cleanly.
func TestShutdownEndsLongPoll(t *testing.T) {
	srv := testkit.RunJetStream(t)
	cfg := loadConfig(t, srv.ClientURL(), "--max-wait", "5m", "--shutdown-grace", "20s")
	ctx, cancel := context.WithCancel(t.Context())
	s, err := New(ctx, cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx) }()
	testkit.Eventually(t, 10*time.Second, func() error { return s.Ready(ctx) })
	token, _, err := s.auth.Issue(ctx, "kim", "engineer", time.Hour, "test")
	if err != nil {
		t.Fatal(err)
	}
	answered := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", s.URL()+"/api/v1/queue/tickets/never-arrives?wait=5m", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	testkit.Eventually(t, 10*time.Second, func() error {
		if s.view.waiting("never-arrives") == 0 {
			return errors.New("the long poll is not waiting yet")
		}
		return nil
	})
	cancel()
	if status := <-answered; status != http.StatusServiceUnavailable {
		t.Fatalf("long poll at shutdown answered %d, want 503 shutting_down", status)
	}
	if err := <-ran; err != nil {
		t.Fatalf("Run after shutdown: %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
}

// A closed ticket leaves the active list but stays searchable by id and by
// tenant.
func TestClosedTicketsLeaveTheListButStaySearchable(t *testing.T) {
	f := startQueue(t)
	f.route("t-open", events.QueueEscalation, "P3", 1)
	f.route("t-done", events.QueueEscalation, "P3", 1)
	f.queued("t-open")
	_, tag := f.queued("t-done")
	for _, step := range []struct {
		action string
		body   any
	}{{"claim", nil}, {"status", map[string]string{"status": "resolved"}}, {"status", map[string]string{"status": "closed"}}} {
		a := f.do("kim", "POST", "/api/v1/queue/tickets/t-done/"+step.action, step.body, "If-Match", tag)
		if a.status != 200 {
			t.Fatalf("%s: %d %s", step.action, a.status, a.body)
		}
		tag = a.header.Get("ETag")
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		var page ListResponse
		f.do("kim", "GET", "/api/v1/queue?queue=escalation", nil).decode(t, &page)
		for _, s := range page.Tickets {
			if s.ID == "t-done" {
				return errors.New("the closed ticket is still listed")
			}
		}
		if len(page.Tickets) != 1 {
			return fmt.Errorf("%d listed, want the open one", len(page.Tickets))
		}
		return nil
	})
	var found struct{ Tickets []Summary }
	f.do("sato", "GET", "/api/v1/queue/search?tenant=rst-0042", nil).decode(t, &found)
	if len(found.Tickets) != 2 {
		t.Fatalf("tenant search found %d tickets, want 2: %+v", len(found.Tickets), found.Tickets)
	}
	f.do("sato", "GET", "/api/v1/queue/search?id=t-done", nil).decode(t, &found)
	if len(found.Tickets) != 1 || found.Tickets[0].Status != StatusClosed {
		t.Fatalf("search by id: %+v", found.Tickets)
	}
}

// Tickets the router was unsure of wait in a lane of their own until a
// person decides.
func TestNeedsTriageLane(t *testing.T) {
	f := startQueue(t)
	f.route("t-unsure", events.QueueEscalation, "P3", 1, func(e *events.TicketRouted) {
		e.Routing.NeedsTriage, e.Routing.Confidence = true, 0.55
	})
	f.route("t-sure", events.QueueEscalation, "P3", 1)
	f.queued("t-sure")
	_, tag := f.queued("t-unsure")
	lane := func() []Summary {
		var page ListResponse
		f.do("kim", "GET", "/api/v1/queue?needs_triage=true", nil).decode(t, &page)
		return page.Tickets
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		if l := lane(); len(l) != 1 || l[0].ID != "t-unsure" {
			return fmt.Errorf("lane %+v", l)
		}
		return nil
	})
	if a := f.do("kim", "POST", "/api/v1/queue/tickets/t-unsure/claim", nil, "If-Match", tag); a.status != 200 {
		t.Fatalf("claim: %d %s", a.status, a.body)
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		if l := lane(); len(l) != 0 {
			return fmt.Errorf("still in the lane after a person took it: %+v", l)
		}
		return nil
	})
	if a := f.do("kim", "GET", "/api/v1/queue?needs_triage=maybe", nil); a.status != 400 {
		t.Fatalf("bad needs_triage: %d", a.status)
	}
}

// The claim race on a three-server cluster with replicated streams, where
// JetStream checks duplicates before the expected sequence: still exactly
// one winner.
func TestClaimRaceOnACluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-server cluster")
	}
	servers := testkit.RunJetStreamCluster(t, 3)
	f := &fixture{t: t, srv: servers[0], tokens: map[string]string{}, client: &http.Client{Timeout: 30 * time.Second}}
	t.Cleanup(f.client.CloseIdleConnections)
	// Two queue replicas, each connected to its own node: the claims race
	// through different servers to the stream's leader.
	f.s, f.stopFirst = f.start(loadConfig(t, servers[0].ClientURL(), "--stream-replicas", "3"), true)
	other, _ := f.start(loadConfig(t, servers[2].ClientURL(), "--stream-replicas", "3"), true)
	replicas := []*Service{f.s, other}
	for i := range 20 {
		name := fmt.Sprintf("eng-%02d", i)
		text, _, err := f.s.auth.Issue(t.Context(), name, "engineer", time.Hour, "test")
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[name] = text
	}
	f.tokens["kim"] = f.tokens["eng-00"]
	f.route("t-cluster", events.QueueEscalation, "P1", 1)
	_, tag := f.queued("t-cluster")
	var mu sync.Mutex
	won, lost := 0, 0
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func(name string, s *Service) {
			defer wg.Done()
			a := f.doAt(s, name, "POST", "/api/v1/queue/tickets/t-cluster/claim", nil, "If-Match", tag)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case a.status == http.StatusOK:
				won++
			case a.status == http.StatusConflict && a.code() == "already_claimed":
				lost++
			default:
				t.Errorf("%s's claim: %d %s", name, a.status, a.body)
			}
		}(fmt.Sprintf("eng-%02d", i), replicas[i%2])
	}
	wg.Wait()
	if won != 1 || lost != 19 {
		t.Fatalf("%d won, %d got 409; want 1 and 19", won, lost)
	}
	h := f.do("kim", "GET", "/api/v1/queue/tickets/t-cluster/history", nil)
	if n := strings.Count(string(h.body), `"type":"claimed"`); n != 1 {
		t.Fatalf("%d claims in the history, want 1", n)
	}
}
