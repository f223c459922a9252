// Package queue materialises routed tickets into JetStream KV (the state of
// each ticket, updated with compare-and-set) and serves the escalation and
// support queues ordered by priority, then age.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/logging"
	"github.com/triage-pipeline/triage/libs/service"
)

// Config configures the queue.
type Config struct {
	service.Config `embed:""`
	HTTPAddr       string        `name:"http-addr" env:"TRIAGE_QUEUE_HTTP_ADDR" default:"127.0.0.1:8081" help:"Listen address of the queue API."`
	MaxWait        time.Duration `name:"max-wait" env:"TRIAGE_QUEUE_MAX_WAIT" default:"30s" help:"Longest ?wait= a client may ask for on a ticket."`
}

const durable = "queue"

// Ticket statuses in the queue.
const (
	StatusNew = "new"
)

// Ticket is a ticket's current state, the value in the tickets bucket.
type Ticket struct {
	SchemaVersion int               `json:"schema_version"`
	Ticket        events.Ticket     `json:"ticket"`
	Enrichment    events.Enrichment `json:"enrichment"`
	Routing       events.Routing    `json:"routing"`
	Status        string            `json:"status"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
	// SourceSeq is the TICKETS stream sequence of the last routed event
	// applied, so a redelivered or older event changes nothing.
	SourceSeq uint64 `json:"source_seq"`
}

// Service is a running queue.
type Service struct {
	*service.Base
	cfg  Config
	kv   jetstream.KeyValue
	view *view
	now  func() time.Time
}

// New connects the queue and opens its bucket.
func New(ctx context.Context, cfg Config, log *zap.Logger) (*Service, error) {
	topo := cfg.Topology()
	base, err := service.Start(ctx, "queue", cfg.Config, cfg.HTTPAddr, log, topo.TicketsStream(), topo.DeadLettersStream())
	if err != nil {
		return nil, err
	}
	kv, err := bus.EnsureBucket(ctx, base.JS, topo.TicketsBucket())
	if err != nil {
		base.Close()
		return nil, err
	}
	s := &Service{Base: base, cfg: cfg, kv: kv, view: newView(), now: time.Now}
	s.routes()
	base.AddReadinessCheck(func() error {
		if !s.view.isLoaded() {
			return errors.New("queue view still loading from the tickets bucket")
		}
		return nil
	})
	return s, nil
}

// Run consumes routed tickets and serves the API until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	cc := s.ConsumerConfig(bus.StreamTickets, durable, events.SubjectRouted+".*")
	return s.Base.Run(ctx, s.Consume(cc, s.handle), s.watch)
}

func (s *Service) handle(ctx context.Context, msg jetstream.Msg) error {
	var in events.TicketRouted
	if err := bus.Decode(msg, &in); err != nil {
		return err
	}
	meta, err := msg.Metadata()
	if err != nil {
		return fmt.Errorf("message metadata: %w", err)
	}
	seq := meta.Sequence.Stream
	now := s.now().UTC()
	// A lost compare-and-set (another replica, or attempts 1 and 2 of one
	// ticket at once) is normal: read again and apply on top, at once.
	for {
		err := s.apply(ctx, in, seq, now)
		if errors.Is(err, jetstream.ErrKeyExists) || bus.IsWrongLastSequence(err) {
			continue
		}
		return err
	}
}

// apply writes one routed event into the bucket with compare-and-set.
func (s *Service) apply(ctx context.Context, in events.TicketRouted, seq uint64, now time.Time) error {
	id := in.Ticket.ID
	entry, err := s.kv.Get(ctx, id)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		t := Ticket{
			SchemaVersion: events.SchemaVersion, Ticket: in.Ticket, Enrichment: in.Enrichment, Routing: in.Routing,
			Status: StatusNew, CreatedAt: now, UpdatedAt: now, SourceSeq: seq,
		}
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode ticket %s: %w", id, err)
		}
		if _, err := s.kv.Create(ctx, id, b); err != nil {
			return fmt.Errorf("create ticket %s: %w", id, err)
		}
		s.Log.Info("ticket queued", logging.TicketID(id), zap.String("queue", in.Routing.Queue), zap.String("severity", in.Routing.Severity))
		return nil
	case err != nil:
		return fmt.Errorf("read ticket %s: %w", id, err)
	}
	var cur Ticket
	if err := json.Unmarshal(entry.Value(), &cur); err != nil {
		return fmt.Errorf("decode stored ticket %s: %w", id, err)
	}
	if cur.SourceSeq >= seq || cur.Enrichment.Attempt > in.Enrichment.Attempt {
		return nil // already applied, or older than what is stored
	}
	cur.Enrichment, cur.Routing, cur.UpdatedAt, cur.SourceSeq = in.Enrichment, in.Routing, now, seq
	b, err := json.Marshal(cur)
	if err != nil {
		return fmt.Errorf("encode ticket %s: %w", id, err)
	}
	if _, err := s.kv.Update(ctx, id, b, entry.Revision()); err != nil {
		return fmt.Errorf("update ticket %s at revision %d: %w", id, entry.Revision(), err)
	}
	s.Log.Info("ticket re-routed", logging.TicketID(id), zap.String("queue", in.Routing.Queue))
	return nil
}

// watch keeps the in-memory view in step with the bucket, so every replica
// serves the same queue without a store of its own.
func (s *Service) watch(ctx context.Context) error {
	w, err := s.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch tickets bucket: %w", err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e == nil {
				s.view.markLoaded()
				continue
			}
			if e.Operation() != jetstream.KeyValuePut {
				s.view.remove(e.Key())
				continue
			}
			var t Ticket
			if err := json.Unmarshal(e.Value(), &t); err != nil {
				s.Log.Error("undecodable ticket in bucket", logging.TicketID(e.Key()), zap.Error(err))
				continue
			}
			s.view.put(t)
		}
	}
}
