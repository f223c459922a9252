package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
)

// web is a browser's view of the queue: a cookie jar signed in through
// the login form, never following redirects so tests see them.
type web struct {
	f    *fixture
	c    *http.Client
	lang string
}

type page struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) browser(lang string) *web {
	f.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		f.t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.t.Cleanup(c.CloseIdleConnections)
	return &web{f: f, c: c, lang: lang}
}

// signIn posts the token through the login form and expects the redirect.
func (f *fixture) signIn(who, lang string) *web {
	f.t.Helper()
	w := f.browser(lang)
	p := w.post("/login", url.Values{"token": {f.tokens[who]}})
	if p.status != http.StatusSeeOther {
		f.t.Fatalf("sign in as %s: %d %s", who, p.status, p.body)
	}
	return w
}

func (w *web) do(method, path string, form url.Values, header ...string) page {
	w.f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, w.f.s.URL()+path, body)
	if err != nil {
		w.f.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if w.lang != "" {
		req.Header.Set("Accept-Language", w.lang)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (w *web) get(path string) page { w.f.t.Helper(); return w.do("GET", path, nil) }
func (w *web) post(path string, form url.Values) page {
	w.f.t.Helper()
	return w.do("POST", path, form)
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)

func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfMeta.FindStringSubmatch(p.body)
	if m == nil || m[1] == "" {
		t.Fatalf("no CSRF token in the page: %.300s", p.body)
	}
	return m[1]
}

func (p page) mustContain(t *testing.T, what string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(p.body, s) {
			t.Errorf("%s lacks %q", what, s)
		}
	}
}

func (p page) mustNotContain(t *testing.T, what string, unwanted ...string) {
	t.Helper()
	for _, s := range unwanted {
		if strings.Contains(p.body, s) {
			t.Errorf("%s shows %q", what, s)
		}
	}
}

// Every page renders for the roles that may see it, sends the others to a
// 403 page that says what is needed, and "/" leads to the role's home.
func TestPagesByRole(t *testing.T) {
	f := startQueue(t)
	f.route("t-page", events.QueueEscalation, "P1", 1, func(ev *events.TicketRouted) { ev.Ticket.SubmittedBy = "sato" })
	f.queued("t-page")
	sato, kim, root := f.signIn("sato", "en"), f.signIn("kim", "en"), f.signIn("root", "en")

	for _, tc := range []struct {
		who    *web
		name   string
		path   string
		status int
		want   []string
	}{
		{sato, "support", "/submit", 200, []string{`id="submit-form"`, `data-idempotency-key="web-`, `name="tenant_id"`}},
		{sato, "support", "/my", 200, []string{"My tickets", "Card payments fail t-page"}},
		{sato, "support", "/tickets/t-page", 200, []string{`data-kind="support"`, "In the escalation queue"}},
		{sato, "support", "/queue", 403, []string{"This page needs the engineer role.", "You are signed in as sato (support)."}},
		{sato, "support", "/admin/tokens", 403, []string{"This page needs the admin role."}},
		{kim, "engineer", "/queue", 200, []string{"Escalation queue", `data-id="t-page"`, "Card payments fail t-page"}},
		{kim, "engineer", "/queue?queue=support", 200, []string{"No tickets match."}},
		{kim, "engineer", "/tickets/t-page", 200, []string{`data-kind="engineer"`, "Show 2 logs (your access is recorded)", "usr-991"}},
		{kim, "engineer", "/admin/tokens", 403, []string{"This page needs the admin role."}},
		{root, "admin", "/admin/tokens", 200, []string{`id="issue-form"`, "sato", "kim"}},
		{root, "admin", "/queue", 200, []string{`data-id="t-page"`}},
		{kim, "engineer", "/tickets/no-such-ticket", 404, []string{"No such page"}},
		{kim, "engineer", "/nowhere", 404, []string{"No such page"}},
		{kim, "engineer", "/queue?status=done", 400, []string{"must be one of"}},
	} {
		t.Run(tc.name+" "+tc.path, func(t *testing.T) {
			p := tc.who.get(tc.path)
			if p.status != tc.status {
				t.Fatalf("%d, want %d: %.500s", p.status, tc.status, p.body)
			}
			if ct := p.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			p.mustContain(t, tc.path, tc.want...)
		})
	}
	for who, home := range map[*web]string{sato: "/my", kim: "/queue", root: "/queue"} {
		if p := who.get("/"); p.status != http.StatusSeeOther || p.header.Get("Location") != home {
			t.Errorf("/ answered %d to %q, want 303 to %s", p.status, p.header.Get("Location"), home)
		}
	}
	if p := f.browser("en").get("/"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
		t.Errorf("/ without a session: %d to %q, want 303 to /login", p.status, p.header.Get("Location"))
	}
	// An API client that gets refused still gets JSON.
	a := f.do("sato", "GET", "/api/v1/queue", nil)
	if a.status != 403 || a.code() != "forbidden" {
		t.Errorf("API refusal: %d %s", a.status, a.body)
	}
}

