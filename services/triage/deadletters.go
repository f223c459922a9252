package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
)

type deadlettersCmd struct {
	NATSURL string        `name:"nats-url" env:"TRIAGE_NATS_URL" default:"nats://127.0.0.1:4222" help:"NATS server URL."`
	Timeout time.Duration `default:"30s" help:"How long the command may take."`
	List    dlListCmd     `cmd:"" help:"List dead letters, oldest first."`
	Replay  dlReplayCmd   `cmd:"" help:"Put dead letters back on their subject for their consumer to retry."`
}

type dlListCmd struct {
	JSON bool `help:"Print JSON instead of a table."`
}

func (c *dlListCmd) Run(parent *deadlettersCmd) error {
	ctx, js, done, err := operatorConn(parent.NATSURL, parent.Timeout, "triage-deadletters")
	if err != nil {
		return err
	}
	defer done()
	dls, err := bus.ListDeadLetters(ctx, js)
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(dls)
	}
	if len(dls) == 0 {
		fmt.Println("no dead letters")
		return nil
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tKIND\tCONSUMER\tSUBJECT\tDELIVERIES\tREASON")
	for _, d := range dls {
		subject := d.Subject
		if subject == "" {
			subject = fmt.Sprintf("%s#%d", d.Stream, d.StreamSeq)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", d.Seq, d.Time.Format(time.RFC3339), d.Kind, d.Consumer, subject, d.Deliveries, d.Reason)
	}
	return tw.Flush()
}

type dlReplayCmd struct {
	Seqs []uint64 `arg:"" optional:"" help:"Dead-letter sequence numbers (from list)."`
	All  bool     `help:"Replay every dead letter."`
}

func (c *dlReplayCmd) Run(parent *deadlettersCmd) error {
	if len(c.Seqs) == 0 && !c.All {
		return errors.New("name dead-letter sequence numbers, or --all")
	}
	ctx, js, done, err := operatorConn(parent.NATSURL, parent.Timeout, "triage-deadletters")
	if err != nil {
		return err
	}
	defer done()
	seqs := c.Seqs
	if c.All {
		dls, err := bus.ListDeadLetters(ctx, js)
		if err != nil {
			return err
		}
		seqs = seqs[:0]
		for _, d := range dls {
			seqs = append(seqs, d.Seq)
		}
	}
	var errs []error
	for _, seq := range seqs {
		newSeq, err := bus.ReplayDeadLetter(ctx, js, seq)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Printf("replayed dead letter %d (now stream sequence %d)\n", seq, newSeq)
	}
	return errors.Join(errs...)
}

// operatorConn connects an operator command to NATS for at most timeout;
// done closes the connection and releases the context.
func operatorConn(url string, timeout time.Duration, name string) (context.Context, jetstream.JetStream, func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	nc, js, err := bus.Connect(ctx, url, name, zap.NewNop())
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return ctx, js, func() { nc.Close(); cancel() }, nil
}
