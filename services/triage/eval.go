package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/triage-pipeline/triage/libs/demoworld"
	"github.com/triage-pipeline/triage/libs/logsearch/demoeval"
	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/libs/shareddata"
	"github.com/triage-pipeline/triage/libs/signature"
	"github.com/triage-pipeline/triage/services/router"
)

type evalCmd struct {
	LogHub string   `name:"loghub" type:"path" help:"LogHub samples folder (default: ../shared/datasets/loghub beside the repository)."`
	Seeds  []uint64 `name:"seeds" default:"1,2,3" help:"Demo worlds to score the log search on."`
}

// Run prints signature Grouping Accuracy on LogHub and the recall and
// precision of attached logs on labelled demo tickets.
func (c *evalCmd) Run() error {
	ctx, stop := service.SignalContext(context.Background())
	defer stop()
	dir := c.LogHub
	if dir == "" {
		shared, err := shareddata.Dir()
		if err != nil {
			return fmt.Errorf("find the LogHub samples (or pass --loghub): %w", err)
		}
		dir = filepath.Join(shared, "datasets", "loghub")
	}
	fmt.Println("== error signatures: Grouping Accuracy on LogHub 2k samples (one configuration)")
	sigErr := signature.RunEval(ctx, dir, os.Stdout)
	for _, seed := range c.Seeds {
		fmt.Printf("\n== log search on demo world seed %d\n", seed)
		if err := evalDemo(ctx, seed); err != nil {
			return err
		}
	}
	return sigErr
}

func evalDemo(ctx context.Context, seed uint64) error {
	d, stop, err := demoeval.Serve(ctx, demoworld.Config{Seed: seed})
	if err != nil {
		return err
	}
	defer stop()
	w, srv := d.World, d.Server
	before := srv.Stats().ByEndpoint["msearch"]
	rep, err := demoeval.Evaluate(ctx, w, d.Finder)
	if err != nil {
		return err
	}
	rep.Print(os.Stdout)
	fmt.Printf("Elasticsearch requests: %d _msearch for %d tickets\n", srv.Stats().ByEndpoint["msearch"]-before, len(w.Tickets))
	return evalRouting(w, rep)
}

// evalRouting scores the router's built-in rules against the demo labels,
// with the logs the finder attached.
func evalRouting(w *demoworld.World, rep demoeval.Report) error {
	rules, err := router.DefaultRules()
	if err != nil {
		return err
	}
	var tech, sev, comp int
	var wrong []string
	for _, t := range w.Tickets {
		d := rules.Decide(demoeval.Ticket(t), rep.Enrichments[t.ID])
		if d.Technical == t.Technical {
			tech++
		} else {
			wrong = append(wrong, fmt.Sprintf("  labelled technical=%v, routed %s: %s", t.Technical, d.Queue, t.Subject))
		}
		if d.Severity == t.Severity {
			sev++
		}
		if d.Component == t.Component {
			comp++
		}
	}
	n := float64(len(w.Tickets))
	fmt.Printf("routing (built-in rules): technical vs not %.3f, severity %.3f, component %.3f on %d tickets\n",
		float64(tech)/n, float64(sev)/n, float64(comp)/n, len(w.Tickets))
	for _, line := range wrong[:min(5, len(wrong))] {
		fmt.Println(line)
	}
	return nil
}
