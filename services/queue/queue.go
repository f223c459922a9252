// Package queue is the escalation engineers' queue. People's actions
// (claim, release, reassign, status, comment, re-route, confirm bug) are
// events on the ticket's own subject in TICKETS, written with a
// compare-and-set on the ticket's whole history: the action and its history
// entry are one write, and two people can never both win. The queue
// materialises each ticket's current state from its events into JetStream
// KV, keeps the open tickets in memory in queue order, and serves the JSON
// API, live updates (Server-Sent Events) and the web pages, by role.
package queue

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/incidents"
	"github.com/triage-pipeline/triage/libs/paging"
	"github.com/triage-pipeline/triage/libs/service"
)

// Config configures the queue.
type Config struct {
	service.Config `embed:""`
	HTTPAddr       string        `name:"http-addr" env:"TRIAGE_QUEUE_HTTP_ADDR" default:"127.0.0.1:8081" help:"Listen address of the queue API and web UI."`
	MaxWait        time.Duration `name:"max-wait" env:"TRIAGE_QUEUE_MAX_WAIT" default:"30s" help:"Longest ?wait= a client may ask for on a ticket."`
	PublicURL      string        `name:"public-url" env:"TRIAGE_PUBLIC_URL" help:"Where people reach the web UI (links in GitHub issues); defaults to this service's own address."`
	IntakeURL      string        `name:"intake-url" env:"TRIAGE_INTAKE_URL" default:"" help:"Intake's URL as the browser reaches it, for the submit form (empty: the same origin, behind one front door)."`
	BusinessHours  string        `name:"business-hours" env:"TRIAGE_BUSINESS_HOURS" default:"Mon-Fri 09:00-18:00" help:"When the SLA clock runs, e.g. \"Mon-Fri 09:00-18:00\"."`
	BusinessZone   string        `name:"business-time-zone" env:"TRIAGE_BUSINESS_TIME_ZONE" default:"Asia/Tokyo" help:"Time zone of the business hours."`
	SLATargets     string        `name:"sla-targets" env:"TRIAGE_SLA_TARGETS" default:"P1=15m/4h,P2=1h/16h,P3=4h/48h,P4=24h/160h" help:"Response/resolution targets per severity, in business time."`
	SLAAlwaysOn    []string      `name:"sla-always-on" env:"TRIAGE_SLA_ALWAYS_ON" default:"P1" help:"Severities whose SLA clock runs around the clock."`
	SLACheck       time.Duration `name:"sla-check" env:"TRIAGE_SLA_CHECK" default:"15s" help:"How often open tickets are checked for a missed SLA."`
	MaxComment     int           `name:"max-comment" env:"TRIAGE_QUEUE_MAX_COMMENT" default:"10000" help:"Longest comment, in characters."`
	// Paging pages the on-call engineer for P1 incidents off-hours.
	Paging paging.Config `embed:""`

	hours *BusinessHours
}

// Validate checks the queue's own settings.
func (c *Config) Validate() error {
	h, err := ParseBusinessHours(c.BusinessHours, c.BusinessZone, c.SLATargets, c.SLAAlwaysOn)
	if err != nil {
		return err
	}
	c.hours = h
	if err := c.Paging.Validate(); err != nil {
		return err
	}
	switch {
	case c.SLACheck < time.Second:
		return fmt.Errorf("--sla-check must be at least 1s, got %s", c.SLACheck)
	case c.MaxComment < 100 || c.MaxComment > 100000:
		return fmt.Errorf("--max-comment must be 100 to 100000, got %d", c.MaxComment)
	}
	return nil
}

const (
	source         = "triage/queue"
	durable        = "queue"
	bugsDurable    = "queue-bugs"
	maxActionTries = 20
)

// Service is a running queue.
type Service struct {
	*service.Base
	cfg  Config
	st   *store
	auth *auth.Store
	view *view
	hub  *hub
	// incidents mirrors the incidents bucket (the router's storms and the
	// declared incidents).
	incidents *incidents.View
	// settle takes incidents whose decisions to carry out on their
	// tickets now (settleIncidents).
	settle *settleQueue
	// pager pages the on-call engineer for P1 incidents off-hours.
	pager   incidentPager
	now     func() time.Time
	metrics *metrics
	// pages renders the web UI, its templates parsed once.
	pages *pages
	// materialize is off only in tests that play a crash between an
	// action's write and the view's update.
	materialize bool
}

type metrics struct {
	actions  *prometheus.CounterVec
	breaches *prometheus.CounterVec
}

