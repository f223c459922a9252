package bugfiler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// GitHubConfig says where and as whom issues are filed.
type GitHubConfig struct {
	URL       string `name:"url" env:"TRIAGE_GITHUB_URL" default:"https://api.github.com/" help:"GitHub API base URL (GitHub Enterprise: https://host/api/v3/)."`
	Repo      string `name:"repo" env:"TRIAGE_GITHUB_REPO" help:"Repository issues are filed in, owner/name."`
	TokenFile string `name:"token-file" env:"TRIAGE_GITHUB_TOKEN_FILE" type:"path" help:"File holding a GitHub token (or set TRIAGE_GITHUB_TOKEN)."`
	// Token and WebhookSecret come from the environment (or their files):
	// flags would show them in process lists, so theirs are hidden.
	Token             string            `name:"token" env:"TRIAGE_GITHUB_TOKEN" hidden:"" help:"GitHub token; set TRIAGE_GITHUB_TOKEN instead."`
	AppID             int64             `name:"app-id" env:"TRIAGE_GITHUB_APP_ID" help:"GitHub App id (with --github-installation-id and --github-private-key-file, instead of a token)."`
	InstallationID    int64             `name:"installation-id" env:"TRIAGE_GITHUB_INSTALLATION_ID" help:"GitHub App installation id."`
	PrivateKeyFile    string            `name:"private-key-file" env:"TRIAGE_GITHUB_PRIVATE_KEY_FILE" type:"path" help:"GitHub App private key (PEM)."`
	ComponentRepos    map[string]string `name:"component-repos" env:"TRIAGE_GITHUB_COMPONENT_REPOS" help:"Per-component repositories, e.g. payment=acme/payments;printer=acme/printing."`
	ComponentLabels   map[string]string `name:"component-labels" env:"TRIAGE_GITHUB_COMPONENT_LABELS" help:"Extra label per component, e.g. payment=team:payments."`
	WebhookSecret     string            `name:"webhook-secret" env:"TRIAGE_GITHUB_WEBHOOK_SECRET" hidden:"" help:"Webhook secret; set TRIAGE_GITHUB_WEBHOOK_SECRET instead."`
	WebhookSecretFile string            `name:"webhook-secret-file" env:"TRIAGE_GITHUB_WEBHOOK_SECRET_FILE" type:"path" help:"File holding the webhook secret (or set TRIAGE_GITHUB_WEBHOOK_SECRET)."`
	// Pacing is per replica: the defaults keep two replicas under
	// GitHub's limits for one token (about 80 a minute, 500 an hour).
	ContentPerMinute float64       `name:"content-per-minute" env:"TRIAGE_GITHUB_CONTENT_PER_MINUTE" default:"35" help:"Issues and comments this replica creates per minute at most (GitHub's secondary limit is about 80 per token, for all replicas)."`
	ContentPerHour   float64       `name:"content-per-hour" env:"TRIAGE_GITHUB_CONTENT_PER_HOUR" default:"225" help:"Issues and comments this replica creates per hour at most (GitHub's is about 500 per token)."`
	Timeout          time.Duration `name:"timeout" env:"TRIAGE_GITHUB_TIMEOUT" default:"15s" help:"Time limit of one GitHub request."`

	// transport replaces the HTTP transport (tests check every request
	// against GitHub's description with it).
	transport http.RoundTripper
}

// Validate checks the GitHub settings and reads the secrets' files.
func (c *GitHubConfig) Validate() error {
	if c.TokenFile != "" {
		b, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return fmt.Errorf("--github-token-file: %w", err)
		}
		c.Token = strings.TrimSpace(string(b))
	}
	if c.WebhookSecretFile != "" {
		b, err := os.ReadFile(c.WebhookSecretFile)
		if err != nil {
			return fmt.Errorf("--github-webhook-secret-file: %w", err)
		}
		c.WebhookSecret = strings.TrimSpace(string(b))
	}
	app := c.AppID != 0 || c.InstallationID != 0 || c.PrivateKeyFile != ""
	switch {
	case c.Repo != "" && !validRepo(c.Repo):
		return fmt.Errorf("--github-repo %q: want owner/name", c.Repo)
	case app && (c.AppID == 0 || c.InstallationID == 0 || c.PrivateKeyFile == ""):
		return errors.New("a GitHub App needs --github-app-id, --github-installation-id and --github-private-key-file")
	case c.ContentPerMinute <= 0 || c.ContentPerHour <= 0:
		return errors.New("--github-content-per-minute and -per-hour must be positive")
	}
	for comp, repo := range c.ComponentRepos {
		if !validRepo(repo) {
			return fmt.Errorf("--github-component-repos %s=%q: want owner/name", comp, repo)
		}
	}
	return nil
}

