package fakegithub_test

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
)

type searchResult struct {
	TotalCount        int     `json:"total_count"`
	IncompleteResults bool    `json:"incomplete_results"`
	Items             []issue `json:"items"`
}

func TestSearchQueries(t *testing.T) {
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r", "o/other"}, SearchLag: -1, SearchLimit: 1000,
		Tokens: map[string]string{fakegithub.DefaultToken: fakegithub.DefaultLogin, "second": "someone-else"}})
	a := newAPI(t, s)
	a.want(201, "POST", "/repos/o/r/issues", `{"title":"Payment fails at peak","body":"triage-fingerprint: 3f2a9c\nHTTP 503 from payment-gateway","labels":["bug","payment"]}`, nil)
	a.want(201, "POST", "/repos/o/r/issues", `{"title":"Printer offline","body":"kitchen printer never prints","labels":["bug"]}`, nil)
	a.want(201, "POST", "/repos/o/r/issues", `{"title":"カード決済ができない","body":"19:05頃から 503 エラー"}`, nil)
	a.as("second").want(201, "POST", "/repos/o/other/issues", `{"title":"Menu sync slow","body":"see payment too"}`, nil)
	a.want(201, "POST", "/repos/o/r/issues/2/comments", `{"body":"fingerprint 77aa01 seen again"}`, nil)
	a.want(200, "PATCH", "/repos/o/r/issues/2", `{"state":"closed"}`, nil)

	cases := []struct {
		q    string
		want []int // issue numbers, newest first (o/other's issue is 1 too)
	}{
		{"payment", []int{1, 1}},
		{"payment repo:o/r", []int{1}},
		{"payment repo:o/r repo:o/other", []int{1, 1}},
		{`"triage-fingerprint: 3f2a9c" in:body repo:o/r is:issue`, []int{1}},
		{`"3f2a9c triage-fingerprint" repo:o/r`, []int{}},
		{"3f2a9c in:title", []int{}},
		{"peak in:title", []int{1}},
		{"77aa01", []int{2}},
		{"77aa01 in:body", []int{}},
		{"77aa01 in:comments", []int{2}},
		{"repo:o/r is:open", []int{3, 1}},
		{"repo:o/r is:closed", []int{2}},
		{"repo:o/r state:closed", []int{2}},
		{"repo:o/r label:bug", []int{2, 1}},
		{"repo:o/r label:bug label:payment", []int{1}},
		{"repo:o/r label:bug -label:payment", []int{2}},
		{"repo:o/r no:label", []int{3}},
		{"repo:o/r is:pr", []int{}},
		{"repo:o/r type:issue is:open", []int{3, 1}},
		{"author:someone-else", []int{1}},
		{"-author:someone-else repo:o/other", []int{}},
		{"503", []int{3, 1}},
		{"決済", []int{}},
		{"カード決済ができない", []int{3}},
		{"HTTP AND 503", []int{1}},
		{"fingerprint:3f2a9c", []int{1}},
	}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			var res searchResult
			a.want(200, "GET", "/search/issues?q="+url.QueryEscape(c.q), "", &res)
			if got := numbers(res.Items); !slices.Equal(got, c.want) || res.TotalCount != len(c.want) {
				t.Errorf("got %v (total %d), want %v", got, res.TotalCount, c.want)
			}
		})
	}
	lax := a.laxly()
	for _, q := range []string{"", "bug OR printer", "created:>2024-01-01", "repo:o/missing", "in:everything x", "is:locked"} {
		rec := lax.do("GET", "/search/issues?q="+url.QueryEscape(q), "")
		if rec.Code != 422 {
			t.Errorf("q=%q: %d, want 422", q, rec.Code)
		}
	}
	rec := a.do("GET", "/search/issues?q=repo:o/r&per_page=1&page=2&sort=created&order=asc", "")
	var res searchResult
	decode(t, rec.Body.Bytes(), &res)
	if numbers(res.Items)[0] != 2 || res.TotalCount != 3 || rec.Header().Get("X-RateLimit-Resource") != "search" {
		t.Errorf("sorted page: %v total %d resource %q", numbers(res.Items), res.TotalCount, rec.Header().Get("X-RateLimit-Resource"))
	}
	if rec := lax.do("GET", "/search/issues?q=x&per_page=100&page=11", ""); rec.Code != 422 {
		t.Errorf("beyond the first 1000 results: %d, want 422", rec.Code)
	}
}

// TestSearchLagsBehind shows what the filer must live with: a new issue is
// not found at once, and a closed one is still found open for a while.
func TestSearchLagsBehind(t *testing.T) {
	clk := newClock()
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, Now: clk.Now, SearchLag: 2 * time.Second})
	a := newAPI(t, s)
	found := func(q string) []int {
		t.Helper()
		var res searchResult
		a.want(200, "GET", "/search/issues?q="+url.QueryEscape(q), "", &res)
		return numbers(res.Items)
	}
	a.want(201, "POST", "/repos/o/r/issues", `{"title":"new","body":"marker-42"}`, nil)
	if got := found("marker-42"); len(got) != 0 {
		t.Errorf("found %v at once", got)
	}
	var list []issue
	a.want(200, "GET", "/repos/o/r/issues", "", &list)
	if len(list) != 1 {
		t.Errorf("the list endpoint has %d issues, want the new one at once", len(list))
	}
	clk.Advance(2 * time.Second)
	if got := found("marker-42 is:open"); !slices.Equal(got, []int{1}) {
		t.Errorf("after the lag: %v", got)
	}
	a.want(200, "PATCH", "/repos/o/r/issues/1", `{"state":"closed"}`, nil)
	clk.Advance(time.Second)
	if got := found("marker-42 is:open"); !slices.Equal(got, []int{1}) {
		t.Errorf("during the lag the old state should be found: %v", got)
	}
	clk.Advance(time.Second)
	if got := found("marker-42 is:open"); len(got) != 0 {
		t.Errorf("after the lag a closed issue is found open: %v", got)
	}
	if got := found("marker-42 is:closed"); !slices.Equal(got, []int{1}) {
		t.Errorf("after the lag: %v", got)
	}
}
