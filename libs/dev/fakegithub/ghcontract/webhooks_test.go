package ghcontract_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
	"github.com/triage-pipeline/triage/libs/dev/fakegithub/ghcontract"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// TestWebhookSchemasAcceptExamples proves the payload validator against
// octokit's own examples, and that it refuses a payload that breaks them.
func TestWebhookSchemasAcceptExamples(t *testing.T) {
	v := ghcontract.SharedWebhooks(t)
	dir := testkit.SharedPath(t, "contracts", "github", "webhooks", "payload-examples", "api.github.com", "issues")
	files, err := filepath.Glob(filepath.Join(dir, "*.payload.json"))
	if err != nil || len(files) < 3 {
		t.Fatalf("examples in %s: %v %v", dir, files, err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.ValidatePayload("issues", raw); err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
	reopened, err := os.ReadFile(filepath.Join(dir, "reopened.payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(p map[string]any){
		"reopened but closed": func(p map[string]any) { p["issue"].(map[string]any)["state"] = "closed" },
		"unknown issue field": func(p map[string]any) { p["issue"].(map[string]any)["score"] = 1 },
		"no sender":           func(p map[string]any) { delete(p, "sender") },
		"closed without time": func(p map[string]any) {
			p["action"] = "closed"
			is := p["issue"].(map[string]any)
			is["state"], is["closed_at"] = "closed", nil
		},
		"user id not a number": func(p map[string]any) { p["sender"].(map[string]any)["id"] = "1" },
	}
	for name, breakIt := range cases {
		var p map[string]any
		if err := json.Unmarshal(reopened, &p); err != nil {
			t.Fatal(err)
		}
		breakIt(p)
		b, _ := json.Marshal(p)
		if err := v.ValidatePayload("issues", b); err == nil {
			t.Errorf("%s: validated, want an error", name)
		}
	}
}

// receiver is a webhook endpoint that keeps what it gets.
type receiver struct {
	mu     sync.Mutex
	got    []delivery
	status int
}

type delivery struct {
	header http.Header
	body   []byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.got = append(rc.got, delivery{header: r.Header.Clone(), body: body})
	w.WriteHeader(rc.status)
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

// TestFakeWebhooksConform closes an issue through the API and reopens it
// as a developer would, and checks both deliveries as a receiver gets
// them: headers, signatures (ours and go-github's check), payload schema,
// and go-github's parsing of the event.
func TestFakeWebhooksConform(t *testing.T) {
	rcv := &receiver{status: http.StatusOK}
	hook := httptest.NewServer(rcv)
	t.Cleanup(hook.Close)
	const secret = "It's a Secret to Everybody"
	s, base := startFake(t, fakegithub.Options{Repos: []string{"octo-org/scratch"}, WebhookURL: hook.URL, WebhookSecret: secret})
	gh := validatingClient(t, base, fakegithub.DefaultToken, true)
	ctx := t.Context()
	is, _, err := gh.Issues.Create(ctx, "octo-org", "scratch", &github.IssueRequest{Title: github.String("printer offline"), Labels: &[]string{"bug"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.Issues.Edit(ctx, "octo-org", "scratch", is.GetNumber(), &github.IssueRequest{State: github.String("closed")}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		if n := len(rcv.deliveries()); n != 1 {
			return fmt.Errorf("%d deliveries, want 1", n)
		}
		return nil
	})
	if err := s.ReopenIssue("octo-org", "scratch", is.GetNumber()); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		if n := len(rcv.deliveries()); n != 2 {
			return fmt.Errorf("%d deliveries, want 2", n)
		}
		return nil
	})
	v := ghcontract.SharedWebhooks(t)
	want := []struct{ action, state, sender string }{
		{"closed", "closed", fakegithub.DefaultLogin},
		{"reopened", "open", fakegithub.DefaultDeveloper},
	}
	for i, d := range rcv.deliveries() {
		if err := v.ValidateDelivery(d.header, d.body, secret); err != nil {
			t.Errorf("delivery %d: %v", i, err)
		}
		if err := github.ValidateSignature(d.header.Get("X-Hub-Signature-256"), d.body, []byte(secret)); err != nil {
			t.Errorf("delivery %d: go-github's signature check: %v", i, err)
		}
		if d.header.Get("X-GitHub-Event") != "issues" || !strings.HasPrefix(d.header.Get("User-Agent"), "GitHub-Hookshot/") {
			t.Errorf("delivery %d: headers %v", i, d.header)
		}
		ev, err := github.ParseWebHook(github.WebHookType(&http.Request{Header: d.header}), d.body)
		if err != nil {
			t.Fatalf("delivery %d: go-github cannot parse it: %v", i, err)
		}
		ie, ok := ev.(*github.IssuesEvent)
		if !ok {
			t.Fatalf("delivery %d: %T, want *github.IssuesEvent", i, ev)
		}
		if ie.GetAction() != want[i].action || ie.GetIssue().GetState() != want[i].state ||
			ie.GetIssue().GetNumber() != is.GetNumber() || ie.GetSender().GetLogin() != want[i].sender ||
			ie.GetRepo().GetFullName() != "octo-org/scratch" {
			t.Errorf("delivery %d: action %q state %q number %d sender %q repo %q, want %+v", i, ie.GetAction(),
				ie.GetIssue().GetState(), ie.GetIssue().GetNumber(), ie.GetSender().GetLogin(), ie.GetRepo().GetFullName(), want[i])
		}
	}
	if err := ghcontract.VerifySignatures(rcv.deliveries()[0].header, rcv.deliveries()[0].body, "another secret"); err == nil {
		t.Error("a signature verified with the wrong secret")
	}
}