// complete reports what the filer still lacks to file anything: checked
// when it starts, so a configuration can be loaded first and completed in
// code (the one-process run points it at the fake GitHub).
func (c *GitHubConfig) complete() error {
	switch {
	case c.Repo == "":
		return errors.New("--github-repo (owner/name) is required: where confirmed bugs are filed")
	case c.AppID == 0 && c.Token == "":
		return errors.New("set TRIAGE_GITHUB_TOKEN (or --github-token-file), or GitHub App credentials")
	case c.WebhookSecret == "":
		return errors.New("set TRIAGE_GITHUB_WEBHOOK_SECRET (or --github-webhook-secret-file): the secret of the repository's webhook, so closed issues resolve their tickets")
	}
	return nil
}

func validRepo(r string) bool {
	owner, name, ok := strings.Cut(r, "/")
	return ok && owner != "" && name != "" && !strings.Contains(name, "/")
}

func (c *GitHubConfig) authKind() string {
	if c.AppID != 0 {
		return "github app " + strconv.FormatInt(c.AppID, 10)
	}
	return "token"
}

// repoFor is where a component's bugs are filed.
func (c *GitHubConfig) repoFor(component string) (owner, name string) {
	r := c.Repo
	if cr, ok := c.ComponentRepos[component]; ok {
		r = cr
	}
	owner, name, _ = strings.Cut(r, "/")
	return owner, name
}

// gitHub wraps go-github with the pacing and the rate-limit bookkeeping
// GitHub asks of integrators: content creation is paced below the
// secondary limit, and once GitHub says to wait (primary limit used up,
// a secondary limit, Retry-After) no call is made before the time it gave.
type gitHub struct {
	client  *github.Client
	baseURL string
	perMin  *rate.Limiter
	perHour *rate.Limiter
	now     func() time.Time
	timeout time.Duration
	mu      sync.Mutex
	blocked time.Time
	calls   *prometheus.CounterVec
	waits   *prometheus.CounterVec
}

func newGitHub(cfg GitHubConfig, reg prometheus.Registerer, now func() time.Time) (*gitHub, error) {
	var rt http.RoundTripper = &http.Transport{
		Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 8, IdleConnTimeout: 90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: cfg.Timeout,
	}
	if cfg.transport != nil {
		rt = cfg.transport
	}
	base := cfg.URL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	if cfg.AppID != 0 {
		tr, err := ghinstallation.NewKeyFromFile(rt, cfg.AppID, cfg.InstallationID, cfg.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("github app credentials: %w", err)
		}
		tr.BaseURL = strings.TrimSuffix(base, "/")
		rt = tr
	}
	// No http.Client.Timeout: go-github swaps an error answer's body
	// without closing it, which keeps that timeout's watcher alive; each
	// call gets a context deadline instead (gitHub.limit).
	client := github.NewClient(&http.Client{Transport: rt})
	if cfg.AppID == 0 {
		client = client.WithAuthToken(cfg.Token)
	}
	if base != "https://api.github.com/" {
		var err error
		if client, err = client.WithEnterpriseURLs(base, base); err != nil {
			return nil, fmt.Errorf("--github-url: %w", err)
		}
		// WithEnterpriseURLs adds /api/v3/ unless the URL has it; a base
		// that is already the API root is kept as given.
		client.BaseURL, _ = client.BaseURL.Parse(base)
	}
	g := &gitHub{
		client: client, baseURL: base, now: now, timeout: cfg.Timeout,
		perMin:  rate.NewLimiter(rate.Limit(cfg.ContentPerMinute/60), max(1, int(cfg.ContentPerMinute/10))),
		perHour: rate.NewLimiter(rate.Limit(cfg.ContentPerHour/3600), max(1, int(cfg.ContentPerHour/20))),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_github_calls_total", Help: "GitHub API calls by operation and status.",
		}, []string{"operation", "status"}),
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_github_rate_limited_total", Help: "Times GitHub said to wait, by kind (primary, secondary, pacing).",
		}, []string{"kind"}),
	}
	reg.MustRegister(g.calls, g.waits)
	return g, nil
}

