package fakegithub_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
)

func TestNewRefusesBadOptions(t *testing.T) {
	for name, opts := range map[string]fakegithub.Options{
		"repository without owner": {Repos: []string{"scratch"}},
		"nested repository":        {Repos: []string{"a/b/c"}},
		"secondary status 500":     {SecondaryStatus: 500},
		"empty token":              {Tokens: map[string]string{"": "someone"}},
	} {
		if s, err := fakegithub.New(opts); err == nil {
			s.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAuthentication(t *testing.T) {
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, Tokens: map[string]string{"good": "bot"}})
	cases := []struct {
		header  string
		status  int
		message string
	}{
		{"", 401, "Requires authentication"},
		{"token good", 200, ""},
		{"Bearer good", 200, ""},
		{"bearer good", 200, ""},
		{"token bad", 401, "Bad credentials"},
		{"Bearer", 401, "Bad credentials"},
		{"Basic Z29vZA==", 401, "Bad credentials"},
	}
	for _, c := range cases {
		name := c.header
		if name == "" {
			name = "no header"
		}
		t.Run(name, func(t *testing.T) {
			a := newAPI(t, s).as("")
			req := "/repos/o/r/issues"
			rec := func() int {
				r := a.doWithAuth("GET", req, c.header)
				if c.message != "" {
					var eb errorBody
					decode(t, r.Body.Bytes(), &eb)
					if eb.Message != c.message || eb.DocumentationURL != "https://docs.github.com/rest" {
						t.Errorf("body %s", r.Body.String())
					}
					if r.Header().Get("X-RateLimit-Limit") != "60" {
						t.Errorf("an unauthenticated answer shows limit %q, want 60", r.Header().Get("X-RateLimit-Limit"))
					}
				}
				return r.Code
			}()
			if rec != c.status {
				t.Errorf("status %d, want %d", rec, c.status)
			}
		})
	}
}

func TestPathsAndRepositories(t *testing.T) {
	s := newServer(t, fakegithub.Options{Repos: []string{"Octo-Org/Scratch"}})
	a := newAPI(t, s)
	var created issue
	a.want(201, "POST", "/api/v3/repos/octo-org/scratch/issues", `{"title":"under the enterprise prefix"}`, &created)
	if !strings.HasSuffix(created.URL, "/api/v3/repos/Octo-Org/Scratch/issues/1") || !strings.HasSuffix(created.HTMLURL, "/Octo-Org/Scratch/issues/1") {
		t.Errorf("url %q html_url %q", created.URL, created.HTMLURL)
	}
	a.want(200, "GET", "/repos/OCTO-ORG/scratch/issues/1", "", nil)
	rec := a.want(200, "GET", "/repos/octo-org/scratch/issues?per_page=1", "", nil)
	if rec.Header().Get("Link") != "" {
		t.Errorf("one page has Link %q", rec.Header().Get("Link"))
	}
	var eb errorBody
	a.want(404, "GET", "/repos/octo-org/elsewhere/issues", "", &eb)
	if eb.Message != "Not Found" || eb.DocumentationURL != fakegithub.DocumentationURL(fakegithub.OpListIssues) {
		t.Errorf("missing repository: %+v", eb)
	}
	a.want(404, "POST", "/repos/octo-org/scratch/issues/99/comments", `{"body":"x"}`, nil)
	lax := a.laxly()
	for _, target := range []string{"/repos/octo-org/scratch", "/user", "/repos/octo-org/scratch/issues/abc"} {
		if rec := lax.doUnchecked("GET", target); rec.Code != 404 {
			t.Errorf("GET %s: %d, want 404", target, rec.Code)
		}
	}
	if rec := lax.doUnchecked("DELETE", "/repos/octo-org/scratch/issues/1"); rec.Code != 404 {
		t.Errorf("DELETE an issue: %d, want 404", rec.Code)
	}
	if got := s.Calls()[fakegithub.OpUnknown]; got != 4 {
		t.Errorf("unknown calls %d, want 4", got)
	}

	auto := newServer(t, fakegithub.Options{AutoCreateRepos: true})
	newAPI(t, auto).want(201, "POST", "/repos/someone/new-repo/issues", `{"title":"first"}`, nil)
	if got := auto.Repos(); !slices.Equal(got, []string{"someone/new-repo"}) {
		t.Errorf("repos %v", got)
	}
}

func TestCreateIssueValidation(t *testing.T) {
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}})
	a := newAPI(t, s).laxly()
	cases := []struct {
		name, body string
		status     int
		message    string // for errors
		code       string // errors[0].code
		title      string // for 201
	}{
		{"no title", `{"body":"x"}`, 422, "Invalid request.\n\n\"title\" wasn't supplied.", "", ""},
		{"empty title", `{"title":""}`, 422, "Validation Failed", "missing_field", ""},
		{"blank title", `{"title":"  "}`, 422, "Validation Failed", "missing_field", ""},
		{"null title", `{"title":null}`, 422, "Validation Failed", "missing_field", ""},
		{"number title", `{"title":123}`, 201, "", "", "123"},
		{"boolean title", `{"title":true}`, 422, "Invalid request.\n\nFor 'properties/title', true is not a string or integer.", "", ""},
		{"body not a string", `{"title":"t","body":5}`, 422, "Invalid request.\n\nFor 'properties/body', 5 is not a string.", "", ""},
		{"not JSON", `{"title":`, 400, "Problems parsing JSON", "", ""},
		{"not an object", `["t"]`, 422, "", "", ""},
		{"title too long", `{"title":"` + strings.Repeat("é", 257) + `"}`, 422, "Validation Failed", "custom", ""},
		{"labels as objects", `{"title":"objects","labels":[{"name":"bug"}]}`, 201, "", "", "objects"},
		{"empty label", `{"title":"t","labels":[""]}`, 422, "Validation Failed", "invalid", ""},
		{"label not a string", `{"title":"t","labels":[7]}`, 422, "", "", ""},
		{"known assignee", `{"title":"assigned","assignees":["octocat"]}`, 201, "", "", "assigned"},
		{"unknown assignee", `{"title":"t","assignees":["nobody-here"]}`, 422, "Validation Failed", "invalid", ""},
		{"milestone", `{"title":"t","milestone":1}`, 422, "Validation Failed", "invalid", ""},
		{"null milestone", `{"title":"no milestone","milestone":null}`, 201, "", "", "no milestone"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := a.do("POST", "/repos/o/r/issues", c.body)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body.String())
			}
			if c.status == 201 {
				var is issue
				decode(t, rec.Body.Bytes(), &is)
				if is.Title != c.title || rec.Header().Get("Location") != is.URL || rec.Header().Get("ETag") == "" {
					t.Errorf("title %q Location %q ETag %q", is.Title, rec.Header().Get("Location"), rec.Header().Get("ETag"))
				}
				return
			}
			var eb errorBody
			decode(t, rec.Body.Bytes(), &eb)
			if c.message != "" && eb.Message != c.message {
				t.Errorf("message %q, want %q", eb.Message, c.message)
			}
			if c.code != "" && (len(eb.Errors) != 1 || eb.Errors[0].Code != c.code) {
				t.Errorf("errors %+v, want code %s", eb.Errors, c.code)
			}
			if eb.DocumentationURL == "" {
				t.Error("no documentation_url")
			}
		})
	}
	var is issue
	newAPI(t, s).want(200, "GET", "/repos/o/r/issues/2", "", &is)
	if len(is.Labels) != 1 || is.Labels[0].Name != "bug" || is.Labels[0].Color != "ededed" {
		t.Errorf("labels %+v, want a new label bug in GitHub's default colour", is.Labels)
	}
	newAPI(t, s).want(200, "GET", "/repos/o/r/issues/3", "", &is)
	if len(is.Assignees) != 1 || is.Assignees[0].Login != "octocat" {
		t.Errorf("assignees %+v", is.Assignees)
	}
}

