package testkit

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	calls := 0
	err := Poll(5*time.Second, func() error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("Poll = %v after %d calls, want nil after 3", err, calls)
	}
	start := time.Now()
	err = Poll(100*time.Millisecond, func() error { return errors.New("never") })
	if err == nil || !strings.Contains(err.Error(), "never") {
		t.Fatalf("Poll on a false condition = %v, want its last error", err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Fatalf("Poll gave up after %s, before its timeout", time.Since(start))
	}
}
