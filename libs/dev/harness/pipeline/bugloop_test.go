package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/services/queue"
)

// The loop, whole: an engineer confirms a bug on a queued ticket, the bug
// filer files it on the (fake) GitHub, a developer closes the issue there,
// GitHub's signed webhook reaches the filer through the front door, and
// the ticket is fixed, with the issue's link, for support staff too.
func TestConfirmedBugLoopsBackWhenFixed(t *testing.T) {
	p := startPipeline(t, t.TempDir())
	if err := p.WaitReady(t.Context()); err != nil {
		t.Fatal(err)
	}
	r, err := submit(t.Context(), client(), p.Pipeline, sampleTickets(1)[0])
	if err != nil || r.status != http.StatusAccepted {
		t.Fatalf("submit: %d %v", r.status, err)
	}
	var tk queue.Record
	testkit.Eventually(t, time.Minute, func() error {
		var found bool
		if tk, found = queuedTicket(t, p.Pipeline, r.id); !found {
			return fmt.Errorf("ticket %s not queued yet", r.id)
		}
		return nil
	})
	act := func(action string, body any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, p.WebURL()+"/api/v1/queue/tickets/"+r.id+"/"+action, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+p.Tokens.Engineer)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("If-Match", "*")
		resp, err := client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s: %d %s", action, resp.StatusCode, msg)
		}
	}
	act("claim", nil)
	act("confirm-bug", map[string]string{"notes": "found it"})
	testkit.Eventually(t, time.Minute, func() error {
		if tk, _ = queuedTicket(t, p.Pipeline, r.id); tk.Bug == nil || tk.Bug.IssueNumber == 0 {
			return fmt.Errorf("no issue linked yet: %+v", tk.Bug)
		}
		return nil
	})
	if err := p.GitHub.CloseIssue("triage-demo", "pos", tk.Bug.IssueNumber, "completed"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, time.Minute, func() error {
		if tk, _ = queuedTicket(t, p.Pipeline, r.id); tk.Status != queue.StatusFixed {
			return fmt.Errorf("ticket is %s, not fixed yet", tk.Status)
		}
		return nil
	})
	resp, err := p.Get(p.WebURL()+"/api/v1/queue/tickets/"+r.id, p.Tokens.Support)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sv queue.SupportView
	if err := json.NewDecoder(resp.Body).Decode(&sv); err != nil || sv.Status != queue.StatusFixed || sv.Bug == nil || sv.Bug.IssueURL == "" {
		t.Fatalf("support sees %+v (%v), want fixed with the issue link", sv, err)
	}
}
