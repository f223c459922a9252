package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/services/router"
	"github.com/triage-pipeline/triage/services/router/training"
)

type routingCmd struct {
	Retrain routingRetrainCmd `cmd:"" help:"Add people's re-routes (tickets.rerouted.*) to the training data, train, show what would change on the routed tickets, and write the new model."`
	Diff    routingDiffCmd    `cmd:"" help:"Show what a retrain would change on the routed tickets, without writing anything (retrain --dry-run)."`
}

type routingRetrainCmd struct {
	NATSURL          string        `name:"nats-url" env:"TRIAGE_NATS_URL" default:"nats://127.0.0.1:4222" help:"NATS server URL."`
	Timeout          time.Duration `default:"5m" help:"How long the retrain may take."`
	Rules            string        `name:"rules" type:"path" help:"Routing rules file the routers use; empty uses the built-in rules."`
	Model            string        `name:"model" type:"path" help:"The model the routers use now, to compare with; empty uses the built-in model."`
	Data             []string      `name:"data" type:"path" help:"More labelled tickets (JSON lines, the development set's format) to train on besides the shipped ones."`
	CorrectionWeight float64       `name:"correction-weight" default:"3" help:"How many written examples one re-route counts for."`
	Out              string        `name:"out" type:"path" help:"Where to write the new model (the routers' --model file); required unless --dry-run."`
	DryRun           bool          `name:"dry-run" help:"Only show what would change."`
	Show             int           `name:"show" default:"20" help:"Flipped tickets to list."`
}

type routingDiffCmd struct {
	routingRetrainCmd `embed:""`
}

// Run is retrain --dry-run.
func (c *routingDiffCmd) Run() error {
	c.DryRun = true
	return c.routingRetrainCmd.Run()
}

// Run retrains the model with the re-routes in the stream.
func (c *routingRetrainCmd) Run() error {
	if !c.DryRun && c.Out == "" {
		return fmt.Errorf("--out is required (the routers' --model file), or use --dry-run")
	}
	ctx, js, done, err := operatorConn(c.NATSURL, c.Timeout, "triage-routing")
	if err != nil {
		return err
	}
	defer done()
	return c.retrain(ctx, js, os.Stdout)
}

func (c *routingRetrainCmd) retrain(ctx context.Context, js jetstream.JetStream, out io.Writer) error {
	rules, err := router.LoadRules(c.Rules)
	if err != nil {
		return err
	}
	current, err := router.LoadModel(c.Model)
	if err != nil {
		return err
	}
	examples, err := training.Dev()
	if err != nil {
		return err
	}
	for _, path := range c.Data {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("training data: %w", err)
		}
		more, err := training.Read(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		examples = append(examples, more...)
	}
	corrections, err := training.ReadCorrections(ctx, js)
	if err != nil {
		return err
	}
	toEsc := 0
	for _, corr := range corrections {
		examples = append(examples, corr.Example(c.CorrectionWeight))
		if corr.Rerouted.To == events.QueueEscalation {
			toEsc++
		}
	}
	fmt.Fprintf(out, "corrections in the stream: %d re-routed tickets (%d to escalation, %d to support), each counted %g times\n",
		len(corrections), toEsc, len(corrections)-toEsc, c.CorrectionWeight)
	model, err := router.Train(examples, rules, router.DefaultTrainOptions())
	if err != nil {
		return err
	}
	before := router.NewClassifier(rules, current, router.ClassifierConfig{})
	after := router.NewClassifier(rules, model, router.ClassifierConfig{})
	agreeBefore, agreeAfter := 0, 0
	for _, corr := range corrections {
		want := corr.Rerouted.To == events.QueueEscalation
		if before.Decide(corr.Ticket, corr.Enrichment).Technical == want {
			agreeBefore++
		}
		if after.Decide(corr.Ticket, corr.Enrichment).Technical == want {
			agreeAfter++
		}
	}
	fmt.Fprintf(out, "trained on %d examples (%d corrections); the corrected tickets: the current model agrees with %d of %d people, the new one with %d\n",
		len(examples), len(corrections), agreeBefore, len(corrections), agreeAfter)
	routed, err := training.ReadRouted(ctx, js)
	if err != nil {
		return err
	}
	d := training.Compare(before, after, routed)
	fmt.Fprintf(out, "on the %d routed tickets in the stream, the new model would change:\n", d.Tickets)
	fmt.Fprintf(out, "  queue: %d to escalation, %d to support\n  needs triage: %d more, %d fewer\n  severity: %d\n  component: %d\n",
		d.ToEscalation, d.ToSupport, d.IntoTriage, d.OutOfTriage, d.Severity, d.Component)
	for i, f := range d.Flips {
		if i == c.Show {
			fmt.Fprintf(out, "  … and %d more\n", len(d.Flips)-c.Show)
			break
		}
		fmt.Fprintf(out, "  %s %q: %s → %s\n", f.TicketID, f.Subject, summary(f.Before), summary(f.After))
	}
	if c.DryRun {
		fmt.Fprintln(out, "dry run: nothing written")
		return nil
	}
	b, err := model.Marshal()
	if err != nil {
		return err
	}
	// A new file renamed over the old one: a router never reads half.
	tmp := filepath.Join(filepath.Dir(c.Out), "."+filepath.Base(c.Out)+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	if err := os.Rename(tmp, c.Out); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	fmt.Fprintf(out, "wrote %s; routers started with --model %s load it within their --reload-every (or on SIGHUP)\n", c.Out, c.Out)
	return nil
}

func summary(r events.Routing) string {
	s := fmt.Sprintf("%s %s %s (%.2f)", r.Queue, r.Severity, r.Component, r.Confidence)
	if r.NeedsTriage {
		s += " needs triage"
	}
	return s
}
