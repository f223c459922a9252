// Package service is the frame every triage service runs in: one validated
// configuration, a NATS connection with the streams it needs, an HTTP server
// with /healthz, /readyz and /metrics, and an orderly shutdown (stop taking
// work, finish in-flight work, drain NATS).
package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/httpapi"
	"github.com/triage-pipeline/triage/libs/logging"
)

// Config is the part of every service's configuration that they share.
type Config struct {
	NATSURL        string          `name:"nats-url" env:"TRIAGE_NATS_URL" default:"nats://127.0.0.1:4222" help:"NATS server URL(s), comma-separated."`
	StreamReplicas int             `name:"stream-replicas" env:"TRIAGE_STREAM_REPLICAS" default:"1" help:"Replicas for streams and buckets (3 on a cluster)."`
	ShutdownGrace  time.Duration   `name:"shutdown-grace" env:"TRIAGE_SHUTDOWN_GRACE" default:"20s" help:"How long in-flight work may take at shutdown."`
	MaxDeliver     int             `name:"max-deliver" env:"TRIAGE_MAX_DELIVER" default:"5" help:"Deliveries of a message before it is dead-lettered."`
	AckWait        time.Duration   `name:"ack-wait" env:"TRIAGE_ACK_WAIT" default:"30s" help:"Redelivery delay for a message whose worker went silent."`
	Backoff        []time.Duration `name:"retry-backoff" env:"TRIAGE_RETRY_BACKOFF" default:"1s,5s,30s,2m" help:"Delays before retrying a failed message (the last repeats)."`
	Concurrency    int             `name:"concurrency" env:"TRIAGE_CONCURRENCY" default:"32" help:"Messages handled at once per consumer."`
	Log            logging.Config  `embed:""`
}

// Validate checks what kong's tags cannot.
func (c *Config) Validate() error {
	switch {
	case c.NATSURL == "":
		return errors.New("--nats-url is required")
	case c.StreamReplicas < 1 || c.StreamReplicas > 5:
		return fmt.Errorf("--stream-replicas must be 1 to 5, got %d", c.StreamReplicas)
	case c.MaxDeliver < 1:
		return fmt.Errorf("--max-deliver must be at least 1, got %d", c.MaxDeliver)
	case c.AckWait < 2*time.Second:
		return fmt.Errorf("--ack-wait must be at least 2s, got %s", c.AckWait)
	case len(c.Backoff) == 0:
		return errors.New("--retry-backoff needs at least one delay")
	case c.Concurrency < 1:
		return fmt.Errorf("--concurrency must be at least 1, got %d", c.Concurrency)
	}
	return nil
}

// Topology is the stream layout for this configuration.
func (c *Config) Topology() bus.Topology {
	t := bus.DefaultTopology()
	t.Replicas = c.StreamReplicas
	return t
}

// Base is a started service: connected, listening, not yet serving.
type Base struct {
	Name     string
	Log      *zap.Logger
	NC       *nats.Conn
	JS       jetstream.JetStream
	Registry *prometheus.Registry
	Metrics  *bus.ConsumerMetrics
	Mux      *http.ServeMux

	cfg      Config
	ln       net.Listener
	streams  []string
	checks   []func() error
	stopping atomic.Bool
	// starting are the durable consumers not yet pulling; the service is
	// not ready until each is.
	mu       sync.Mutex
	starting map[string]bool
}

// AddReadinessCheck adds a condition to /readyz; call it before Run.
func (b *Base) AddReadinessCheck(check func() error) { b.checks = append(b.checks, check) }

// Start connects to NATS, ensures every stream of the messaging contract
// (so services can start in any order), and binds its HTTP listener (so URL
// is known before Run).
func Start(ctx context.Context, name string, cfg Config, httpAddr string, log *zap.Logger) (*Base, error) {
	streams := cfg.Topology().Streams()
	log = log.With(zap.String("service", name))
	nc, js, err := bus.Connect(ctx, cfg.NATSURL, "triage-"+name, log)
	if err != nil {
		return nil, err
	}
	if err := bus.EnsureStreams(ctx, js, streams...); err != nil {
		nc.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", httpAddr)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: listen on %s (set its --http-addr): %w", name, httpAddr, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	b := &Base{
		Name: name, Log: log, NC: nc, JS: js, Registry: reg,
		Metrics: bus.NewConsumerMetrics(reg),
		Mux:     http.NewServeMux(),
		cfg:     cfg, ln: ln,
	}
	for _, s := range streams {
		b.streams = append(b.streams, s.Name)
	}
	b.Mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "service": name})
	})
	b.Mux.HandleFunc("GET /readyz", b.ready)
	b.Mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return b, nil
}

