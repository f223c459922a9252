package bugfiler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/go-github/v60/github"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/logging"
)

// filingFailed is a filing no retry can fix (bad credentials, a missing
// repository, GitHub refusing the issue as invalid).
type filingFailed struct{ err error }

func (f *filingFailed) Error() string { return "filing on GitHub failed for good: " + f.err.Error() }
func (f *filingFailed) Unwrap() error { return f.err }

// maxLoops bounds the compare-and-set retries of one handling.
const maxLoops = 50

// file brings the bug's GitHub issue up to date with one confirmation:
// reserve the fingerprint and file the issue (exactly once), or add the
// ticket to the issue (one comment per batch), or bring a closed bug back.
//
// Exactly once, across crashes and replicas: the fingerprint is reserved
// with a KV create before GitHub is called; the issue carries the
// fingerprint in a hidden marker; a filer holds a lease while it calls
// GitHub, and one that takes over from a lapsed lease, or retries a create
// whose answer was lost, first looks for the marker among the repository's
// recent issues (the list endpoint: search lags behind new issues).
func (s *Service) file(ctx context.Context, in events.BugConfirmed) error {
	rs := records{s.bugs}
	fp := in.Bug.Fingerprint
	conf := s.confirmationOf(in)
	owner, repo := s.cfg.GitHub.repoFor(in.Bug.Component)
	mine := newLease()
	log := s.Log.With(zap.String("fingerprint", fp), logging.TicketID(in.TicketID))
	for loop := 0; loop < maxLoops; loop++ {
		now := s.now().UTC()
		r, rev, err := rs.get(ctx, fp)
		if err != nil {
			return err
		}
		if r == nil {
			r = &bugRecord{Fingerprint: fp, Owner: owner, Repo: repo, State: statePending, Pending: []confirmation{conf}, ReservedAt: now}
			if _, err := rs.put(ctx, r, 0); err != nil && !errors.Is(err, errChanged) {
				return err
			}
			continue // reserved (or another filer did): go on from what is stored
		}
		// addPending puts the confirmation in the queue of the next issue
		// body or comment, and reads the record again.
		addPending := func() error {
			r.Pending = append(r.Pending, conf)
			if _, err := rs.put(ctx, r, rev); err != nil && !errors.Is(err, errChanged) {
				return err
			}
			return nil
		}
		var done bool
		switch r.State {
		case stateFailed:
			// A replayed confirmation after the cause was fixed: try again.
			r.State, r.Failure = statePending, ""
			if !r.has(conf.TicketID) {
				r.Pending = append(r.Pending, conf)
			}
			if _, err := rs.put(ctx, r, rev); err != nil && !errors.Is(err, errChanged) {
				return err
			}
			continue
		case statePending:
			if !r.has(conf.TicketID) {
				if err := addPending(); err != nil {
					return err
				}
				continue
			}
			done, err = s.fileIssue(ctx, rs, r, rev, in, mine, log)
		case stateOpen:
			if r.coversUnlinked(conf.TicketID) {
				// Named in the issue's report (its incident): linked now.
				if err := rs.settle(ctx, fp, func(r *bugRecord) { r.link(conf) }); err != nil {
					return err
				}
				s.metrics.filed.WithLabelValues("duplicate").Inc()
				return s.publishFiled(ctx, r, []string{conf.TicketID})
			}
			if _, ok := r.confirmed(conf.TicketID); ok {
				// In the issue already (a redelivery): make sure the queue
				// knows, which is idempotent.
				s.metrics.filed.WithLabelValues("duplicate").Inc()
				return s.publishFiled(ctx, r, []string{conf.TicketID})
			}
			if !r.has(conf.TicketID) {
				if err := addPending(); err != nil {
					return err
				}
				continue
			}
			done, err = s.comment(ctx, rs, r, rev, mine, log)
		case stateClosed:
			done, err = s.closedBug(ctx, rs, r, rev, conf, mine, log)
		default:
			return bus.Permanent(fmt.Errorf("bug %s is in state %q, which this version does not know", fp, r.State))
		}
		if done || err != nil {
			return err
		}
	}
	return fmt.Errorf("bug %s: record kept changing", fp)
}