// Support staff's ticket page shows where the ticket is, what engineers
// told them and its issue, but never log lines, user ids, extracted
// identifiers or internal notes; engineers see all of it.
func TestSupportTicketPageHidesLogs(t *testing.T) {
	f := startQueue(t)
	f.route("t-sup", events.QueueEscalation, "P2", 1)
	_, tag := f.queued("t-sup")
	for _, step := range []struct {
		action string
		body   any
	}{
		{"claim", nil},
		{"comments", map[string]string{"text": "internal: user usr-991 hit the provider timeout"}},
		{"comments", map[string]string{"text": "We are on it; card payments fail for this restaurant.", "visibility": "support"}},
	} {
		a := f.do("kim", "POST", "/api/v1/queue/tickets/t-sup/"+step.action, step.body, "If-Match", tag)
		if a.status != 200 {
			t.Fatalf("%s: %d %s", step.action, a.status, a.body)
		}
		tag = a.header.Get("ETag")
	}
	if a := f.do("kim", "POST", "/api/v1/queue/tickets/t-sup/logs", nil); a.status != 200 {
		t.Fatalf("logs: %d", a.status)
	}
	f.eventually("t-sup", "commented", func(v Record) bool { return v.Comments == 2 })

	sup := f.signIn("sato", "en").get("/tickets/t-sup")
	if sup.status != 200 {
		t.Fatalf("support's page: %d %s", sup.status, sup.body)
	}
	sup.mustContain(t, "support's page", "Card payments fail t-sup", "kim is on it", "card payments fail for this restaurant", "In the escalation queue")
	sup.mustNotContain(t, "support's page", "usr-991", "provider timeout user=", "HTTP 503 from provider", "log-1", "log-2",
		"Extracted identifiers", "show-logs", "internal: user", "read the 2 attached logs")

	eng := f.signIn("kim", "en").get("/tickets/t-sup")
	eng.mustContain(t, "engineer's page", "usr-991", "provider timeout user=&lt;*&gt;", "internal: user usr-991",
		"read the 2 attached logs", "Show 2 logs (your access is recorded)", `data-action="release"`)
	eng.mustNotContain(t, "engineer's page", "HTTP 503 from provider") // logs only through the recorded read

	// The history is in the reader's language, its values as the page
	// labels them; the API's stays English.
	supJa := f.signIn("sato", "ja").get("/tickets/t-sup")
	supJa.mustContain(t, "support's Japanese page", "エスカレーションキューへ振り分け（P2、決済）", "チケットを担当")
	supJa.mustNotContain(t, "support's Japanese page", "routed to", "claimed the ticket", "添付ログ")
	engJa := f.signIn("kim", "ja").get("/tickets/t-sup")
	engJa.mustContain(t, "engineer's Japanese page", "添付ログ 2 件を閲覧")
	api := string(f.do("kim", "GET", "/api/v1/queue/tickets/t-sup/history", nil, "Accept-Language", "ja").body)
	if !strings.Contains(api, "claimed the ticket") || !strings.Contains(api, "read the 2 attached logs") || strings.Contains(api, "チケットを担当") {
		t.Errorf("the API's history should be English: %s", api)
	}
}

