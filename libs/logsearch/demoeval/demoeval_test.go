package demoeval

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/demoworld"
	"github.com/triage-pipeline/triage/libs/esdev"
	"github.com/triage-pipeline/triage/libs/logsearch"
)

// TestDemoTicketsGetTheirLogs holds the enricher's search to the labels of
// the demo world: recall at least 0.9 and precision at least 0.7.
func TestDemoTicketsGetTheirLogs(t *testing.T) {
	for _, seed := range []uint64{1, 3} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) { checkDemoWorld(t, seed) })
	}
}

func checkDemoWorld(t *testing.T, seed uint64) {
	w := demoworld.Generate(demoworld.Config{Seed: seed})
	srv := esdev.New(esdev.Options{})
	if err := Load(srv, w); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url, stop, err := srv.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	var cfg struct {
		ES logsearch.Config `embed:""`
	}
	if err := config.Load("test", &cfg, []string{"--es-addresses", url}); err != nil {
		t.Fatal(err)
	}
	es, err := logsearch.NewClient(cfg.ES)
	if err != nil {
		t.Fatal(err)
	}
	s := logsearch.NewSearcher(es, cfg.ES, nil)
	go func() { _ = s.Run(ctx) }()
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	f, err := logsearch.NewFinder(cfg.ES, s, Zones(w), tokyo)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(ctx, w, f)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.Print(&b)
	t.Log("\n" + b.String())
	if rep.Labelled < 30 {
		t.Fatalf("only %d labelled tickets; the demo world should have many", rep.Labelled)
	}
	if rep.Recall < 0.9 || rep.Precision < 0.7 {
		t.Fatalf("recall %.3f (want ≥ 0.9), precision %.3f (want ≥ 0.7)", rep.Recall, rep.Precision)
	}
}