// Close releases a service that was started but will not Run.
func (b *Base) Close() {
	_ = b.ln.Close()
	b.NC.Close()
}

// Topology is the stream layout this service was configured with.
func (b *Base) Topology() bus.Topology { return b.cfg.Topology() }

// URL is where the service's HTTP server listens.
func (b *Base) URL() string { return "http://" + b.ln.Addr().String() }

// ConsumerConfig is a durable consumer with this service's settings.
func (b *Base) ConsumerConfig(stream, durable string, subjects ...string) bus.ConsumerConfig {
	c := bus.DefaultConsumerConfig(stream, durable, subjects...)
	c.MaxDeliver = b.cfg.MaxDeliver
	c.AckWait = b.cfg.AckWait
	c.Backoff = b.cfg.Backoff
	c.Concurrency = b.cfg.Concurrency
	c.HandlerTimeout = b.cfg.HandlerTimeout()
	c.DrainTimeout = b.cfg.ShutdownGrace
	return c
}

// HandlerTimeout bounds one message's handling: two thirds of the ack wait,
// so a slow handler never races its own redelivery.
func (c *Config) HandlerTimeout() time.Duration { return c.AckWait * 2 / 3 }

// Consume runs a durable consumer of this service until ctx ends; the
// service reports ready only once the consumer is pulling.
func (b *Base) Consume(cfg bus.ConsumerConfig, h bus.Handler) func(context.Context) error {
	b.mu.Lock()
	if b.starting == nil {
		b.starting = map[string]bool{}
	}
	b.starting[cfg.Durable] = true
	b.mu.Unlock()
	cfg.OnConsuming = func() {
		b.mu.Lock()
		delete(b.starting, cfg.Durable)
		b.mu.Unlock()
	}
	return func(ctx context.Context) error {
		return bus.Consume(ctx, b.JS, cfg, h, b.Log, b.Metrics)
	}
}

// Ready reports why the service is not ready to work, or nil: what /readyz
// answers.
func (b *Base) Ready(ctx context.Context) error {
	if problems := b.readiness(ctx); len(problems) > 0 {
		return fmt.Errorf("%s not ready: %s", b.Name, strings.Join(problems, "; "))
	}
	return nil
}

func (b *Base) ready(w http.ResponseWriter, r *http.Request) {
	problems := b.readiness(r.Context())
	if len(problems) > 0 {
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "problems": problems})
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"status": "ready", "service": b.Name})
}

func (b *Base) readiness(ctx context.Context) []string {
	var problems []string
	if b.stopping.Load() {
		problems = append(problems, "shutting down")
	}
	if !b.NC.IsConnected() {
		return append(problems, "nats not connected: "+b.NC.Status().String())
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for _, s := range b.streams {
		if _, err := b.JS.Stream(ctx, s); err != nil {
			problems = append(problems, fmt.Sprintf("stream %s: %v", s, err))
		}
	}
	b.mu.Lock()
	for name := range b.starting {
		problems = append(problems, "consumer "+name+" not pulling yet")
	}
	b.mu.Unlock()
	for _, check := range b.checks {
		if err := check(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	return problems
}

// Run serves HTTP and runs the workers until ctx is cancelled or one fails;
// then it stops HTTP (in-flight requests finish), lets workers finish their
// in-flight messages, and drains the NATS connection.
func (b *Base) Run(ctx context.Context, workers ...func(context.Context) error) error {
	g, gctx := errgroup.WithContext(ctx)
	srv := &http.Server{
		Handler:           httpapi.WithLog(b.Log, b.Mux),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          zap.NewStdLog(b.Log.Named("http")),
	}
	g.Go(func() error { return httpapi.Serve(gctx, srv, b.ln, b.cfg.ShutdownGrace) })
	for _, w := range workers {
		g.Go(func() error { return w(gctx) })
	}
	go func() {
		<-gctx.Done()
		b.stopping.Store(true)
	}()
	b.Log.Info("started", zap.String("url", b.URL()))
	err := g.Wait()
	b.drain()
	b.Log.Info("stopped")
	return err
}

// drain flushes what was published and acked, then closes the connection.
func (b *Base) drain() {
	if b.NC.IsClosed() {
		return
	}
	done := make(chan struct{})
	b.NC.SetClosedHandler(func(*nats.Conn) { close(done) })
	if err := b.NC.Drain(); err != nil {
		b.NC.Close()
		return
	}
	select {
	case <-done:
	case <-time.After(b.cfg.ShutdownGrace):
		b.NC.Close()
	}
}
