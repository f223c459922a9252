// Package enricher attaches the customer's application logs to submitted
// tickets and passes them on to the router.
package enricher

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/logging"
	"github.com/triage-pipeline/triage/libs/service"
)

// Config configures the enricher.
type Config struct {
	service.Config `embed:""`
	HTTPAddr       string `name:"http-addr" env:"TRIAGE_ENRICHER_HTTP_ADDR" default:"127.0.0.1:8082" help:"Listen address for health and metrics."`
}

const (
	source  = "triage/enricher"
	durable = "enricher"
)

// Service is a running enricher.
type Service struct {
	*service.Base
	cfg Config
	now func() time.Time
}

// New connects the enricher.
func New(ctx context.Context, cfg Config, log *zap.Logger) (*Service, error) {
	topo := cfg.Topology()
	base, err := service.Start(ctx, "enricher", cfg.Config, cfg.HTTPAddr, log, topo.TicketsStream(), topo.DeadLettersStream())
	if err != nil {
		return nil, err
	}
	return &Service{Base: base, cfg: cfg, now: time.Now}, nil
}

// Run consumes submitted tickets until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	cc := s.ConsumerConfig(bus.StreamTickets, durable, events.SubjectSubmitted+".*")
	return s.Base.Run(ctx, s.Consume(cc, s.handle))
}

func (s *Service) handle(ctx context.Context, msg jetstream.Msg) error {
	var in events.TicketSubmitted
	if err := json.Unmarshal(msg.Data(), &in); err != nil {
		return bus.Permanent(fmt.Errorf("decode submitted ticket: %w", err))
	}
	if err := events.CheckVersion(in.SchemaVersion); err != nil {
		return bus.Permanent(err)
	}
	if in.Ticket.ID == "" {
		return bus.Permanent(fmt.Errorf("submitted event on %s has no ticket id", msg.Subject()))
	}
	out := events.TicketEnriched{
		SchemaVersion: events.SchemaVersion,
		Ticket:        in.Ticket,
		// No log source is configured yet: say so plainly rather than
		// pretending there were no logs.
		Enrichment: events.Enrichment{
			LogsStatus: events.LogsNotConfigured,
			Note:       "no Elasticsearch is configured; logs were not searched",
			Attempt:    1,
			EnrichedAt: s.now().UTC(),
		},
	}
	if _, err := bus.Publish(ctx, s.JS, bus.Event{
		Subject: events.TicketSubject(events.SubjectEnriched, in.Ticket.ID),
		Type:    events.TypeTicketEnriched,
		ID:      fmt.Sprintf("enriched:%s:%d", in.Ticket.ID, out.Enrichment.Attempt),
		Source:  source,
		About:   in.Ticket.ID,
		Time:    out.Enrichment.EnrichedAt,
		Data:    out,
	}); err != nil {
		return err
	}
	s.Log.Debug("ticket enriched", logging.TicketID(in.Ticket.ID), zap.String("logs_status", string(out.Enrichment.LogsStatus)))
	return nil
}