func TestUpdateIssue(t *testing.T) {
	clk := newClock()
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, Now: clk.Now})
	a := newAPI(t, s)
	a.seed("o", "r", "first")
	var is issue
	patch := func(body string) issue {
		t.Helper()
		clk.Advance(time.Minute)
		var out issue
		a.want(200, "PATCH", "/repos/o/r/issues/1", body, &out)
		return out
	}
	is = patch(`{"state":"closed"}`)
	if is.State != "closed" || is.StateReason == nil || *is.StateReason != "completed" || is.ClosedAt == nil || is.ClosedBy == nil || is.ClosedBy.Login != fakegithub.DefaultLogin {
		t.Errorf("closed: %+v", is)
	}
	closedAt := *is.ClosedAt
	is = patch(`{"state":"closed","state_reason":"not_planned"}`)
	if *is.StateReason != "completed" {
		t.Errorf("a reason without a state change was applied: %q", *is.StateReason)
	}
	is = patch(`{"state":"open"}`)
	if is.State != "open" || *is.StateReason != "reopened" || is.ClosedAt == nil || *is.ClosedAt != closedAt {
		t.Errorf("reopened: %+v", is)
	}
	is = patch(`{"state":"closed","state_reason":"not_planned"}`)
	if *is.StateReason != "not_planned" {
		t.Errorf("closed as not planned: %q", *is.StateReason)
	}
	is = patch(`{"title":"renamed","body":"now with a body","labels":["a","B"]}`)
	if is.Title != "renamed" || is.Body == nil || *is.Body != "now with a body" || !slices.Equal(is.labelNames(), []string{"a", "B"}) {
		t.Errorf("edited: %+v", is)
	}
	before := is.UpdatedAt
	is = patch(`{"title":"renamed","labels":["b","A"]}`)
	if is.UpdatedAt != before {
		t.Errorf("updated_at moved from %s to %s without a change", before, is.UpdatedAt)
	}
	is = patch(`{"body":null,"labels":[]}`)
	if is.Body != nil || len(is.Labels) != 0 || is.UpdatedAt == before {
		t.Errorf("cleared: %+v", is)
	}
	lax := a.laxly()
	for _, body := range []string{`{"state":"sideways"}`, `{"state":"closed","state_reason":"reopened"}`, `{"state_reason":"bored"}`, `{"title":""}`} {
		if rec := lax.do("PATCH", "/repos/o/r/issues/1", body); rec.Code != 422 {
			t.Errorf("PATCH %s: %d, want 422", body, rec.Code)
		}
	}
	a.want(200, "PATCH", "/repos/o/r/issues/1", "", nil)
}

