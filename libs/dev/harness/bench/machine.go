package bench

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// machine describes where the figures were taken: shared machines are
// noisy, so figures travel with the machine's size.
func machine() string {
	mem := "unknown memory"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			var kb int64
			if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
				mem = fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return fmt.Sprintf("%d CPUs, %s, %s/%s, %s", runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// syncedWrites measures how many small writes per second, each followed by
// fsync, the disk under dir takes. With sync_interval always every stored
// message costs one, so this bounds the pipeline on this machine.
func syncedWrites(dir string, n int) (float64, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return 0, fmt.Errorf("fsync probe: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, eventSize)
	start := time.Now()
	for range n {
		if _, err := f.Write(buf); err != nil {
			return 0, fmt.Errorf("fsync probe write: %w", err)
		}
		if err := f.Sync(); err != nil {
			return 0, fmt.Errorf("fsync probe sync: %w", err)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
