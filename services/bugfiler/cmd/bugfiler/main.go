// Command bugfiler runs the bug filer on its own against a NATS server.
package main

import (
	"context"
	"os"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/bugfiler"
)

func main() {
	var cfg bugfiler.Config
	os.Exit(service.Main("bugfiler", &cfg, os.Args[1:], func(ctx context.Context, log *zap.Logger) error {
		s, err := bugfiler.New(ctx, cfg, log)
		if err != nil {
			return err
		}
		return s.Run(ctx)
	}))
}