// Comments are plain text: markup is escaped, line breaks kept (by CSS),
// and http(s) addresses become links that do not leak the page.
func TestCommentsAreEscaped(t *testing.T) {
	f := startQueue(t)
	f.route("t-xss", events.QueueEscalation, "P3", 1)
	_, tag := f.queued("t-xss")
	text := "<script>alert(1)</script><img src=x onerror=alert(2)>\nsee https://example.com/a?b=1&c=2. and javascript:alert(3)"
	if a := f.do("kim", "POST", "/api/v1/queue/tickets/t-xss/comments", map[string]string{"text": text, "visibility": "support"}, "If-Match", tag); a.status != 200 {
		t.Fatalf("comment: %d %s", a.status, a.body)
	}
	for _, who := range []string{"kim", "sato"} {
		p := f.signIn(who, "en").get("/tickets/t-xss")
		p.mustContain(t, who+"'s page", "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;\nsee ",
			`<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer" target="_blank">https://example.com/a?b=1&amp;c=2</a>. and javascript:alert(3)`)
		p.mustNotContain(t, who+"'s page", "<script>alert", "<img src=x", `href="javascript`)
	}
}

func TestLinkParts(t *testing.T) {
	got := linkParts("a http://x.example/p, b (https://y.example/q) c")
	want := []textPart{{Text: "a "}, {Text: "http://x.example/p", URL: "http://x.example/p"}, {Text: ", b ("},
		{Text: "https://y.example/q", URL: "https://y.example/q"}, {Text: ") c"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// Pages carry the security headers; static files are versioned by their
// content and cached for good under their current version only.
func TestSecurityHeadersAndStatic(t *testing.T) {
	f := startQueue(t)
	kim := f.signIn("kim", "en")
	for _, path := range []string{"/login", "/queue", "/nowhere", "/admin/tokens"} {
		p := kim.get(path)
		for h, want := range map[string]string{
			"Content-Security-Policy": contentSecurityPolicy, "X-Frame-Options": "DENY",
			"Referrer-Policy": "same-origin", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
		} {
			if got := p.header.Get(h); got != want {
				t.Errorf("%s: %s %q, want %q", path, h, got, want)
			}
		}
		// No inline script or style for the CSP to block.
		for _, bad := range []string{"<script>", "style=", " onclick=", " onload="} {
			if strings.Contains(p.body, bad) {
				t.Errorf("%s has inline %q", path, bad)
			}
		}
	}
	q := kim.get("/queue")
	m := regexp.MustCompile(`href="(/static/app\.css\?v=([0-9a-f]+))"`).FindStringSubmatch(q.body)
	if m == nil {
		t.Fatalf("no versioned stylesheet in %.400s", q.body)
	}
	css := kim.get(m[1])
	if css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") ||
		!strings.Contains(css.header.Get("Cache-Control"), "immutable") || !strings.Contains(css.body, "Noto Sans CJK JP") {
		t.Errorf("stylesheet: %d %v", css.status, css.header)
	}
	if p := kim.do("GET", m[1], nil, "If-None-Match", `"`+m[2]+`"`); p.status != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", p.status)
	}
	if p := kim.get("/static/app.css?v=old"); p.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("an old version's Cache-Control: %q", p.header.Get("Cache-Control"))
	}
	if p := kim.get("/static/queue.js"); !strings.Contains(p.header.Get("Content-Type"), "javascript") {
		t.Errorf("script Content-Type %q", p.header.Get("Content-Type"))
	}
	if p := kim.get("/static/nope.js"); p.status != 404 {
		t.Errorf("missing static file: %d", p.status)
	}
}

// The UI follows the browser's language; both tables have every key (the
// pages would not load otherwise) and Japanese shows as UTF-8.
func TestLanguageFollowsBrowser(t *testing.T) {
	f := startQueue(t)
	f.route("t-lang", events.QueueEscalation, "P2", 1)
	f.queued("t-lang")
	for _, tc := range []struct {
		accept string
		want   []string
	}{
		{"ja,en;q=0.8", []string{`<html lang="ja">`, "エスカレーションキュー", "絞り込み", "重要度"}},
		{"ja-JP", []string{`<html lang="ja">`, "エスカレーションキュー"}},
		{"en-GB,ja;q=0.5", []string{`<html lang="en">`, "Escalation queue", "Filters"}},
		{"fr", []string{`<html lang="en">`, "Escalation queue"}},
		{"", []string{`<html lang="en">`}},
	} {
		p := f.signIn("kim", tc.accept).get("/queue")
		p.mustContain(t, "queue page for "+tc.accept, tc.want...)
	}
	if got := pickLanguage("en;q=0.3, ja;q=0.9"); got != "ja" {
		t.Errorf("pickLanguage: %s", got)
	}
	ja := f.signIn("sato", "ja").get("/submit")
	ja.mustContain(t, "Japanese submit form", "チケット登録", "テナント（店舗）ID")
}

// Sign-in failures say why, with 401; the next page is followed only on
// this site.
func TestLogin(t *testing.T) {
	f := startQueue(t)
	ctx := t.Context()
	revoked, rec, err := f.s.auth.Issue(ctx, "gone", auth.RoleSupport, time.Hour, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.auth.Revoke(ctx, rec.ID, "test"); err != nil {
		t.Fatal(err)
	}
	short, _, err := f.s.auth.Issue(ctx, "brief", auth.RoleSupport, time.Millisecond, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, token, want string }{
		{"empty", "", "not a triage token"},
		{"garbage", "hello", "not a triage token"},
		{"unknown", "trg_abcdefgh_secret", "unknown token"},
		{"wrong secret", revoked[:strings.LastIndex(revoked, "_")] + "_x", "unknown token"},
		{"revoked", revoked, "was revoked"},
		{"monitoring", f.tokens["alertmanager"], "cannot sign in to the pages"},
	} {
		p := f.browser("en").post("/login", url.Values{"token": {tc.token}})
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, tc.want) || !strings.Contains(p.body, "That token was not accepted.") {
			t.Errorf("%s: %d, want 401 saying %q: %.600s", tc.name, p.status, tc.want, p.body)
		}
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		p := f.browser("en").post("/login", url.Values{"token": {short}})
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "expired") {
			return fmt.Errorf("expired token: %d", p.status)
		}
		return nil
	})
	for next, want := range map[string]string{
		"/tickets/x?a=1": "/tickets/x?a=1", "//evil.example/": "/my", "https://evil.example/": "/my",
		"/\\evil.example": "/my", "": "/my", "/login": "/my",
		"/./\\evil.example": "/my", "/.//evil.example": "/evil.example", "/a/..//evil.example": "/evil.example", "/%2F%2Fevil.example": "/evil.example",
		"/queue/../tickets/x": "/tickets/x",
	} {
		p := f.browser("en").post("/login", url.Values{"token": {f.tokens["sato"]}, "next": {next}})
		if p.status != http.StatusSeeOther || p.header.Get("Location") != want {
			t.Errorf("next %q: %d to %q, want %s", next, p.status, p.header.Get("Location"), want)
		}
		c := p.header.Get("Set-Cookie")
		if !strings.Contains(c, auth.CookieName+"=") || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") {
			t.Errorf("session cookie %q", c)
		}
	}
	// A form posted from another site is refused, so nobody can be signed
	// in as someone else by a hostile page.
	p := f.browser("en").do("POST", "/login", url.Values{"token": {f.tokens["sato"]}}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if p.status != http.StatusForbidden {
		t.Errorf("cross-site sign-in: %d, want 403", p.status)
	}
	// A page asked for before signing in is where the form leads back.
	if p := f.browser("en").get("/queue?status=new"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/login?next=%2Fqueue%3Fstatus%3Dnew" {
		t.Errorf("a page without a session: %d to %q", p.status, p.header.Get("Location"))
	}
	f.browser("en").get("/login?next=%2Fqueue").mustContain(t, "login form", `name="next" value="/queue"`)
}

