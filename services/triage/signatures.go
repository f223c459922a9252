package main

import (
	"context"
	"os"

	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/libs/signature"
)

type signaturesCmd struct{}

// Run reads log messages on stdin, one per line, and prints one signature
// id per line in the same order.
func (c *signaturesCmd) Run() error {
	ctx, stop := service.SignalContext(context.Background())
	defer stop()
	return signature.RunCLI(ctx, os.Stdin, os.Stdout)
}
