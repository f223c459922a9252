package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Handler processes one message. It must be idempotent: redelivery is normal.
// Returning nil acks the message; an error retries it with backoff, and a
// Permanent error sends it straight to the dead-letter stream.
type Handler func(ctx context.Context, msg jetstream.Msg) error

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks an error that no retry can fix (a malformed body, say).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

type laterError struct{ err error }

func (l laterError) Error() string { return l.err.Error() }
func (l laterError) Unwrap() error { return l.err }

// Later marks a handling put off on purpose (say, to wait before retrying a
// search that just failed): the message comes back after the backoff as a
// retry would, but is logged at debug and counted "deferred", not as a
// failure.
func Later(err error) error {
	if err == nil {
		return nil
	}
	return laterError{err}
}

type retryAfterError struct {
	err   error
	delay time.Duration
}

func (r retryAfterError) Error() string { return r.err.Error() }
func (r retryAfterError) Unwrap() error { return r.err }

// RetryAfter marks a handling that must wait delay before it is tried
// again (a rate limit that says when it lifts): the message comes back
// after delay instead of the consumer's backoff, counted "deferred".
func RetryAfter(err error, delay time.Duration) error {
	if err == nil {
		return nil
	}
	return retryAfterError{err: err, delay: delay}
}

// Decode reads an event body into v and checks it; a body that fails either
// way is Permanent, since no retry can fix it.
func Decode(msg jetstream.Msg, v interface{ Check() error }) error {
	if err := json.Unmarshal(msg.Data(), v); err != nil {
		return Permanent(fmt.Errorf("decode %s: %w", msg.Subject(), err))
	}
	if err := v.Check(); err != nil {
		return Permanent(fmt.Errorf("event on %s: %w", msg.Subject(), err))
	}
	return nil
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// ConsumerConfig describes one durable pull consumer and its workers.
type ConsumerConfig struct {
	Stream  string
	Durable string
	// FilterSubjects select the events this consumer handles.
	FilterSubjects []string
	// MaxDeliver bounds deliveries; the last failure goes to dead letters.
	MaxDeliver int
	// AckWait is how long the server waits before redelivering a message
	// whose worker went silent (crashed).
	AckWait time.Duration
	// Backoff is the Nak delay after the 1st, 2nd, ... failure; the last
	// value repeats. The consumer's own BackOff is not used because Nak
	// ignores it.
	Backoff []time.Duration
	// Concurrency is how many messages are handled at once.
	Concurrency int
	// HandlerTimeout bounds one handling; it is kept below AckWait so a slow
	// handler never races its own redelivery.
	HandlerTimeout time.Duration
	// DrainTimeout bounds how long a stopping consumer hands its buffered
	// messages to handlers; what is left is redelivered elsewhere.
	DrainTimeout time.Duration
	// OnConsuming, if set, is called once the consumer is pulling messages
	// (readiness checks wait for it).
	OnConsuming func()
}

// DefaultConsumerConfig returns production defaults for a durable consumer.
func DefaultConsumerConfig(stream, durable string, subjects ...string) ConsumerConfig {
	return ConsumerConfig{
		Stream:         stream,
		Durable:        durable,
		FilterSubjects: subjects,
		MaxDeliver:     5,
		AckWait:        30 * time.Second,
		Backoff:        []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute},
		Concurrency:    32,
		HandlerTimeout: 20 * time.Second,
		DrainTimeout:   20 * time.Second,
	}
}

// Validate checks the settings that the server or our own logic rely on.
func (c ConsumerConfig) Validate() error {
	switch {
	case c.Stream == "" || c.Durable == "":
		return errors.New("consumer needs a stream and a durable name")
	case c.MaxDeliver < 1:
		return fmt.Errorf("consumer %s: max deliver must be at least 1, got %d", c.Durable, c.MaxDeliver)
	case c.Concurrency < 1:
		return fmt.Errorf("consumer %s: concurrency must be at least 1, got %d", c.Durable, c.Concurrency)
	case c.HandlerTimeout <= 0 || c.HandlerTimeout >= c.AckWait:
		return fmt.Errorf("consumer %s: handler timeout %s must be positive and below ack wait %s", c.Durable, c.HandlerTimeout, c.AckWait)
	case len(c.Backoff) == 0:
		return fmt.Errorf("consumer %s: backoff needs at least one delay", c.Durable)
	case c.DrainTimeout <= 0:
		return fmt.Errorf("consumer %s: drain timeout must be positive, got %s", c.Durable, c.DrainTimeout)
	}
	return nil
}

