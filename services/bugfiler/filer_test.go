package bugfiler

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
)

// unpaced lets a test file many bugs quickly: neither the fake nor the
// filer limits content creation.
var unpaced = fakegithub.Options{ContentPerMinute: -1, ContentPerHour: -1}

func fast(c *Config) {
	c.GitHub.ContentPerMinute, c.GitHub.ContentPerHour = 60000, 600000
}

func linked(t *testing.T, st *states, want int) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, func() error {
		if _, tickets := st.count(events.TypeBugFiled); len(tickets) != want {
			return fmt.Errorf("%d of %d tickets told their issue", len(tickets), want)
		}
		return nil
	})
}

// oneIssueEach checks the repository holds exactly one issue per
// fingerprint and no reservation is left pending.
func oneIssueEach(t *testing.T, e *env, fps []string) {
	t.Helper()
	perFP := map[string]int{}
	for _, is := range e.gh.Issues("acme", "pos") {
		m := markerPattern.FindStringSubmatch(is.Body)
		if m == nil {
			t.Fatalf("issue #%d has no marker", is.Number)
		}
		perFP[m[1]]++
	}
	for _, fp := range fps {
		if perFP[fp] != 1 {
			t.Errorf("bug %s has %d issues, want 1", fp, perFP[fp])
		}
		if r := e.record(fp); r == nil || r.State != stateOpen || r.Lease != "" {
			t.Errorf("bug %s left as %+v", fp, r)
		}
	}
	if len(perFP) != len(fps) {
		t.Errorf("%d bugs have issues, want %d", len(perFP), len(fps))
	}
}

// Fifty confirmations of one bug at once, on two replicas: one issue; the
// other tickets are added in batched comments (at most one per
// --comment-batch), and every ticket is linked.
func TestFiftyConfirmationsOneIssue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakegithub.Options{})
	st := e.watchStates()
	e.filer(nil)
	e.filer(nil)
	for i := range 50 {
		e.confirm("payment-sig1", fmt.Sprintf("t-%02d", i), fmt.Sprintf("rst-%02d", i%7))
	}
	r := e.filedTickets("payment-sig1", 50, 90*time.Second)
	issues := e.gh.Issues("acme", "pos")
	if len(issues) != 1 {
		t.Fatalf("%d issues filed, want 1", len(issues))
	}
	is := issues[0]
	if !strings.Contains(is.Body, marker("payment-sig1")) || len(is.Labels) < 3 {
		t.Fatalf("issue body lacks the marker or labels: %q %v", is.Body, is.Labels)
	}
	inComments := 0
	for _, c := range is.Comments {
		var n int
		if _, err := fmt.Sscanf(c.Body, "**%d more ticket(s)**", &n); err == nil {
			inComments += n
		}
	}
	inBody := len(r.Tickets) - inComments
	t.Logf("one issue: %d tickets in its body, %d in %d batched comments", inBody, inComments, len(is.Comments))
	if inBody < 1 || inBody+inComments != 50 || len(is.Comments) > 10 {
		t.Fatalf("tickets in body %d + comments %d (%d comments) do not add up to 50 in few comments", inBody, inComments, len(is.Comments))
	}
	if calls := e.gh.Calls()[fakegithub.OpCreateIssue]; calls != 1 {
		t.Fatalf("%d create calls, want 1", calls)
	}
	linked(t, st, 50)
}

// A filer killed after GitHub created the issue and before the number was
// recorded, for 100 bugs: the attempt after each finds the issue by its
// marker instead of filing a second.
func TestCrashAfterCreateFindsTheIssue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, unpaced)
	s := e.filer(func(c *Config) { fast(c); c.Lease = 300 * time.Millisecond })
	var mu sync.Mutex
	crashed := map[string]bool{}
	s.crashAfterCreate = func(fp string) bool {
		mu.Lock()
		defer mu.Unlock()
		if crashed[fp] {
			return false
		}
		crashed[fp] = true
		return true
	}
	var fps []string
	for i := range 100 {
		fp := fmt.Sprintf("printer-crash%03d", i)
		fps = append(fps, fp)
		e.confirm(fp, "t-"+fp, "rst-1")
	}
	for _, fp := range fps {
		e.filedTickets(fp, 1, 2*time.Minute)
	}
	mu.Lock()
	n := len(crashed)
	mu.Unlock()
	if n != 100 {
		t.Fatalf("%d crashes happened, want 100", n)
	}
	oneIssueEach(t, e, fps)
	if got := e.gh.Calls()[fakegithub.OpCreateIssue]; got != 100 {
		t.Fatalf("%d create calls for 100 bugs", got)
	}
}

