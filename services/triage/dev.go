package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/intake"
	"github.com/triage-pipeline/triage/services/triage/pipeline"
)

type devCmd struct {
	pipeline.Config `embed:""`
	DemoTickets     bool `name:"demo-tickets" default:"true" negatable:"" help:"Submit the demo world's tickets through intake at start-up, so the queues have something to show."`
}

func (c *devCmd) Run() error {
	pipeline.TuneGC()
	return service.Run(c.Log, func(ctx context.Context, log *zap.Logger) error {
		p, err := pipeline.Start(ctx, c.Config, log)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stdout, "\ntriage is running; data in %s\n", p.DataDir)
		for _, u := range p.URLs() {
			fmt.Fprintf(os.Stdout, "  %-9s %s\n", u[0], u[1])
		}
		fmt.Fprintf(os.Stdout, "submit:   curl -X POST %s/api/v1/tickets -H 'Content-Type: application/json' -d '{\"subject\":\"...\",\"description\":\"...\",\"tenant_id\":\"rst-0042\"}'\n", p.Intake.URL())
		fmt.Fprintf(os.Stdout, "   or:    bin/triage submit --intake-url %s -t rst-0042 -s '...' -d '...'\n", p.Intake.URL())
		fmt.Fprintf(os.Stdout, "queue:    %s/api/v1/queue?queue=escalation\nPress Ctrl-C to stop.\n\n", p.Queue.URL())
		if c.DemoTickets && p.World != nil {
			go func() {
				n, err := submitDemoTickets(ctx, p, log)
				if err != nil {
					log.Warn("demo tickets", zap.Error(err))
				}
				fmt.Fprintf(os.Stdout, "submitted %d demo tickets from the demo world\n", n)
			}()
		}
		return p.Run(ctx)
	})
}

// submitDemoTickets posts the demo world's tickets to intake as support staff
// would, with the moment each describes as occurred_at (they were written
// against the demo world's clock, not today's). Keys make a restart resubmit
// nothing.
func submitDemoTickets(ctx context.Context, p *pipeline.Pipeline, log *zap.Logger) (int, error) {
	client := intake.NewClient(p.Intake.URL(), intake.ClientOptions{Retries: 3})
	n := 0
	for _, t := range p.World.Tickets {
		req := intake.SubmitRequest{
			Subject: t.Subject, Description: t.Description, TenantID: t.TenantID,
			Reporter: t.Reporter, Channel: t.Channel, Language: t.Language,
			Identifiers: events.Identifiers(t.Identifiers),
		}
		if !t.Window.Anchor.IsZero() {
			req.OccurredAt = t.Window.Anchor.UTC().Format(time.RFC3339)
		}
		if _, err := client.Submit(ctx, req, "demo-"+t.ID); err != nil {
			var apiErr *httpapi.Error
			if errors.As(err, &apiErr) && apiErr.Code == intake.CodeKeyReused {
				// Submitted by an earlier run on this data directory, when
				// the world ended at another hour: already in the queues.
				continue
			}
			if intake.IsRefusal(err) {
				// One ticket intake refuses (say, its moment is still ahead
				// of the clock) must not keep the others out.
				log.Warn("demo ticket refused", zap.String("demo_ticket", t.ID), zap.Error(err))
				continue
			}
			return n, fmt.Errorf("submit demo ticket %s: %w", t.ID, err)
		}
		n++
	}
	return n, nil
}