func (c ConsumerConfig) backoff(delivered uint64) time.Duration {
	i := int(delivered) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(c.Backoff) {
		i = len(c.Backoff) - 1
	}
	return c.Backoff[i]
}

// ConsumerMetrics counts what consumers do; one per registry, shared by the
// consumers of a service.
type ConsumerMetrics struct {
	handled  *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewConsumerMetrics registers consumer metrics with reg.
func NewConsumerMetrics(reg prometheus.Registerer) *ConsumerMetrics {
	m := &ConsumerMetrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_messages_handled_total",
			Help: "Messages handled by a consumer, by outcome (ack, retry, deferred, dead_letter).",
		}, []string{"consumer", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "triage_handler_duration_seconds",
			Help:    "Time spent in a consumer's handler.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"consumer"}),
	}
	reg.MustRegister(m.handled, m.duration)
	return m
}

// Consume runs a durable consumer until ctx is cancelled, then stops
// fetching, lets in-flight handlers finish and ack, and returns.
func Consume(ctx context.Context, js jetstream.JetStream, cfg ConsumerConfig, h Handler, log *zap.Logger, metrics *ConsumerMetrics) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log = log.With(zap.String("consumer", cfg.Durable))
	cons, err := ensureConsumer(ctx, js, cfg)
	if err != nil {
		return err
	}
	w := &worker{js: js, cfg: cfg, handle: h, log: log, metrics: metrics}
	// Work runs under a context that outlives the shutdown signal, so a
	// handler that has started finishes and acks instead of being cut off.
	workCtx := context.WithoutCancel(ctx)
	slots := make(chan struct{}, cfg.Concurrency)
	var inflight sync.WaitGroup
	suspect := make(chan struct{}, 1)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		// Counted before it waits for a slot, so shutdown waits for it too.
		inflight.Add(1)
		arrived := time.Now()
		slots <- struct{}{}
		if time.Since(arrived) > cfg.AckWait/4 {
			// It waited in the buffer while its ack wait ran: restart the
			// clock so a busy consumer does not get its own messages
			// redelivered (and their deliveries used up) before handling.
			_ = m.InProgress()
		}
		go func() {
			defer func() { <-slots; inflight.Done() }()
			w.process(workCtx, m)
		}()
	},
		jetstream.PullMaxMessages(cfg.Concurrency),
		// A pull the server dropped (its consumer deleted in the same
		// instant) is noticed only by missed heartbeats: 2× this.
		jetstream.PullHeartbeat(5*time.Second),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if errors.Is(err, nats.ErrConnectionClosed) {
				return
			}
			log.Warn("consume", zap.Error(err))
			// A pull that finds no consumer ("no responders") or hears no
			// heartbeat does not stop the client: it pulls again forever.
			// Ask whether the consumer still exists.
			select {
			case suspect <- struct{}{}:
			default:
			}
		}),
	)
	if err != nil {
		return fmt.Errorf("start consumer %s: %w", cfg.Durable, err)
	}
	log.Info("consuming", zap.Strings("subjects", cfg.FilterSubjects))
	if cfg.OnConsuming != nil {
		cfg.OnConsuming()
	}
	// Running on without the consumer would look healthy and consume
	// nothing, so its loss ends Consume with an error.
	lost := func(cause error) error {
		inflight.Wait()
		return fmt.Errorf("consumer %s stopped unexpectedly: %w", cfg.Durable, cause)
	}
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case <-cc.Closed():
			// The client stops by itself when the server says the
			// consumer was deleted, or its connection closed.
			return lost(errors.New("the client stopped it (consumer deleted or connection closed)"))
		case <-suspect:
			_, err := cons.Info(ctx)
			if !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
				continue // there, or unknown for now (a timeout): keep consuming
			}
			cc.Stop()
			// Stop unsubscribes in the background: a buffered message can
			// still arrive until the client reports it closed.
			select {
			case <-cc.Closed():
			case <-time.After(cfg.DrainTimeout):
			}
			return lost(err)
		}
	}
	cc.Drain()
	select {
	case <-cc.Closed():
	case <-time.After(cfg.DrainTimeout):
		log.Warn("consumer drain timed out; unacked messages will be redelivered")
		cc.Stop()
	}
	inflight.Wait()
	log.Info("consumer stopped")
	return nil
}