// The create answer is lost (the connection reset after the fake created
// the issue) on 30% of calls: still one issue per bug, none left pending.
func TestLostCreateAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, unpaced)
	if err := e.gh.InjectFault(fakegithub.Fault{Kind: fakegithub.FaultLoseResponse, Endpoints: []string{fakegithub.OpCreateIssue}, Fraction: 0.3}); err != nil {
		t.Fatal(err)
	}
	e.filer(fast)
	e.filer(fast)
	var fps []string
	for i := range 40 {
		fp := fmt.Sprintf("menu-lost%02d", i)
		fps = append(fps, fp)
		e.confirm(fp, "t-"+fp, "rst-2")
	}
	for _, fp := range fps {
		e.filedTickets(fp, 1, 2*time.Minute)
	}
	oneIssueEach(t, e, fps)
	t.Logf("%d create calls for 40 bugs with 30%% of answers lost", e.gh.Calls()[fakegithub.OpCreateIssue])
}

// A secondary rate limit: every confirmed bug is filed once it lifts,
// none doubled, none lost.
func TestSecondaryRateLimitWaits(t *testing.T) {
	t.Parallel() // it mostly waits: let the other tests run meanwhile
	e := newEnv(t, unpaced)
	// Two minutes, as GitHub's secondary limits last; -short makes it 4s.
	limit := 2 * time.Minute
	if testing.Short() {
		limit = 4 * time.Second
	}
	if err := e.gh.InjectFault(fakegithub.Fault{Kind: fakegithub.FaultSecondaryLimit, For: limit}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	e.filer(fast)
	var fps []string
	for i := range 10 {
		fp := fmt.Sprintf("auth-limit%02d", i)
		fps = append(fps, fp)
		e.confirm(fp, "t-"+fp, "rst-3")
	}
	for _, fp := range fps {
		e.filedTickets(fp, 1, limit+time.Minute)
	}
	if time.Since(start) < limit-time.Second {
		t.Fatalf("bugs were filed while GitHub said to wait")
	}
	oneIssueEach(t, e, fps)
	// Once the limit's answer is in, nothing is sent until the time it
	// gave (GitHub counts calls made during a secondary limit against the
	// token). Calls already on their way when the first answer came are
	// let off: a second's grace.
	var limited time.Time
	during := 0
	for _, r := range e.gh.Requests() {
		switch {
		case limited.IsZero() && r.Status == http.StatusForbidden:
			limited = r.Time
		case !limited.IsZero() && r.Time.After(limited.Add(time.Second)) && r.Time.Before(start.Add(limit-time.Second)):
			during++
			t.Logf("during the limit: %s %s %s → %d", r.Time.Format("15:04:05.000"), r.Method, r.Path, r.Status)
		}
	}
	if limited.IsZero() || during > 0 {
		t.Fatalf("limit answered at %v; %d calls made while GitHub said to wait", limited, during)
	}
}

// Filing that cannot succeed (bad credentials) tells the ticket and
// leaves a dead letter with the reason.
func TestPermanentFailureIsReported(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakegithub.Options{Tokens: map[string]string{"another-token": "someone"}})
	st := e.watchStates()
	e.filer(nil)
	e.confirm("payment-denied", "t-denied", "rst-4")
	testkit.Eventually(t, 30*time.Second, func() error {
		if n, tickets := st.count(events.TypeBugFailed); n == 0 || !tickets["t-denied"] {
			return errors.New("no bugs.failed for the ticket yet")
		}
		return nil
	})
	testkit.Eventually(t, 30*time.Second, func() error {
		if r := e.record("payment-denied"); r == nil || r.State != stateFailed || !strings.Contains(r.Failure, "401") {
			return fmt.Errorf("record %+v", r)
		}
		return nil
	})
}