// New connects the queue, opens its buckets and binds its listener.
func New(ctx context.Context, cfg Config, log *zap.Logger) (*Service, error) {
	if cfg.hours == nil {
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
	}
	base, err := service.Start(ctx, "queue", cfg.Config, cfg.HTTPAddr, log)
	if err != nil {
		return nil, err
	}
	s := &Service{Base: base, cfg: cfg, view: newView(), hub: newHub(), now: time.Now, materialize: true,
		settle: newSettleQueue()}
	s.incidents = incidents.NewView(func(inc events.Incident) {
		if inc.NeedsLook(s.now()) {
			s.settleSoon(inc.ID)
		}
	})
	if s.st, err = openStore(ctx, base.JS, cfg.Topology(), cfg.hours); err == nil {
		s.auth, err = auth.Open(ctx, base.JS, cfg.Topology())
	}
	if err != nil {
		base.Close()
		return nil, err
	}
	s.metrics = &metrics{
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_queue_actions_total",
			Help: "People's actions on tickets, by action and outcome (done, conflict, stale, refused).",
		}, []string{"action", "outcome"}),
		breaches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_sla_breaches_total",
			Help: "SLA targets missed, by kind (response, resolution) and severity; each counted once.",
		}, []string{"kind", "severity"}),
	}
	base.Registry.MustRegister(s.metrics.actions, s.metrics.breaches,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "triage_queue_long_polls_waiting",
			Help: "Requests waiting (?wait=) for a ticket to reach the queue.",
		}, func() float64 { return float64(s.view.waitingAll()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "triage_queue_open_tickets",
			Help: "Open tickets in the queue's view.",
		}, func() float64 { return float64(s.view.size()) }),
	)
	pager, err := paging.New(cfg.Paging, s.st.incidents, base.Registry, base.Log, &http.Client{}, func() time.Time { return s.now() })
	if err != nil {
		base.Close()
		return nil, fmt.Errorf("paging: %w", err)
	}
	s.pager = pager
	// The embedded templates are part of the build: a broken one stops
	// start-up rather than serving 500s.
	if s.pages, err = newPages(s, pageNames()...); err != nil {
		base.Close()
		return nil, fmt.Errorf("web pages: %w", err)
	}
	s.routes()
	base.AddReadinessCheck(func() error {
		if !s.view.isLoaded() {
			return errors.New("queue view still loading from the open-tickets bucket")
		}
		return nil
	})
	return s, nil
}

// OpenTickets is the number of open tickets the view holds.
func (s *Service) OpenTickets() int { return s.view.size() }

// withoutMaterializer is for tests: the service answers and writes actions
// but does not update the state buckets (as if it crashed right after).
func (s *Service) withoutMaterializer() { s.materialize = false }

// Run consumes ticket and bug events and serves the API until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	watchIncidents := func(ctx context.Context) error {
		return s.incidents.Watch(ctx, s.st.incidents, incidents.AllCurrent, s.Log, nil)
	}
	workers := []func(context.Context) error{s.watchOpen, s.watchTickets, s.watchSLA, watchIncidents}
	if s.materialize {
		handlers := map[string]bus.Handler{}
		var subjects []string
		for _, k := range events.Kinds() {
			if k.Stream == bus.StreamTickets && k.Type != events.TypeTicketEnriched && k.Type != events.TypeLogsPending {
				handlers[k.Type] = s.handleTicketEvent
				subjects = append(subjects, k.Subject+".*")
			}
		}
		workers = append(workers, s.settleIncidents,
			s.Consume(s.ConsumerConfig(bus.StreamTickets, durable, subjects...), bus.ByType(handlers)),
			s.Consume(s.ConsumerConfig(bus.StreamBugs, bugsDurable,
				events.SubjectFiled+".*", events.SubjectClosed+".*", events.SubjectReopened+".*", events.SubjectFailed+".*"),
				bus.ByType(map[string]bus.Handler{
					events.TypeBugFiled: s.handleBugState, events.TypeBugClosed: s.handleBugState,
					events.TypeBugReopened: s.handleBugState, events.TypeBugFailed: s.handleBugState,
				})),
		)
	}
	return s.Base.Run(ctx, workers...)
}

// publicURL is where people reach the web UI.
func (s *Service) publicURL() string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	return s.URL()
}

// incidentPager pages for incidents (libs/paging); Handle is called on
// every change of an incident and from a sweep, and pages once.
type incidentPager interface {
	Handle(ctx context.Context, inc events.Incident, link string) error
}

func actorOf(p auth.Principal) events.Actor { return events.Actor{Name: p.Name, Role: string(p.Role)} }
