// Command router runs the router service on its own against a NATS server.
package main

import (
	"context"
	"os"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/router"
)

func main() {
	var cfg router.Config
	os.Exit(service.Main("router", &cfg, os.Args[1:], func(ctx context.Context, log *zap.Logger) error {
		s, err := router.New(ctx, cfg, log)
		if err != nil {
			return err
		}
		return s.Run(ctx)
	}))
}
