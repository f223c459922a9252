package testkit

import (
	"context"
	"testing"
)

// Runner is a started service.
type Runner interface {
	Run(ctx context.Context) error
}

// RunService runs svc until the test ends; the test's context ends first, then the
// cleanup waits for svc to finish its in-flight work and fails the test if
// Run returned an error.
func RunService(tb testing.TB, svc Runner) {
	tb.Helper()
	done := make(chan error, 1)
	go func() { done <- svc.Run(tb.Context()) }()
	tb.Cleanup(func() {
		if err := <-done; err != nil {
			tb.Errorf("service run: %v", err)
		}
	})
}
