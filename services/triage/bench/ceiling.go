// Package bench measures the pipeline: tickets offered to intake over HTTP
// at a fixed rate and at full speed, timed from the 202 to the moment the
// queue API shows them, against the bare JetStream ceiling of this machine.
package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// hops is how many consume-and-republish stages the ceiling runs, as the
// pipeline has (enricher, router, queue).
const hops = 3

// Ceiling publishes n messages of size bytes asynchronously and moves each
// through three consume-and-republish hops (four stored writes, as the
// pipeline's intake, enricher, router and queue make), on a server configured as the
// pipeline's (file storage, synchronous writes). It returns messages per
// second through the last hop.
func Ceiling(ctx context.Context, n, size int) (float64, error) {
	srv, _, stop, err := scratchNATS("triage-bench-ceiling-")
	if err != nil {
		return 0, err
	}
	defer stop()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		return 0, fmt.Errorf("connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(16384))
	if err != nil {
		return 0, fmt.Errorf("jetstream: %w", err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "CEILING", Subjects: []string{"ceiling.>"}, Storage: jetstream.FileStorage,
	}); err != nil {
		return 0, fmt.Errorf("create stream: %w", err)
	}
	var delivered atomic.Int64
	finished := make(chan struct{})
	for hop := 1; hop <= hops; hop++ {
		cons, err := js.CreateOrUpdateConsumer(ctx, "CEILING", jetstream.ConsumerConfig{
			Durable: "hop" + strconv.Itoa(hop), FilterSubject: fmt.Sprintf("ceiling.h%d.*", hop-1),
			AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 8192,
		})
		if err != nil {
			return 0, fmt.Errorf("consumer: %w", err)
		}
		last := hop == hops
		cc, err := cons.Consume(func(m jetstream.Msg) {
			out := nats.NewMsg(fmt.Sprintf("ceiling.h%d.x", hop))
			out.Data = m.Data()
			f, err := js.PublishMsgAsync(out)
			if err != nil {
				_ = m.Nak()
				return
			}
			go func() {
				select {
				case <-f.Ok():
					_ = m.Ack()
					if last && delivered.Add(1) == int64(n) {
						close(finished)
					}
				case <-f.Err():
					_ = m.Nak()
				}
			}()
		}, jetstream.PullMaxMessages(512))
		if err != nil {
			return 0, fmt.Errorf("consume: %w", err)
		}
		defer cc.Stop()
	}
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		m := nats.NewMsg("ceiling.h0.x")
		m.Data = payload
		for {
			_, err := js.PublishMsgAsync(m)
			if err == nil {
				break
			}
			if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				return 0, fmt.Errorf("publish: %w", err)
			}
			// Back-pressure: let outstanding acks drain.
			time.Sleep(time.Millisecond)
		}
	}
	select {
	case <-finished:
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(5 * time.Minute):
		return 0, fmt.Errorf("ceiling: only %d of %d messages made it through %d hops", delivered.Load(), n, hops)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