// A bug confirmed again after its issue was closed reopens the issue, or
// (by configuration) files a regression issue that links it.
func TestRegression(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{"reopen", "new-issue"} {
		t.Run(policy, func(t *testing.T) {
			e := newEnv(t, unpaced)
			st := e.watchStates()
			e.filer(fast, "--on-regression", policy)
			e.confirm("order-regress", "t-1", "rst-5")
			r := e.filedTickets("order-regress", 1, 30*time.Second)
			if err := e.gh.CloseIssue("acme", "pos", r.IssueNumber, "completed"); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, 30*time.Second, func() error {
				if n, _ := st.count(events.TypeBugClosed); n != 1 {
					return errors.New("the close has not reached the queue's events")
				}
				return nil
			})
			e.confirm("order-regress", "t-2", "rst-6")
			issues := func() []fakegithub.Issue { return e.gh.Issues("acme", "pos") }
			testkit.Eventually(t, 30*time.Second, func() error {
				r := e.record("order-regress")
				if r == nil || r.State != stateOpen || !r.has("t-2") {
					return fmt.Errorf("record %+v", r)
				}
				return nil
			})
			switch policy {
			case "reopen":
				if is := issues(); len(is) != 1 || is[0].State != "open" {
					t.Fatalf("issues %+v, want the one reopened", is)
				}
			case "new-issue":
				is := issues()
				if len(is) != 2 || !strings.Contains(is[1].Body+is[0].Body, fmt.Sprintf("Regression of** #%d", r.IssueNumber)) {
					t.Fatalf("want a second issue linking #%d: %+v", r.IssueNumber, is)
				}
			}
		})
	}
}

// Confirmations around a close: one still waiting for its comment when the
// issue is closed is linked to the fixed issue and told it is fixed; the
// same ticket confirmed again after the close is the bug coming back.
func TestConfirmationsAroundTheClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t, unpaced)
	st := e.watchStates()
	e.filer(fast, "--comment-batch", "1h") // the second ticket waits for a comment
	e.confirm("menu-close", "t-1", "rst-1")
	r := e.filedTickets("menu-close", 1, 30*time.Second)
	e.confirm("menu-close", "t-2", "rst-2")
	testkit.Eventually(t, 20*time.Second, func() error {
		if rec := e.record("menu-close"); !rec.has("t-2") {
			return errors.New("t-2 not pending yet")
		}
		return nil
	})
	if err := e.gh.CloseIssue("acme", "pos", r.IssueNumber, "completed"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 60*time.Second, func() error {
		n, closed := st.count(events.TypeBugClosed)
		_, filed := st.count(events.TypeBugFiled)
		if n == 0 || !closed["t-1"] || !closed["t-2"] || !filed["t-2"] {
			return fmt.Errorf("closed %v, filed %v", closed, filed)
		}
		return nil
	})
	// t-1 confirmed again (reopened and re-confirmed by an engineer). The
	// filer says it reopened the issue, and so may GitHub's webhook.
	e.confirm("menu-close", "t-1", "rst-1", func(b *events.BugReport) { b.Notes = "it is back" })
	testkit.Eventually(t, 30*time.Second, func() error {
		if n, tickets := st.count(events.TypeBugReopened); n == 0 || !tickets["t-1"] {
			return fmt.Errorf("%d reopened events", n)
		}
		return nil
	})
	if is := e.gh.Issues("acme", "pos"); len(is) != 1 || is[0].State != "open" {
		t.Fatalf("issues %+v, want the one reopened", is)
	}
}

