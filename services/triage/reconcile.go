package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/triage-pipeline/triage/services/queue"
)

type reconcileCmd struct {
	NATSURL   string        `name:"nats-url" env:"TRIAGE_NATS_URL" default:"nats://127.0.0.1:4222" help:"NATS server URL."`
	OlderThan time.Duration `name:"older-than" default:"10m" help:"Report tickets accepted longer ago than this and not queued."`
	Timeout   time.Duration `default:"2m" help:"How long the check may take."`
}

// Run lists accepted tickets that never reached a queue; it fails when
// there are any, so it can run from cron or an alert.
func (c *reconcileCmd) Run() error {
	ctx, js, done, err := operatorConn(c.NATSURL, c.Timeout, "triage-reconcile")
	if err != nil {
		return err
	}
	defer done()
	strays, err := queue.Reconcile(ctx, js, c.OlderThan, time.Now())
	if err != nil {
		return err
	}
	if len(strays) == 0 {
		fmt.Printf("every ticket accepted more than %s ago is queued\n", c.OlderThan)
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TICKET\tSUBMITTED\tLAST STAGE")
	for _, s := range strays {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.TicketID, s.SubmittedAt.Format(time.RFC3339), s.Stage)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return fmt.Errorf("%d accepted tickets are not queued; see `triage deadletters list`", len(strays))
}
