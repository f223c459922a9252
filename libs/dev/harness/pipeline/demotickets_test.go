package pipeline

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/dev/demoworld"
)

// Demo tickets go in once per data directory: again in the same hour, or
// in a later hour (a world with other tenants and ids), nothing is added.
func TestDemoTicketsOncePerDataDirectory(t *testing.T) {
	p := startPipeline(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	log := zaptest.NewLogger(t)
	n, submitted, err := p.SubmitDemoTicketsOnce(ctx, log)
	// Tickets whose moment is still ahead of the clock are refused, so
	// not quite all of them may go in.
	if err != nil || !submitted || n < len(p.World.Tickets)/2 {
		t.Fatalf("first submission: %d of %d (submitted %v), %v", n, len(p.World.Tickets), submitted, err)
	}
	// Keys alone: the same world again adds nothing.
	if n, err := SubmitDemoTickets(ctx, p.Intake.URL(), p.Tokens.Support, p.World, log); err != nil || n != 0 {
		t.Errorf("same world again: %d new, %v", n, err)
	}
	// The marker: the world of another hour is not submitted at all.
	p.World = demoworld.Generate(demoworld.Config{Seed: 1, End: p.World.Config.End.Add(-time.Hour)})
	if n, submitted, err := p.SubmitDemoTicketsOnce(ctx, log); err != nil || submitted || n != 0 {
		t.Errorf("after a restart an hour later: %d new (submitted %v), %v", n, submitted, err)
	}
}