// closedBug handles a confirmation of a bug whose issue is closed.
func (s *Service) closedBug(ctx context.Context, rs records, r *bugRecord, rev uint64, conf confirmation, mine string, log *zap.Logger) (bool, error) {
	if prev, ok := r.confirmed(conf.TicketID); ok && prev.At.Equal(conf.At) {
		return true, nil // this very confirmation was filed before the close
	}
	if r.coversUnlinked(conf.TicketID) || slices.ContainsFunc(r.Pending, func(c confirmation) bool { return c.TicketID == conf.TicketID }) {
		// Confirmed before the issue was closed, while it waited for the
		// next comment, or named in the issue's report: it belongs to the
		// fixed issue. Link it, then say it is fixed, in that order.
		if err := rs.settle(ctx, r.Fingerprint, func(r *bugRecord) { r.link(conf) }); err != nil {
			return false, err
		}
		if err := s.publishFiled(ctx, r, []string{conf.TicketID}); err != nil {
			return false, err
		}
		issue := &github.Issue{Number: github.Int(r.IssueNumber), HTMLURL: github.String(r.IssueURL)}
		return true, s.publishState(ctx, events.TypeBugClosed, events.SubjectClosed, r.Fingerprint, []string{conf.TicketID}, issue, "",
			fmt.Sprintf("closed:%s:%d:%s", r.Fingerprint, r.IssueNumber, conf.TicketID))
	}
	// A new confirmation after the fix: the bug came back.
	return s.regression(ctx, rs, r, rev, conf, mine, log)
}

// wait turns GitHub's "not now" into a redelivery at the time it gave.
func wait(err error) error {
	var w *errWait
	if errors.As(err, &w) {
		return bus.RetryAfter(err, time.Until(w.until)+time.Second)
	}
	return err
}

// take claims the fingerprint's lease, with change applied to the record
// in the same write. It refuses while another filer holds the lease.
func (s *Service) take(ctx context.Context, rs records, r *bugRecord, rev uint64, mine string, change func(*bugRecord)) (uint64, error) {
	now := s.now().UTC()
	if r.leased(now, mine) {
		return 0, bus.RetryAfter(fmt.Errorf("bug %s is being filed by another replica", r.Fingerprint), s.leaseWait(r, now))
	}
	r.Lease, r.LeasedAt, r.LeaseUntil = mine, now, now.Add(s.cfg.Lease)
	change(r)
	return rs.put(ctx, r, rev)
}

// leaseWait is how long a confirmation that found another filer holding
// the lease waits before looking again: as long again as the holder has
// had it (at least half a second), and no longer than the lease. A filing
// takes about a second, so waiting out the whole lease (minutes, for a
// crashed holder) would hold every confirmation that came during it back
// for minutes; doubling keeps the looks few (about ten for a crashed
// holder's two minutes) when the holder is slow.
func (s *Service) leaseWait(r *bugRecord, now time.Time) time.Duration {
	since := r.LeasedAt
	if since.IsZero() { // written by a version that did not record it
		since = r.LeaseUntil.Add(-s.cfg.Lease)
	}
	return min(max(now.Sub(since), minLeaseWait), r.LeaseUntil.Sub(now)+time.Second)
}

const minLeaseWait = 500 * time.Millisecond

// release gives the lease back after a failed call, so the redelivery
// does not wait for it to lapse; what the call left unknown stays counted
// (Attempts, FlushAttempts).
func (s *Service) release(ctx context.Context, rs records, fp, mine string, log *zap.Logger) {
	err := rs.settle(ctx, fp, func(r *bugRecord) {
		if r.Lease == mine {
			r.Lease = ""
		}
	})
	if err != nil {
		log.Warn("could not give back the filing lease; it lapses by itself", zap.Error(err))
	}
}

