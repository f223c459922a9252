// Package router decides whether a ticket is technical (escalation queue) or
// not (support queue), with severity, component, confidence and readable
// reasons, from a trained model and rules kept in a file the team edits.
// Unsure decisions go to a "needs triage" lane instead of being guessed.
package router

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/incidents"
	"github.com/triage-pipeline/triage/libs/logging"
	"github.com/triage-pipeline/triage/libs/service"
)

//go:generate go run ./internal/trainmodel -out model.json

// Config configures the router.
type Config struct {
	service.Config `embed:""`
	HTTPAddr       string `name:"http-addr" env:"TRIAGE_ROUTER_HTTP_ADDR" default:"127.0.0.1:8083" help:"Listen address for health and metrics."`
	RulesFile      string `name:"rules" env:"TRIAGE_ROUTER_RULES" type:"path" help:"Routing rules file (YAML); empty uses the built-in rules (services/router/rules.yaml). Reloaded when it changes or on SIGHUP."`
	ModelFile      string `name:"model" env:"TRIAGE_ROUTER_MODEL" type:"path" help:"Trained model file (JSON, from 'triage routing retrain'); empty uses the built-in model. Reloaded like the rules."`
	// NeedsTriageBelow overrides the rules file's needs_triage.below.
	NeedsTriageBelow float64        `name:"needs-triage-below" env:"TRIAGE_ROUTER_NEEDS_TRIAGE_BELOW" help:"Confidence below which a ticket goes to the needs-triage lane; 0 uses the rules file's needs_triage.below."`
	ReloadEvery      time.Duration  `name:"reload-every" env:"TRIAGE_ROUTER_RELOAD_EVERY" default:"5s" help:"How often to check whether the rules or model file changed; 0 reloads on SIGHUP only."`
	Incidents        IncidentConfig `embed:""`

	// classifier is what Validate loaded, so New runs what was checked.
	classifier *Classifier
}

// Validate loads the rules and the model, so a broken file stops start-up
// with a message that says what to fix.
func (c *Config) Validate() error {
	if c.NeedsTriageBelow < 0 || c.NeedsTriageBelow >= 1 {
		return fmt.Errorf("--needs-triage-below must be in [0, 1), got %g", c.NeedsTriageBelow)
	}
	if err := c.Incidents.Validate(); err != nil {
		return err
	}
	cl, err := c.load()
	c.classifier = cl
	return err
}

func (c *Config) load() (*Classifier, error) {
	rules, err := LoadRules(c.RulesFile)
	if err != nil {
		return nil, err
	}
	model, err := LoadModel(c.ModelFile)
	if err != nil {
		return nil, err
	}
	return NewClassifier(rules, model, ClassifierConfig{NeedsTriageBelow: c.NeedsTriageBelow}), nil
}

const (
	source  = "triage/router"
	durable = "router"
)

// Service is a running router.
type Service struct {
	*service.Base
	cfg    Config
	now    func() time.Time
	reload *reloader
	storms *grouper
	// declared mirrors the incidents bucket, for the declared incidents
	// new tickets link to.
	declared *incidents.View
}

// New connects the router and loads its rules and model.
func New(ctx context.Context, cfg Config, log *zap.Logger) (*Service, error) {
	cl := cfg.classifier
	if cl == nil { // a configuration that did not go through Validate
		var err error
		if cl, err = cfg.load(); err != nil {
			return nil, err
		}
	}
	base, err := service.Start(ctx, "router", cfg.Config, cfg.HTTPAddr, log)
	if err != nil {
		return nil, err
	}
	kv, err := bus.EnsureBucket(ctx, base.JS, base.Topology().IncidentsBucket())
	if err != nil {
		base.Close()
		return nil, err
	}
	s := &Service{Base: base, cfg: cfg, now: time.Now, declared: incidents.NewView(nil)}
	s.storms = newGrouper(kv, cfg.Incidents, func() time.Time { return s.now() })
	s.reload = newReloader(cfg, cl, base.Log, base.Registry)
	base.Log.Info("routing rules and model loaded", zap.String("rules_version", cl.Rules().Version),
		zap.String("rules_file", cfg.RulesFile), zap.String("model_file", cfg.ModelFile),
		zap.Int("model_examples", cl.Model().Trained.Examples), zap.Float64("needs_triage_below", cl.Threshold()))
	return s, nil
}

// Classifier is the rules and model the router decides with now.
func (s *Service) Classifier() *Classifier { return s.reload.current() }

// Reload reads the rules and model files again (what SIGHUP does); a bad
// file is refused and the router keeps what it had.
func (s *Service) Reload() error { return s.reload.reload("requested") }

// Run consumes enriched tickets until ctx ends, reloading the rules and
// model when their files change.
func (s *Service) Run(ctx context.Context) error {
	cc := s.ConsumerConfig(bus.StreamTickets, durable, events.SubjectEnriched+".*")
	consume := s.Consume(cc, bus.ByType(map[string]bus.Handler{events.TypeTicketEnriched: s.handle}))
	ready := make(chan struct{})
	watch := func(ctx context.Context) error {
		return s.declared.Watch(ctx, s.storms.kv, incidents.DeclaredOnly, s.Log, ready)
	}
	// Tickets wait until the declared incidents are known, or the first
	// ones after a start would miss theirs.
	afterWatch := func(ctx context.Context) error {
		select {
		case <-ready:
		case <-ctx.Done():
			return nil
		}
		return consume(ctx)
	}
	return s.Base.Run(ctx, afterWatch, s.reload.watch, watch)
}

func (s *Service) handle(ctx context.Context, msg jetstream.Msg) error {
	var in events.TicketEnriched
	if err := bus.Decode(msg, &in); err != nil {
		return err
	}
	routing := s.Classifier().Decide(in.Ticket, in.Enrichment)
	routing.RoutedAt = s.now().UTC()
	g, ok := s.cfg.Incidents.declaredFor(s.declared, in.Ticket, routing, routing.RoutedAt)
	if !ok {
		g, ok = groupOf(in.Enrichment, routing)
	}
	if ok {
		inc, err := s.storms.join(ctx, g, memberOf(in.Ticket, routing))
		if err != nil {
			return err
		}
		routing.Incident = inc.ID
		if inc.Open {
			routing.Reasons = append(routing.Reasons, "part of incident "+inc.ID+": "+inc.Reason)
		}
	}
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
	s.reload.decisions.WithLabelValues(routing.Queue, strconv.FormatBool(routing.NeedsTriage)).Inc()
	s.Log.Info("ticket routed", logging.TicketID(in.Ticket.ID), zap.String("queue", routing.Queue),
		zap.Bool("needs_triage", routing.NeedsTriage), zap.Float64("confidence", routing.Confidence),
		zap.String("severity", routing.Severity), zap.String("component", routing.Component), zap.Strings("rules", routing.RuleIDs),
		zap.String("incident", routing.Incident))
	return nil
}
