package main

import (
	"context"
	"fmt"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/demoworld"
	"github.com/triage-pipeline/triage/libs/dev/esdev"
	"github.com/triage-pipeline/triage/libs/dev/harness/demoeval"
	"github.com/triage-pipeline/triage/libs/dev/harness/pipeline"
	"github.com/triage-pipeline/triage/libs/service"
)

type esdevCmd struct {
	Addr string `default:"127.0.0.1:9200" help:"Listen address."`
	Demo bool   `default:"true" negatable:"" help:"Load the demo world's logs (ending now)."`
	Seed uint64 `default:"1" help:"Demo world seed."`
}

// Run serves the Elasticsearch-compatible development server on its own.
func (c *esdevCmd) Run() error {
	ctx, stop := service.SignalContext(context.Background())
	defer stop()
	srv := esdev.New(esdev.Options{})
	if c.Demo {
		w := demoworld.Generate(demoworld.Config{Seed: c.Seed, End: pipeline.DemoWorldEnd(time.Now())})
		if err := demoeval.Load(srv, w); err != nil {
			return err
		}
		fmt.Printf("demo world loaded: %d logs, %d tenants, %d labelled tickets\n", len(w.Logs), len(w.Tenants), len(w.Tickets))
	}
	fmt.Printf("Elasticsearch-compatible development server on http://%s (faults: POST /_dev/faults)\n", c.Addr)
	return srv.ListenAndServe(ctx, c.Addr)
}