// ensureConsumer creates the durable consumer or updates it to this
// version's settings, unless a newer contract version configured it: an
// older replica restarting during a rolling upgrade then consumes with the
// newer filter instead of narrowing it (events it does not know are put
// off for a newer replica, see ByType).
func ensureConsumer(ctx context.Context, js jetstream.JetStream, cfg ConsumerConfig) (jetstream.Consumer, error) {
	return ensureConsumerAt(ctx, js, cfg, ContractVersion)
}

// ensureConsumerAt is ensureConsumer as a replica of contract version
// version does it (tests play older replicas with it).
func ensureConsumerAt(ctx context.Context, js jetstream.JetStream, cfg ConsumerConfig, version int) (jetstream.Consumer, error) {
	want := jetstream.ConsumerConfig{
		Durable:        cfg.Durable,
		FilterSubjects: cfg.FilterSubjects,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        cfg.AckWait,
		MaxDeliver:     cfg.MaxDeliver,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		MaxAckPending:  cfg.Concurrency * 8,
		Metadata:       map[string]string{MetadataContractVersion: strconv.Itoa(version)},
	}
	cons, err := js.Consumer(ctx, cfg.Stream, cfg.Durable)
	if err == nil && contractVersion(cons.CachedInfo().Config.Metadata) > version {
		return cons, nil
	}
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("look up consumer %s on %s: %w", cfg.Durable, cfg.Stream, err)
	}
	if cons, err = js.CreateOrUpdateConsumer(ctx, cfg.Stream, want); err != nil {
		return nil, fmt.Errorf("ensure consumer %s on %s: %w", cfg.Durable, cfg.Stream, err)
	}
	return cons, nil
}

// ByType dispatches on the event type (the ce-type header). An event of a
// type this replica does not know was published by a newer version during
// a rolling upgrade: it is put off (Later) so that a newer replica takes
// it, and dead-lettered with that reason if none does in time.
func ByType(handlers map[string]Handler) Handler {
	return func(ctx context.Context, msg jetstream.Msg) error {
		typ := msg.Headers().Get(HeaderType)
		if typ == "" {
			// Not an event of this pipeline (ours all carry ce-type): no
			// version will ever handle it.
			return Permanent(fmt.Errorf("decode %s: no %s header; not an event of this pipeline", msg.Subject(), HeaderType))
		}
		h, ok := handlers[typ]
		if !ok {
			return Later(fmt.Errorf("event type %q on %s is unknown to this version; a newer replica must handle it (replay the dead letter after upgrading)", typ, msg.Subject()))
		}
		return h(ctx, msg)
	}
}

type worker struct {
	js      jetstream.JetStream
	cfg     ConsumerConfig
	handle  Handler
	log     *zap.Logger
	metrics *ConsumerMetrics
}

