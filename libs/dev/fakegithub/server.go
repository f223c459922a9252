package fakegithub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Defaults for Options.
const (
	// DefaultToken is accepted when Options.Tokens is empty.
	DefaultToken = "fake-github-token"
	// DefaultLogin is the user DefaultToken authenticates.
	DefaultLogin = "triage-bot"
	// DefaultDeveloper closes and reopens issues from Go and the page.
	DefaultDeveloper = "octocat"
	// DefaultSearchLag is how long a change takes to reach search.
	DefaultSearchLag = 1500 * time.Millisecond
	// DefaultPrimaryLimit is GitHub's hourly limit for a user's token.
	DefaultPrimaryLimit = 5000
	// DefaultSearchLimit is GitHub's per-minute limit of the search resource.
	DefaultSearchLimit = 30
	// DefaultContentPerMinute and DefaultContentPerHour are GitHub's
	// documented secondary limits on content-generating requests.
	DefaultContentPerMinute = 80
	DefaultContentPerHour   = 500
	// DefaultSecondaryRetryAfter is the Retry-After of a secondary limit
	// that has no natural end (an injected one without a duration).
	DefaultSecondaryRetryAfter = 60 * time.Second
	// DefaultWebhookAttempts is how many times a delivery is tried.
	DefaultWebhookAttempts = 3
	// DefaultWebhookBackoff is the wait before the second attempt; it
	// doubles for each further one.
	DefaultWebhookBackoff = time.Second
	// DefaultWebhookTimeout is GitHub's own delivery timeout.
	DefaultWebhookTimeout = 10 * time.Second

	maxRequestBody = 25 << 20
	shutdownGrace  = 2 * time.Second
	apiPrefix      = "/api/v3"
	controlPrefix  = "/_fake"
)

// Options configures a Server. The zero value serves no repository and
// accepts DefaultToken.
type Options struct {
	// Tokens maps every accepted token to the login of the user it
	// authenticates; empty means {DefaultToken: DefaultLogin}.
	Tokens map[string]string
	// Repos exist from the start, each as "owner/name".
	Repos []string
	// AutoCreateRepos creates a repository the first time a request names
	// it; otherwise an unknown repository answers 404 as GitHub does.
	AutoCreateRepos bool
	// Developer is the login that closes and reopens issues through
	// CloseIssue, ReopenIssue and the page; DefaultDeveloper when empty.
	Developer string
	// BaseURL is the API root written into webhook payloads; when empty,
	// the address Start listens on, else the root of the latest API request.
	BaseURL string
	// SearchLag is how long a created or changed issue takes to show in
	// search results; 0 means DefaultSearchLag, a negative value at once.
	SearchLag time.Duration
	// PrimaryLimit is each user's hourly request limit (resource "core");
	// 0 means DefaultPrimaryLimit.
	PrimaryLimit int
	// SearchLimit is each user's per-minute limit of search requests;
	// 0 means DefaultSearchLimit.
	SearchLimit int
	// ContentPerMinute and ContentPerHour cap content-generating requests
	// (creating issues and comments) per user, GitHub's secondary limit;
	// 0 means the documented defaults, a negative value no limit.
	ContentPerMinute int
	ContentPerHour   int
	// SecondaryStatus is the status of secondary-limit answers, 403 (what
	// go-github v60 recognises) or 429; 0 means 403.
	SecondaryStatus int
	// SecondaryRetryAfter is the Retry-After of an injected secondary limit
	// without a duration; 0 means DefaultSecondaryRetryAfter.
	SecondaryRetryAfter time.Duration
	// WebhookURL and WebhookSecret configure the repository webhook (all
	// repositories share it); see SetWebhook.
	WebhookURL    string
	WebhookSecret string
	// WebhookAttempts, WebhookBackoff and WebhookTimeout shape background
	// deliveries; zero values mean the defaults. GitHub itself does not
	// retry a failed delivery: WebhookAttempts 1 behaves like it.
	WebhookAttempts int
	WebhookBackoff  time.Duration
	WebhookTimeout  time.Duration
	// Seed seeds every random choice (fractional faults, delivery ids,
	// request ids), so a test sees the same sequence each run.
	Seed uint64
	// Now is the clock for timestamps, rate-limit windows and search lag;
	// time.Now when nil.
	Now func() time.Time
}

// Server is a fake GitHub REST API. It implements http.Handler.
type Server struct {
	opts       Options
	tokens     map[string]string
	formToken  string
	ctx        context.Context // ends on Close; bounds background deliveries
	cancel     context.CancelFunc
	deliveries sync.WaitGroup
	hookClient *http.Client

	mu       sync.Mutex // guards the store and the fields below
	store    store
	rng      *mrand.Rand
	lastBase string

	limits limiter
	faults faultState
	log    requestLog
	hooks  hookState

	srvMu     sync.Mutex
	srv       *http.Server
	srvDone   chan error
	url       string
	closeOnce sync.Once
}

