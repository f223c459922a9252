// Package leakcheck fails a test binary that leaves goroutines running.
package leakcheck

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// grace is how long goroutines that are already ending (connections closing
// after their server stopped) get before they count as leaks; goleak's own
// retries last under half a second, too short on a loaded machine.
const grace = 5 * time.Second

// Main runs the tests and then looks for leaked goroutines; use it as
// TestMain's body.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := settled(grace); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// settled waits up to d for no goroutine but the test's own to be left.
func settled(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		err := goleak.Find()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
