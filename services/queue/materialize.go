package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/logging"
)

// ticketOf is the ticket id: the last token of a ticket event's subject.
func ticketOf(subject string) string { return subject[strings.LastIndexByte(subject, '.')+1:] }

// handleTicketEvent brings the ticket's stored state up to date with its
// events, through this one at least. It reads the events from the stream
// rather than trusting delivery order, so events of one ticket handled at
// once, late or again all give the same record.
func (s *Service) handleTicketEvent(ctx context.Context, msg jetstream.Msg) error {
	meta, err := msg.Metadata()
	if err != nil {
		return fmt.Errorf("message metadata: %w", err)
	}
	id := ticketOf(msg.Subject())
	for {
		r, rev, err := s.st.read(ctx, id)
		if err != nil {
			return err
		}
		if r.LastSeq >= meta.Sequence.Stream {
			// Folded in already (by another event's handling, or before a
			// crash): the indexes may still lag if that crash came between
			// the writes, so bring them in line (a no-op when they are).
			if r.Version != 0 {
				if err := s.st.index(ctx, r); err != nil {
					return err
				}
			}
			break
		}
		if err := r.writable(); err != nil {
			return bus.Later(err) // a newer replica's record: it will do this
		}
		before := r.Version
		if err := s.st.catchUp(ctx, r, id); errors.Is(err, errNewerEvent) {
			return bus.Later(err)
		} else if err != nil {
			return err
		}
		if r.LastSeq < meta.Sequence.Stream {
			// The read came from a replica of the stream that is behind
			// (direct gets may): try again rather than store a state
			// without this event.
			return fmt.Errorf("ticket %s: the stream read stopped at %d, before event %d", id, r.LastSeq, meta.Sequence.Stream)
		}
		if r.Version == 0 {
			return nil // no routed event yet: nothing to show
		}
		err = s.st.write(ctx, r, rev)
		if errors.Is(err, errConflict) {
			continue // another worker wrote meanwhile: fold on top of it
		}
		if err != nil {
			return err
		}
		if before == 0 {
			s.Log.Info("ticket queued", logging.TicketID(id), zap.String("queue", r.Queue), zap.String("severity", r.Routing.Severity))
		}
		break
	}
	if msg.Headers().Get(bus.HeaderType) == events.TypeTicketBugConfirmed {
		return s.passOnBug(ctx, msg, meta.Sequence.Stream)
	}
	return nil
}

// passOnBug hands a confirmed bug to the bug filer. Done here, after the
// confirmation is stored, so a crash between the two cannot lose it: the
// message is redelivered until this succeeds, and the event id makes a
// repeat a duplicate.
func (s *Service) passOnBug(ctx context.Context, msg jetstream.Msg, seq uint64) error {
	var in events.TicketBugConfirmed
	if err := bus.Decode(msg, &in); err != nil {
		return err
	}
	out := events.BugConfirmed{SchemaVersion: events.SchemaVersion, Bug: in.Bug, TicketID: in.TicketID, ConfirmedBy: in.Actor, ConfirmedAt: in.At}
	_, err := bus.Publish(ctx, s.JS, bus.Event{
		Subject: events.TicketSubject(events.SubjectConfirmed, in.Bug.Fingerprint),
		Type:    events.TypeBugConfirmed,
		ID:      fmt.Sprintf("confirmed:%s:%d", in.TicketID, seq),
		Source:  source, About: in.Bug.Fingerprint, Time: in.At, Data: out,
	})
	if err != nil {
		return fmt.Errorf("pass ticket %s's bug %s to the filer: %w", in.TicketID, in.Bug.Fingerprint, err)
	}
	return nil
}

// handleBugState records on every linked ticket what became of its bug on
// GitHub (filed, closed, reopened, failed), as an event in the ticket's
// history.
func (s *Service) handleBugState(ctx context.Context, msg jetstream.Msg) error {
	var in events.BugState
	if err := bus.Decode(msg, &in); err != nil {
		return err
	}
	meta, err := msg.Metadata()
	if err != nil {
		return fmt.Errorf("message metadata: %w", err)
	}
	state := map[string]string{
		events.TypeBugFiled: events.BugOpen, events.TypeBugClosed: events.BugClosed,
		events.TypeBugReopened: events.BugReopened, events.TypeBugFailed: events.BugFailed,
	}[msg.Headers().Get(bus.HeaderType)]
	for _, id := range in.TicketIDs {
		r, _, err := s.st.current(ctx, id)
		if errors.Is(err, errNoTicket) {
			s.Log.Warn("bug names a ticket the queue does not hold", logging.TicketID(id), zap.String("fingerprint", in.Fingerprint))
			continue
		}
		if err != nil {
			return err
		}
		if b := r.Bug; b != nil && b.State == state && b.IssueNumber == in.IssueNumber && b.Note == in.Reason {
			continue // recorded already (a redelivery)
		}
		ev := events.TicketBugUpdated{
			Action:      events.Action{SchemaVersion: events.SchemaVersion, TicketID: id, Actor: events.Actor{Name: "github", Role: "system"}, At: in.At},
			Fingerprint: in.Fingerprint, State: state, IssueNumber: in.IssueNumber, IssueURL: in.IssueURL, Note: in.Reason,
		}
		if in.By != "" {
			ev.Actor.Name = in.By
		}
		if _, err := bus.Publish(ctx, s.JS, bus.Event{
			Subject: events.TicketSubject(events.SubjectBugUpdated, id), Type: events.TypeTicketBugUpdated,
			ID: fmt.Sprintf("bug:%d:%s", meta.Sequence.Stream, id), Source: source, About: id, Time: s.now().UTC(), Data: ev,
		}); err != nil {
			return err
		}
	}
	return nil
}

