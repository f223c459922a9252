package main

import (
	"context"
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/service"
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
				n, submitted, err := p.SubmitDemoTicketsOnce(ctx, log)
				switch {
				case err != nil:
					log.Warn("demo tickets", zap.Error(err))
				case !submitted:
					fmt.Fprintf(os.Stdout, "demo tickets were submitted on %s before; not again\n", p.DataDir)
				default:
					fmt.Fprintf(os.Stdout, "submitted %d demo tickets from the demo world\n", n)
				}
			}()
		}
		return p.Run(ctx)
	})
}
