package fakegithub_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
)

// TestListIssues files six issues a minute apart, changes some, and checks
// the list's filters and orders.
func TestListIssues(t *testing.T) {
	clk := newClock()
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, Now: clk.Now})
	a := newAPI(t, s)
	bodies := []string{
		`{"title":"one","labels":["bug","UI"]}`,
		`{"title":"two","labels":["bug"],"assignees":["octocat"]}`,
		`{"title":"three","body":"ping @Octocat please"}`,
		`{"title":"four","labels":["ui"]}`,
		`{"title":"five"}`,
		`{"title":"six","labels":["bug"]}`,
	}
	for _, b := range bodies {
		a.want(201, "POST", "/repos/o/r/issues", b, nil)
		clk.Advance(time.Minute)
	}
	a.want(200, "PATCH", "/repos/o/r/issues/5", `{"state":"closed"}`, nil)
	clk.Advance(time.Minute)
	a.want(201, "POST", "/repos/o/r/issues/1/comments", `{"body":"+1"}`, nil)
	a.want(201, "POST", "/repos/o/r/issues/1/comments", `{"body":"+1 again"}`, nil)
	a.want(201, "POST", "/repos/o/r/issues/4/comments", `{"body":"me too"}`, nil)
	since := clk.Now().Format(time.RFC3339)
	clk.Advance(time.Minute)
	a.want(200, "PATCH", "/repos/o/r/issues/2", `{"title":"two, renamed"}`, nil)
	dev, err := s.CreateIssue("o", "r", "seven, by a person", "")
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		query string
		want  []int
	}{
		{"", []int{dev.Number, 6, 4, 3, 2, 1}},
		{"state=closed", []int{5}},
		{"state=all&direction=asc", []int{1, 2, 3, 4, 5, 6, dev.Number}},
		{"labels=bug", []int{6, 2, 1}},
		{"labels=BUG,ui", []int{1}},
		{"labels=bug,nothing", []int{}},
		{"sort=updated", []int{dev.Number, 2, 4, 1, 6, 3}},
		{"sort=comments", []int{1, 4, dev.Number, 6, 3, 2}},
		{"since=" + since, []int{dev.Number, 4, 2, 1}},
		{"creator=" + fakegithub.DefaultDeveloper, []int{dev.Number}},
		{"assignee=octocat", []int{2}},
		{"assignee=none", []int{dev.Number, 6, 4, 3, 1}},
		{"assignee=*", []int{2}},
		{"mentioned=octocat", []int{3}},
		{"milestone=none", []int{dev.Number, 6, 4, 3, 2, 1}},
		{"milestone=*", []int{}},
		{"per_page=2&page=2", []int{4, 3}},
		{"per_page=2&page=9", []int{}},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			var list []issue
			a.want(200, "GET", "/repos/o/r/issues?"+c.query, "", &list)
			if got := numbers(list); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	var list []issue
	a.want(200, "GET", "/repos/o/r/issues?labels=bug", "", &list)
	if len(list) > 0 && list[0].Comments != 0 || slices.Contains(numbers(list), 5) {
		t.Errorf("listed %v", numbers(list))
	}
	lax := a.laxly()
	for _, q := range []string{"state=sideways", "sort=votes", "direction=up", "since=yesterday"} {
		if rec := lax.do("GET", "/repos/o/r/issues?"+q, ""); rec.Code != 422 {
			t.Errorf("%s: %d, want 422", q, rec.Code)
		}
	}
}

// TestPaginationLinks checks Link headers in GitHub's recorded form: prev,
// next, last, first in that order, pointing at /repositories/{id}/, with
// the other parameters kept (and escaped so no comma splits a link).
func TestPaginationLinks(t *testing.T) {
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}})
	a := newAPI(t, s)
	for i := 1; i <= 7; i++ {
		a.want(201, "POST", "/repos/o/r/issues", fmt.Sprintf(`{"title":"issue %d","labels":["a","b"]}`, i), nil)
	}
	id := regexp.MustCompile(`/repositories/(\d+)/`)
	rec := a.want(200, "GET", "/repos/o/r/issues?per_page=3", "", nil)
	m := id.FindStringSubmatch(rec.Header().Get("Link"))
	if m == nil {
		t.Fatalf("Link %q names no repository id", rec.Header().Get("Link"))
	}
	base := "http://example.com/repositories/" + m[1] + "/issues"
	link := func(q, rel string) string { return fmt.Sprintf("<%s?%s>; rel=%q", base, q, rel) }
	cases := []struct {
		target string
		want   []string
		items  int
	}{
		{"/repos/o/r/issues?per_page=3", []string{link("per_page=3&page=2", "next"), link("per_page=3&page=3", "last")}, 3},
		{"/repositories/" + m[1] + "/issues?per_page=3&page=2", []string{link("per_page=3&page=1", "prev"), link("per_page=3&page=3", "next"), link("per_page=3&page=3", "last"), link("per_page=3&page=1", "first")}, 3},
		{"/repos/o/r/issues?page=3&per_page=3", []string{link("per_page=3&page=2", "prev"), link("per_page=3&page=1", "first")}, 1},
		{"/repos/o/r/issues?per_page=3&page=5", []string{link("per_page=3&page=4", "prev"), link("per_page=3&page=1", "first")}, 0},
		{"/repos/o/r/issues?labels=a,b&per_page=5", []string{link("labels=a%2Cb&per_page=5&page=2", "next"), link("labels=a%2Cb&per_page=5&page=2", "last")}, 5},
		{"/repos/o/r/issues?per_page=500", nil, 7},
	}
	for _, c := range cases {
		var list []issue
		rec := a.want(200, "GET", c.target, "", &list)
		got := rec.Header().Get("Link")
		if want := strings.Join(c.want, ", "); got != want {
			t.Errorf("%s:\n  Link %s\n  want %s", c.target, got, want)
		}
		if len(list) != c.items {
			t.Errorf("%s: %d items, want %d", c.target, len(list), c.items)
		}
	}
	rec = a.want(200, "GET", "/api/v3/repos/o/r/issues?per_page=6", "", nil)
	if !strings.Contains(rec.Header().Get("Link"), "<http://example.com/api/v3/repositories/") {
		t.Errorf("under /api/v3 the links leave the prefix: %s", rec.Header().Get("Link"))
	}
}

