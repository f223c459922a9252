package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/dev/harness/pipeline"
	"github.com/triage-pipeline/triage/libs/service"
)

type devCmd struct {
	// People read this run's logs on a terminal: console encoding unless
	// --log-format or TRIAGE_LOG_FORMAT says otherwise.
	pipeline.Config `embed:"" set:"log_format=console"`
	DemoTickets     bool `name:"demo-tickets" default:"true" negatable:"" help:"Submit the demo world's tickets through intake at start-up, so the queues have something to show."`
}

func (c *devCmd) Run() error {
	pipeline.TuneGC()
	return service.Run(c.Log, func(ctx context.Context, log *zap.Logger) error {
		p, err := pipeline.Start(ctx, c.Config, log)
		if err != nil {
			return err
		}
		ran := make(chan error, 1)
		go func() { ran <- p.Run(ctx) }()
		// Start-up logs first, then the URLs, then the tickets' logs: the
		// URLs block is the last thing printed before tickets flow.
		if err := p.WaitReady(ctx); err != nil {
			return errors.Join(err, <-ran)
		}
		printURLs(p)
		if c.DemoTickets && p.World != nil {
			go func() {
				n, submitted, err := p.SubmitDemoTicketsOnce(ctx, log)
				switch {
				case err != nil:
					log.Warn("demo tickets", zap.Error(err))
				case !submitted:
					log.Info("demo tickets were submitted on this data directory before; not again", zap.String("data_dir", p.DataDir))
				default:
					log.Info("demo tickets submitted", zap.Int("tickets", n))
				}
			}()
		}
		return <-ran
	})
}

func printURLs(p *pipeline.Pipeline) {
	w := os.Stdout
	fmt.Fprintln(w)
	for _, u := range p.URLs() { // the web UI first
		fmt.Fprintf(w, "  %-13s %s\n", u[0], u[1])
	}
	fmt.Fprintf(w, "triage is running; data in %s\n", p.DataDir)
	fmt.Fprintf(w, "admin token: %s\n", p.Tokens.Admin)
	fmt.Fprintf(w, "  sign in at %s/login with it; issue tokens for others at %s/admin/tokens (or: bin/triage tokens issue)\n", p.WebURL(), p.WebURL())
	fmt.Fprintf(w, "submit:   curl -X POST %s/api/v1/tickets -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' -d '{\"subject\":\"...\",\"description\":\"...\",\"tenant_id\":\"rst-0042\"}'\n", p.WebURL())
	fmt.Fprintf(w, "   or:    TRIAGE_TOKEN=... bin/triage submit --intake-url %s -t rst-0042 -s '...' -d '...'\n", p.WebURL())
	fmt.Fprintf(w, "Press Ctrl-C to stop.\n\n")
}
