package bugfiler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
)

// Bug states in the bugs bucket.
const (
	statePending = "pending" // reserved; the issue may or may not exist yet
	stateOpen    = "open"
	stateClosed  = "closed"
	stateFailed  = "failed"
)

// confirmation is one ticket's confirmation of the bug, as the issue
// reports it (text already redacted and neutralised).
type confirmation struct {
	TicketID string    `json:"ticket_id"`
	Tenant   string    `json:"tenant"`
	At       time.Time `json:"at"`
	Severity string    `json:"severity"`
	// Excerpt is the latest log line the engineer picked, redacted.
	Excerpt string `json:"excerpt,omitempty"`
}

// bugRecord is a fingerprint's entry in the bugs bucket: the reservation
// that makes filing happen once, then the issue it became.
type bugRecord struct {
	SchemaVersion int    `json:"schema_version"`
	Fingerprint   string `json:"fingerprint"`
	Owner         string `json:"owner"`
	Repo          string `json:"repo"`
	State         string `json:"state"`
	IssueNumber   int    `json:"issue_number,omitempty"`
	IssueURL      string `json:"issue_url,omitempty"`
	// Tickets are in the issue (its body or a comment); Pending wait for
	// the next comment.
	Tickets []confirmation `json:"tickets"`
	Pending []confirmation `json:"pending,omitempty"`
	// Covered are the tickets the report the issue was filed from names
	// (an incident's, confirmed one by one): in the issue already, so
	// their confirmations are linked at once, without a comment.
	Covered []string `json:"covered,omitempty"`
	// Attempts counts creations started whose outcome may be unknown: the
	// next one looks for the issue first.
	Attempts int `json:"attempts"`
	// Lease: who is filing (or commenting) now, since and until when.
	Lease      string    `json:"lease,omitempty"`
	LeasedAt   time.Time `json:"leased_at,omitzero"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	// Filing are the tickets the issue being created names (its body),
	// fixed when the first attempt starts, so an attempt after a crash
	// records exactly what the issue holds.
	Filing []string `json:"filing,omitempty"`
	// Flushing are the tickets of the comment being posted, fixed when its
	// first attempt starts: the batch marker is made of them, so a retry
	// finds a comment posted before a crash.
	Flushing []string `json:"flushing,omitempty"`
	// FlushAttempts counts comments started for the current batch.
	FlushAttempts int       `json:"flush_attempts,omitempty"`
	LastCommentAt time.Time `json:"last_comment_at,omitzero"`
	ReservedAt    time.Time `json:"reserved_at"`
	// Regression of earlier, closed issues of the same bug.
	Regressions []int  `json:"regressions,omitempty"`
	Failure     string `json:"failure,omitempty"`
}

const recordSchema = 1

func (r *bugRecord) has(ticket string) bool {
	in := func(list []confirmation) bool {
		return slices.ContainsFunc(list, func(c confirmation) bool { return c.TicketID == ticket })
	}
	return in(r.Tickets) || in(r.Pending)
}

func (r *bugRecord) ticketIDs(list []confirmation) []string {
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.TicketID
	}
	return ids
}

// pendingOf returns the pending confirmations of the named tickets.
func (r *bugRecord) pendingOf(ids []string) []confirmation {
	var out []confirmation
	for _, c := range r.Pending {
		if slices.Contains(ids, c.TicketID) {
			out = append(out, c)
		}
	}
	return out
}

// confirmed returns the ticket's confirmation in the issue, if any.
func (r *bugRecord) confirmed(ticket string) (confirmation, bool) {
	i := slices.IndexFunc(r.Tickets, func(c confirmation) bool { return c.TicketID == ticket })
	if i < 0 {
		return confirmation{}, false
	}
	return r.Tickets[i], true
}

// link puts a confirmation in Tickets (out of Pending, if it waited there).
func (r *bugRecord) link(conf confirmation) {
	r.Pending = slices.DeleteFunc(r.Pending, func(c confirmation) bool { return c.TicketID == conf.TicketID })
	if _, ok := r.confirmed(conf.TicketID); !ok {
		r.Tickets = append(r.Tickets, conf)
	}
}

// movePending moves the named tickets from Pending to Tickets.
func (r *bugRecord) movePending(ids []string) {
	var keep []confirmation
	for _, c := range r.Pending {
		if slices.Contains(ids, c.TicketID) {
			r.Tickets = append(r.Tickets, c)
		} else {
			keep = append(keep, c)
		}
	}
	r.Pending = keep
}

// coversUnlinked reports whether the issue's report names the ticket
// (an incident's) but the ticket is not linked to it yet.
func (r *bugRecord) coversUnlinked(id string) bool {
	_, linked := r.confirmed(id)
	return !linked && slices.Contains(r.Covered, id)
}

// leased reports whether another filer holds the fingerprint at now.
func (r *bugRecord) leased(now time.Time, mine string) bool {
	return r.Lease != "" && r.Lease != mine && now.Before(r.LeaseUntil)
}

func newLease() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// records reads and writes the bugs bucket with compare-and-set.
type records struct{ kv jetstream.KeyValue }

func (rs records) get(ctx context.Context, fp string) (*bugRecord, uint64, error) {
	e, err := rs.kv.Get(ctx, fp)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read bug %s: %w", fp, err)
	}
	var r bugRecord
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return nil, 0, fmt.Errorf("decode bug %s: %w", fp, err)
	}
	if r.SchemaVersion > recordSchema {
		return nil, 0, fmt.Errorf("bug %s was written by a newer version (schema %d); leaving it to a newer replica", fp, r.SchemaVersion)
	}
	return &r, e.Revision(), nil
}

// errChanged: another filer wrote the record meanwhile; read it again.
var errChanged = errors.New("bug record changed meanwhile")

// put writes r at revision rev (0: create it).
func (rs records) put(ctx context.Context, r *bugRecord, rev uint64) (uint64, error) {
	r.SchemaVersion = recordSchema
	b, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("encode bug %s: %w", r.Fingerprint, err)
	}
	var n uint64
	if rev == 0 {
		n, err = rs.kv.Create(ctx, r.Fingerprint, b)
	} else {
		n, err = rs.kv.Update(ctx, r.Fingerprint, b, rev)
	}
	if bus.IsConflict(err) {
		return 0, errChanged
	}
	if err != nil {
		return 0, fmt.Errorf("write bug %s: %w", r.Fingerprint, err)
	}
	return n, nil
}

// settle applies change to the fingerprint's record until it is written:
// after GitHub did something, its record must follow, even if other
// confirmations were added meanwhile.
func (rs records) settle(ctx context.Context, fp string, change func(*bugRecord)) error {
	for i := 0; i < maxLoops; i++ {
		r, rev, err := rs.get(ctx, fp)
		if err != nil {
			return err
		}
		if r == nil {
			return fmt.Errorf("bug %s's record vanished", fp)
		}
		change(r)
		if _, err := rs.put(ctx, r, rev); !errors.Is(err, errChanged) {
			return err
		}
	}
	return fmt.Errorf("bug %s: record kept changing", fp)
}

// confirmationOf is what the issue says of one confirmation.
func (s *Service) confirmationOf(in events.BugConfirmed) confirmation {
	c := confirmation{TicketID: in.TicketID, At: in.ConfirmedAt, Severity: in.Bug.Severity}
	if len(in.Bug.Tenants) > 0 {
		c.Tenant = s.clean(in.Bug.Tenants[0])
	}
	if n := len(in.Bug.Excerpts); n > 0 {
		c.Excerpt = s.clean(in.Bug.Excerpts[n-1].Message)
	}
	return c
}
