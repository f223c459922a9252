package service

import (
	"context"
	"errors"
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

// Main is the body of a service's thin main: load the configuration, then
// Run; it returns the exit code.
func Main(name string, cfg Configured, args []string, run func(ctx context.Context, log *zap.Logger) error) int {
	if err := config.Load(name, cfg, args); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2
	}
	if err := Run(cfg.LogConfig(), run); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

// Run builds the logger and runs fn until SIGINT or SIGTERM.
func Run(lc logging.Config, fn func(ctx context.Context, log *zap.Logger) error) error {
	log, err := logging.New(lc)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	ctx, stop := SignalContext(context.Background())
	defer stop()
	if err := fn(ctx, log); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
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

// Serve is the body of a service's run: build it with newService from the
// configuration in *cfg (read when it runs, after flags are parsed), then
// run it until ctx ends.
func Serve[C any, S interface{ Run(context.Context) error }](cfg *C, newService func(context.Context, C, *zap.Logger) (S, error)) func(context.Context, *zap.Logger) error {
	return func(ctx context.Context, log *zap.Logger) error {
		s, err := newService(ctx, *cfg, log)
		if err != nil {
			return err
		}
		return s.Run(ctx)
	}
}
