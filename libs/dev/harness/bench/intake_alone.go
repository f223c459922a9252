package bench

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/services/intake"
)

// intakeAlone offers tickets at a fixed rate to intake with nothing
// downstream: the time to 202 then shows what intake and its synced write
// cost by themselves, and the fixed-rate run's figure what the rest of the
// stack, sharing the machine, adds to it.
func intakeAlone(ctx context.Context, tickets []intake.SubmitRequest, perSecond int, d time.Duration) (Result, error) {
	srv, _, stop, err := scratchNATS("triage-bench-intake-")
	if err != nil {
		return Result{}, err
	}
	defer stop()
	var cfg intake.Config
	if err := config.Load("bench", &cfg, nil); err != nil {
		return Result{}, err
	}
	cfg.NATSURL, cfg.HTTPAddr = srv.ClientURL(), "127.0.0.1:0"
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	svc, err := intake.New(sctx, cfg, zap.NewNop())
	if err != nil {
		return Result{}, err
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(sctx) }()
	token, err := issueToken(ctx, srv.ClientURL())
	if err != nil {
		cancel()
		<-done
		return Result{}, err
	}
	pr := newLoadClient(svc.URL(), token, tickets)
	defer pr.client.CloseIdleConnections()
	n := int(float64(perSecond) * d.Seconds())
	start := time.Now()
	err = offer(ctx, perSecond, n, func(i int) {
		t0 := time.Now()
		_, err := pr.submit(ctx, i)
		took := time.Since(t0)
		pr.mu.Lock()
		defer pr.mu.Unlock()
		if err != nil {
			pr.failed++
			return
		}
		pr.accept = append(pr.accept, took)
		pr.lastSeen = time.Now()
	})
	if err != nil {
		return Result{}, err
	}
	elapsed := pr.lastSeen.Sub(start)
	cancel()
	if err := <-done; err != nil {
		return Result{}, fmt.Errorf("intake: %w", err)
	}
	return Result{
		Name: fmt.Sprintf("intake alone at %d/s for %s", perSecond, d), Tickets: n, Elapsed: elapsed,
		Throughput: float64(len(pr.accept)) / elapsed.Seconds(), Accept: percentiles(pr.accept), Failed: pr.failed,
	}, nil
}