func (w *worker) process(ctx context.Context, m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		w.log.Error("message without metadata; terminating it", zap.String("subject", m.Subject()), zap.Error(err))
		_ = m.Term()
		return
	}
	hctx, cancel := context.WithTimeout(ctx, w.cfg.HandlerTimeout)
	start := time.Now()
	herr := w.handle(hctx, m)
	cancel()
	if w.metrics != nil {
		w.metrics.duration.WithLabelValues(w.cfg.Durable).Observe(time.Since(start).Seconds())
	}
	log := w.log.With(zap.String("subject", m.Subject()), zap.Uint64("stream_seq", meta.Sequence.Stream), zap.Uint64("delivered", meta.NumDelivered))
	if herr == nil {
		if err := m.Ack(); err != nil {
			log.Warn("ack failed; message will be redelivered", zap.Error(err))
		}
		w.count("ack")
		return
	}
	if IsPermanent(herr) || meta.NumDelivered >= uint64(w.cfg.MaxDeliver) {
		if err := w.deadLetter(ctx, m, meta, herr); err != nil {
			log.Error("dead-letter publish failed; retrying message", zap.NamedError("handler_error", herr), zap.Error(err))
			_ = m.NakWithDelay(w.cfg.backoff(meta.NumDelivered))
			w.count("retry")
			return
		}
		_ = m.TermWithReason("dead-lettered: " + truncate(herr.Error(), 200))
		log.Error("message dead-lettered", zap.Error(herr))
		w.count("dead_letter")
		return
	}
	delay := w.cfg.backoff(meta.NumDelivered)
	var ra retryAfterError
	if errors.As(herr, &ra) {
		delay = max(ra.delay, 10*time.Millisecond)
	}
	_ = m.NakWithDelay(delay)
	if errors.As(herr, new(laterError)) || errors.As(herr, &ra) {
		log.Debug("handling deferred", zap.Duration("delay", delay), zap.Error(herr))
		w.count("deferred")
		return
	}
	log.Warn("handler failed; will retry", zap.Duration("delay", delay), zap.Error(herr))
	w.count("retry")
}

func (w *worker) count(outcome string) {
	if w.metrics != nil {
		w.metrics.handled.WithLabelValues(w.cfg.Durable, outcome).Inc()
	}
}

// Dead-letter headers, added to a copy of the original message.
const (
	HeaderDLReason     = "Triage-DL-Reason"
	HeaderDLStream     = "Triage-DL-Stream"
	HeaderDLConsumer   = "Triage-DL-Consumer"
	HeaderDLSubject    = "Triage-DL-Subject"
	HeaderDLSeq        = "Triage-DL-Stream-Seq"
	HeaderDLDeliveries = "Triage-DL-Deliveries"
	HeaderDLTime       = "Triage-DL-Time"
	// HeaderDLMsgID keeps the original Nats-Msg-Id, which the dead letter's
	// own id replaces.
	HeaderDLMsgID = "Triage-DL-Msg-Id"
)

func (w *worker) deadLetter(ctx context.Context, m jetstream.Msg, meta *jetstream.MsgMetadata, reason error) error {
	dl := nats.NewMsg(DeadLetterPrefix + "." + meta.Stream + "." + meta.Consumer)
	dl.Data = m.Data()
	for k, v := range m.Headers() {
		if !strings.HasPrefix(k, "Nats-") {
			dl.Header[k] = v
		}
	}
	if id := m.Headers().Get(jetstream.MsgIDHeader); id != "" {
		dl.Header.Set(HeaderDLMsgID, id)
	}
	dl.Header.Set(HeaderDLReason, truncate(reason.Error(), 2000))
	dl.Header.Set(HeaderDLStream, meta.Stream)
	dl.Header.Set(HeaderDLConsumer, meta.Consumer)
	dl.Header.Set(HeaderDLSubject, m.Subject())
	dl.Header.Set(HeaderDLSeq, strconv.FormatUint(meta.Sequence.Stream, 10))
	dl.Header.Set(HeaderDLDeliveries, strconv.FormatUint(meta.NumDelivered, 10))
	dl.Header.Set(HeaderDLTime, time.Now().UTC().Format(time.RFC3339Nano))
	// One dead letter per stream message and consumer, even if this is
	// retried after a failed Term.
	dl.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("dl:%s:%s:%d", meta.Stream, meta.Consumer, meta.Sequence.Stream))
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := w.js.PublishMsg(pctx, dl); err != nil {
		return fmt.Errorf("publish dead letter: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