// New returns a server holding the repositories of opts.Repos. It starts
// nothing; Start serves it on a port, or use it as an http.Handler.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Developer == "" {
		opts.Developer = DefaultDeveloper
	}
	if opts.SearchLag == 0 {
		opts.SearchLag = DefaultSearchLag
	}
	if opts.SearchLag < 0 {
		opts.SearchLag = 0
	}
	if opts.PrimaryLimit <= 0 {
		opts.PrimaryLimit = DefaultPrimaryLimit
	}
	if opts.SearchLimit <= 0 {
		opts.SearchLimit = DefaultSearchLimit
	}
	if opts.ContentPerMinute == 0 {
		opts.ContentPerMinute = DefaultContentPerMinute
	}
	if opts.ContentPerHour == 0 {
		opts.ContentPerHour = DefaultContentPerHour
	}
	switch opts.SecondaryStatus {
	case 0:
		opts.SecondaryStatus = http.StatusForbidden
	case http.StatusForbidden, http.StatusTooManyRequests:
	default:
		return nil, fmt.Errorf("fakegithub: secondary limit status %d: want 403 or 429", opts.SecondaryStatus)
	}
	if opts.SecondaryRetryAfter <= 0 {
		opts.SecondaryRetryAfter = DefaultSecondaryRetryAfter
	}
	if opts.WebhookAttempts <= 0 {
		opts.WebhookAttempts = DefaultWebhookAttempts
	}
	if opts.WebhookBackoff <= 0 {
		opts.WebhookBackoff = DefaultWebhookBackoff
	}
	if opts.WebhookTimeout <= 0 {
		opts.WebhookTimeout = DefaultWebhookTimeout
	}
	tokens := map[string]string{}
	for tok, login := range opts.Tokens {
		if tok == "" || login == "" {
			return nil, errors.New("fakegithub: a token and its login must not be empty")
		}
		tokens[tok] = login
	}
	if len(tokens) == 0 {
		tokens[DefaultToken] = DefaultLogin
	}
	formToken := make([]byte, 16)
	if _, err := rand.Read(formToken); err != nil {
		return nil, fmt.Errorf("fakegithub: form token: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:      opts,
		tokens:    tokens,
		formToken: hex.EncodeToString(formToken),
		ctx:       ctx,
		cancel:    cancel,
		// Its own transport, so Close can drop idle keep-alive connections
		// (and their goroutines) to webhook receivers.
		hookClient: &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: opts.WebhookTimeout},
		store:      newStore(),
		rng:        mrand.New(mrand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
	}
	s.limits.init()
	s.faults.rng = mrand.New(mrand.NewPCG(opts.Seed^0x5851f42d4c957f2d, opts.Seed))
	s.hooks.url, s.hooks.secret, s.hooks.id = opts.WebhookURL, opts.WebhookSecret, 1
	for _, login := range tokens {
		s.store.user(login)
	}
	s.store.user(opts.Developer)
	for _, full := range opts.Repos {
		owner, name, ok := strings.Cut(full, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			cancel()
			return nil, fmt.Errorf("fakegithub: repository %q: want owner/name", full)
		}
		s.store.createRepo(owner, name, opts.Now())
	}
	return s, nil
}

// Start serves the API on addr (for example "127.0.0.1:0") in the
// background and returns its base URL. go-github reaches it with
// github.NewClient(nil).WithEnterpriseURLs(url, url) (paths under /api/v3)
// or with BaseURL set to url + "/" (plain paths); both are served.
func (s *Server) Start(addr string) (string, error) {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.srv != nil {
		return "", errors.New("fakegithub: already started")
	}
	if s.ctx.Err() != nil {
		return "", errors.New("fakegithub: start after close")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("fakegithub: listen on %s: %w", addr, err)
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.srvDone = make(chan error, 1)
	s.url = "http://" + ln.Addr().String()
	go func() { s.srvDone <- s.srv.Serve(ln) }()
	return s.url, nil
}

// ListenAndServe serves on addr until ctx ends, then closes the server;
// what a command-line entry point calls.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	if _, err := s.Start(addr); err != nil {
		return err
	}
	<-ctx.Done()
	return s.Close()
}

// URL is the base URL Start serves on ("" before Start).
func (s *Server) URL() string {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	return s.url
}

// Close stops the HTTP server (if started) and every background webhook
// delivery, and waits until they have ended. It is safe to call twice.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.cancel()
		s.hooks.mu.Lock()
		s.hooks.closed = true
		s.hooks.mu.Unlock()
		s.srvMu.Lock()
		srv, done := s.srv, s.srvDone
		s.srvMu.Unlock()
		if srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			if serr := srv.Shutdown(ctx); serr != nil {
				// Handlers still waiting on an injected latency are cut.
				_ = srv.Close()
			}
			cancel()
			if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
				err = fmt.Errorf("fakegithub: serve: %w", serr)
			}
		}
		s.deliveries.Wait()
		s.hookClient.CloseIdleConnections()
	})
	return err
}

// now is the server's clock.
func (s *Server) now() time.Time { return s.opts.Now() }