func TestConditionalRequests(t *testing.T) {
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}})
	a := newAPI(t, s)
	a.seed("o", "r", "cached")
	rec := a.want(200, "GET", "/repos/o/r/issues/1", "", nil)
	etag, used := rec.Header().Get("ETag"), rec.Header().Get("X-RateLimit-Used")
	rec = a.doWithHeader("GET", "/repos/o/r/issues/1", "If-None-Match", etag)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag {
		t.Fatalf("conditional GET: %d %q ETag %q", rec.Code, rec.Body.String(), rec.Header().Get("ETag"))
	}
	if got := rec.Header().Get("X-RateLimit-Used"); got != used {
		t.Errorf("a 304 counted against the limit: used %s, was %s", got, used)
	}
	a.want(200, "PATCH", "/repos/o/r/issues/1", `{"title":"changed"}`, nil)
	if rec := a.doWithHeader("GET", "/repos/o/r/issues/1", "If-None-Match", etag); rec.Code != 200 {
		t.Errorf("stale ETag: %d, want 200", rec.Code)
	}
}

func TestGoSideHelpers(t *testing.T) {
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, SearchLag: -1})
	a := newAPI(t, s)
	is, err := s.CreateIssue("o", "r", "made on github.com", "by a person", "bug")
	if err != nil || is.Number != 1 || is.Author != fakegithub.DefaultDeveloper || !slices.Equal(is.Labels, []string{"bug"}) {
		t.Fatalf("CreateIssue: %+v %v", is, err)
	}
	if err := s.CloseIssue("o", "r", 1, "not_planned"); err != nil {
		t.Fatal(err)
	}
	got, err := s.Issue("o", "r", 1)
	if err != nil || got.State != "closed" || got.StateReason != "not_planned" || got.ClosedBy != fakegithub.DefaultDeveloper || got.ClosedAt.IsZero() {
		t.Errorf("after CloseIssue: %+v %v", got, err)
	}
	if err := s.ReopenIssue("o", "r", 1); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Issue("o", "r", 1); got.State != "open" || got.StateReason != "reopened" {
		t.Errorf("after ReopenIssue: %+v", got)
	}
	if err := s.CloseIssue("o", "r", 1, "bored"); err == nil {
		t.Error("an unknown reason was accepted")
	}
	for _, err := range []error{s.CloseIssue("o", "r", 9, ""), s.DisableIssues("o", "none"), s.DeleteIssue("x", "y", 1)} {
		if !errors.Is(err, fakegithub.ErrNotFound) {
			t.Errorf("%v, want ErrNotFound", err)
		}
	}
	if _, err := s.Issue("o", "r", 2); !errors.Is(err, fakegithub.ErrNotFound) {
		t.Errorf("Issue of a missing number: %v", err)
	}
	if s.Issues("no", "repo") != nil {
		t.Error("Issues of a missing repository is not nil")
	}
	if err := s.DeleteIssue("o", "r", 1); err != nil {
		t.Fatal(err)
	}
	a.want(410, "GET", "/repos/o/r/issues/1", "", nil)
	var list []issue
	a.want(200, "GET", "/repos/o/r/issues?state=all", "", &list)
	var found struct {
		TotalCount int `json:"total_count"`
	}
	a.want(200, "GET", "/search/issues?q=repo:o/r", "", &found)
	if len(list) != 0 || found.TotalCount != 0 || !s.Issues("o", "r")[0].Deleted {
		t.Errorf("a deleted issue is still listed (%d) or found (%d)", len(list), found.TotalCount)
	}
	if err := s.CloseIssue("o", "r", 1, ""); err == nil {
		t.Error("closed a deleted issue")
	}
	s.CreateRepo("o", "quiet")
	if err := s.DisableIssues("o", "quiet"); err != nil {
		t.Fatal(err)
	}
	var eb errorBody
	a.want(410, "POST", "/repos/o/quiet/issues", `{"title":"x"}`, &eb)
	if eb.Message != "Issues are disabled for this repo" {
		t.Errorf("disabled issues: %+v", eb)
	}
}

func TestStartAndClose(t *testing.T) {
	s, err := fakegithub.New(fakegithub.Options{Repos: []string{"o/r"}})
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if s.URL() != base || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("URL %q, Start gave %q", s.URL(), base)
	}
	if _, err := s.Start("127.0.0.1:0"); err == nil {
		t.Error("started twice")
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("GET", base+"/api/v3/rate_limit", nil)
	req.Header.Set("Authorization", "token "+fakegithub.DefaultToken)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("rate_limit over HTTP: %d", resp.StatusCode)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Start("127.0.0.1:0"); err == nil {
		t.Error("started after Close")
	}

	s2, err := fakegithub.New(fakegithub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s2.ListenAndServe(ctx, "127.0.0.1:0"); err != nil {
		t.Errorf("ListenAndServe after its context ended: %v", err)
	}
}