// Signing out needs the page's CSRF token and clears the cookie; so does
// every state-changing API call made with the session.
func TestLogoutAndCSRF(t *testing.T) {
	f := startQueue(t)
	f.route("t-csrf", events.QueueEscalation, "P3", 1)
	_, tag := f.queued("t-csrf")
	kim := f.signIn("kim", "en")
	token := kim.get("/queue").csrf(t)
	forged := kim.post("/logout", url.Values{})
	if forged.status != http.StatusForbidden || !strings.Contains(forged.body, "security token did not match") {
		t.Fatalf("logout without CSRF: %d %.400s", forged.status, forged.body)
	}
	claim := kim.do("POST", "/api/v1/queue/tickets/t-csrf/claim", nil, "If-Match", tag)
	if claim.status != http.StatusForbidden || !strings.Contains(claim.body, "csrf_failed") {
		t.Fatalf("a claim with the cookie and no CSRF header: %d %s", claim.status, claim.body)
	}
	claim = kim.do("POST", "/api/v1/queue/tickets/t-csrf/claim", nil, "If-Match", tag, auth.CSRFHeader, token)
	if claim.status != http.StatusOK {
		t.Fatalf("a claim with the CSRF header: %d %s", claim.status, claim.body)
	}
	out := kim.post("/logout", url.Values{"csrf": {token}})
	if out.status != http.StatusSeeOther || out.header.Get("Location") != "/login" || !strings.Contains(out.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: %d %v", out.status, out.header)
	}
	if p := kim.get("/queue"); p.status != http.StatusSeeOther {
		t.Fatalf("after logout /queue: %d, want 303 to sign in", p.status)
	}
}

