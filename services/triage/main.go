// Command triage runs any triage service by name, or all of them in one
// process (`triage dev`), and holds the operators' tools (dead letters,
// benchmarks).
package main

import (
	"fmt"
	"os"

	"github.com/alecthomas/kong"
)

type cli struct {
	Run         runCmd         `cmd:"" help:"Run one service against a NATS server."`
	Submit      submitCmd      `cmd:"" help:"Submit one ticket to intake; safe to run again after a timeout."`
	Dev         devCmd         `cmd:"" help:"Run the whole pipeline in one process with an embedded NATS server."`
	Deadletters deadlettersCmd `cmd:"" name:"deadletters" help:"List and replay dead letters."`
	Bench       benchCmd       `cmd:"" help:"Measure the pipeline against the bare JetStream ceiling and print figures."`
	Signatures  signaturesCmd  `cmd:"" help:"Read log messages on stdin, print one signature id per line."`
	Eval        evalCmd        `cmd:"" help:"Print signature accuracy on LogHub and log-search recall/precision on the demo world."`
	Esdev       esdevCmd       `cmd:"" name:"esdev" help:"Run the Elasticsearch-compatible development server on its own."`
	Natsd       natsdCmd       `cmd:"" name:"natsd" help:"Development: run the embedded NATS server on its own (the benchmark runs it so)."`
	Reconcile   reconcileCmd   `cmd:"" help:"List accepted tickets that never reached a queue."`
	Tokens      tokensCmd      `cmd:"" help:"Issue, list and revoke people's tokens."`
	Classify    classifyCmd    `cmd:"" help:"Read tickets as JSON lines on stdin, print one routing decision per line."`
	Routing     routingCmd     `cmd:"" help:"Retrain the router from people's re-routes (retrain), or show what a retrain would change (diff)."`
}

func main() {
	var c cli
	ctx := kong.Parse(&c,
		kong.Name("triage"),
		kong.Description("Escalation triage pipeline: intake → enricher → router → queue, bugfiler."),
		kong.UsageOnError(),
	)
	if err := ctx.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "triage: %v\n", err)
		os.Exit(1)
	}
}
