package main

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/dev/natsembed"
	"github.com/triage-pipeline/triage/libs/logging"
	"github.com/triage-pipeline/triage/libs/service"
)

type natsdCmd struct {
	Host     string         `default:"127.0.0.1" help:"Listen address."`
	Port     int            `default:"4222" help:"Client port; 0 picks a free one (the log line \"started\" says which)."`
	StoreDir string         `name:"store-dir" required:"" type:"path" help:"Directory for JetStream's files; streams survive a restart on it."`
	Log      logging.Config `embed:""`
}

// Run serves the embedded NATS server, with the pipeline's settings
// (JetStream, every write synced), on its own until SIGINT or SIGTERM: the
// benchmark runs it as a process of its own to measure its CPU apart.
func (c *natsdCmd) Run() error {
	return service.Run(c.Log, func(ctx context.Context, log *zap.Logger) error {
		port := c.Port
		if port == 0 {
			port = -1 // nats-server's "any free port"; its 0 means 4222
		}
		srv, err := natsembed.Start(natsembed.Options{Host: c.Host, Port: port, StoreDir: c.StoreDir})
		if err != nil {
			return err
		}
		fmt.Printf("NATS server with JetStream on %s (files in %s); Ctrl-C stops it\n", srv.ClientURL(), c.StoreDir)
		log.Info("started", zap.String("url", srv.ClientURL()))
		<-ctx.Done()
		srv.Shutdown()
		srv.WaitForShutdown()
		log.Info("stopped")
		return nil
	})
}
