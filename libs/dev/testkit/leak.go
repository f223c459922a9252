package testkit

import (
	"flag"
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

// Setup prepares what a package's tests share (built binaries, say) and
// returns how to release it.
type Setup func() (teardown func(), err error)

// Main is TestMain's body: it runs setup (after the flags are parsed, so
// setup may read testing.Short), the tests, the teardown, and then looks
// for leaked goroutines, failing the run if any is left.
func Main(m *testing.M, setup ...Setup) {
	flag.Parse()
	var teardowns []func()
	for _, s := range setup {
		td, err := s()
		if err != nil {
			fmt.Fprintf(os.Stderr, "test setup: %v\n", err)
			for _, t := range teardowns {
				t()
			}
			os.Exit(1)
		}
		teardowns = append(teardowns, td)
	}
	code := m.Run()
	for i := len(teardowns) - 1; i >= 0; i-- {
		teardowns[i]()
	}
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