func TestCommentsAndLabels(t *testing.T) {
	clk := newClock()
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, Now: clk.Now})
	a := newAPI(t, s)
	a.seed("o", "r", "with comments")
	var firstID int64
	for i := 1; i <= 3; i++ {
		var c struct {
			ID      int64  `json:"id"`
			URL     string `json:"url"`
			HTMLURL string `json:"html_url"`
			Body    string `json:"body"`
		}
		rec := a.want(201, "POST", "/repos/o/r/issues/1/comments", fmt.Sprintf(`{"body":"comment %d"}`, i), &c)
		if rec.Header().Get("Location") != c.URL || !strings.Contains(c.HTMLURL, fmt.Sprintf("#issuecomment-%d", c.ID)) {
			t.Errorf("comment %d: Location %q url %q html_url %q", i, rec.Header().Get("Location"), c.URL, c.HTMLURL)
		}
		if i == 1 {
			firstID = c.ID
		}
		clk.Advance(time.Minute)
	}
	var comments []struct {
		ID   int64  `json:"id"`
		Body string `json:"body"`
	}
	rec := a.want(200, "GET", "/repos/o/r/issues/1/comments?per_page=2", "", &comments)
	if len(comments) != 2 || comments[0].ID != firstID || !strings.Contains(rec.Header().Get("Link"), `rel="next"`) {
		t.Errorf("first page %+v Link %q", comments, rec.Header().Get("Link"))
	}
	a.want(200, "GET", "/repos/o/r/issues/1/comments?since="+clk.Now().Add(-90*time.Second).Format(time.RFC3339), "", &comments)
	if len(comments) != 1 || comments[0].Body != "comment 3" {
		t.Errorf("since: %+v", comments)
	}
	var is issue
	a.want(200, "GET", "/repos/o/r/issues/1", "", &is)
	if is.Comments != 3 {
		t.Errorf("comments = %d, want 3", is.Comments)
	}
	lax := a.laxly()
	for _, body := range []string{`{}`, `{"body":""}`, `{"body":7}`, `{"body":"` + strings.Repeat("x", 65537) + `"}`} {
		if rec := lax.do("POST", "/repos/o/r/issues/1/comments", body); rec.Code != 422 {
			t.Errorf("comment %.20s: %d, want 422", body, rec.Code)
		}
	}

	type label struct {
		Name  string `json:"name"`
		Color string `json:"color"`
	}
	var labels []label
	for _, body := range []string{`{"labels":["Foo","bAr"]}`, `["baZ","foo"]`, `[{"name":"qux"}]`, `{"labels":[{"name":"BAR"}]}`} {
		a.want(200, "POST", "/repos/o/r/issues/1/labels", body, &labels)
	}
	var names []string
	for _, l := range labels {
		names = append(names, l.Name)
	}
	if want := []string{"Foo", "bAr", "baZ", "qux"}; !slices.Equal(names, want) {
		t.Errorf("labels %v, want %v (creation order, names without case)", names, want)
	}
	a.want(200, "GET", "/repos/o/r/issues/1/labels?per_page=3", "", &labels)
	if len(labels) != 3 || labels[0].Color != "ededed" {
		t.Errorf("listed %+v", labels)
	}
	for _, body := range []string{`{"labels":[""]}`, `{"other":1}`, `"bug"`, `not json`} {
		if rec := lax.do("POST", "/repos/o/r/issues/1/labels", body); rec.Code != 422 && rec.Code != 400 {
			t.Errorf("labels %s: %d, want 422 or 400", body, rec.Code)
		}
	}
}
