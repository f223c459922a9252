package main

import (
	"context"
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/services/triage/pipeline"
)

type devCmd struct {
	pipeline.Config `embed:""`
}

func (c *devCmd) Run() error {
	return runService(c.Log, func(ctx context.Context, log *zap.Logger) error {
		p, err := pipeline.Start(ctx, c.Config, log)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stdout, "\ntriage is running; data in %s\n", p.DataDir)
		for _, u := range p.URLs() {
			fmt.Fprintf(os.Stdout, "  %-9s %s\n", u[0], u[1])
		}
		fmt.Fprintf(os.Stdout, "submit:   curl -X POST %s/api/v1/tickets -H 'Content-Type: application/json' -d '{\"subject\":\"...\",\"description\":\"...\",\"tenant_id\":\"rst-0042\"}'\n", p.Intake.URL())
		fmt.Fprintf(os.Stdout, "queue:    %s/api/v1/queue?queue=escalation\nPress Ctrl-C to stop.\n\n", p.Queue.URL())
		return p.Run(ctx)
	})
}