// fileIssue creates the issue for a pending fingerprint, or finds the one
// an earlier attempt created. It returns done when the confirmation is
// handled, or false to read the record again.
func (s *Service) fileIssue(ctx context.Context, rs records, r *bugRecord, rev uint64, in events.BugConfirmed, mine string, log *zap.Logger) (bool, error) {
	earlier := r.Attempts > 0
	rev, err := s.take(ctx, rs, r, rev, mine, func(r *bugRecord) {
		if len(r.Filing) == 0 {
			r.Filing = r.ticketIDs(r.Pending)
		}
		r.Attempts++
	})
	if errors.Is(err, errChanged) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var issue *github.Issue
	if earlier {
		// A filer before this one may have created it (it crashed, or the
		// answer was lost): look before creating.
		if issue, err = s.findByMarker(ctx, r); err != nil {
			s.release(ctx, rs, r.Fingerprint, mine, log)
			return false, wait(err)
		}
		if issue != nil {
			log.Info("found the issue an earlier attempt filed", zap.Int("issue", issue.GetNumber()))
		}
	}
	if issue == nil {
		issue, err = s.createIssue(ctx, r.Owner, r.Repo, s.issueRequest(r, r.pendingOf(r.Filing), in))
		switch {
		case err != nil && permanent(err):
			if serr := rs.settle(ctx, r.Fingerprint, func(r *bugRecord) {
				r.State, r.Failure, r.Lease, r.Attempts, r.Filing = stateFailed, err.Error(), "", 0, nil
			}); serr != nil {
				return false, serr
			}
			return true, &filingFailed{err: err}
		case err != nil:
			// A lost answer is looked for on the next try (Attempts > 0);
			// a refusal before anything happened need not be.
			sure := !uncertain(err)
			if serr := rs.settle(ctx, r.Fingerprint, func(r *bugRecord) {
				if r.Lease == mine {
					r.Lease = ""
				}
				if sure && r.Attempts > 0 {
					r.Attempts--
				}
			}); serr != nil {
				log.Warn("could not record the failed attempt", zap.Error(serr))
			}
			return false, wait(fmt.Errorf("create issue for bug %s: %w", r.Fingerprint, err))
		}
		if s.crashAfterCreate != nil && s.crashAfterCreate(r.Fingerprint) {
			return true, errors.New("test: crashed after GitHub created the issue")
		}
		s.metrics.filed.WithLabelValues(map[bool]string{true: "regression", false: "filed"}[len(r.Regressions) > 0]).Inc()
		log.Info("issue filed", zap.Int("issue", issue.GetNumber()), zap.Int("tickets", len(r.Filing)))
	}
	// The body holds the tickets fixed when filing started, and those its
	// report names (an incident's); others added meanwhile stay pending
	// for the next comment.
	covered := in.Bug.TicketIDs
	if len(covered) > maxCovered {
		covered = covered[:maxCovered]
	}
	var filed []string
	number, url := issue.GetNumber(), issue.GetHTMLURL()
	if err := rs.settle(ctx, r.Fingerprint, func(r *bugRecord) {
		// From the record as it is now: confirmations that came while the
		// issue was being created wait in Pending.
		filed = slices.Clone(r.Filing)
		for _, c := range r.Pending {
			if slices.Contains(covered, c.TicketID) && !slices.Contains(filed, c.TicketID) {
				filed = append(filed, c.TicketID)
			}
		}
		r.State, r.IssueNumber, r.IssueURL, r.Lease = stateOpen, number, url, ""
		r.Attempts, r.Filing, r.LastCommentAt, r.Covered = 0, nil, s.now().UTC(), covered
		r.movePending(filed)
	}); err != nil {
		return false, err
	}
	r.IssueNumber, r.IssueURL = number, url
	return true, s.publishFiled(ctx, r, filed)
}

// maxCovered bounds the tickets a record keeps as named by its report.
const maxCovered = 1000