// An incident's bug: the report names all of its tickets, each confirmed
// one by one. One issue, counting them all, and each ticket linked to it at
// once, without waiting for a comment.
func TestIncidentReportLinksItsTicketsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, unpaced)
	st := e.watchStates()
	e.filer(fast, "--comment-batch", "1h")
	all := func(b *events.BugReport) {
		b.TicketIDs, b.Tenants = []string{"i-1", "i-2", "i-3"}, []string{"rst-1", "rst-2", "rst-3"}
	}
	e.confirm("printer-incident", "i-1", "rst-1", all)
	e.filedTickets("printer-incident", 1, 30*time.Second)
	e.confirm("printer-incident", "i-2", "rst-2", all)
	e.confirm("printer-incident", "i-3", "rst-3", all)
	testkit.Eventually(t, 30*time.Second, func() error {
		if _, filed := st.count(events.TypeBugFiled); !filed["i-1"] || !filed["i-2"] || !filed["i-3"] {
			return fmt.Errorf("filed %v", filed)
		}
		return nil
	})
	is := e.gh.Issues("acme", "pos")
	if len(is) != 1 || !strings.Contains(is[0].Body, "**Tickets:** 3, from 3 tenant(s)") {
		t.Fatalf("issues %+v, want one counting the incident's 3 tickets", is)
	}
	if n := e.gh.Calls()[fakegithub.OpCreateComment]; n != 0 {
		t.Errorf("%d comments for tickets the issue names already", n)
	}
}

// A confirmation that finds another replica holding the lease (filing, or
// commenting) looks again soon after, not when the lease would lapse: a
// lease covers a crash, but a live holder is done in about a second.
func TestConfirmationWaitsForALiveLeaseBriefly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, fakegithub.Options{})
	e.filer(func(c *Config) { c.CommentBatch = 0 }) // the default two-minute lease; comments at once
	e.confirm("payment-sig1", "t-00", "rst-00")
	e.filedTickets("payment-sig1", 1, 30*time.Second)

	kv, err := e.js.KeyValue(t.Context(), bus.BucketBugs)
	if err != nil {
		t.Fatal(err)
	}
	rs := records{kv}
	hold := func(lease string, until time.Time) {
		t.Helper()
		if err := rs.settle(t.Context(), "payment-sig1", func(r *bugRecord) { r.Lease, r.LeaseUntil = lease, until }); err != nil {
			t.Fatal(err)
		}
	}
	hold("another-replica", time.Now().Add(2*time.Minute))
	e.confirm("payment-sig1", "t-01", "rst-01")
	testkit.Eventually(t, 30*time.Second, func() error {
		if r := e.record("payment-sig1"); !r.has("t-01") {
			return errors.New("t-01 not waiting for the next comment yet")
		}
		return nil
	})
	hold("", time.Time{}) // the other replica is done
	start := time.Now()
	e.filedTickets("payment-sig1", 2, 30*time.Second)
	t.Logf("added to the issue %v after the lease was given back", time.Since(start).Round(time.Millisecond))
}

func TestLeaseWait(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	s := &Service{cfg: Config{Lease: 2 * time.Minute}}
	for _, tc := range []struct {
		name     string
		heldFor  time.Duration
		lease    time.Duration // the holder's --filing-lease
		recorded bool          // the record says when it was taken
		want     time.Duration
	}{
		{"just taken: look again soon", 100 * time.Millisecond, 2 * time.Minute, true, minLeaseWait},
		{"held 3s: as long again", 3 * time.Second, 2 * time.Minute, true, 3 * time.Second},
		{"held 90s: until it lapses", 90 * time.Second, 2 * time.Minute, true, 31 * time.Second},
		{"about to lapse", 2*time.Minute - time.Millisecond, 2 * time.Minute, true, time.Second + time.Millisecond},
		{"a holder with a longer lease", 3 * time.Second, 10 * time.Minute, true, 3 * time.Second},
		{"a record of an older version: from our own lease", 3 * time.Second, 2 * time.Minute, false, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &bugRecord{Lease: "other", LeaseUntil: now.Add(tc.lease - tc.heldFor)}
			if tc.recorded {
				r.LeasedAt = now.Add(-tc.heldFor)
			}
			if got := s.leaseWait(r, now); got != tc.want {
				t.Errorf("leaseWait after %v = %v, want %v", tc.heldFor, got, tc.want)
			}
		})
	}
}
