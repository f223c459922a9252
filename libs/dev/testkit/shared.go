package testkit

import (
	"path/filepath"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/shareddata"
)

// SharedPath joins elems under the shared folder (vendors' contracts and
// datasets), skipping the test when the folder is absent (a checkout without
// ../shared); CI always has it.
func SharedPath(tb testing.TB, elems ...string) string {
	tb.Helper()
	dir, err := shareddata.Dir()
	if err != nil {
		tb.Skipf("shared data not available: %v", err)
	}
	return filepath.Join(append([]string{dir}, elems...)...)
}
