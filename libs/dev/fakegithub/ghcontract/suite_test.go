package ghcontract_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// The environment that points the contract suite at a real GitHub.
const (
	envToken = "TRIAGE_TEST_GITHUB_TOKEN"
	envRepo  = "TRIAGE_TEST_GITHUB_REPO" // owner/name of a scratch repository
	envURL   = "TRIAGE_TEST_GITHUB_URL"  // API root; https://api.github.com when unset
)

// target is one implementation of GitHub's issues API the suite runs on.
type target struct {
	gh          *github.Client
	owner, repo string
	token       string
	base        string // API root for a client with a bad token; "" for api.github.com
	enterprise  bool
	// searchWait bounds how long a new issue may take to show in search.
	searchWait time.Duration
	// cleanup removes the run's labels (real GitHub only: the fake has no
	// label endpoints and forgets everything when the test ends).
	cleanup func(labels []string)
}

// TestContractFake runs the suite against the fake, at GitHub's plain
// paths and at GitHub Enterprise's /api/v3 ones.
func TestContractFake(t *testing.T) {
	for _, enterprise := range []bool{false, true} {
		name := "plain paths"
		if enterprise {
			name = "api/v3 prefix"
		}
		t.Run(name, func(t *testing.T) {
			_, base := startFake(t, fakegithub.Options{Repos: []string{"octo-org/scratch"}, SearchLag: 200 * time.Millisecond, Seed: 7})
			runContract(t, target{
				gh:    validatingClient(t, base, fakegithub.DefaultToken, enterprise),
				owner: "octo-org", repo: "scratch", token: fakegithub.DefaultToken,
				base: base, enterprise: enterprise, searchWait: 10 * time.Second,
			})
		})
	}
}

// TestContractRealGitHub runs the same suite against GitHub itself, when
// a token and a scratch repository are given. It files three issues per
// run (closed again at the end) and adds two labels (deleted again).
func TestContractRealGitHub(t *testing.T) {
	token, full := os.Getenv(envToken), os.Getenv(envRepo)
	if token == "" || full == "" {
		t.Skipf("set %s and %s (owner/name of a scratch repository; %s for GitHub Enterprise) to run the GitHub contract suite against real GitHub", envToken, envRepo, envURL)
	}
	owner, repo, ok := strings.Cut(full, "/")
	if !ok {
		t.Fatalf("%s=%q: want owner/name", envRepo, full)
	}
	base := strings.TrimSuffix(os.Getenv(envURL), "/")
	tg := target{owner: owner, repo: repo, token: token, base: base, enterprise: base != "", searchWait: 3 * time.Minute}
	tg.gh = validatingClient(t, base, token, tg.enterprise)
	raw := &http.Client{Transport: transport(t), Timeout: 30 * time.Second}
	tg.cleanup = func(labels []string) {
		root := base
		if root == "" {
			root = "https://api.github.com"
		}
		for _, l := range labels {
			// Deleting a label is outside the contract subset, so it goes
			// around the validating client.
			rawExchange(t, raw, http.MethodDelete, fmt.Sprintf("%s/repos/%s/%s/labels/%s", root, owner, repo, url.PathEscape(l)), token, "")
		}
	}
	runContract(t, tg)
}

