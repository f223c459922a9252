package browser_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/demoworld"
	"github.com/triage-pipeline/triage/libs/dev/esdev"
	"github.com/triage-pipeline/triage/libs/dev/harness/browser"
	"github.com/triage-pipeline/triage/libs/dev/harness/pipeline"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// sharedES is the development Elasticsearch every test's pipeline
// searches: loading the demo world costs seconds.
var sharedES *pipeline.DemoES

// TestMain starts the shared Elasticsearch, runs the tests, and fails the
// package if any leaves a goroutine running.
func TestMain(m *testing.M) {
	testkit.Main(m, func() (func(), error) {
		dir, err := os.MkdirTemp("", "triage-browser-es-")
		if err != nil {
			return nil, err
		}
		if sharedES, err = pipeline.StartDemoES(context.Background(), "127.0.0.1:0", dir, 1); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		return func() { sharedES.Stop(); os.RemoveAll(dir) }, nil
	})
}

// startPipeline runs the whole pipeline in this process, with the
// development Elasticsearch and the demo world, until the test ends; the
// cleanup waits for every part to stop.
func startPipeline(t *testing.T) *pipeline.Pipeline {
	t.Helper()
	var cfg pipeline.Config
	if err := config.Load("test", &cfg, nil); err != nil {
		t.Fatal(err)
	}
	cfg.DataDir, cfg.NATSPort, cfg.HTTPPort, cfg.ESPort = t.TempDir(), -1, 0, 0
	cfg.SharedDemoES = sharedES
	cfg.Backoff = []time.Duration{50 * time.Millisecond, 200 * time.Millisecond}
	cfg.AckWait = 20 * time.Second
	cfg.ShutdownGrace = 10 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	p, err := pipeline.Start(ctx, cfg, zaptest.NewLogger(t, zaptest.Level(zapcore.WarnLevel)))
	if err != nil {
		cancel()
		t.Fatalf("start pipeline: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("pipeline stopped with: %v", err)
		}
	})
	rctx, rcancel := context.WithTimeout(ctx, time.Minute)
	defer rcancel()
	if err := p.WaitReady(rctx); err != nil {
		t.Fatal(err)
	}
	return p
}

// demoTicket picks a technical demo ticket with logs to find, in lang (any
// language when empty).
func demoTicket(t *testing.T, p *pipeline.Pipeline, lang string, skip int) demoworld.Ticket {
	t.Helper()
	for _, tk := range pipeline.DemoTicketsBefore(p.World, time.Now()) {
		// Submitted today, a demo ticket carries its moment as occurred_at,
		// which the enricher searches ±15 minutes around: only a ticket
		// whose own window is that (a clock time, or the form's field)
		// finds its logs whatever hour the world is built for.
		exact := tk.TimeHint == demoworld.HintClock || tk.TimeHint == demoworld.HintOccurredAt
		if tk.Technical && exact && (lang == "" || tk.Language == lang) && len(tk.ExpectedLogIDs) >= 3 {
			if skip == 0 {
				return tk
			}
			skip--
		}
	}
	t.Fatalf("the demo world has no technical %s ticket with logs", lang)
	return demoworld.Ticket{}
}

// signIn signs in through the login form, asking for next, and waits for
// ready on the page it leads to.
func signIn(t *testing.T, tab context.Context, base, token, next, ready string) {
	t.Helper()
	browser.Do(t, tab, 30*time.Second, "sign in for "+next,
		chromedp.Navigate(base+"/login?next="+url.QueryEscape(next)),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SetValue(chromedp.ID("token"), token),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(ready)),
	)
}

// markPage leaves a mark in the page's JavaScript state: it survives
// everything but a reload, so stillSamePage proves an update came live.
func markPage(t *testing.T, tab context.Context) {
	t.Helper()
	browser.Do(t, tab, 5*time.Second, "mark the page", chromedp.Evaluate[chromedp.Void](`window.triageTestMark = 1`))
}

func stillSamePage(t *testing.T, tab context.Context) {
	t.Helper()
	if !browser.Run(t, tab, 5*time.Second, "read the mark", chromedp.Evaluate[bool](`window.triageTestMark === 1`)) {
		t.Fatal("the page was reloaded; it should have updated in place")
	}
}

