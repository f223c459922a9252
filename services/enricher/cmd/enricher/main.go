// Command enricher runs the enricher service on its own against a NATS server.
package main

import (
	"context"
	"os"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/enricher"
)

func main() {
	var cfg enricher.Config
	os.Exit(service.Main("enricher", &cfg, os.Args[1:], func(ctx context.Context, log *zap.Logger) error {
		s, err := enricher.New(ctx, cfg, log)
		if err != nil {
			return err
		}
		return s.Run(ctx)
	}))
}