// limit bounds one call by the configured timeout.
func (g *gitHub) limit(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, g.timeout)
}

// errWait says GitHub (or our pacing) asks to wait until a time.
type errWait struct {
	until  time.Time
	reason string
}

func (e *errWait) Error() string {
	return "github: " + e.reason + " until " + e.until.Format(time.RFC3339)
}

// before refuses a call while GitHub asked to wait; content creation also
// waits for the pacer, without outlasting ctx.
func (g *gitHub) before(ctx context.Context, content bool) error {
	g.mu.Lock()
	blocked := g.blocked
	g.mu.Unlock()
	if now := g.now(); now.Before(blocked) {
		return &errWait{until: blocked, reason: "rate limited"}
	}
	if !content {
		return nil
	}
	// Both budgets at once: a refusal gives back both reservations.
	rm, rh := g.perMin.Reserve(), g.perHour.Reserve()
	cancel := func() { rm.Cancel(); rh.Cancel() }
	d := max(rm.Delay(), rh.Delay())
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d+5*time.Second {
		cancel()
		g.waits.WithLabelValues("pacing").Inc()
		return &errWait{until: g.now().Add(d), reason: "pacing content creation"}
	}
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			cancel()
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// after records what the answer says about limits, and turns GitHub's
// rate-limit errors into errWait.
func (g *gitHub) after(op string, resp *github.Response, err error) error {
	status := "error"
	if resp != nil {
		if err != nil && resp.Body != nil {
			// go-github leaves an error answer's body open; closing it ends
			// the client's timeout watcher now rather than at the timeout.
			_ = resp.Body.Close()
		}
		status = strconv.Itoa(resp.StatusCode)
		if resp.Rate.Limit > 0 && resp.Rate.Remaining == 0 && !resp.Rate.Reset.IsZero() {
			g.block(resp.Rate.Reset.Time, "primary")
		}
	}
	g.calls.WithLabelValues(op, status).Inc()
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case errors.As(err, &rl):
		until := rl.Rate.Reset.Time
		if until.Before(g.now()) {
			until = g.now().Add(time.Minute)
		}
		g.block(until, "primary")
		return &errWait{until: until, reason: "primary rate limit used up"}
	case errors.As(err, &abuse):
		d := time.Minute // GitHub: wait at least a minute without Retry-After
		if abuse.RetryAfter != nil {
			d = *abuse.RetryAfter
		}
		until := g.now().Add(d)
		g.block(until, "secondary")
		return &errWait{until: until, reason: "secondary rate limit"}
	case resp != nil && resp.StatusCode == http.StatusTooManyRequests:
		d := time.Minute
		if s, e := strconv.Atoi(resp.Header.Get("Retry-After")); e == nil {
			d = time.Duration(s) * time.Second
		}
		until := g.now().Add(d)
		g.block(until, "secondary")
		return &errWait{until: until, reason: "429 too many requests"}
	}
	return err
}

func (g *gitHub) block(until time.Time, kind string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until.After(g.blocked) {
		g.blocked = until
		g.waits.WithLabelValues(kind).Inc()
	}
}

// permanent reports a GitHub error no retry can fix: bad credentials, no
// access, a missing repository, a request it refuses as invalid.
func permanent(err error) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return false
	}
	switch er.Response.StatusCode {
	case http.StatusUnauthorized, http.StatusNotFound, http.StatusGone, http.StatusUnprocessableEntity:
		return true
	case http.StatusForbidden:
		return true // not a rate limit (those are errWait by now): no access
	}
	return false
}

// uncertain reports an error after which GitHub may or may not have done
// what was asked (the answer was lost): a create must look before trying
// again.
func uncertain(err error) bool {
	if err == nil || permanent(err) {
		return false
	}
	var w *errWait
	if errors.As(err, &w) {
		return false // refused before it was done
	}
	var ne net.Error
	var er *github.ErrorResponse
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &er) || er.Response.StatusCode >= 500
}
