// Package bugfiler files one GitHub issue per confirmed bug, exactly once
// per bug fingerprint, across crashes, redeliveries and replicas; adds a
// later confirmation of the same bug to the issue as a comment (one per
// batch); reopens the issue, or files a regression, when a fixed bug comes
// back; redacts secrets and personal data and neutralises customers' text
// before anything leaves; paces itself below GitHub's limits; and closes
// the loop: GitHub's webhooks say when an issue is closed or reopened, and
// the queue marks every linked ticket.
package bugfiler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/redact"
	"github.com/triage-pipeline/triage/libs/service"
)

// Config configures the bug filer.
type Config struct {
	service.Config `embed:""`
	HTTPAddr       string       `name:"http-addr" env:"TRIAGE_BUGFILER_HTTP_ADDR" default:"127.0.0.1:8084" help:"Listen address for GitHub's webhooks, health and metrics."`
	GitHub         GitHubConfig `embed:"" prefix:"github-"`
	// Regression says what a confirmation of a bug whose issue is closed
	// does: reopen that issue, or file a new one that links it.
	Regression string `name:"on-regression" env:"TRIAGE_GITHUB_ON_REGRESSION" enum:"reopen,new-issue" default:"reopen" help:"When a closed bug comes back: reopen its issue, or file a new one linking it."`
	// CommentBatch is the shortest time between two comments on one issue:
	// confirmations arriving within it are added in one comment.
	CommentBatch time.Duration `name:"comment-batch" env:"TRIAGE_GITHUB_COMMENT_BATCH" default:"30s" help:"Confirmations of one bug arriving within this are added to its issue in one comment."`
	// Lease is how long one replica may take to file an issue before
	// another takes over (and looks for what the first may have filed).
	Lease      time.Duration `name:"filing-lease" env:"TRIAGE_GITHUB_FILING_LEASE" default:"2m" help:"How long a replica holds a fingerprint while filing it."`
	MaxTries   int           `name:"github-max-deliver" env:"TRIAGE_GITHUB_MAX_DELIVER" default:"200" help:"Deliveries of a confirmed bug before it is dead-lettered (rate limits make it wait, not fail)."`
	RedactKey  string        `name:"redact-key-file" env:"TRIAGE_REDACT_KEY_FILE" type:"path" help:"File holding the key of the redaction placeholders (16+ bytes); without it placeholders are stable only within a process."`
	RedactName []string      `name:"redact-names" env:"TRIAGE_REDACT_NAMES" help:"Customer or tenant names to replace in text sent to GitHub."`
}

// Validate checks the filer's settings.
func (c *Config) Validate() error {
	if c.CommentBatch < 0 || c.Lease < 5*time.Second {
		return fmt.Errorf("--comment-batch must not be negative and --filing-lease at least 5s")
	}
	if c.Lease <= c.HandlerTimeout()+c.GitHub.Timeout {
		// A lease shorter than one handling would let a second replica
		// take over a filing still in progress and file the bug twice.
		return fmt.Errorf("--filing-lease (%s) must be longer than the handler timeout (%s, 2/3 of --ack-wait) plus --github-timeout (%s)",
			c.Lease, c.HandlerTimeout(), c.GitHub.Timeout)
	}
	if c.MaxTries < 1 {
		return fmt.Errorf("--github-max-deliver must be at least 1, got %d", c.MaxTries)
	}
	return c.GitHub.Validate()
}

const (
	source  = "triage/bugfiler"
	durable = "bugfiler"
)

// Service is a running bug filer.
type Service struct {
	*service.Base
	cfg        Config
	gh         *gitHub
	bugs       jetstream.KeyValue
	deliveries jetstream.KeyValue
	redactor   *redact.Redactor
	now        func() time.Time
	metrics    *metrics
	// crashAfterCreate, set by tests, makes a handling stop right after
	// GitHub created an issue and before its number is recorded, as a
	// process killed at that moment would.
	crashAfterCreate func(fingerprint string) bool
}

type metrics struct {
	filed      *prometheus.CounterVec
	redactions *prometheus.CounterVec
	webhooks   *prometheus.CounterVec
}

// New connects the bug filer and its GitHub client.
func New(ctx context.Context, cfg Config, log *zap.Logger) (*Service, error) {
	if err := cfg.GitHub.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.GitHub.complete(); err != nil {
		return nil, err
	}
	base, err := service.Start(ctx, "bugfiler", cfg.Config, cfg.HTTPAddr, log)
	if err != nil {
		return nil, err
	}
	s := &Service{Base: base, cfg: cfg, now: time.Now}
	if err := s.open(ctx); err != nil {
		base.Close()
		return nil, err
	}
	s.routes()
	base.Log.Info("filing bugs on GitHub", zap.String("api", s.gh.baseURL), zap.String("repository", cfg.GitHub.Repo),
		zap.String("auth", cfg.GitHub.authKind()), zap.String("on_regression", cfg.Regression))
	return s, nil
}

