package service

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

type testConfig struct {
	Config `embed:""`
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthReadinessMetrics(t *testing.T) {
	srv := testkit.RunJetStream(t)
	var cfg testConfig
	if err := config.Load("test", &cfg, []string{"--nats-url", srv.ClientURL()}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b, err := Start(ctx, "test", cfg.Config, "127.0.0.1:0", zaptest.NewLogger(t))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var ready atomic.Bool
	b.AddReadinessCheck(func() error {
		if !ready.Load() {
			return io.ErrUnexpectedEOF
		}
		return nil
	})
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	if code, body := get(t, b.URL()+"/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz %d %s", code, body)
	}
	if code, body := get(t, b.URL()+"/readyz"); code != 503 || !strings.Contains(body, "unexpected EOF") {
		t.Fatalf("readyz with a failing check: %d %s", code, body)
	}
	ready.Store(true)
	if code, body := get(t, b.URL()+"/readyz"); code != 200 {
		t.Fatalf("readyz %d %s", code, body)
	}
	if code, body := get(t, b.URL()+"/metrics"); code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("metrics %d", code)
	}
	// A missing stream makes the service unready, with the reason.
	if err := b.JS.DeleteStream(ctx, bus.StreamTickets); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, b.URL()+"/readyz"); code != 503 || !strings.Contains(body, "stream TICKETS") {
		t.Fatalf("readyz without its stream: %d %s", code, body)
	}
	// Without NATS: unready, still healthy.
	srv.Shutdown()
	testkit.Eventually(t, 5*time.Second, func() error {
		if code, body := get(t, b.URL()+"/readyz"); code != 503 || !strings.Contains(body, "nats not connected") {
			return fmt.Errorf("readyz after NATS went away: %d %s", code, body)
		}
		return nil
	})
	if code, _ := get(t, b.URL()+"/healthz"); code != 200 {
		t.Fatalf("healthz without NATS: %d", code)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--stream-replicas", "0"}, "--stream-replicas must be 1 to 5"},
		{[]string{"--max-deliver", "0"}, "--max-deliver must be at least 1"},
		{[]string{"--ack-wait", "1s"}, "--ack-wait must be at least 2s"},
		{[]string{"--concurrency", "0"}, "--concurrency must be at least 1"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--retry-backoff", "soon"}, "--retry-backoff"},
	} {
		var cfg testConfig
		err := config.Load("test", &cfg, tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
	var cfg testConfig
	if err := config.Load("test", &cfg, nil); err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
}
