package service

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/logging"
)

// LogConfig lets Main build the logger from any service's configuration.
func (c *Config) LogConfig() logging.Config { return c.Log }

// Configured is a service configuration that embeds Config.
type Configured interface{ LogConfig() logging.Config }

// Main is the body of a service's thin main: load the configuration, build
// the logger, run until SIGINT or SIGTERM, and return the exit code.
func Main(name string, cfg Configured, args []string, run func(ctx context.Context, log *zap.Logger) error) int {
	if err := config.Load(name, cfg, args); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2
	}
	log, err := logging.New(cfg.LogConfig())
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2
	}
	defer func() { _ = log.Sync() }()
	ctx, stop := SignalContext(context.Background())
	defer stop()
	if err := run(ctx, log); err != nil {
		log.Error("exiting", zap.Error(err))
		return 1
	}
	return 0
}

// SignalContext is cancelled by SIGINT or SIGTERM; a second signal exits at
// once, for when a graceful shutdown hangs.
func SignalContext(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
			signal.Stop(sigs)
			return
		}
		<-sigs
		os.Exit(130)
	}()
	return ctx, func() { signal.Stop(sigs); cancel() }
}
