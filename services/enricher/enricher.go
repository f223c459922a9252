// Package enricher attaches the customer's application logs to submitted
// tickets and passes them on to the router. When Elasticsearch is down the
// ticket moves on within a deadline marked "logs pending", and is enriched
// again, automatically, once Elasticsearch answers.
package enricher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/logging"
	"github.com/triage-pipeline/triage/libs/logsearch"
	"github.com/triage-pipeline/triage/libs/service"
)

// Config configures the enricher.
type Config struct {
	service.Config  `embed:""`
	ES              logsearch.Config `embed:""`
	HTTPAddr        string           `name:"http-addr" env:"TRIAGE_ENRICHER_HTTP_ADDR" default:"127.0.0.1:8082" help:"Listen address for health and metrics."`
	TenantZones     string           `name:"tenant-zones" env:"TRIAGE_TENANT_ZONES" type:"path" help:"JSON file mapping tenant ids to IANA time zones, for times in ticket text."`
	DefaultTimeZone string           `name:"default-time-zone" env:"TRIAGE_DEFAULT_TIME_ZONE" default:"Asia/Tokyo" help:"Time zone of tenants not in --tenant-zones."`
}

// Validate checks the enricher's own settings.
func (c *Config) Validate() error {
	if _, err := time.LoadLocation(c.DefaultTimeZone); err != nil {
		return fmt.Errorf("--default-time-zone: %w", err)
	}
	if c.TenantZones != "" {
		if _, err := loadZones(c.TenantZones); err != nil {
			return err
		}
	}
	// The search must give up in time for the handler to publish the
	// ticket as pending; otherwise the message is retried instead.
	if c.ES.Enabled() && c.ES.Deadline+publishMargin > c.HandlerTimeout() {
		return fmt.Errorf("--es-deadline (%s) must be at least %s below the handler timeout (%s, 2/3 of --ack-wait)",
			c.ES.Deadline, publishMargin, c.HandlerTimeout())
	}
	return nil
}

// publishMargin is kept, after a log search's deadline, for publishing.
const publishMargin = 2 * time.Second

const (
	source         = "triage/enricher"
	durable        = "enricher"
	pendingDurable = "enricher-pending"
	// pendingHorizon is how long a ticket's logs are retried before the
	// pending message is dead-lettered for a person to look at.
	pendingHorizon = 24 * time.Hour
)

// Service is a running enricher.
type Service struct {
	*service.Base
	cfg      Config
	searcher *logsearch.Searcher
	finder   *logsearch.Finder
	now      func() time.Time
}

// New connects the enricher (and its Elasticsearch client, if configured).
func New(ctx context.Context, cfg Config, log *zap.Logger) (*Service, error) {
	base, err := service.Start(ctx, "enricher", cfg.Config, cfg.HTTPAddr, log)
	if err != nil {
		return nil, err
	}
	s := &Service{Base: base, cfg: cfg, now: time.Now}
	zones := map[string]*time.Location{}
	if cfg.TenantZones != "" {
		if zones, err = loadZones(cfg.TenantZones); err != nil {
			base.Close()
			return nil, err
		}
	}
	def, err := time.LoadLocation(cfg.DefaultTimeZone)
	if err != nil {
		base.Close()
		return nil, fmt.Errorf("--default-time-zone: %w", err)
	}
	if cfg.ES.Enabled() {
		es, err := logsearch.NewClient(cfg.ES)
		if err != nil {
			base.Close()
			return nil, err
		}
		s.searcher = logsearch.NewSearcher(es, cfg.ES, base.Registry)
	}
	// Without Elasticsearch the finder still extracts: the ticket carries
	// its evidence (error codes, ids) to engineers and the router.
	if s.finder, err = logsearch.NewFinder(cfg.ES, s.searcher, zones, def); err != nil {
		base.Close()
		return nil, err
	}
	if s.searcher == nil {
		base.Log.Warn("no Elasticsearch configured (--es-addresses): tickets move on marked logs not_configured")
		return s, nil
	}
	base.Log.Info("log enrichment on", zap.Strings("elasticsearch", cfg.ES.Addresses), zap.String("index", cfg.ES.IndexPattern))
	return s, nil
}

func loadZones(path string) (map[string]*time.Location, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read --tenant-zones: %w", err)
	}
	var names map[string]string
	if err := json.Unmarshal(b, &names); err != nil {
		return nil, fmt.Errorf("--tenant-zones %s: want a JSON object of tenant id to time zone: %w", path, err)
	}
	zones := make(map[string]*time.Location, len(names))
	for tenant, name := range names {
		loc, err := time.LoadLocation(name)
		if err != nil {
			return nil, fmt.Errorf("--tenant-zones %s: tenant %s: %w", path, tenant, err)
		}
		zones[tenant] = loc
	}
	return zones, nil
}

// Run consumes submitted tickets (and, with Elasticsearch, tickets whose
// logs are pending) until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	workers := []func(context.Context) error{
		s.Consume(s.ConsumerConfig(bus.StreamSubmissions, durable, events.SubjectSubmitted+".*"), bus.ByType(map[string]bus.Handler{events.TypeTicketSubmitted: s.handleSubmitted})),
	}
	if s.searcher == nil {
		return s.Base.Run(ctx, workers...)
	}
	pc := s.ConsumerConfig(bus.StreamTickets, pendingDurable, events.SubjectLogsPending+".*")
	pc.Backoff = []time.Duration{s.cfg.ES.PendingRetry}
	pc.MaxDeliver = max(10, int(pendingHorizon/s.cfg.ES.PendingRetry))
	workers = append(workers, s.Consume(pc, bus.ByType(map[string]bus.Handler{events.TypeLogsPending: s.handlePending})))
	// The searcher outlives the consumers: at shutdown they finish their
	// in-flight tickets, and those still need their searches answered.
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	searched := make(chan error, 1)
	go func() { searched <- s.searcher.Run(sctx) }()
	err := s.Base.Run(ctx, workers...)
	stop()
	return errors.Join(err, <-searched)
}

