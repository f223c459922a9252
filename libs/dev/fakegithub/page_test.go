package fakegithub_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
)

func get(t *testing.T, s *fakegithub.Server, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	return rec
}

func postForm(s *fakegithub.Server, target string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// TestPage lists issues with their text escaped, and closes and reopens
// one through its button, which sends the webhook.
func TestPage(t *testing.T) {
	rcv := &hookReceiver{statuses: []int{200}}
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r", "o/empty"}, WebhookURL: startReceiver(t, rcv)})
	a := newAPI(t, s)
	a.want(201, "POST", "/repos/o/r/issues", `{"title":"<script>alert(1)</script>","body":"<img src=x onerror=alert(2)>","labels":["<b>bold</b>"]}`, nil)
	a.want(201, "POST", "/repos/o/r/issues/1/comments", `{"body":"<iframe src=evil>"}`, nil)

	rec := get(t, s, "/_fake/")
	page := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, raw := range []string{"<script>alert", "<b>bold</b>", "<img", "<iframe"} {
		if strings.Contains(page, raw) {
			t.Errorf("the page carries %q unescaped", raw)
		}
	}
	for _, want := range []string{"o/r", "o/empty", "&lt;script&gt;alert(1)&lt;/script&gt;", `href="/o/r/issues/1"`, `href="/_fake/repos/o/r/issues/1"`, "Close issue"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	m := regexp.MustCompile(`name="token" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no form token on the page")
	}
	token := m[1]

	if rec := postForm(s, "/_fake/issues/o/r/1/state", url.Values{"state": {"closed"}}); rec.Code != http.StatusForbidden {
		t.Errorf("a form without the token: %d, want 403", rec.Code)
	}
	rec = postForm(s, "/_fake/issues/o/r/1/state", url.Values{"state": {"closed"}, "token": {token}, "return": {"/_fake/"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/_fake/" {
		t.Fatalf("close: %d %v", rec.Code, rec.Header())
	}
	if is, _ := s.Issue("o", "r", 1); is.State != "closed" || is.ClosedBy != fakegithub.DefaultDeveloper {
		t.Errorf("after the button: %+v", is)
	}
	if !strings.Contains(get(t, s, "/_fake/").Body.String(), "Reopen issue") {
		t.Error("no reopen button for a closed issue")
	}
	rec = postForm(s, "/_fake/issues/o/r/1/state", url.Values{"state": {"open"}, "token": {token}, "return": {"//evil.example/"}})
	if rec.Header().Get("Location") != "/_fake/" {
		t.Errorf("redirected to %q", rec.Header().Get("Location"))
	}
	ds := waitDeliveries(t, s, 2, fakegithub.Delivery.Delivered)
	if ds[0].Action != "closed" || ds[1].Action != "reopened" {
		t.Errorf("deliveries %+v", ds)
	}
	if !strings.Contains(get(t, s, "/_fake/").Body.String(), "issues.reopened") {
		t.Error("the page does not list the deliveries")
	}
	for _, bad := range []url.Values{{"state": {"sideways"}, "token": {token}}} {
		if rec := postForm(s, "/_fake/issues/o/r/1/state", bad); rec.Code != 400 {
			t.Errorf("%v: %d", bad, rec.Code)
		}
	}
	if rec := postForm(s, "/_fake/issues/o/r/9/state", url.Values{"state": {"closed"}, "token": {token}}); rec.Code != 404 {
		t.Errorf("a missing issue: %d", rec.Code)
	}

	issuePage := get(t, s, "/o/r/issues/1")
	if body := issuePage.Body.String(); issuePage.Code != 200 || strings.Contains(body, "<img") || strings.Contains(body, "<iframe") ||
		!strings.Contains(body, "&lt;img src=x onerror=alert(2)&gt;") || !strings.Contains(body, "&lt;iframe src=evil&gt;") {
		t.Errorf("issue page %d:\n%s", issuePage.Code, body)
	}
	js := get(t, s, "/_fake/repos/o/r/issues/1")
	var is issue
	decode(t, js.Body.Bytes(), &is)
	if js.Code != 200 || is.Number != 1 || is.State != "open" {
		t.Errorf("issue JSON %d %+v", js.Code, is)
	}
	if get(t, s, "/_fake/repos/o/r/issues/2").Code != 404 || get(t, s, "/_fake/nothing").Code != 404 {
		t.Error("missing things are found")
	}
	if len(s.RequestsTo(fakegithub.OpUnknown)) != 0 {
		t.Error("page requests were recorded as API calls")
	}
}

func TestControlEndpoints(t *testing.T) {
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}})
	a := newAPI(t, s)
	a.seed("o", "r", "one")
	if body := get(t, s, "/_fake/calls").Body.String(); !strings.Contains(body, `"issues/create": 1`) || !strings.Contains(body, `"total": 1`) {
		t.Errorf("calls: %s", body)
	}
	req := httptest.NewRequest("DELETE", "/_fake/calls", nil)
	s.ServeHTTP(httptest.NewRecorder(), req)
	if len(s.Calls()) != 0 {
		t.Error("DELETE /_fake/calls kept the counts")
	}
	rcv := &hookReceiver{statuses: []int{200}}
	hookURL := startReceiver(t, rcv)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("PUT", "/_fake/webhook", strings.NewReader(`{"url":"`+hookURL+`","secret":"x"}`)))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"secret_set": true`) {
		t.Fatalf("set webhook: %d %s", rec.Code, rec.Body.String())
	}
	if err := s.CloseIssue("o", "r", 1, ""); err != nil {
		t.Fatal(err)
	}
	ds := waitDeliveries(t, s, 1, fakegithub.Delivery.Delivered)
	if body := get(t, s, "/_fake/deliveries").Body.String(); !strings.Contains(body, ds[0].GUID) {
		t.Errorf("deliveries: %s", body)
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/_fake/deliveries/"+ds[0].GUID+"/redeliver", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"redelivery": true`) {
		t.Errorf("redeliver: %d %s", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/_fake/deliveries/nope/redeliver", nil))
	if rec.Code != 404 {
		t.Errorf("redeliver unknown: %d", rec.Code)
	}
}
