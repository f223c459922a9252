// Command queue runs the queue service on its own against a NATS server.
package main

import (
	"context"
	"os"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/queue"
)

func main() {
	var cfg queue.Config
	os.Exit(service.Main("queue", &cfg, os.Args[1:], func(ctx context.Context, log *zap.Logger) error {
		s, err := queue.New(ctx, cfg, log)
		if err != nil {
			return err
		}
		return s.Run(ctx)
	}))
}
