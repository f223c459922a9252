// Package demoeval serves the demo world from the Elasticsearch-compatible
// development server, and measures how well the enricher's log search finds
// the logs each labelled demo ticket should get (recall and precision).
package demoeval

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/demoworld"
	"github.com/triage-pipeline/triage/libs/dev/esdev"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/logsearch"
)

// Load puts the world's logs into srv: each daily index is created with
// the ECS mappings first, then the documents go in bulk.
func Load(srv *esdev.Server, w *demoworld.World) error {
	created := map[string]bool{}
	for i := range w.Logs {
		name := w.Logs[i].Index()
		if created[name] {
			continue
		}
		if err := srv.CreateIndex(name, demoworld.IndexMapping()); err != nil {
			return fmt.Errorf("create demo index %s: %w", name, err)
		}
		created[name] = true
	}
	var buf bytes.Buffer
	if err := w.WriteBulk(&buf); err != nil {
		return fmt.Errorf("demo bulk body: %w", err)
	}
	if err := srv.LoadBulk(buf.Bytes(), ""); err != nil {
		return fmt.Errorf("load demo logs: %w", err)
	}
	return nil
}

// Ticket turns a demo ticket into the pipeline's ticket.
func Ticket(t demoworld.Ticket) events.Ticket {
	out := events.Ticket{
		ID: t.ID, Subject: t.Subject, Description: t.Description, TenantID: t.TenantID, Reporter: t.Reporter,
		Channel: t.Channel, Language: t.Language, SubmittedAt: t.SubmittedAt,
		Identifiers: events.Identifiers(t.Identifiers),
	}
	if !t.OccurredAt.IsZero() {
		at := t.OccurredAt
		out.OccurredAt = &at
	}
	return out
}

// Zones is the world's tenant directory as the enricher takes it.
func Zones(w *demoworld.World) map[string]*time.Location {
	zones := make(map[string]*time.Location, len(w.Tenants))
	for i := range w.Tenants {
		zones[w.Tenants[i].ID] = w.Tenants[i].Location()
	}
	return zones
}

// TicketScore is one labelled ticket's result.
type TicketScore struct {
	ID, Incident, Subject string
	Expected, Attached    int
	Hits                  int
}

// Report sums up an evaluation.
type Report struct {
	// Labelled counts technical tickets with expected logs.
	Labelled int
	// Recall and Precision are micro-averaged over labelled tickets.
	Recall, Precision float64
	// NonTechnicalWithLogs counts non-technical tickets that got logs (the
	// router sends them to support, where raw logs are not shown).
	NonTechnicalWithLogs int
	Tickets              []TicketScore
	// Enrichments holds what the finder returned, by demo ticket id.
	Enrichments map[string]events.Enrichment
}

