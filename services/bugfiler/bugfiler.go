// Package bugfiler will file one GitHub issue per confirmed bug. Filing is
// not built yet: the service consumes bugs.confirmed.* and says so in its
// logs. It never pretends to have filed anything; confirmed-bug events stay
// in the BUGS stream (limits retention), so the filer, once built, reads
// them from the start with a new durable consumer.
package bugfiler

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/service"
)

// Config configures the bug filer.
type Config struct {
	service.Config `embed:""`
	HTTPAddr       string `name:"http-addr" env:"TRIAGE_BUGFILER_HTTP_ADDR" default:"127.0.0.1:8084" help:"Listen address for health and metrics."`
}

// durable is versioned: the real filer will use a new durable name and
// start from the first confirmed bug.
const durable = "bugfiler-preview"

// Service is a running bug filer.
type Service struct {
	*service.Base
}

// New connects the bug filer.
func New(ctx context.Context, cfg Config, log *zap.Logger) (*Service, error) {
	topo := cfg.Topology()
	base, err := service.Start(ctx, "bugfiler", cfg.Config, cfg.HTTPAddr, log, topo.BugsStream(), topo.DeadLettersStream())
	if err != nil {
		return nil, err
	}
	base.Log.Warn("GitHub issue filing is not implemented yet: confirmed bugs are logged and left in the BUGS stream, no issue is created")
	return &Service{Base: base}, nil
}

// Run consumes confirmed bugs until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	cc := s.ConsumerConfig(bus.StreamBugs, durable, events.SubjectConfirmed+".*")
	return s.Base.Run(ctx, s.Consume(cc, s.handle))
}

func (s *Service) handle(_ context.Context, msg jetstream.Msg) error {
	var bug events.BugConfirmed
	if err := bus.Decode(msg, &bug); err != nil {
		return err
	}
	s.Log.Warn("confirmed bug NOT filed: GitHub filing is not implemented yet",
		zap.String("fingerprint", bug.Fingerprint), zap.Strings("ticket_ids", bug.TicketIDs))
	return nil
}
