// Package bench measures the pipeline: tickets offered to intake over HTTP
// at a fixed rate and at full speed, timed from the 202 to the moment the
// queue API shows them, against the bare JetStream ceiling of this machine.
package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/dev/harness/procs"
)

// hops is how many consume-and-republish stages the ceiling runs, as the
// pipeline has (enricher, router, queue).
const hops = 3

// ceilingResult is the bare JetStream ceiling, and the CPU time its server
// and client used for it.
type ceilingResult struct {
	rate float64 // messages per second through the last hop
	cpu  *usage
}

// runCeiling measures the ceiling on a server of its own: with dev, a
// `triage natsd` process, so the server's CPU time is read apart from the
// client's (this process); without, a server in this process.
func runCeiling(ctx context.Context, dev procs.Command, n, size int) (ceilingResult, error) {
	if dev == nil {
		srv, _, stop, err := scratchNATS("triage-bench-ceiling-")
		if err != nil {
			return ceilingResult{}, err
		}
		defer stop()
		return ceiling(ctx, srv.ClientURL(), n, size, []part{selfPart("the whole process (server and client)")})
	}
	dir, err := os.MkdirTemp("", "triage-bench-ceiling-")
	if err != nil {
		return ceilingResult{}, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	srv, url, err := startNATSD(ctx, dev, dir)
	if err != nil {
		return ceilingResult{}, err
	}
	res, err := ceiling(ctx, url, n, size, []part{
		processPart("NATS server", false, srv),
		selfPart(fmt.Sprintf("client: publish + %d hops (this process)", hops)),
	})
	return res, errors.Join(err, stopAll([]*procs.Proc{srv}))
}

// ceiling publishes n messages of size bytes asynchronously to the server
// at url and moves each through three consume-and-republish hops (four
// stored writes, as the pipeline's intake, enricher, router and queue make),
// on a server configured as the pipeline's (file storage, synchronous
// writes). The rate, and the CPU time of parts, cover the first publish to
// the last delivery.
func ceiling(ctx context.Context, url string, n, size int, parts []part) (ceilingResult, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return ceilingResult{}, fmt.Errorf("connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(16384))
	if err != nil {
		return ceilingResult{}, fmt.Errorf("jetstream: %w", err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "CEILING", Subjects: []string{"ceiling.>"}, Storage: jetstream.FileStorage,
	}); err != nil {
		return ceilingResult{}, fmt.Errorf("create stream: %w", err)
	}
	var delivered atomic.Int64
	finished := make(chan struct{})
	for hop := 1; hop <= hops; hop++ {
		cons, err := js.CreateOrUpdateConsumer(ctx, "CEILING", jetstream.ConsumerConfig{
			Durable: "hop" + strconv.Itoa(hop), FilterSubject: fmt.Sprintf("ceiling.h%d.*", hop-1),
			AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 8192,
		})
		if err != nil {
			return ceilingResult{}, fmt.Errorf("consumer: %w", err)
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
			return ceilingResult{}, fmt.Errorf("consume: %w", err)
		}
		defer cc.Stop()
	}
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	cpu := measure(parts)
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
				return ceilingResult{}, fmt.Errorf("publish: %w", err)
			}
			// Back-pressure: let outstanding acks drain.
			time.Sleep(time.Millisecond)
		}
	}
	select {
	case <-finished:
	case <-ctx.Done():
		return ceilingResult{}, ctx.Err()
	case <-time.After(5 * time.Minute):
		return ceilingResult{}, fmt.Errorf("ceiling: only %d of %d messages made it through %d hops", delivered.Load(), n, hops)
	}
	rate := float64(n) / time.Since(start).Seconds()
	return ceilingResult{rate: rate, cpu: cpu()}, nil
}
