// Command intake runs the intake service on its own against a NATS server.
package main

import (
	"context"
	"os"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/intake"
)

func main() {
	var cfg intake.Config
	os.Exit(service.Main("intake", &cfg, os.Args[1:], func(ctx context.Context, log *zap.Logger) error {
		s, err := intake.New(ctx, cfg, log)
		if err != nil {
			return err
		}
		return s.Run(ctx)
	}))
}