// watchOpen keeps the in-memory view (and the live list updates) in step
// with the open-tickets bucket.
func (s *Service) watchOpen(ctx context.Context) error {
	w, err := s.st.open.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch %s: %w", bus.BucketOpenTickets, err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				if ctx.Err() != nil {
					return nil // stopping: the watch closed with ctx
				}
				return errors.New("open-tickets watch ended")
			}
			if e == nil {
				s.view.markLoaded()
				s.hub.markLoaded()
				continue
			}
			if e.Operation() != jetstream.KeyValuePut {
				s.view.remove(e.Key())
				s.hub.publishList(e.Revision(), e.Key(), nil)
				continue
			}
			var sum Summary
			if err := json.Unmarshal(e.Value(), &sum); err != nil {
				s.Log.Error("undecodable summary in bucket", logging.TicketID(e.Key()), zap.Error(err))
				continue
			}
			s.view.put(sum)
			s.hub.publishList(e.Revision(), e.Key(), &sum)
		}
	}
}

// watchTickets tells open ticket pages that their ticket changed.
func (s *Service) watchTickets(ctx context.Context) error {
	w, err := s.st.tickets.WatchAll(ctx, jetstream.UpdatesOnly(), jetstream.MetaOnly())
	if err != nil {
		return fmt.Errorf("watch %s: %w", bus.BucketTickets, err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				if ctx.Err() != nil {
					return nil // stopping: the watch closed with ctx
				}
				return errors.New("tickets watch ended")
			}
			if e != nil {
				s.hub.publishTicket(e.Key(), e.Revision())
			}
		}
	}
}

// watchSLA marks tickets that missed a target, once each: the breach is
// an event on the ticket, written with the same compare-and-set as
// people's actions, so several replicas checking at once write it once.
func (s *Service) watchSLA(ctx context.Context) error {
	t := time.NewTicker(s.cfg.SLACheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for _, sum := range s.view.overdue(s.now()) {
			if err := s.breach(ctx, sum.ID); err != nil && ctx.Err() == nil {
				s.Log.Warn("sla breach not recorded; next check retries", logging.TicketID(sum.ID), zap.Error(err))
			}
		}
	}
}

// breach writes each target the ticket has missed and not yet recorded:
// the response (nobody responded by its due time) and the resolution.
func (s *Service) breach(ctx context.Context, id string) error {
	for _, kind := range []string{events.SLAResponse, events.SLAResolution} {
		if err := s.breachOne(ctx, id, kind); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) breachOne(ctx context.Context, id, kind string) error {
	r, _, err := s.st.current(ctx, id)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	sla := r.SLA
	due, met, recorded := sla.ResponseDue, sla.RespondedAt != nil, sla.ResponseBreached
	if kind == events.SLAResolution {
		due, met, recorded = sla.ResolutionDue, sla.ResolvedAt != nil, sla.ResolutionBreached
	}
	if due.IsZero() || now.Before(due) || met || recorded || !r.Open() {
		return nil
	}
	ev := events.TicketSLABreached{
		Action: events.Action{SchemaVersion: events.SchemaVersion, TicketID: id, Actor: events.Actor{Name: "sla", Role: "system"}, At: now},
		Kind:   kind, Due: due,
	}
	ack, err := bus.Publish(ctx, s.JS, bus.Event{
		Subject: events.TicketSubject(events.SubjectSLABreached, id), Type: events.TypeTicketSLABreached,
		ID: "sla:" + id + ":" + kind, Source: source, About: id, Time: now, Data: ev,
	}, jetstream.WithExpectLastSequenceForSubject(r.LastSeq, events.TicketHistoryFilter(id)))
	if bus.IsWrongLastSequence(err) {
		return nil // the ticket changed meanwhile; the next check sees it anew
	}
	if err != nil || ack.Duplicate {
		return err
	}
	s.metrics.breaches.WithLabelValues(kind, r.Routing.Severity).Inc()
	s.Log.Warn("sla missed", logging.TicketID(id), zap.String("kind", kind), zap.Time("due", due))
	return nil
}
