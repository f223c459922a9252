package pipeline

import (
	"context"
	"os"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// sharedES is the development Elasticsearch every pipeline of this
// package's tests searches: loading the demo world costs seconds, and the
// logs are the same for all of them.
var sharedES *DemoES

// TestMain starts the shared Elasticsearch, runs the tests, and fails the
// package if any leaves a goroutine running.
func TestMain(m *testing.M) {
	testkit.Main(m, func() (func(), error) {
		dir, err := os.MkdirTemp("", "triage-pipeline-es-")
		if err != nil {
			return nil, err
		}
		if sharedES, err = StartDemoES(context.Background(), "127.0.0.1:0", dir, 1); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		return func() { sharedES.Stop(); os.RemoveAll(dir) }, nil
	})
}