// submitByAPI submits a demo ticket to intake as support staff would from
// a script, and returns its id.
func submitByAPI(t *testing.T, p *pipeline.Pipeline, tk demoworld.Ticket) string {
	t.Helper()
	body, _ := json.Marshal(pipeline.DemoRequest(tk))
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, p.WebURL()+"/api/v1/tickets", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.Tokens.Support)
	req.Header.Set("Idempotency-Key", "browser-test-"+tk.ID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		TicketID string `json:"ticket_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: %d %v", resp.StatusCode, err)
	}
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	return out.TicketID
}

// (a) Support staff, in Japanese on a tablet, submit a ticket through the
// form: a missing field is named beside it; once fixed, the ticket's
// status page follows it into the escalation queue without a reload.
func TestSupportSubmitsTicket(t *testing.T) {
	p := startPipeline(t)
	tab := browser.Tab(t, browser.Start(t))
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	browser.Do(t, tab, 10*time.Second, "be a support person in Tokyo with a tablet",
		browser.Person("ja", "Asia/Tokyo"), chromedp.EmulateViewport(820, 1180))
	signIn(t, tab, p.WebURL(), p.Tokens.Support, "/submit", "#submit-form")

	tk := demoTicket(t, p, "ja", 0)
	browser.Do(t, tab, 20*time.Second, "send the form without a tenant",
		chromedp.SetValue(chromedp.ID("subject"), tk.Subject),
		chromedp.SetValue(chromedp.ID("description"), tk.Description),
		chromedp.SetValue(chromedp.ID("occurred_at"), tk.Window.Anchor.In(tokyo).Format("2006-01-02T15:04")),
		chromedp.Click(chromedp.ID("submit-button")),
		chromedp.WaitVisible(chromedp.CSS(`[data-error-for="tenant_id"]`)),
	)
	browser.WaitText(t, tab, 10*time.Second, `[data-error-for="tenant_id"]`, "必須項目です。")
	browser.WaitText(t, tab, 10*time.Second, "#submit-error", "入力内容を確認してください")
	browser.Screenshot(t, tab, "submit-validation-error")

	// Elasticsearch answers slowly this once, so the status page shows the
	// ticket before it reaches a queue.
	t.Cleanup(p.ES.ClearFaults) // the Elasticsearch is shared by the package's tests
	if err := p.ES.InjectFault(esdev.Fault{Kind: esdev.FaultLatency, Endpoints: []string{"msearch", "search"}, Count: 1, Delay: 4 * time.Second}); err != nil {
		t.Fatal(err)
	}
	browser.Do(t, tab, 30*time.Second, "fix the tenant and send again",
		chromedp.SendKeys(chromedp.ID("tenant_id"), tk.TenantID),
		chromedp.Click(chromedp.ID("submit-button")),
		chromedp.WaitVisible(chromedp.CSS(".ticket-page #where")),
	)
	loc := browser.Run(t, tab, 5*time.Second, "read the address", chromedp.Location())
	if !strings.Contains(loc, "/tickets/") {
		t.Fatalf("after submitting the browser is at %s, want the ticket's page", loc)
	}
	markPage(t, tab)
	browser.WaitText(t, tab, 10*time.Second, "#where", "ログを検索中")
	browser.Screenshot(t, tab, "support-ticket-pending")
	browser.WaitText(t, tab, 90*time.Second, "#where", "エスカレーションキューにあります")
	stillSamePage(t, tab)
	browser.WaitText(t, tab, 10*time.Second, ".support-ticket h1", tk.Subject)
	// The history in her language too: the router's line as the page
	// labels its queue.
	browser.WaitText(t, tab, 10*time.Second, ".support-ticket .timeline", "エスカレーションキューへ振り分け")
	browser.Screenshot(t, tab, "support-ticket-status")
	browser.Do(t, tab, 20*time.Second, "open my tickets",
		chromedp.Navigate(p.WebURL()+"/my"), chromedp.WaitVisible(chromedp.CSS(".list tbody tr")))
	browser.Screenshot(t, tab, "support-my-tickets")

	// Two presses of the button (one refused, one accepted) made one
	// ticket.
	resp, err := p.Get(p.WebURL()+"/api/v1/queue/search?tenant="+url.QueryEscape(tk.TenantID), p.Tokens.Support)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var found struct{ Tickets []struct{ Subject string } }
	if err := json.NewDecoder(resp.Body).Decode(&found); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range found.Tickets {
		if f.Subject == tk.Subject {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d tickets named %q for tenant %s, want 1", n, tk.Subject, tk.TenantID)
	}
}

// (b) An engineer has the queue open; a ticket submitted meanwhile shows
// up without a reload. The engineer opens it, reads the logs (the history
// records the read), claims it, comments and confirms a bug with a log
// line picked from the logs.
func TestEngineerWorksTicket(t *testing.T) {
	p := startPipeline(t)
	tab := browser.Tab(t, browser.Start(t))
	browser.Do(t, tab, 10*time.Second, "be an engineer in English", browser.Person("en", "UTC"))
	signIn(t, tab, p.WebURL(), p.Tokens.Engineer, "/queue", ".queue-page")
	browser.WaitText(t, tab, 20*time.Second, "#live-state", "live")
	markPage(t, tab)

	// Some hours' worlds have no such English ticket; the engineer reads
	// either language.
	id := submitByAPI(t, p, demoTicket(t, p, "", 0))
	row := fmt.Sprintf(`tr[data-id=%q]`, id)
	browser.Do(t, tab, 60*time.Second, "see the new ticket in the list", chromedp.WaitVisible(chromedp.CSS(row)))
	stillSamePage(t, tab)
	browser.Screenshot(t, tab, "queue")

	browser.Do(t, tab, 20*time.Second, "open the ticket",
		chromedp.Click(chromedp.CSS(row+` td.subject > a`)),
		chromedp.WaitVisible(chromedp.ID("show-logs")),
	)
	browser.WaitText(t, tab, 5*time.Second, "#show-logs", "(your access is recorded)")
	browser.Do(t, tab, 20*time.Second, "show the logs",
		chromedp.Click(chromedp.ID("show-logs")),
		chromedp.WaitVisible(chromedp.CSS("#logs tbody tr .pick-log")),
	)
	browser.WaitText(t, tab, 20*time.Second, `[data-live="history"]`, "attached logs")

	browser.Do(t, tab, 10*time.Second, "claim", chromedp.Click(chromedp.CSS(`button[data-action="claim"]`)))
	browser.WaitText(t, tab, 20*time.Second, "#ticket-status", "Claimed")

	comment := "Provider timeouts since 19:00; see https://status.example.com/incidents/42"
	browser.Do(t, tab, 10*time.Second, "comment",
		chromedp.SetValue(chromedp.ID("comment-text"), comment),
		chromedp.Click(chromedp.ID("comment-submit")),
	)
	browser.WaitText(t, tab, 20*time.Second, `[data-live="comments"]`, "Provider timeouts since 19:00")
	browser.WaitText(t, tab, 5*time.Second, `[data-live="comments"] a[rel="noopener noreferrer"]`, "https://status.example.com/incidents/42")

	browser.Do(t, tab, 10*time.Second, "pick a log line and confirm the bug",
		chromedp.Click(chromedp.CSS("#logs tbody tr:first-child .pick-log")),
		chromedp.SetValue(chromedp.ID("bug-title"), "Card payments time out at the provider"),
		chromedp.SetValue(chromedp.ID("bug-notes"), "Seen by several restaurants at dinner peak."),
		chromedp.Click(chromedp.CSS(`form[data-action="confirm-bug"] button[type="submit"]`)),
	)
	browser.WaitText(t, tab, 20*time.Second, "#ticket-status", "Bug confirmed")
	browser.WaitText(t, tab, 10*time.Second, `[data-live="history"]`, "confirmed a bug: Card payments time out at the provider")
	browser.WaitText(t, tab, 5*time.Second, "#picked-logs", "report: 0")
	// The bug filer files the issue (on the fake GitHub); the page shows
	// its link when it arrives.
	browser.WaitText(t, tab, 60*time.Second, `[data-live="summary"] .bug`, "Filed as GitHub #")
	browser.Screenshot(t, tab, "engineer-ticket")
	browser.Do(t, tab, 10*time.Second, "turn into a tablet", chromedp.EmulateViewport(820, 1180))
	browser.Screenshot(t, tab, "engineer-ticket-tablet")
	browser.Do(t, tab, 10*time.Second, "back to a laptop", chromedp.EmulateViewport(1280, 900))

	// A storm: the demo world's tickets arrive while the queue is open.
	browser.Do(t, tab, 20*time.Second, "back to the queue",
		chromedp.Navigate(p.WebURL()+"/queue"), chromedp.WaitVisible(chromedp.CSS(row)))
	browser.WaitText(t, tab, 20*time.Second, "#live-state", "live")
	if _, _, err := p.SubmitDemoTicketsOnce(t.Context(), zaptest.NewLogger(t, zaptest.Level(zapcore.WarnLevel))); err != nil {
		t.Fatal(err)
	}
	browser.Run(t, tab, 90*time.Second, "see the storm in the list",
		chromedp.Poll[bool](`document.querySelectorAll(".queue-table tbody tr").length >= 30`, chromedp.WithPollingTimeout(90*time.Second)))
	// The demo world's payment storm (dozens of restaurants at dinner)
	// becomes an incident above the list.
	browser.Run(t, tab, 90*time.Second, "see the storm as an incident",
		chromedp.Poll[bool](`[...document.querySelectorAll(".incidents .incident-item")].some(li => /tickets: \d+ · restaurants: \d+/.test(li.textContent))`,
			chromedp.WithPollingTimeout(90*time.Second)))
	browser.Screenshot(t, tab, "queue-busy")

	// The same queue for an engineer who reads Japanese.
	browser.Do(t, tab, 20*time.Second, "read the queue in Japanese", browser.Person("ja", "Asia/Tokyo"),
		chromedp.Navigate(p.WebURL()+"/queue"), chromedp.WaitVisible(chromedp.CSS(".incidents .incident-item")))
	browser.WaitText(t, tab, 10*time.Second, ".incidents h2", "発生中のインシデント")
	browser.Screenshot(t, tab, "queue-busy-ja")

	// The engineer takes the incident: owns it, then resolves it with one
	// reply that every linked ticket gets.
	browser.Do(t, tab, 20*time.Second, "open the incident",
		chromedp.Click(chromedp.CSS(".incidents .incident-item a[href^='/incidents/']")),
		chromedp.WaitVisible(chromedp.CSS(".incident-page .incident-count")))
	browser.Do(t, tab, 20*time.Second, "own the incident",
		chromedp.Click(chromedp.CSS(`button[data-action="claim"]`)),
		chromedp.WaitVisible(chromedp.ID("resolve-message")))
	browser.WaitText(t, tab, 10*time.Second, ".incident-owner", "engineer")
	browser.WaitText(t, tab, 5*time.Second, ".incident-card .reason", "同じエラー（署名 ")
	browser.Screenshot(t, tab, "incident-ja")
	browser.Do(t, tab, 20*time.Second, "read the incident in English", browser.Person("en", "UTC"), chromedp.Reload(),
		chromedp.WaitVisible(chromedp.ID("resolve-message")))
	open := browser.Run(t, tab, 5*time.Second, "count its open tickets",
		chromedp.Evaluate[int](`document.querySelectorAll(".incident-tickets tbody tr").length`))
	if open == 0 {
		t.Fatal("the incident page lists no open tickets")
	}
	browser.Screenshot(t, tab, "incident")
	browser.Do(t, tab, 20*time.Second, "resolve the incident",
		chromedp.SetValue(chromedp.ID("resolve-message"), "The payment provider was down 19:02–19:40; card payments work again."),
		chromedp.Click(chromedp.CSS(`form[data-action="resolve"] button[type="submit"]`)))
	browser.WaitText(t, tab, 20*time.Second, ".incident-state", "Resolved")
	browser.Run(t, tab, 60*time.Second, "see its tickets resolved",
		chromedp.Poll[bool](`document.querySelectorAll(".incident-tickets tbody tr").length === 0`, chromedp.WithPollingTimeout(60*time.Second)))
	browser.Screenshot(t, tab, "incident-resolved")
}

// (d) An engineer declares an outage before the tickets come; support
// staff see its message on the submit form, the matching one marked as
// they type.
func TestDeclaredIncidentOnSubmitForm(t *testing.T) {
	p := startPipeline(t)
	eng := browser.Tab(t, browser.Start(t))
	browser.Do(t, eng, 10*time.Second, "be an engineer in English", browser.Person("en", "UTC"))
	signIn(t, eng, p.WebURL(), p.Tokens.Engineer, "/incidents", "#declare-form")
	browser.Do(t, eng, 20*time.Second, "declare without a symptom",
		chromedp.SetValue(chromedp.ID("declare-message"), "x"),
		chromedp.Click(chromedp.CSS(`#declare-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-error-for="symptom"]`)))
	browser.Do(t, eng, 20*time.Second, "declare the outage",
		chromedp.SetValue(chromedp.ID("declare-component"), "printer"),
		chromedp.SetValue(chromedp.ID("declare-symptom"), "キッチンプリンターが印刷しない / kitchen printers print nothing"),
		chromedp.SetValue(chromedp.ID("declare-message"), "プリンター障害を調査中です。注文は厨房画面に届いています。 Orders still reach the kitchen screen."),
		chromedp.Click(chromedp.CSS(`#declare-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".incident-page .support-message")))
	browser.Screenshot(t, eng, "incident-declared")

	support := browser.Tab(t, browser.Start(t))
	browser.Do(t, support, 10*time.Second, "be a support person in Tokyo", browser.Person("ja", "Asia/Tokyo"))
	signIn(t, support, p.WebURL(), p.Tokens.Support, "/submit", "#submit-form")
	browser.WaitText(t, support, 10*time.Second, ".declared-notices", "注文は厨房画面に届いています")
	if browser.Run(t, support, 5*time.Second, "nothing typed yet", chromedp.Evaluate[bool](`document.querySelector(".declared.matching") !== null`)) {
		t.Error("a declared incident is marked as matching before anything was typed")
	}
	browser.Do(t, support, 10*time.Second, "type the customer's words",
		chromedp.SendKeys(chromedp.ID("subject"), "プリンターから伝票が出ない"))
	browser.Run(t, support, 10*time.Second, "see the match marked",
		chromedp.Poll[bool](`(() => { const li = document.querySelector(".declared.matching"); return !!li && !li.querySelector(".match-badge").hidden; })()`,
			chromedp.WithPollingTimeout(10*time.Second)))
	browser.Screenshot(t, support, "submit-declared-ja")
}

// (c) Support staff are refused the engineers' queue with a page that says
// why; an admin issues a token (shown once) and revokes it.
func TestAccessAndTokens(t *testing.T) {
	p := startPipeline(t)
	b := browser.Start(t)

	support := browser.Tab(t, b)
	browser.Do(t, support, 20*time.Second, "open the sign-in page",
		chromedp.Navigate(p.WebURL()+"/queue"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SetValue(chromedp.ID("token"), "trg_nope_nope"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("login-error")))
	browser.WaitText(t, support, 5*time.Second, "#login-error", "unknown token")
	browser.Screenshot(t, support, "login-failed")
	signIn(t, support, p.WebURL(), p.Tokens.Support, "/queue", ".error-page")
	browser.WaitText(t, support, 5*time.Second, ".error-page", "This page needs the engineer role.")
	browser.WaitText(t, support, 5*time.Second, ".error-page", "You are signed in as support (make run) (support).")
	browser.Screenshot(t, support, "forbidden")

	admin := browser.Tab(t, b)
	signIn(t, admin, p.WebURL(), p.Tokens.Admin, "/admin/tokens", "#issue-form")
	browser.Do(t, admin, 20*time.Second, "issue a token",
		chromedp.SetValue(chromedp.ID("token-name"), "new-hire"),
		chromedp.SetValue(chromedp.ID("token-role"), "support"),
		chromedp.SetValue(chromedp.ID("token-ttl"), "7"),
		chromedp.Click(chromedp.CSS(`#issue-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("new-token")),
	)
	token := browser.Run(t, admin, 5*time.Second, "read the new token", chromedp.Value(chromedp.ID("new-token-text")))
	tokenID, _, ok := strings.Cut(strings.TrimPrefix(token, "trg_"), "_")
	if !strings.HasPrefix(token, "trg_") || !ok {
		t.Fatalf("the page shows %q as the new token", token)
	}
	if status := apiStatus(t, p, token); status != http.StatusOK {
		t.Fatalf("the new token is refused: %d", status)
	}
	row := fmt.Sprintf(`tr[data-token-id=%q]`, tokenID)
	browser.WaitText(t, admin, 10*time.Second, row, "new-hire")
	browser.Screenshot(t, admin, "admin-token-issued")

	browser.Do(t, admin, 20*time.Second, "revoke it, confirming",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-revoke=%q]`, tokenID))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`[data-confirm-for=%q]`, tokenID))),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-revoke-confirm=%q]`, tokenID))),
	)
	browser.WaitText(t, admin, 20*time.Second, row, "revoked")
	if status := apiStatus(t, p, token); status != http.StatusUnauthorized {
		t.Fatalf("the revoked token still works: %d", status)
	}
	browser.Screenshot(t, admin, "admin-tokens")
}

// apiStatus is the status of a read of the queue API with token.
func apiStatus(t *testing.T, p *pipeline.Pipeline, token string) int {
	t.Helper()
	resp, err := p.Get(p.WebURL()+"/api/v1/queue/mine", token)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
