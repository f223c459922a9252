package testkit

import (
	"fmt"
	"testing"
	"time"
)

// Poll calls check until it returns nil or timeout has passed, and returns
// check's last error then. It backs off from 10ms to 250ms between calls, so
// a fast condition is seen at once and a slow one costs little CPU. Use it
// from goroutines other than the test's; the test itself uses Eventually.
func Poll(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	wait := 10 * time.Millisecond
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still not true after %s: %w", timeout, err)
		}
		time.Sleep(min(wait, time.Until(deadline)+time.Millisecond))
		wait = min(wait*2, 250*time.Millisecond)
	}
}

// Eventually fails the test unless check returns nil within timeout (the
// way nats-server's tests use checkFor): it says what was still wrong.
func Eventually(tb testing.TB, timeout time.Duration, check func() error) {
	tb.Helper()
	if err := Poll(timeout, check); err != nil {
		tb.Fatal(err)
	}
}
