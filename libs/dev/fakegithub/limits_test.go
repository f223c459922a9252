package fakegithub_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
)

type rateLimits struct {
	Resources map[string]struct {
		Limit, Remaining, Used int
		Reset                  int64
	} `json:"resources"`
}

func TestPrimaryLimit(t *testing.T) {
	clk := newClock()
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, Now: clk.Now, PrimaryLimit: 3})
	a := newAPI(t, s)
	for i := 1; i <= 3; i++ {
		rec := a.want(200, "GET", "/repos/o/r/issues", "", nil)
		h := rec.Header()
		if h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Used") != strconv.Itoa(i) ||
			h.Get("X-RateLimit-Remaining") != strconv.Itoa(3-i) || h.Get("X-RateLimit-Resource") != "core" {
			t.Errorf("request %d: limit %s used %s remaining %s", i, h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Used"), h.Get("X-RateLimit-Remaining"))
		}
	}
	var eb errorBody
	rec := a.want(403, "POST", "/repos/o/r/issues", `{"title":"over the limit"}`, &eb)
	wantReset := strconv.FormatInt(clk.Now().Add(time.Hour).Unix(), 10)
	if rec.Header().Get("X-RateLimit-Remaining") != "0" || rec.Header().Get("X-RateLimit-Reset") != wantReset ||
		!strings.HasPrefix(eb.Message, "API rate limit exceeded for user ID ") || strings.Contains(eb.Message, "\x00") {
		t.Errorf("over the limit: %v %+v", rec.Header(), eb)
	}
	if len(s.Issues("o", "r")) != 0 {
		t.Error("a request over the limit created an issue")
	}
	var rl rateLimits
	a.want(200, "GET", "/rate_limit", "", &rl)
	if core := rl.Resources["core"]; core.Remaining != 0 || core.Used != 3 || rl.Resources["search"].Limit != fakegithub.DefaultSearchLimit {
		t.Errorf("rate_limit: %+v", rl)
	}
	if got := s.RateLimit(fakegithub.DefaultLogin, "core"); got.Remaining != 0 || got.Limit != 3 {
		t.Errorf("RateLimit: %+v", got)
	}
	clk.Advance(time.Hour)
	a.want(201, "POST", "/repos/o/r/issues", `{"title":"a new hour"}`, nil)
	s.ResetRateLimits()
	if got := s.RateLimit(fakegithub.DefaultLogin, "core"); got.Used != 0 {
		t.Errorf("after ResetRateLimits: %+v", got)
	}
}

func TestSearchLimit(t *testing.T) {
	clk := newClock()
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, Now: clk.Now, SearchLimit: 2})
	a := newAPI(t, s)
	a.want(200, "GET", "/search/issues?q=x", "", nil)
	a.want(200, "GET", "/search/issues?q=x", "", nil)
	rec := a.want(403, "GET", "/search/issues?q=x", "", nil)
	if rec.Header().Get("X-RateLimit-Resource") != "search" || rec.Header().Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("search over its limit: %v", rec.Header())
	}
	a.want(200, "GET", "/repos/o/r/issues", "", nil) // core is apart
	clk.Advance(time.Minute)
	a.want(200, "GET", "/search/issues?q=x", "", nil)
}

// TestSecondaryLimitOnContent uses GitHub's content-creation limits scaled
// down: 2 a minute and 3 an hour.
func TestSecondaryLimitOnContent(t *testing.T) {
	clk := newClock()
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, Now: clk.Now, ContentPerMinute: 2, ContentPerHour: 3})
	a := newAPI(t, s)
	create := func() {
		t.Helper()
		a.want(201, "POST", "/repos/o/r/issues", `{"title":"t"}`, nil)
	}
	create()
	clk.Advance(10 * time.Second)
	a.want(201, "POST", "/repos/o/r/issues/1/comments", `{"body":"comments count too"}`, nil)
	a.want(200, "GET", "/repos/o/r/issues", "", nil) // reading does not
	a.want(200, "PATCH", "/repos/o/r/issues/1", `{"title":"nor do edits"}`, nil)
	clk.Advance(20 * time.Second)
	rec := a.do("POST", "/repos/o/r/issues", `{"title":"third in a minute"}`)
	var eb errorBody
	decode(t, rec.Body.Bytes(), &eb)
	if rec.Code != 403 || rec.Header().Get("Retry-After") != "30" || rec.Header().Get("X-RateLimit-Remaining") == "0" ||
		!strings.HasPrefix(eb.Message, "You have exceeded a secondary rate limit") || !strings.HasSuffix(eb.DocumentationURL, "secondary-rate-limits") {
		t.Errorf("third in a minute: %d Retry-After %q %+v", rec.Code, rec.Header().Get("Retry-After"), eb)
	}
	clk.Advance(30 * time.Second)
	create()
	clk.Advance(2 * time.Minute)
	rec = a.do("POST", "/repos/o/r/issues", `{"title":"fourth in an hour"}`)
	if rec.Code != 403 || rec.Header().Get("Retry-After") != strconv.Itoa(int((time.Hour-3*time.Minute).Seconds())) {
		t.Errorf("fourth in an hour: %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if n := len(s.Issues("o", "r")); n != 2 {
		t.Errorf("%d issues, want 2", n)
	}

	unlimited := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, ContentPerMinute: -1, ContentPerHour: -1})
	u := newAPI(t, unlimited)
	for i := 0; i < fakegithub.DefaultContentPerMinute+1; i++ {
		u.want(201, "POST", "/repos/o/r/issues", fmt.Sprintf(`{"title":"%d"}`, i), nil)
	}
}

func TestSecondaryLimitStatus429(t *testing.T) {
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, ContentPerMinute: 1, SecondaryStatus: http.StatusTooManyRequests})
	a := newAPI(t, s)
	a.want(201, "POST", "/repos/o/r/issues", `{"title":"one"}`, nil)
	rec := a.want(429, "POST", "/repos/o/r/issues", `{"title":"two"}`, nil)
	if rec.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}
