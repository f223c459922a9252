package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

func connect(t *testing.T) jetstream.JetStream {
	t.Helper()
	srv := testkit.RunJetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, js, err := bus.Connect(ctx, srv.ClientURL(), "test", zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	topo := bus.DefaultTopology()
	if err := bus.EnsureStreams(ctx, js, topo.SubmissionsStream(), topo.TicketsStream(), topo.DeadLettersStream()); err != nil {
		t.Fatal(err)
	}
	// Ensuring twice is how every replica starts: it must be harmless.
	if err := bus.EnsureStreams(ctx, js, topo.SubmissionsStream(), topo.TicketsStream(), topo.DeadLettersStream()); err != nil {
		t.Fatalf("second ensure: %v", err)
	}
	return js
}

func fastConsumer(durable string) bus.ConsumerConfig {
	cfg := bus.DefaultConsumerConfig(bus.StreamSubmissions, durable, "tickets.submitted.*")
	cfg.MaxDeliver = 3
	// Failures retry after the short backoff, never after the ack wait:
	// a long one keeps a slow machine from redelivering a message whose
	// dead letter is still being written.
	cfg.AckWait = 10 * time.Second
	cfg.HandlerTimeout = 5 * time.Second
	cfg.Backoff = []time.Duration{20 * time.Millisecond}
	cfg.Concurrency = 4
	return cfg
}

func publish(t *testing.T, js jetstream.JetStream, id string) {
	t.Helper()
	_, err := bus.Publish(context.Background(), js, bus.Event{
		Subject: "tickets.submitted." + id, Type: "test", ID: "submitted:" + id, Source: "test", About: id,
		Time: time.Now(), Data: map[string]string{"id": id},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, 15*time.Second, func() error {
		if !cond() {
			return errors.New("waiting for " + what)
		}
		return nil
	})
}

func deadLetters(t *testing.T, js jetstream.JetStream) []bus.DeadLetter {
	t.Helper()
	dls, err := bus.ListDeadLetters(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	return dls
}

func TestPoisonMessageIsDeadLetteredAfterMaxDeliverAndReplayed(t *testing.T) {
	js := connect(t)
	var attempts, healed atomic.Int32
	var broken atomic.Bool
	broken.Store(true)
	handler := func(_ context.Context, m jetstream.Msg) error {
		if m.Subject() != "tickets.submitted.poison" {
			return nil
		}
		if broken.Load() {
			attempts.Add(1)
			return errors.New("downstream refused it")
		}
		healed.Add(1)
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Consume(ctx, js, fastConsumer("enricher"), handler, zaptest.NewLogger(t), nil) }()
	defer func() { cancel(); <-done }()

	publish(t, js, "poison")
	waitFor(t, "a dead letter", func() bool { return len(deadLetters(t, js)) == 1 })
	if got := attempts.Load(); got != 3 {
		t.Fatalf("handler ran %d times before dead-lettering, want MaxDeliver=3", got)
	}
	dl := deadLetters(t, js)[0]
	if dl.Kind != bus.KindHandler || dl.Consumer != "enricher" || dl.Subject != "tickets.submitted.poison" ||
		dl.Deliveries != 3 || dl.Reason != "downstream refused it" || dl.EventType != "test" {
		t.Fatalf("dead letter = %+v", dl)
	}

	broken.Store(false)
	if _, err := bus.ReplayDeadLetter(context.Background(), js, dl.Seq); err != nil {
		t.Fatalf("replay: %v", err)
	}
	waitFor(t, "the replayed message to be handled", func() bool { return healed.Load() == 1 })
	if n := len(deadLetters(t, js)); n != 0 {
		t.Fatalf("%d dead letters left after replay, want 0", n)
	}
}

func TestPermanentErrorIsDeadLetteredAtOnce(t *testing.T) {
	js := connect(t)
	var attempts atomic.Int32
	handler := func(context.Context, jetstream.Msg) error {
		attempts.Add(1)
		return bus.Permanent(fmt.Errorf("decode: %w", errors.New("bad json")))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Consume(ctx, js, fastConsumer("router"), handler, zaptest.NewLogger(t), nil) }()
	defer func() { cancel(); <-done }()

	publish(t, js, "malformed")
	waitFor(t, "a dead letter", func() bool { return len(deadLetters(t, js)) == 1 })
	if got := attempts.Load(); got != 1 {
		t.Fatalf("permanent failure handled %d times, want 1", got)
	}
	if r := deadLetters(t, js)[0].Reason; r != "decode: bad json" {
		t.Fatalf("reason %q", r)
	}
}

// A worker that dies without acking never gives a verdict; the server's
// max-deliveries advisory is captured so the message is not lost.
func TestSilentWorkerEndsInDeadLettersThroughAdvisory(t *testing.T) {
	js := connect(t)
	ctx := context.Background()
	cons, err := js.CreateOrUpdateConsumer(ctx, bus.StreamSubmissions, jetstream.ConsumerConfig{
		Durable: "crashy", FilterSubject: "tickets.submitted.*", AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: 200 * time.Millisecond, MaxDeliver: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, js, "lost-worker")
	for range 2 { // take it twice and never ack: a crashed worker
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for range batch.Messages() {
		}
	}
	// The server notices the exhausted message when it next tries to
	// deliver, as it does for a live consumer that keeps pulling.
	if _, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the max-deliveries advisory", func() bool { return len(deadLetters(t, js)) == 1 })
	dl := deadLetters(t, js)[0]
	if dl.Kind != bus.KindMaxDeliveries || dl.Consumer != "crashy" || dl.StreamSeq != 1 {
		t.Fatalf("dead letter = %+v", dl)
	}
	seq, err := bus.ReplayDeadLetter(ctx, js, dl.Seq)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	stream, _ := js.Stream(ctx, bus.StreamSubmissions)
	m, err := stream.GetMsg(ctx, seq)
	if err != nil || m.Subject != "tickets.submitted.lost-worker" {
		t.Fatalf("replayed message %d: %v %+v", seq, err, m)
	}
}

func TestConsumerConfigValidate(t *testing.T) {
	good := fastConsumer("x")
	for _, tc := range []struct {
		name   string
		mutate func(*bus.ConsumerConfig)
	}{
		{"no durable", func(c *bus.ConsumerConfig) { c.Durable = "" }},
		{"zero max deliver", func(c *bus.ConsumerConfig) { c.MaxDeliver = 0 }},
		{"handler outlives ack wait", func(c *bus.ConsumerConfig) { c.HandlerTimeout = c.AckWait }},
		{"no backoff", func(c *bus.ConsumerConfig) { c.Backoff = nil }},
		{"no concurrency", func(c *bus.ConsumerConfig) { c.Concurrency = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.mutate(&c)
			if err := c.Validate(); err == nil {
				t.Fatal("Validate accepted a bad config")
			}
		})
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config rejected: %v", err)
	}
}

// A consumer deleted under a running service ends Consume with an error, so
// the service stops instead of looking healthy while consuming nothing.
func TestDeletedConsumerEndsConsume(t *testing.T) {
	js := connect(t)
	cfg := fastConsumer("queue")
	done := make(chan error, 1)
	go func() {
		done <- bus.Consume(t.Context(), js, cfg, func(context.Context, jetstream.Msg) error { return nil }, zaptest.NewLogger(t), nil)
	}()
	// A waiting pull request means Consume has created its consumer and
	// is consuming; deleting it any earlier fails the creation instead.
	waitFor(t, "the consumer's first pull", func() bool {
		c, err := js.Consumer(t.Context(), cfg.Stream, cfg.Durable)
		if err != nil {
			return false
		}
		info, err := c.Info(t.Context())
		return err == nil && info.NumWaiting > 0
	})
	if err := js.DeleteConsumer(t.Context(), cfg.Stream, cfg.Durable); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "stopped unexpectedly") {
			t.Fatalf("Consume returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Consume kept running without its consumer")
	}
}

// A handling put off with Later comes back after the backoff and is neither
// a failure nor a dead letter.
func TestLaterRetriesWithoutFailing(t *testing.T) {
	js := connect(t)
	var deliveries atomic.Int32
	var handledOn atomic.Uint64
	handler := func(_ context.Context, m jetstream.Msg) error {
		deliveries.Add(1)
		meta, err := m.Metadata()
		if err != nil {
			return err
		}
		if meta.NumDelivered == 1 {
			return bus.Later(errors.New("not yet"))
		}
		handledOn.Store(meta.NumDelivered)
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bus.Consume(ctx, js, fastConsumer("later"), handler, zaptest.NewLogger(t), nil) }()
	defer func() { cancel(); <-done }()
	publish(t, js, "deferred")
	waitFor(t, "the deferred message to be handled", func() bool { return handledOn.Load() != 0 })
	if got := handledOn.Load(); got != 2 {
		t.Fatalf("handled on delivery %d, want 2", got)
	}
	if n := len(deadLetters(t, js)); n != 0 {
		t.Fatalf("%d dead letters for a deferred message", n)
	}
}

// A handler that says when to come back is retried then, not after the
// consumer's backoff.
func TestRetryAfterUsesTheGivenDelay(t *testing.T) {
	js := connect(t)
	cfg := fastConsumer("retry-after")
	cfg.Backoff = []time.Duration{time.Hour} // would never come back in time
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- bus.Consume(ctx, js, cfg, func(context.Context, jetstream.Msg) error {
			if calls.Add(1) == 1 {
				return bus.RetryAfter(errors.New("rate limited"), 50*time.Millisecond)
			}
			return nil
		}, zaptest.NewLogger(t), nil)
	}()
	publish(t, js, "ra-1")
	waitFor(t, "the second delivery", func() bool { return calls.Load() >= 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if dls := deadLetters(t, js); len(dls) != 0 {
		t.Fatalf("dead letters: %+v", dls)
	}
}
