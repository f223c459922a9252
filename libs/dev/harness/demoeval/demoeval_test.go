package demoeval

import (
	"fmt"
	"strings"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/demoworld"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

// TestDemoTicketsGetTheirLogs holds the enricher's search to the labels of
// the demo world: recall at least 0.9 and precision at least 0.7.
func TestDemoTicketsGetTheirLogs(t *testing.T) {
	for _, seed := range []uint64{1, 3} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) { checkDemoWorld(t, seed) })
	}
}

func checkDemoWorld(t *testing.T, seed uint64) {
	d, stop, err := Serve(t.Context(), demoworld.Config{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	rep, err := Evaluate(t.Context(), d.World, d.Finder)
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
