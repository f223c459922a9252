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
	tk := submitQueued(t, p.Pipeline, sampleTickets(1)[0])
	id := tk.Ticket.ID
	act := func(action string, body any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, p.WebURL()+"/api/v1/queue/tickets/"+id+"/"+action, bytes.NewReader(b))
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
		if tk, _ = queuedTicket(t, p.Pipeline, id); tk.Bug == nil || tk.Bug.IssueNumber == 0 {
			return fmt.Errorf("no issue linked yet: %+v", tk.Bug)
		}
		return nil
	})
	if err := p.GitHub.CloseIssue("triage-demo", "pos", tk.Bug.IssueNumber, "completed"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, time.Minute, func() error {
		if tk, _ = queuedTicket(t, p.Pipeline, id); tk.Status != queue.StatusFixed {
			return fmt.Errorf("ticket is %s, not fixed yet", tk.Status)
		}
		return nil
	})
	resp, err := p.Get(p.WebURL()+"/api/v1/queue/tickets/"+id, p.Tokens.Support)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sv queue.SupportView
	if err := json.NewDecoder(resp.Body).Decode(&sv); err != nil || sv.Status != queue.StatusFixed || sv.Bug == nil || sv.Bug.IssueURL == "" {
		t.Fatalf("support sees %+v (%v), want fixed with the issue link", sv, err)
	}
}

// A bug confirmed on a whole incident files one GitHub issue for all of its
// tickets, and closing it fixes every one of them. The incident is declared
// by an engineer; the tickets that come after link to it.
func TestIncidentBugFilesOneIssue(t *testing.T) {
	p := startPipeline(t, t.TempDir())
	if err := p.WaitReady(t.Context()); err != nil {
		t.Fatal(err)
	}
	call := func(method, path, token string, body any, want int, out any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, p.WebURL()+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, msg)
		}
		if out != nil {
			if err := json.Unmarshal(msg, out); err != nil {
				t.Fatal(err)
			}
		}
	}
	printer := sampleTickets(3)[2] // the kitchen printer
	first := submitQueued(t, p.Pipeline, printer)
	if !first.Routing.Technical || first.Routing.NeedsTriage || first.Routing.Component == "" {
		t.Fatalf("the printer ticket was routed %+v; the test needs a sure technical one", first.Routing)
	}
	var inc queue.IncidentView
	call("POST", "/api/v1/incidents", p.Tokens.Engineer, map[string]string{"component": first.Routing.Component,
		"symptom": "Kitchen printers print nothing", "message": "Known; orders still reach the kitchen screen."}, http.StatusCreated, &inc)
	var ids []string
	for i := range 3 {
		s := printer
		s.key = fmt.Sprintf("incident-bug-%d", i)
		s.body = map[string]any{}
		for k, v := range printer.body {
			s.body[k] = v
		}
		s.body["tenant_id"] = fmt.Sprintf("rst-%04d", 100+i)
		tk := submitQueued(t, p.Pipeline, s)
		if tk.Routing.Incident != inc.ID {
			t.Fatalf("ticket %s routed into incident %q, want the declared %s", tk.Ticket.ID, tk.Routing.Incident, inc.ID)
		}
		ids = append(ids, tk.Ticket.ID)
	}
	call("POST", "/api/v1/incidents/"+inc.ID+"/claim", p.Tokens.Engineer, nil, http.StatusOK, nil)
	call("POST", "/api/v1/incidents/"+inc.ID+"/confirm-bug", p.Tokens.Engineer, map[string]string{"notes": "every printer of the bridge"}, http.StatusOK, nil)
	issue := 0
	testkit.Eventually(t, time.Minute, func() error {
		numbers := map[int]bool{}
		for i, id := range ids {
			tk, _ := queuedTicket(t, p.Pipeline, id)
			if tk.Bug == nil || tk.Bug.IssueNumber == 0 {
				return fmt.Errorf("ticket %d of %d (%s) has no issue yet: %+v; GitHub calls %v", i+1, len(ids), id, tk.Bug, p.GitHub.Calls())
			}
			numbers[tk.Bug.IssueNumber] = true
			issue = tk.Bug.IssueNumber
		}
		if len(numbers) != 1 {
			return fmt.Errorf("the incident's tickets link issues %v, want one", numbers)
		}
		return nil
	})
	if n := len(p.GitHub.Issues("triage-demo", "pos")); n != 1 {
		t.Fatalf("%d GitHub issues filed for one incident's bug, want 1", n)
	}
	if tk, _ := queuedTicket(t, p.Pipeline, first.Ticket.ID); tk.Bug != nil {
		t.Errorf("the ticket routed before the declaration got the incident's bug: %+v", tk.Bug)
	}
	if err := p.GitHub.CloseIssue("triage-demo", "pos", issue, "completed"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, time.Minute, func() error {
		for _, id := range ids {
			if tk, _ := queuedTicket(t, p.Pipeline, id); tk.Status != queue.StatusFixed {
				return fmt.Errorf("ticket %s is %s, not fixed yet", id, tk.Status)
			}
		}
		return nil
	})
}