// runContract is the suite: what the bug filer relies on, checked against
// one implementation. Every exchange also goes through the validating
// transport. Steps build on each other, so the first failure stops it.
func runContract(t *testing.T, tg target) {
	ctx := t.Context()
	run := fmt.Sprintf("%d%04d", time.Now().Unix(), rand.IntN(10000))
	label, extra := "contract-"+run, "contract-extra-"+run
	marker := "ghcontract-marker-" + run
	var issues []*github.Issue
	t.Cleanup(func() {
		// Leave nothing open behind in a real repository.
		ctx := context.Background()
		for _, is := range issues {
			if is.GetState() != "closed" {
				_, _, _ = tg.gh.Issues.Edit(ctx, tg.owner, tg.repo, is.GetNumber(), &github.IssueRequest{State: github.String("closed")})
			}
		}
		if tg.cleanup != nil {
			tg.cleanup([]string{label, extra})
		}
	})
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}

	step("create", func(t *testing.T) {
		body := "Filed by the contract suite.\n\n" + marker
		is, resp, err := tg.gh.Issues.Create(ctx, tg.owner, tg.repo, &github.IssueRequest{
			Title: github.String("contract suite " + run + " #1"), Body: &body, Labels: &[]string{label},
		})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("status %d, want 201", resp.StatusCode)
		}
		if loc := resp.Header.Get("Location"); loc == "" || loc != is.GetURL() {
			t.Errorf("Location %q, want the issue's url %q", loc, is.GetURL())
		}
		if resp.Header.Get("ETag") == "" {
			t.Error("no ETag")
		}
		if is.GetNumber() <= 0 || is.GetID() <= 0 || is.GetNodeID() == "" || is.GetHTMLURL() == "" || is.GetUser().GetLogin() == "" {
			t.Errorf("incomplete issue: %+v", is)
		}
		if is.GetState() != "open" || is.GetBody() != body || is.CreatedAt == nil || is.ClosedAt != nil {
			t.Errorf("state %q body %q created %v closed %v", is.GetState(), is.GetBody(), is.CreatedAt, is.ClosedAt)
		}
		if got := labelNames(is.Labels); !slices.Equal(got, []string{label}) {
			t.Errorf("labels %v, want [%s]", got, label)
		}
		issues = append(issues, is)
	})

	step("get", func(t *testing.T) {
		is, resp, err := tg.gh.Issues.Get(ctx, tg.owner, tg.repo, issues[0].GetNumber())
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if resp.StatusCode != http.StatusOK || is.GetID() != issues[0].GetID() || is.GetTitle() != issues[0].GetTitle() {
			t.Errorf("got %d %+v, want issue %d", resp.StatusCode, is, issues[0].GetID())
		}
	})

	step("list with pagination", func(t *testing.T) {
		for i := 2; i <= 3; i++ {
			is, _, err := tg.gh.Issues.Create(ctx, tg.owner, tg.repo, &github.IssueRequest{
				Title: github.String(fmt.Sprintf("contract suite %s #%d", run, i)),
				Body:  github.String("Another one. " + marker), Labels: &[]string{label},
			})
			if err != nil {
				t.Fatalf("create #%d: %v", i, err)
			}
			issues = append(issues, is)
		}
		opts := &github.IssueListByRepoOptions{State: "all", Labels: []string{label}, Sort: "created", Direction: "asc",
			ListOptions: github.ListOptions{PerPage: 1}}
		var got []int
		for page := 1; ; page++ {
			opts.Page = page
			list, resp, err := tg.gh.Issues.ListByRepo(ctx, tg.owner, tg.repo, opts)
			if err != nil {
				t.Fatalf("list page %d: %v", page, err)
			}
			if len(list) != 1 {
				t.Fatalf("page %d has %d issues, want 1", page, len(list))
			}
			got = append(got, list[0].GetNumber())
			want := map[int][4]int{1: {0, 2, 0, 3}, 2: {1, 3, 1, 3}, 3: {2, 0, 1, 0}}[page] // prev, next, first, last
			if links := [4]int{resp.PrevPage, resp.NextPage, resp.FirstPage, resp.LastPage}; links != want {
				t.Errorf("page %d: prev/next/first/last %v, want %v (Link: %s)", page, links, want, resp.Header.Get("Link"))
			}
			if resp.NextPage == 0 {
				break
			}
			if page > 3 {
				t.Fatal("pagination does not end")
			}
		}
		want := []int{issues[0].GetNumber(), issues[1].GetNumber(), issues[2].GetNumber()}
		if !slices.Equal(got, want) {
			t.Errorf("listed %v, want %v", got, want)
		}
	})

	step("comment", func(t *testing.T) {
		n := issues[0].GetNumber()
		c, resp, err := tg.gh.Issues.CreateComment(ctx, tg.owner, tg.repo, n, &github.IssueComment{Body: github.String("Seen again: " + marker)})
		if err != nil {
			t.Fatalf("comment: %v", err)
		}
		if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") != c.GetURL() || c.GetID() == 0 {
			t.Errorf("status %d Location %q comment %+v", resp.StatusCode, resp.Header.Get("Location"), c)
		}
		list, _, err := tg.gh.Issues.ListComments(ctx, tg.owner, tg.repo, n, nil)
		if err != nil {
			t.Fatalf("list comments: %v", err)
		}
		if len(list) != 1 || list[0].GetID() != c.GetID() || list[0].GetBody() != c.GetBody() {
			t.Errorf("comments %+v, want the one just made", list)
		}
		is, _, err := tg.gh.Issues.Get(ctx, tg.owner, tg.repo, n)
		if err != nil || is.GetComments() != 1 {
			t.Errorf("issue comments = %d (%v), want 1", is.GetComments(), err)
		}
	})

	step("labels", func(t *testing.T) {
		n := issues[0].GetNumber()
		labels, resp, err := tg.gh.Issues.AddLabelsToIssue(ctx, tg.owner, tg.repo, n, []string{extra})
		if err != nil {
			t.Fatalf("add labels: %v", err)
		}
		want := []string{label, extra}
		if got := labelNames(labels); resp.StatusCode != http.StatusOK || !slices.Equal(got, want) {
			t.Errorf("status %d labels %v, want 200 %v", resp.StatusCode, got, want)
		}
		listed, _, err := tg.gh.Issues.ListLabelsByIssue(ctx, tg.owner, tg.repo, n, nil)
		if err != nil {
			t.Fatalf("list labels: %v", err)
		}
		if got := labelNames(listed); !slices.Equal(got, want) {
			t.Errorf("listed labels %v, want %v", got, want)
		}
	})

	step("update", func(t *testing.T) {
		n := issues[2].GetNumber()
		is, _, err := tg.gh.Issues.Edit(ctx, tg.owner, tg.repo, n, &github.IssueRequest{State: github.String("closed"), StateReason: github.String("not_planned")})
		if err != nil {
			t.Fatalf("close: %v", err)
		}
		if is.GetState() != "closed" || is.GetStateReason() != "not_planned" || is.ClosedAt == nil {
			t.Errorf("after close: state %q reason %q closed_at %v", is.GetState(), is.GetStateReason(), is.ClosedAt)
		}
		is, _, err = tg.gh.Issues.Edit(ctx, tg.owner, tg.repo, n, &github.IssueRequest{State: github.String("open")})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		// closed_at is not checked: GitHub keeps the last close's time.
		if is.GetState() != "open" || is.GetStateReason() != "reopened" {
			t.Errorf("after reopen: state %q reason %q", is.GetState(), is.GetStateReason())
		}
		title, body := issues[2].GetTitle()+" (edited)", "Edited. "+marker
		is, _, err = tg.gh.Issues.Edit(ctx, tg.owner, tg.repo, n, &github.IssueRequest{Title: &title, Body: &body, Labels: &[]string{label, extra}})
		if err != nil {
			t.Fatalf("edit: %v", err)
		}
		if is.GetTitle() != title || is.GetBody() != body || !slices.Equal(labelNames(is.Labels), []string{label, extra}) {
			t.Errorf("after edit: %q %q %v", is.GetTitle(), is.GetBody(), labelNames(is.Labels))
		}
		issues[2] = is
	})

	step("search", func(t *testing.T) {
		q := fmt.Sprintf("%q in:body repo:%s/%s is:issue is:open", marker, tg.owner, tg.repo)
		want := []int{issues[0].GetNumber(), issues[1].GetNumber(), issues[2].GetNumber()}
		testkit.Eventually(t, tg.searchWait, func() error {
			res, _, err := tg.gh.Search.Issues(ctx, q, nil)
			if err != nil {
				return fmt.Errorf("search: %w", err)
			}
			var got []int
			for _, is := range res.Issues {
				got = append(got, is.GetNumber())
			}
			slices.Sort(got)
			if res.GetTotal() != len(want) || !slices.Equal(got, want) {
				return fmt.Errorf("search %q found %v (total %d), want %v", q, got, res.GetTotal(), want)
			}
			return nil
		})
	})

	step("rate limit", func(t *testing.T) {
		rl, resp, err := tg.gh.RateLimit.Get(ctx)
		if err != nil {
			t.Fatalf("rate_limit: %v", err)
		}
		if resp.StatusCode != http.StatusOK || rl.GetCore().Limit <= 0 || rl.GetSearch().Limit <= 0 || rl.GetCore().Reset.IsZero() {
			t.Errorf("rate_limit %d: core %+v search %+v", resp.StatusCode, rl.GetCore(), rl.GetSearch())
		}
	})

	step("errors", func(t *testing.T) {
		_, resp, err := tg.gh.Issues.Get(ctx, tg.owner, tg.repo, 999999999)
		wantError(t, "missing issue", resp, err, http.StatusNotFound, "Not Found")

		_, resp, err = tg.gh.Issues.Create(ctx, tg.owner, "no-such-repository-"+run, &github.IssueRequest{Title: github.String("x")})
		wantError(t, "missing repository", resp, err, http.StatusNotFound, "Not Found")

		_, resp, err = tg.gh.Issues.Create(ctx, tg.owner, tg.repo, &github.IssueRequest{Title: github.String("")})
		er := wantError(t, "empty title", resp, err, http.StatusUnprocessableEntity, "Validation Failed")
		if er != nil && (len(er.Errors) != 1 || er.Errors[0] != (github.Error{Resource: "Issue", Field: "title", Code: "missing_field"})) {
			t.Errorf("empty title: errors %+v, want one missing_field on Issue.title", er.Errors)
		}

		// Leaving out the title breaks the description's request schema, so
		// only the answer is checked.
		lenient := lenientClient(t, tg.base, tg.token, tg.enterprise)
		_, resp, err = lenient.Issues.Create(ctx, tg.owner, tg.repo, &github.IssueRequest{Body: github.String("no title")})
		wantError(t, "no title", resp, err, http.StatusUnprocessableEntity, "")

		bad := validatingClient(t, tg.base, "bad-"+tg.token, tg.enterprise)
		_, resp, err = bad.Issues.Get(ctx, tg.owner, tg.repo, issues[0].GetNumber())
		wantError(t, "bad credentials", resp, err, http.StatusUnauthorized, "Bad credentials")
	})
}

// wantError checks that err is GitHub's error answer with status and, if
// given, message, and returns it.
func wantError(t *testing.T, what string, resp *github.Response, err error, status int, message string) *github.ErrorResponse {
	t.Helper()
	var er *github.ErrorResponse
	if !errors.As(err, &er) {
		t.Errorf("%s: error %v (%T), want a *github.ErrorResponse", what, err, err)
		return nil
	}
	if resp == nil || resp.StatusCode != status {
		t.Errorf("%s: status %v, want %d", what, resp, status)
	}
	if message != "" && er.Message != message {
		t.Errorf("%s: message %q, want %q", what, er.Message, message)
	}
	if er.Message == "" || er.DocumentationURL == "" {
		t.Errorf("%s: message %q documentation_url %q, want both", what, er.Message, er.DocumentationURL)
	}
	return er
}

func labelNames(ls []*github.Label) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.GetName())
	}
	return out
}