// Evaluate runs the finder over every demo ticket and scores the attached
// logs against the labels.
func Evaluate(ctx context.Context, w *demoworld.World, f *logsearch.Finder) (Report, error) {
	var rep Report
	var hits, expected, attached int
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16) // enough to fill the searcher's batches
	scores := make([]TicketScore, len(w.Tickets))
	enrs := make([]events.Enrichment, len(w.Tickets))
	for i, t := range w.Tickets {
		g.Go(func() error {
			enr, err := f.Find(gctx, Ticket(t))
			if err != nil {
				return fmt.Errorf("ticket %s: %w", t.ID, err)
			}
			enrs[i] = enr
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return rep, err
	}
	rep.Enrichments = make(map[string]events.Enrichment, len(w.Tickets))
	for i, t := range w.Tickets {
		rep.Enrichments[t.ID] = enrs[i]
	}
	for i, t := range w.Tickets {
		enr := enrs[i]
		if len(t.ExpectedLogIDs) == 0 {
			if !t.Technical && len(enr.Logs) > 0 {
				rep.NonTechnicalWithLogs++
			}
			continue
		}
		s := TicketScore{ID: t.ID, Incident: t.Incident, Subject: t.Subject, Expected: len(t.ExpectedLogIDs), Attached: len(enr.Logs)}
		for _, l := range enr.Logs {
			if slices.Contains(t.ExpectedLogIDs, l.ID) {
				s.Hits++
			}
		}
		scores[i] = s
		rep.Tickets = append(rep.Tickets, s)
		hits += s.Hits
		expected += s.Expected
		attached += s.Attached
	}
	rep.Labelled = len(rep.Tickets)
	if expected > 0 {
		rep.Recall = float64(hits) / float64(expected)
	}
	if attached > 0 {
		rep.Precision = float64(hits) / float64(attached)
	}
	return rep, nil
}

// Print writes the report, worst tickets first.
func (r Report) Print(out io.Writer) {
	fmt.Fprintf(out, "attached logs on %d labelled demo tickets: recall %.3f, precision %.3f (micro-averaged)\n", r.Labelled, r.Recall, r.Precision)
	fmt.Fprintf(out, "non-technical tickets that got logs: %d\n", r.NonTechnicalWithLogs)
	var worst []TicketScore
	for _, s := range r.Tickets {
		if s.Hits < s.Expected || s.Hits < s.Attached {
			worst = append(worst, s)
		}
	}
	sort.SliceStable(worst, func(a, b int) bool {
		return worst[a].Hits*worst[b].Expected < worst[b].Hits*worst[a].Expected
	})
	fmt.Fprintf(out, "imperfect tickets: %d, worst first:\n", len(worst))
	for _, s := range worst[:min(5, len(worst))] {
		fmt.Fprintf(out, "  %-12s %-22s expected %2d attached %2d hits %2d  %s\n", s.ID, s.Incident, s.Expected, s.Attached, s.Hits, s.Subject)
	}
}

// Started is a demo world served by a running development Elasticsearch.
type Started struct {
	World  *demoworld.World
	Server *esdev.Server
	URL    string
	Stop   func()
}

// Start generates the world for cfg, loads it into a development server and
// serves it on addr until Stop.
func Start(ctx context.Context, cfg demoworld.Config, addr string) (*Started, error) {
	d := &Started{World: demoworld.Generate(cfg), Server: esdev.New(esdev.Options{})}
	if err := Load(d.Server, d.World); err != nil {
		return nil, err
	}
	url, stop, err := d.Server.Start(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("development elasticsearch on %s: %w", addr, err)
	}
	d.URL, d.Stop = url, stop
	return d, nil
}

// Served is a demo world in a running development Elasticsearch, with a
// log finder searching it as the enricher would.
type Served struct {
	World  *demoworld.World
	Server *esdev.Server
	Finder *logsearch.Finder
}

// Serve starts the world for cfg on a loopback port and points a finder at
// it, with the enricher's default settings. stop ends the searcher and the
// server.
func Serve(ctx context.Context, cfg demoworld.Config) (s *Served, stop func(), err error) {
	d, err := Start(ctx, cfg, "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	w, srv, url, stopES := d.World, d.Server, d.URL, d.Stop
	var lc struct {
		ES logsearch.Config `embed:""`
	}
	if err := config.Load("demoeval", &lc, []string{"--es-addresses", url}); err != nil {
		stopES()
		return nil, nil, err
	}
	es, err := logsearch.NewClient(lc.ES)
	if err != nil {
		stopES()
		return nil, nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	searcher := logsearch.NewSearcher(es, lc.ES, nil)
	searched := make(chan struct{})
	go func() { defer close(searched); _ = searcher.Run(sctx) }()
	stop = func() { cancel(); <-searched; stopES() }
	ref, err := time.LoadLocation(demoworld.ReferenceZone)
	if err == nil {
		var f *logsearch.Finder
		if f, err = logsearch.NewFinder(lc.ES, searcher, Zones(w), ref); err == nil {
			return &Served{World: w, Server: srv, Finder: f}, stop, nil
		}
	}
	stop()
	return nil, nil, err
}
