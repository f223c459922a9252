package ghcontract_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
)

// TestErrorAnswers drives the fake's failure answers through go-github and
// the validating transport: each must be what go-github recognises (the
// error types the bug filer will branch on) and conform to the contract.
func TestErrorAnswers(t *testing.T) {
	const owner, repo = "octo-org", "scratch"
	newIssue := &github.IssueRequest{Title: github.String("a bug")}
	// The fake's clock stands still, so the waits it announces are exact
	// however slowly the test runs.
	start := time.Now().Truncate(time.Second)
	cases := []struct {
		name  string
		opts  fakegithub.Options
		fault *fakegithub.Fault
		// calls is how many creates are made; the last one is checked.
		calls int
		check func(t *testing.T, resp *github.Response, err error)
	}{
		{
			name:  "secondary limit injected",
			fault: &fakegithub.Fault{Kind: fakegithub.FaultSecondaryLimit, For: 90 * time.Second},
			calls: 1,
			check: func(t *testing.T, resp *github.Response, err error) {
				var ae *github.AbuseRateLimitError
				if !errors.As(err, &ae) {
					t.Fatalf("error %v (%T), want *github.AbuseRateLimitError", err, err)
				}
				if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(ae.Message, "You have exceeded a secondary rate limit") {
					t.Errorf("status %d message %q", resp.StatusCode, ae.Message)
				}
				if ae.RetryAfter == nil || *ae.RetryAfter != 90*time.Second {
					t.Errorf("RetryAfter %v, want 1m30s", ae.RetryAfter)
				}
			},
		},
		{
			name:  "secondary limit on content creation",
			opts:  fakegithub.Options{ContentPerMinute: 2},
			calls: 3,
			check: func(t *testing.T, resp *github.Response, err error) {
				var ae *github.AbuseRateLimitError
				if !errors.As(err, &ae) {
					t.Fatalf("error %v (%T), want *github.AbuseRateLimitError", err, err)
				}
				if ae.RetryAfter == nil || *ae.RetryAfter != time.Minute {
					t.Errorf("RetryAfter %v, want 1m", ae.RetryAfter)
				}
				if !strings.Contains(ae.Message, "content creation") {
					t.Errorf("message %q", ae.Message)
				}
			},
		},
		{
			name:  "secondary limit as 429",
			opts:  fakegithub.Options{SecondaryStatus: http.StatusTooManyRequests},
			fault: &fakegithub.Fault{Kind: fakegithub.FaultSecondaryLimit, Count: 1},
			calls: 1,
			check: func(t *testing.T, resp *github.Response, err error) {
				// go-github v60 recognises only 403 as a secondary limit; a
				// 429 comes back as a plain error response.
				var er *github.ErrorResponse
				if !errors.As(err, &er) || resp.StatusCode != http.StatusTooManyRequests {
					t.Fatalf("error %v (%T) status %v, want *github.ErrorResponse 429", err, err, resp)
				}
				if resp.Header.Get("Retry-After") != "60" {
					t.Errorf("Retry-After %q, want 60", resp.Header.Get("Retry-After"))
				}
			},
		},
		{
			name:  "primary limit injected",
			fault: &fakegithub.Fault{Kind: fakegithub.FaultPrimaryLimit, For: 30 * time.Minute},
			calls: 1,
			check: func(t *testing.T, resp *github.Response, err error) {
				var re *github.RateLimitError
				if !errors.As(err, &re) {
					t.Fatalf("error %v (%T), want *github.RateLimitError", err, err)
				}
				if resp.StatusCode != http.StatusForbidden || re.Rate.Remaining != 0 || !strings.HasPrefix(re.Message, "API rate limit exceeded for ") {
					t.Errorf("status %d remaining %d message %q", resp.StatusCode, re.Rate.Remaining, re.Message)
				}
				if want := start.Add(30 * time.Minute).Unix(); re.Rate.Reset.Unix() != want {
					t.Errorf("reset at %v, want %v", re.Rate.Reset.Unix(), want)
				}
			},
		},
		{
			name:  "primary limit used up",
			opts:  fakegithub.Options{PrimaryLimit: 2},
			calls: 3,
			check: func(t *testing.T, resp *github.Response, err error) {
				var re *github.RateLimitError
				if !errors.As(err, &re) || re.Rate.Limit != 2 || re.Rate.Remaining != 0 {
					t.Fatalf("error %v (%T), want *github.RateLimitError with limit 2", err, err)
				}
			},
		},
		{
			name:  "server error",
			fault: &fakegithub.Fault{Kind: fakegithub.FaultServerError, Status: http.StatusServiceUnavailable, Count: 1},
			calls: 1,
			check: func(t *testing.T, resp *github.Response, err error) {
				var er *github.ErrorResponse
				if !errors.As(err, &er) || resp.StatusCode != http.StatusServiceUnavailable {
					t.Fatalf("error %v status %v, want a 503 error response", err, resp)
				}
			},
		},
		{
			name:  "bad gateway",
			fault: &fakegithub.Fault{Kind: fakegithub.FaultServerError, Count: 1},
			calls: 1,
			check: func(t *testing.T, resp *github.Response, err error) {
				if resp == nil || resp.StatusCode != http.StatusBadGateway {
					t.Fatalf("error %v status %v, want 502", err, resp)
				}
			},
		},
		{
			name:  "connection dropped",
			fault: &fakegithub.Fault{Kind: fakegithub.FaultDrop, Count: 1},
			calls: 1,
			check: func(t *testing.T, resp *github.Response, err error) {
				var er *github.ErrorResponse
				if err == nil || errors.As(err, &er) {
					t.Fatalf("error %v, want a transport error", err)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.Repos = []string{owner + "/" + repo}
			c.opts.Now = func() time.Time { return start }
			s, base := startFake(t, c.opts)
			if c.fault != nil {
				if err := s.InjectFault(*c.fault); err != nil {
					t.Fatal(err)
				}
			}
			gh := validatingClient(t, base, fakegithub.DefaultToken, true)
			var resp *github.Response
			var err error
			for i := 0; i < c.calls; i++ {
				_, resp, err = gh.Issues.Create(t.Context(), owner, repo, newIssue)
				if i < c.calls-1 && err != nil {
					t.Fatalf("create %d: %v", i+1, err)
				}
			}
			c.check(t, resp, err)
		})
	}
}

// TestValidationAnswers checks 422s and 410s for what the filer may send.
func TestValidationAnswers(t *testing.T) {
	const owner, repo = "octo-org", "scratch"
	s, base := startFake(t, fakegithub.Options{Repos: []string{owner + "/" + repo, owner + "/closed-issues"}})
	if err := s.DisableIssues(owner, "closed-issues"); err != nil {
		t.Fatal(err)
	}
	gh := lenientClient(t, base, fakegithub.DefaultToken, false)
	ctx := t.Context()
	long := strings.Repeat("x", 65537)
	_, resp, err := gh.Issues.Create(ctx, owner, repo, &github.IssueRequest{Title: github.String("t"), Body: &long})
	er := wantError(t, "long body", resp, err, http.StatusUnprocessableEntity, "Validation Failed")
	if er != nil && (len(er.Errors) != 1 || er.Errors[0].Code != "custom" || !strings.Contains(er.Errors[0].Message, "65536")) {
		t.Errorf("long body: errors %+v", er.Errors)
	}
	_, resp, err = gh.Issues.Create(ctx, owner, repo, &github.IssueRequest{Title: github.String("t"), Milestone: github.Int(3)})
	wantError(t, "unknown milestone", resp, err, http.StatusUnprocessableEntity, "Validation Failed")
	_, resp, err = gh.Issues.Create(ctx, owner, "closed-issues", &github.IssueRequest{Title: github.String("t")})
	wantError(t, "issues disabled", resp, err, http.StatusGone, "Issues are disabled for this repo")
	_, resp, err = gh.Issues.ListByRepo(ctx, owner, repo, &github.IssueListByRepoOptions{State: "sideways"})
	wantError(t, "bad state", resp, err, http.StatusUnprocessableEntity, "Validation Failed")
	_, resp, err = gh.Search.Issues(ctx, "repo:octo-org/nothing-here bug", nil)
	wantError(t, "search in a missing repository", resp, err, http.StatusUnprocessableEntity, "Validation Failed")
	_, resp, err = gh.Search.Issues(ctx, "created:>2024-01-01 bug", nil)
	wantError(t, "unsupported qualifier", resp, err, http.StatusUnprocessableEntity, "Validation Failed")

	is, err := s.CreateIssue(owner, repo, "to be deleted", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteIssue(owner, repo, is.Number); err != nil {
		t.Fatal(err)
	}
	_, resp, err = gh.Issues.Get(ctx, owner, repo, is.Number)
	wantError(t, "deleted issue", resp, err, http.StatusGone, "This issue was deleted")
}
