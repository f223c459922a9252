// Command trainmodel trains the router's built-in model from the shipped
// training data and the built-in rules, with the default options (fixed
// seed), and writes model.json: `go generate ./services/router`. The same
// data, rules and options give the same file.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/triage-pipeline/triage/services/router"
	"github.com/triage-pipeline/triage/services/router/training"
)

func main() {
	out := flag.String("out", "model.json", "where to write the model")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintf(os.Stderr, "trainmodel: %v\n", err)
		os.Exit(1)
	}
}

func run(out string) error {
	examples, err := training.Dev()
	if err != nil {
		return err
	}
	rules, err := router.DefaultRules()
	if err != nil {
		return err
	}
	m, err := router.Train(examples, rules, router.DefaultTrainOptions())
	if err != nil {
		return err
	}
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	fmt.Printf("trained on %d examples (rules %s); wrote %s (%d bytes)\n", len(examples), rules.Version, out, len(b))
	return nil
}
