package fakegithub_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
	"github.com/triage-pipeline/triage/libs/dev/fakegithub/ghcontract"
	"github.com/triage-pipeline/triage/libs/dev/shareddata"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// clock is a settable clock for Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newServer builds a fake that is closed when the test ends.
func newServer(t *testing.T, opts fakegithub.Options) *fakegithub.Server {
	t.Helper()
	s, err := fakegithub.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// api sends requests to a fake in process. Every answer is held to the
// contract (description and GitHub's headers); requests too unless lax.
type api struct {
	t     *testing.T
	s     *fakegithub.Server
	token string
	lax   bool // the requests are wrong on purpose: check answers only
}

func newAPI(t *testing.T, s *fakegithub.Server) *api {
	return &api{t: t, s: s, token: fakegithub.DefaultToken}
}

func (a *api) laxly() *api { c := *a; c.lax = true; return &c }

func (a *api) as(token string) *api { c := *a; c.token = token; return &c }

// do sends one request and returns the answer.
func (a *api) do(method, target, body string) *httptest.ResponseRecorder {
	a.t.Helper()
	h := http.Header{}
	if a.token != "" {
		h.Set("Authorization", "Bearer "+a.token)
	}
	return a.send(method, target, body, h, true)
}

// doWithAuth sends a request with this Authorization header (none if empty).
func (a *api) doWithAuth(method, target, auth string) *httptest.ResponseRecorder {
	a.t.Helper()
	h := http.Header{}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	return a.send(method, target, "", h, true)
}

// doWithHeader sends an authenticated request with one more header.
func (a *api) doWithHeader(method, target, name, value string) *httptest.ResponseRecorder {
	a.t.Helper()
	h := http.Header{"Authorization": {"Bearer " + a.token}}
	h.Set(name, value)
	return a.send(method, target, "", h, true)
}

// doUnchecked sends a request the description has no operation for.
func (a *api) doUnchecked(method, target string) *httptest.ResponseRecorder {
	a.t.Helper()
	return a.send(method, target, "", http.Header{"Authorization": {"Bearer " + a.token}}, false)
}

func (a *api) send(method, target, body string, h http.Header, check bool) *httptest.ResponseRecorder {
	a.t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	a.s.ServeHTTP(rec, req)
	if err := ghcontract.CheckHeaders(rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
		a.t.Errorf("%s %s: %v", method, target, err)
	}
	if !check {
		return rec
	}
	v := contract(a.t)
	if v == nil {
		return rec
	}
	if !a.lax {
		if err := v.ValidateRequest(req, []byte(body)); err != nil {
			a.t.Errorf("the test's own request: %v", err)
		}
	}
	if err := v.ValidateResponse(req, []byte(body), rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
		a.t.Errorf("%v\n%s", err, rec.Body.String())
	}
	return rec
}

// contract is the GitHub description's validator, or nil without the
// shared folder: the fake's own tests still run then, unchecked.
func contract(t *testing.T) *ghcontract.Validator {
	if _, err := shareddata.Dir(); err != nil {
		return nil
	}
	return ghcontract.Shared(t)
}

// webhookContract is the webhook validator, or nil without the shared folder.
func webhookContract(t *testing.T) *ghcontract.WebhookValidator {
	if _, err := shareddata.Dir(); err != nil {
		return nil
	}
	return ghcontract.SharedWebhooks(t)
}

func decode(t *testing.T, b []byte, out any) {
	t.Helper()
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// want sends a request, requires status, and decodes the body into out.
func (a *api) want(status int, method, target, body string, out any) *httptest.ResponseRecorder {
	a.t.Helper()
	rec := a.do(method, target, body)
	if rec.Code != status {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, target, rec.Code, status, rec.Body.String())
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			a.t.Fatalf("%s %s: decode %s: %v", method, target, rec.Body.String(), err)
		}
	}
	return rec
}

// issue is the part of an issue answer the tests look at.
type issue struct {
	Number      int     `json:"number"`
	Title       string  `json:"title"`
	Body        *string `json:"body"`
	State       string  `json:"state"`
	StateReason *string `json:"state_reason"`
	ClosedAt    *string `json:"closed_at"`
	UpdatedAt   string  `json:"updated_at"`
	Comments    int     `json:"comments"`
	URL         string  `json:"url"`
	HTMLURL     string  `json:"html_url"`
	User        struct {
		Login string `json:"login"`
	} `json:"user"`
	ClosedBy *struct {
		Login string `json:"login"`
	} `json:"closed_by"`
	Labels []struct {
		Name  string `json:"name"`
		Color string `json:"color"`
	} `json:"labels"`
	Assignees []struct {
		Login string `json:"login"`
	} `json:"assignees"`
}

func (is issue) labelNames() []string {
	var out []string
	for _, l := range is.Labels {
		out = append(out, l.Name)
	}
	return out
}

// errorBody is GitHub's error envelope.
type errorBody struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
	Errors           []struct {
		Resource, Field, Code, Message string
		Value                          any
	} `json:"errors"`
}

func numbers(list []issue) []int {
	out := []int{}
	for _, is := range list {
		out = append(out, is.Number)
	}
	return out
}

// seed files issues through the API: each title, then closes those marked.
func (a *api) seed(owner, repo string, titles ...string) {
	a.t.Helper()
	for _, title := range titles {
		body, _ := json.Marshal(map[string]any{"title": title})
		a.want(http.StatusCreated, "POST", "/repos/"+owner+"/"+repo+"/issues", string(body), nil)
	}
}