// ServeHTTP implements http.Handler: the GitHub API under / and /api/v3/,
// the issue pages at /{owner}/{repo}/issues/{n}, and the fake's own
// controls and page under /_fake/.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if path == controlPrefix || strings.HasPrefix(path, controlPrefix+"/") {
		s.serveControl(w, r, strings.TrimPrefix(path, controlPrefix))
		return
	}
	prefix := ""
	if path == apiPrefix || strings.HasPrefix(path, apiPrefix+"/") {
		prefix = apiPrefix
		path = strings.TrimPrefix(path, apiPrefix)
	}
	rt := resolve(r.Method, path)
	if rt.op == "" && prefix == "" && r.Method == http.MethodGet {
		if s.serveIssuePage(w, r, path) {
			return
		}
	}
	s.serveAPI(w, r, rt, prefix)
}

// serveAPI is the frame every API request goes through: recording, faults,
// authentication, limits, the handler, and GitHub's headers.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, rt route, prefix string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		// The client went away while sending; nothing to answer.
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	web := scheme + "://" + r.Host
	rc := &reqCtx{r: r, rt: rt, body: body, api: web + prefix, web: web, now: s.now()}
	s.mu.Lock()
	s.lastBase = rc.api
	s.mu.Unlock()
	rec := s.log.record(r, rt.opName(), body, rc.now)
	if len(body) > maxRequestBody {
		s.finish(w, rc, rec, errorResponse(http.StatusRequestEntityTooLarge, "Payload too big", docsRoot))
		return
	}

	picked := s.faults.pick(rt.opName(), rc.now)
	if picked.delay > 0 {
		t := time.NewTimer(picked.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			s.log.setStatus(rec, 0, "client gone during injected latency")
			return
		}
	}
	switch {
	case picked.drop:
		s.log.setStatus(rec, 0, "connection dropped (fault)")
		dropConnection(w)
		return
	case picked.serverError != 0:
		s.finish(w, rc, rec, serverError(picked.serverError))
		return
	}

	user, resp := s.authenticate(r)
	if resp != nil {
		rc.rate = s.limits.charge(nil, resourceCore, rc.now, s.opts)
		s.finish(w, rc, rec, resp)
		return
	}
	rc.user = user
	if rt.op == "" {
		rc.rate = s.limits.peek(user, resourceCore, rc.now, s.opts)
		s.finish(w, rc, rec, notFound(docsRoot))
		return
	}
	resource := rt.resource()
	if rt.op == OpGetRateLimit {
		// GET /rate_limit does not count against the primary limit, and
		// answers when it is used up.
		rc.rate = s.coreRate(user, rc.now)
	} else if until, on := s.faults.primaryExhausted(rc.now); on && resource == resourceCore {
		rc.rate = exhausted(s.limits.peek(user, resource, rc.now, s.opts), until)
		s.finish(w, rc, rec, primaryLimitResponse(user, rc))
		return
	} else {
		var ok bool
		rc.rate, ok = s.limits.chargeChecked(user, resource, rc.now, s.opts)
		if !ok {
			s.finish(w, rc, rec, primaryLimitResponse(user, rc))
			return
		}
	}
	if picked.secondary != nil {
		s.finish(w, rc, rec, s.secondaryLimitResponse(rc, picked.secondary.retryAfter(rc.now, s.opts.SecondaryRetryAfter), false))
		return
	}
	if rt.createsContent() {
		if wait, ok := s.limits.content(user, rc.now, s.opts); !ok {
			s.finish(w, rc, rec, s.secondaryLimitResponse(rc, wait, true))
			return
		}
	}

	resp = notModified(r, s.handle(rc))
	if resp.status == http.StatusNotModified {
		// GitHub does not count a 304 against the primary limit.
		s.limits.refund(user, resource, rc.now)
		rc.rate.used--
	}
	if picked.loseResponse {
		s.log.setStatus(rec, 0, fmt.Sprintf("handled (%d), then the connection was dropped (fault)", resp.status))
		dropConnection(w)
		return
	}
	s.finish(w, rc, rec, resp)
}

// dropConnection closes the client's connection without a response.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // a reset rather than a polite FIN
			}
			_ = conn.Close()
			return
		}
	}
	// http.ErrAbortHandler makes net/http drop the connection quietly.
	panic(http.ErrAbortHandler)
}

// authenticate reads the Authorization header: "token X" or "Bearer X".
func (s *Server) authenticate(r *http.Request) (*user, *response) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, errorResponse(http.StatusUnauthorized, "Requires authentication", docsRoot)
	}
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !ok || (!strings.EqualFold(scheme, "token") && !strings.EqualFold(scheme, "bearer")) || tok == "" {
		return nil, errorResponse(http.StatusUnauthorized, "Bad credentials", docsRoot)
	}
	login, ok := s.tokens[tok]
	if !ok {
		return nil, errorResponse(http.StatusUnauthorized, "Bad credentials", docsRoot)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.user(login), nil
}