func (s *Service) open(ctx context.Context) error {
	topo := s.cfg.Topology()
	var err error
	if s.bugs, err = bus.EnsureBucket(ctx, s.JS, topo.BugsBucket()); err != nil {
		return err
	}
	if s.deliveries, err = bus.EnsureBucket(ctx, s.JS, topo.WebhookDeliveriesBucket()); err != nil {
		return err
	}
	var key []byte
	if s.cfg.RedactKey != "" {
		b, err := os.ReadFile(s.cfg.RedactKey)
		if err != nil {
			return fmt.Errorf("--redact-key-file: %w", err)
		}
		key = []byte(strings.TrimSpace(string(b)))
	}
	if s.redactor, err = redact.New(redact.Config{Key: key, Names: s.cfg.RedactName}); err != nil {
		return fmt.Errorf("redaction: %w", err)
	}
	if s.redactor.EphemeralKey() {
		// Placeholders then differ between replicas and restarts, so one
		// secret in two issues no longer reads as the same.
		s.Log.Warn("no --redact-key-file: redaction placeholders change on every restart and differ between replicas")
	}
	s.metrics = &metrics{
		filed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_bugfiler_outcomes_total",
			Help: "What became of confirmed bugs: filed, commented, reopened, regression, duplicate, failed.",
		}, []string{"outcome"}),
		redactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_bugfiler_redactions_total",
			Help: "Values replaced before text left for GitHub, by kind.",
		}, []string{"kind"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_bugfiler_webhooks_total",
			Help: "GitHub webhook deliveries by outcome.",
		}, []string{"outcome"}),
	}
	s.Registry.MustRegister(s.metrics.filed, s.metrics.redactions, s.metrics.webhooks)
	s.gh, err = newGitHub(s.cfg.GitHub, s.Registry, s.now)
	return err
}

// Run consumes confirmed bugs and serves the webhook until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	cc := s.ConsumerConfig(bus.StreamBugs, durable, events.SubjectConfirmed+".*")
	// Rate limits and another replica's filing make a confirmation wait,
	// not fail: it comes back many times before it is a dead letter.
	cc.MaxDeliver = s.cfg.MaxTries
	return s.Base.Run(ctx, s.Consume(cc, bus.ByType(map[string]bus.Handler{events.TypeBugConfirmed: s.handle})))
}

func (s *Service) handle(ctx context.Context, msg jetstream.Msg) error {
	var in events.BugConfirmed
	if err := bus.Decode(msg, &in); err != nil {
		return err
	}
	err := s.file(ctx, in)
	var failed *filingFailed
	if errors.As(err, &failed) {
		// No retry can fix it: say so on the tickets, then dead-letter it
		// with the reason (replay it once the cause is fixed).
		if perr := s.publishState(ctx, events.TypeBugFailed, events.SubjectFailed, in.Bug.Fingerprint, in.Bug.TicketIDs,
			nil, failed.Error(), fmt.Sprintf("failed:%s:%s", in.Bug.Fingerprint, in.TicketID)); perr != nil {
			return perr
		}
		s.metrics.filed.WithLabelValues("failed").Inc()
		return bus.Permanent(err)
	}
	return err
}

// publishState tells the queue what became of a bug on GitHub.
func (s *Service) publishState(ctx context.Context, typ, subject, fp string, tickets []string, issue *github.Issue, reason, id string) error {
	st := events.BugState{SchemaVersion: events.SchemaVersion, Fingerprint: fp, TicketIDs: tickets, At: s.now().UTC(), Reason: reason,
		Repository: s.cfg.GitHub.Repo}
	if issue != nil {
		st.IssueNumber, st.IssueURL = issue.GetNumber(), issue.GetHTMLURL()
	}
	_, err := s.publish(ctx, subject, typ, fp, id, st)
	return err
}

func (s *Service) publish(ctx context.Context, subject, typ, fp, id string, st events.BugState) (*jetstream.PubAck, error) {
	return bus.Publish(ctx, s.JS, bus.Event{Subject: events.TicketSubject(subject, fp), Type: typ, ID: id, Source: source,
		About: fp, Time: st.At, Data: st})
}
