// Package router decides whether a ticket is technical (escalation queue) or
// not (support queue), with severity, component and readable reasons, using
// rules kept in a file the team edits.
package router

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/logging"
	"github.com/triage-pipeline/triage/libs/service"
)

// Config configures the router.
type Config struct {
	service.Config `embed:""`
	HTTPAddr       string `name:"http-addr" env:"TRIAGE_ROUTER_HTTP_ADDR" default:"127.0.0.1:8083" help:"Listen address for health and metrics."`
	RulesFile      string `name:"rules" env:"TRIAGE_ROUTER_RULES" type:"path" help:"Routing rules file (YAML); empty uses the built-in rules (services/router/rules.yaml)."`

	// rules are the rules Validate loaded, so New runs what was checked.
	rules *Rules
}

// Validate loads the rules, so a broken rules file stops start-up with a
// message that says what to fix.
func (c *Config) Validate() error {
	rules, err := LoadRules(c.RulesFile)
	c.rules = rules
	return err
}

const (
	source  = "triage/router"
	durable = "router"
)

// Service is a running router.
type Service struct {
	*service.Base
	rules *Rules
	now   func() time.Time
}

// New connects the router and loads its rules.
func New(ctx context.Context, cfg Config, log *zap.Logger) (*Service, error) {
	rules := cfg.rules
	if rules == nil { // a configuration that did not go through Validate
		var err error
		if rules, err = LoadRules(cfg.RulesFile); err != nil {
			return nil, err
		}
	}
	topo := cfg.Topology()
	base, err := service.Start(ctx, "router", cfg.Config, cfg.HTTPAddr, log, topo.TicketsStream(), topo.DeadLettersStream())
	if err != nil {
		return nil, err
	}
	base.Log.Info("routing rules loaded", zap.String("version", rules.Version), zap.String("file", cfg.RulesFile))
	return &Service{Base: base, rules: rules, now: time.Now}, nil
}

// Run consumes enriched tickets until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	cc := s.ConsumerConfig(bus.StreamTickets, durable, events.SubjectEnriched+".*")
	return s.Base.Run(ctx, s.Consume(cc, s.handle))
}

func (s *Service) handle(ctx context.Context, msg jetstream.Msg) error {
	var in events.TicketEnriched
	if err := bus.Decode(msg, &in); err != nil {
		return err
	}
	routing := s.rules.Decide(in.Ticket, in.Enrichment)
	routing.RoutedAt = s.now().UTC()
	out := events.TicketRouted{SchemaVersion: events.SchemaVersion, Ticket: in.Ticket, Enrichment: in.Enrichment, Routing: routing}
	if _, err := bus.Publish(ctx, s.JS, bus.Event{
		Subject: events.TicketSubject(events.SubjectRouted, in.Ticket.ID),
		Type:    events.TypeTicketRouted,
		// One routing per enrichment attempt: a redelivery is deduplicated,
		// a later enrichment (logs arrived) routes again.
		ID:     fmt.Sprintf("routed:%s:%d", in.Ticket.ID, in.Enrichment.Attempt),
		Source: source,
		About:  in.Ticket.ID,
		Time:   routing.RoutedAt,
		Data:   out,
	}); err != nil {
		return err
	}
	s.Log.Info("ticket routed", logging.TicketID(in.Ticket.ID), zap.String("queue", routing.Queue),
		zap.String("severity", routing.Severity), zap.String("component", routing.Component), zap.Strings("rules", routing.RuleIDs))
	return nil
}