func (s *Service) handleSubmitted(ctx context.Context, msg jetstream.Msg) error {
	var in events.TicketSubmitted
	if err := bus.Decode(msg, &in); err != nil {
		return err
	}
	enr, pending := s.enrich(ctx, in.Ticket)
	enr.Attempt = 1
	// The retry is queued before the ticket moves on: if this handler dies
	// in between, the redelivery finds the retry already there.
	if pending != nil {
		if err := s.publishPending(ctx, in.Ticket, pending); err != nil {
			return err
		}
	}
	return s.publishEnriched(ctx, in.Ticket, enr)
}

func (s *Service) handlePending(ctx context.Context, msg jetstream.Msg) error {
	var in events.TicketLogsPending
	if err := bus.Decode(msg, &in); err != nil {
		return err
	}
	if meta, err := msg.Metadata(); err == nil && meta.NumDelivered == 1 {
		// Elasticsearch has just failed this ticket: searching again at
		// once only adds load. The consumer's backoff waits first.
		return bus.Later(fmt.Errorf("logs pending for ticket %s: first retry after %s", in.Ticket.ID, s.cfg.ES.PendingRetry))
	}
	enr, pending := s.enrich(ctx, in.Ticket)
	if pending != nil {
		// Still down: the consumer retries after --es-pending-retry.
		return fmt.Errorf("logs still pending for ticket %s: %w", in.Ticket.ID, pending)
	}
	enr.Attempt = in.Attempt + 1
	if err := s.publishEnriched(ctx, in.Ticket, enr); err != nil {
		return err
	}
	s.Log.Info("pending logs searched", logging.TicketID(in.Ticket.ID), zap.Int("attempt", enr.Attempt), zap.Int("logs", len(enr.Logs)))
	return nil
}

// enrich searches the ticket's logs within the deadline. A non-nil second
// result means Elasticsearch could not answer and the logs are pending.
func (s *Service) enrich(ctx context.Context, t events.Ticket) (events.Enrichment, error) {
	if s.searcher == nil {
		// No log source: say so plainly rather than pretending there
		// were no logs.
		return events.Enrichment{
			LogsStatus: events.LogsNotConfigured,
			Note:       "no Elasticsearch is configured; logs were not searched",
			Evidence:   logsearch.Evidence(s.finder.Extract(t)),
			EnrichedAt: s.now().UTC(),
		}, nil
	}
	fctx, cancel := context.WithTimeout(ctx, s.cfg.ES.Deadline)
	defer cancel()
	enr, err := s.finder.Find(fctx, t)
	enr.EnrichedAt = s.now().UTC()
	switch {
	case err == nil:
	case logsearch.IsUnavailable(err):
		enr.LogsStatus = events.LogsPending
		enr.Note = "Elasticsearch did not answer; logs will be attached automatically when it does"
		enr.Logs, enr.Signatures = nil, nil
		s.Log.Warn("logs pending", logging.TicketID(t.ID), zap.Error(err))
		return enr, err
	default:
		enr.LogsStatus = events.LogsFailed
		enr.Note = "log search failed: " + err.Error()
		s.Log.Error("log search failed", logging.TicketID(t.ID), zap.Error(err))
	}
	return enr, nil
}

func (s *Service) publishEnriched(ctx context.Context, t events.Ticket, enr events.Enrichment) error {
	out := events.TicketEnriched{SchemaVersion: events.SchemaVersion, Ticket: t, Enrichment: enr}
	if _, err := bus.Publish(ctx, s.JS, bus.Event{
		Subject: events.TicketSubject(events.SubjectEnriched, t.ID),
		Type:    events.TypeTicketEnriched,
		ID:      fmt.Sprintf("enriched:%s:%d", t.ID, enr.Attempt),
		Source:  source,
		About:   t.ID,
		Time:    enr.EnrichedAt,
		Data:    out,
	}); err != nil {
		return err
	}
	s.Log.Info("ticket enriched", logging.TicketID(t.ID), zap.String("logs_status", string(enr.LogsStatus)),
		zap.Int("logs", len(enr.Logs)), zap.Int("attempt", enr.Attempt))
	return nil
}

// publishPending queues a retry of the first attempt's search.
func (s *Service) publishPending(ctx context.Context, t events.Ticket, reason error) error {
	const attempt = 1
	_, err := bus.Publish(ctx, s.JS, bus.Event{
		Subject: events.TicketSubject(events.SubjectLogsPending, t.ID),
		Type:    events.TypeLogsPending,
		ID:      fmt.Sprintf("logs_pending:%s:%d", t.ID, attempt),
		Source:  source,
		About:   t.ID,
		Time:    s.now().UTC(),
		Data:    events.TicketLogsPending{SchemaVersion: events.SchemaVersion, Ticket: t, Attempt: attempt, Reason: reason.Error()},
	})
	return err
}
