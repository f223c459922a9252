package demoeval

import (
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/demoworld"
)

// BenchmarkDemoSearch is the enricher's search of every demo ticket against
// the development Elasticsearch holding the demo world: what the server
// costs the machine it shares with the pipeline in `make run` and the
// benchmark.
func BenchmarkDemoSearch(b *testing.B) {
	d, stop, err := Serve(b.Context(), demoworld.Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	for b.Loop() {
		if _, err := Evaluate(b.Context(), d.World, d.Finder); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(d.World.Tickets)), "ns/ticket")
}