// comment adds the pending confirmations to the open issue in one comment,
// at most one per comment batch.
func (s *Service) comment(ctx context.Context, rs records, r *bugRecord, rev uint64, mine string, log *zap.Logger) (bool, error) {
	now := s.now().UTC()
	if next := r.LastCommentAt.Add(s.cfg.CommentBatch); now.Before(next) {
		return true, bus.RetryAfter(errors.New("waiting to add confirmations in one comment"), next.Sub(now))
	}
	earlier := r.FlushAttempts > 0
	rev, err := s.take(ctx, rs, r, rev, mine, func(r *bugRecord) {
		if len(r.Flushing) == 0 {
			r.Flushing = r.ticketIDs(r.Pending)
		}
		r.FlushAttempts++
	})
	if errors.Is(err, errChanged) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	batch := r.pendingOf(r.Flushing)
	mark := batchMarker(r.Fingerprint, r.Flushing)
	found := false
	if earlier {
		if found, err = s.commentExists(ctx, r, mark); err != nil {
			s.release(ctx, rs, r.Fingerprint, mine, log)
			return false, wait(err)
		}
	}
	if !found {
		if err := s.createComment(ctx, r, s.batchComment(r, batch, mark)); err != nil {
			s.release(ctx, rs, r.Fingerprint, mine, log)
			if permanent(err) {
				return true, &filingFailed{err: err}
			}
			return false, wait(err)
		}
		s.metrics.filed.WithLabelValues("commented").Inc()
		log.Info("confirmations added to the issue", zap.Int("issue", r.IssueNumber), zap.Int("tickets", len(batch)))
	}
	posted := r.Flushing
	if err := rs.settle(ctx, r.Fingerprint, func(r *bugRecord) {
		r.movePending(posted)
		r.LastCommentAt, r.FlushAttempts, r.Flushing, r.Lease = s.now().UTC(), 0, nil, ""
	}); err != nil {
		return false, err
	}
	return true, s.publishFiled(ctx, r, posted)
}

// regression handles a confirmation of a bug whose issue is closed: reopen
// the issue, or file a new one that links it (--on-regression).
func (s *Service) regression(ctx context.Context, rs records, r *bugRecord, rev uint64, conf confirmation, mine string, log *zap.Logger) (bool, error) {
	if s.cfg.Regression == "new-issue" {
		// Back to pending with the old issue remembered: the next round
		// files a new issue that links it.
		r.Regressions = append(r.Regressions, r.IssueNumber)
		r.State, r.IssueNumber, r.IssueURL, r.Attempts, r.Filing = statePending, 0, "", 0, nil
		r.Pending = []confirmation{conf}
		r.ReservedAt = s.now().UTC()
		_, err := rs.put(ctx, r, rev)
		if err != nil && !errors.Is(err, errChanged) {
			return false, err
		}
		return false, nil
	}
	if _, err := s.take(ctx, rs, r, rev, mine, func(*bugRecord) {}); errors.Is(err, errChanged) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	issue, err := s.reopen(ctx, r, conf)
	if err != nil {
		s.release(ctx, rs, r.Fingerprint, mine, log)
		if permanent(err) {
			return true, &filingFailed{err: err}
		}
		return false, wait(err)
	}
	s.metrics.filed.WithLabelValues("reopened").Inc()
	log.Info("closed issue reopened: the bug came back", zap.Int("issue", r.IssueNumber))
	if err := rs.settle(ctx, r.Fingerprint, func(r *bugRecord) {
		r.State, r.Lease = stateOpen, ""
		r.Tickets = slices.DeleteFunc(r.Tickets, func(c confirmation) bool { return c.TicketID == conf.TicketID })
		r.Tickets = append(r.Tickets, conf)
		r.LastCommentAt = s.now().UTC()
	}); err != nil {
		return false, err
	}
	if err := s.publishState(ctx, events.TypeBugReopened, events.SubjectReopened, r.Fingerprint, r.ticketIDs(r.Tickets), issue, "",
		fmt.Sprintf("reopened:%s:%s:%d", r.Fingerprint, conf.TicketID, conf.At.UnixNano())); err != nil {
		return false, err
	}
	return true, s.publishFiled(ctx, r, []string{conf.TicketID})
}

// publishFiled tells the queue which tickets the issue holds.
func (s *Service) publishFiled(ctx context.Context, r *bugRecord, tickets []string) error {
	if len(tickets) == 0 {
		return nil
	}
	issue := &github.Issue{Number: github.Int(r.IssueNumber), HTMLURL: github.String(r.IssueURL)}
	return s.publishState(ctx, events.TypeBugFiled, events.SubjectFiled, r.Fingerprint, tickets, issue, "",
		fmt.Sprintf("filed:%s:%d:%s", r.Fingerprint, r.IssueNumber, tickets[0]))
}
