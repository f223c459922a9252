package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
	"github.com/triage-pipeline/triage/libs/dev/harness/procs"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/services/bugfiler"
)

// GitHubResult is what the bug filer's benchmark counted.
type GitHubResult struct {
	Bugs, Duplicates, Batches int
	// CallsPerBug is GitHub API calls to file one new bug; CallsPerBatch to
	// add one batch of duplicate confirmations to its issue.
	CallsPerBug, CallsPerBatch float64
	Elapsed                    time.Duration
}

// RunGitHub files bugs on the fake GitHub through a real bug filer and
// counts GitHub API calls per filed bug and per batch of duplicate
// confirmations (targets: at most 2 and 1).
func RunGitHub(ctx context.Context, bugs, dupsPerBug int, out io.Writer) (GitHubResult, error) {
	res := GitHubResult{Bugs: bugs, Duplicates: bugs * dupsPerBug}
	srv, _, stop, err := scratchNATS("triage-bench-github-")
	if err != nil {
		return res, err
	}
	defer stop()
	gh, flags, env, secret, err := procs.FakeGitHub()
	if err != nil {
		return res, err
	}
	defer gh.Close()
	_ = env // the token and secret are set below, not through the environment
	var cfg bugfiler.Config
	// The pace kept below GitHub's secondary limit would make this a
	// benchmark of waiting; it counts calls, so the fake is not paced.
	args := append([]string{"--nats-url", srv.ClientURL(), "--http-addr", "127.0.0.1:0", "--comment-batch", "1s",
		"--github-content-per-minute", "6000", "--github-content-per-hour", "360000"}, flags...)
	if err := config.Load("bugfiler", &cfg, args); err != nil {
		return res, err
	}
	cfg.GitHub.Token, cfg.GitHub.WebhookSecret = fakegithub.DefaultToken, secret
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f, err := bugfiler.New(fctx, cfg, zap.NewNop())
	if err != nil {
		return res, err
	}
	done := make(chan error, 1)
	go func() { done <- f.Run(fctx) }()
	defer func() { cancel(); <-done }()
	nc, err := nats.Connect(srv.ClientURL(), nats.Name("triage-bench-github"))
	if err != nil {
		return res, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return res, err
	}
	confirm := func(fp, ticket string) error {
		_, err := bus.Publish(ctx, js, bus.Event{Subject: events.SubjectConfirmed + "." + fp, Type: events.TypeBugConfirmed,
			ID: "confirmed:" + ticket, Source: "bench", About: fp, Time: time.Now(),
			Data: events.BugConfirmed{SchemaVersion: 1, TicketID: ticket, ConfirmedAt: time.Now(),
				Bug: events.BugReport{Fingerprint: fp, Title: "[payment] provider timeout", Severity: "P2", Component: "payment",
					TicketIDs: []string{ticket}, Tenants: []string{"rst-" + ticket}, Reported: []string{"card payments fail"}}}})
		return err
	}
	start := time.Now()
	for i := range bugs {
		if err := confirm(fmt.Sprintf("payment-bench%03d", i), fmt.Sprintf("b%03d", i)); err != nil {
			return res, err
		}
	}
	if err := waitFor(ctx, func() bool { return len(gh.Issues("triage-demo", "pos")) == bugs }); err != nil {
		return res, fmt.Errorf("filing %d bugs: %w", bugs, err)
	}
	filed := gh.TotalCalls()
	res.CallsPerBug = float64(filed) / float64(bugs)
	for i := range bugs {
		for j := range dupsPerBug {
			if err := confirm(fmt.Sprintf("payment-bench%03d", i), fmt.Sprintf("b%03d-%02d", i, j)); err != nil {
				return res, err
			}
		}
	}
	commented := func() int {
		n := 0
		for _, is := range gh.Issues("triage-demo", "pos") {
			n += len(is.Comments)
		}
		return n
	}
	// Every duplicate is in a comment once the comments hold them all.
	if err := waitFor(ctx, func() bool { return tickets(gh) == bugs+res.Duplicates }); err != nil {
		return res, fmt.Errorf("adding duplicates: %w", err)
	}
	res.Batches = commented()
	res.CallsPerBatch = float64(gh.TotalCalls()-filed) / float64(max(res.Batches, 1))
	res.Elapsed = time.Since(start)
	fmt.Fprintf(out, "github: %d bugs filed on the fake GitHub, %.2f API calls per new bug (target ≤ 2: labels go in the create call); "+
		"%d duplicate confirmations added in %d comments, %.2f calls per duplicate batch (target ≤ 1)\n",
		bugs, res.CallsPerBug, res.Duplicates, res.Batches, res.CallsPerBatch)
	return res, nil
}

// countTickets reads how many tickets an issue body or comment reports.
func countTickets(text string) int {
	var n int
	if i := strings.Index(text, "- **Tickets:** "); i >= 0 {
		if _, err := fmt.Sscanf(text[i:], "- **Tickets:** %d", &n); err == nil {
			return n
		}
	}
	if _, err := fmt.Sscanf(text, "**%d more ticket(s)**", &n); err == nil {
		return n
	}
	return 0
}

// tickets counts the tickets the fake GitHub's issues mention.
func tickets(gh *fakegithub.Server) int {
	n := 0
	for _, is := range gh.Issues("triage-demo", "pos") {
		n += countTickets(is.Body)
		for _, c := range is.Comments {
			n += countTickets(c.Body)
		}
	}
	return n
}

func waitFor(ctx context.Context, cond func() bool) error {
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}