// A ticket that is not in a queue yet says where it is; one that was never
// submitted is a 404.
func TestPendingTicketPage(t *testing.T) {
	f := startQueue(t)
	id := "0193f0c2-7b1a-7d4e-9a53-2f0c1b9e4d11"
	if _, err := bus.Publish(t.Context(), f.s.JS, bus.Event{
		Subject: events.TicketSubject(events.SubjectSubmitted, id), Type: events.TypeTicketSubmitted, ID: "submitted:" + id,
		Source: "test", About: id, Time: time.Now(),
		Data: events.TicketSubmitted{SchemaVersion: events.SchemaVersion, Ticket: events.Ticket{ID: id, Subject: "Kitchen printer stopped", TenantID: "rst-1"}},
	}); err != nil {
		t.Fatal(err)
	}
	sato := f.signIn("sato", "en")
	p := sato.get("/tickets/" + id)
	if p.status != 200 {
		t.Fatalf("pending ticket: %d %s", p.status, p.body)
	}
	p.mustContain(t, "pending page", `data-kind="pending"`, `data-stage="submitted"`, "Kitchen printer stopped", "Submitted, being enriched", "Not in a queue yet")
	frag := sato.get("/tickets/" + id + "?fragment=1")
	frag.mustContain(t, "fragment", `data-live="ticket"`)
	frag.mustNotContain(t, "fragment", "<html", "<header")
	for _, bad := range []string{"/tickets/0193f0c2-0000-7d4e-9a53-2f0c1b9e4d11", "/tickets/*", "/tickets/a.b"} {
		if p := sato.get(bad); p.status != 404 {
			t.Errorf("%s: %d, want 404", bad, p.status)
		}
	}
}

// The queue page's fragment is the list's live part alone, in queue
// order, with counts and the next page's link.
func TestQueueFragmentAndPaging(t *testing.T) {
	f := startQueue(t)
	for i, sev := range []string{"P3", "P1", "P2"} {
		f.route(fmt.Sprintf("t-q%d", i), events.QueueEscalation, sev, 1)
	}
	for i := range 3 {
		f.queued(fmt.Sprintf("t-q%d", i))
	}
	kim := f.signIn("kim", "en")
	var p page
	testkit.Eventually(t, 10*time.Second, func() error {
		p = kim.get("/queue?fragment=1&limit=2")
		if !strings.Contains(p.body, `data-id="t-q1"`) || !strings.Contains(p.body, `data-id="t-q2"`) {
			return errors.New("the list lacks its tickets: " + p.body)
		}
		return nil
	})
	if strings.Contains(p.body, "<html") || !strings.Contains(p.body, `data-live="queue"`) {
		t.Fatalf("fragment is not the live part alone: %.300s", p.body)
	}
	if i1, i2 := strings.Index(p.body, `data-id="t-q1"`), strings.Index(p.body, `data-id="t-q2"`); i1 > i2 {
		t.Errorf("P1 listed after P2")
	}
	p.mustContain(t, "fragment", `<span class="n">3</span> open`, "Next page", `<span class="n">3</span> New`)
	next := regexp.MustCompile(`id="next-page" href="([^"]+)"`).FindStringSubmatch(p.body)
	if next == nil {
		t.Fatal("no next page link")
	}
	second := kim.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	second.mustContain(t, "second page", `data-id="t-q0"`, "First page")
	second.mustNotContain(t, "second page", `data-id="t-q1"`)
	kim.get("/queue?assignee=unassigned&component=payment").mustContain(t, "filtered", `data-id="t-q0"`, `value="payment" selected`)
}
