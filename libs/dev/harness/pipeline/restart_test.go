package pipeline

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestRestartLosesAndDoublesNothing stops the pipeline while tickets are in
// flight, starts it again on the same data directory, and lets the clients
// retry what was not acknowledged (as a real client with an Idempotency-Key
// does). Every ticket must end up queued exactly once.
func TestRestartLosesAndDoublesNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash bool
	}{
		{name: "graceful stop"},
		// The NATS server dies first: services lose it mid-publish and
		// mid-ack, then stop.
		{name: "nats crash", crash: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			subs := sampleTickets(120)
			client := &http.Client{Timeout: 5 * time.Second}

			first := startPipeline(t, dir)
			accepted := make(map[string]string)
			var mu sync.Mutex
			var wg sync.WaitGroup
			// The second half is sent once the first half has been
			// answered (or failed: a refused ticket is resubmitted below),
			// and races the stop.
			var firstHalf sync.WaitGroup
			half := make(chan struct{})
			for i, s := range subs {
				early := i < len(subs)/2
				wg.Add(1)
				if early {
					firstHalf.Add(1)
				}
				go func() {
					defer wg.Done()
					if early {
						defer firstHalf.Done()
					} else {
						<-half
					}
					r, err := submit(context.Background(), client, first.Pipeline, s)
					if err == nil && r.status == http.StatusAccepted {
						mu.Lock()
						accepted[s.key] = r.id
						mu.Unlock()
					}
				}()
			}
			firstHalf.Wait()
			close(half)
			if tc.crash {
				first.NATS.Shutdown()
			}
			first.shutdown(t)
			wg.Wait()
			t.Logf("%d of %d tickets accepted before the stop", len(accepted), len(subs))

			second := startPipeline(t, dir)
			for _, s := range subs {
				r, err := submit(context.Background(), client, second.Pipeline, s)
				if err != nil || r.status != http.StatusAccepted {
					t.Fatalf("resubmit %s after restart: status %d, err %v", s.key, r.status, err)
				}
				if prev, ok := accepted[s.key]; ok && prev != r.id {
					t.Fatalf("key %s: ticket %s before restart, %s after", s.key, prev, r.id)
				}
				accepted[s.key] = r.id
			}
			got := queueContents(t, second.Pipeline, len(subs))
			if len(got) != len(subs) {
				t.Fatalf("queues hold %d tickets after restart, want exactly %d", len(got), len(subs))
			}
			for key, id := range accepted {
				if _, ok := got[id]; !ok {
					t.Errorf("accepted ticket %s (key %s) is not queued", id, key)
				}
			}
			if n := countSubjects(t, second.Pipeline, "tickets.submitted.*"); n != len(subs) {
				t.Errorf("SUBMISSIONS holds %d submitted tickets, want %d", n, len(subs))
			}
		})
	}
}
