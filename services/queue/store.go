package queue

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
)

// store reads and writes the materialised state: the tickets bucket (one
// record per ticket), the open-tickets bucket (the list view's source) and
// the tenant index. All three are derived from the TICKETS stream, which
// stays the truth: any of them can be rebuilt by folding events again.
type store struct {
	// markerTTL is how long a closed ticket's purge marker stays in the
	// open-tickets bucket.
	markerTTL time.Duration
	stream    jetstream.Stream
	tickets   jetstream.KeyValue
	open      jetstream.KeyValue
	tenants   jetstream.KeyValue
	// incidents is the router's: the queue only reads it.
	incidents jetstream.KeyValue
	due       DuePolicy
}

func openStore(ctx context.Context, js jetstream.JetStream, topo bus.Topology, due DuePolicy) (*store, error) {
	st := &store{due: due, markerTTL: topo.OpenTicketsBucket().LimitMarkerTTL}
	var err error
	if st.stream, err = js.Stream(ctx, bus.StreamTickets); err != nil {
		return nil, fmt.Errorf("open %s: %w", bus.StreamTickets, err)
	}
	if st.tickets, err = bus.EnsureBucket(ctx, js, topo.TicketsBucket()); err != nil {
		return nil, err
	}
	if st.open, err = bus.EnsureBucket(ctx, js, topo.OpenTicketsBucket()); err != nil {
		return nil, err
	}
	if st.tenants, err = bus.EnsureBucket(ctx, js, topo.TenantIndexBucket()); err != nil {
		return nil, err
	}
	if st.incidents, err = bus.EnsureBucket(ctx, js, topo.IncidentsBucket()); err != nil {
		return nil, err
	}
	return st, nil
}

// errNoTicket: the queue holds no such ticket.
var errNoTicket = errors.New("no such ticket in the queue")

// read returns a ticket's stored record and its bucket revision (0 when
// there is none).
func (st *store) read(ctx context.Context, id string) (*Record, uint64, error) {
	e, err := st.tickets.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return &Record{}, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read ticket %s: %w", id, err)
	}
	r := &Record{}
	if err := json.Unmarshal(e.Value(), r); err != nil {
		return nil, 0, fmt.Errorf("decode ticket %s: %w", id, err)
	}
	return r, e.Revision(), nil
}

// current returns the ticket's record brought up to date with every event
// in the stream (the bucket may lag behind an action just written), and
// the bucket revision it was read at.
func (st *store) current(ctx context.Context, id string) (*Record, uint64, error) {
	r, rev, err := st.read(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	if err := st.catchUp(ctx, r, id); err != nil {
		return nil, 0, err
	}
	if r.Version == 0 {
		return nil, 0, fmt.Errorf("%w: %s", errNoTicket, id)
	}
	return r, rev, nil
}

// catchUp folds the ticket's events after r.LastSeq into r, reading them
// from the stream by the ticket's subjects.
func (st *store) catchUp(ctx context.Context, r *Record, id string) error {
	filter := events.TicketHistoryFilter(id)
	for seq := r.LastSeq + 1; ; {
		m, err := st.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read ticket %s's events from %d: %w", id, seq, err)
		}
		if err := apply(r, storedEvent{Seq: m.Sequence, Type: m.Header.Get(bus.HeaderType), Time: m.Time, Data: m.Data}, st.due); err != nil {
			return err
		}
		seq = m.Sequence + 1
	}
}

// errConflict: another writer changed the record meanwhile; read again.
var errConflict = errors.New("record changed meanwhile")

// write stores r if the bucket still holds revision rev (0: none), then
// brings the open-tickets bucket and the tenant index in line.
func (st *store) write(ctx context.Context, r *Record, rev uint64) error {
	if err := r.writable(); err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode ticket %s: %w", r.Ticket.ID, err)
	}
	id := r.Ticket.ID
	if rev == 0 {
		_, err = st.tickets.Create(ctx, id, b)
	} else {
		_, err = st.tickets.Update(ctx, id, b, rev)
	}
	if bus.IsConflict(err) {
		return errConflict
	}
	if err != nil {
		return fmt.Errorf("write ticket %s: %w", id, err)
	}
	return st.index(ctx, r)
}

// index writes the summary to the open-tickets bucket (or purges it once
// closed) and the tenant index, never over a newer summary.
func (st *store) index(ctx context.Context, r *Record) error {
	s := summarize(r)
	if r.Open() {
		if err := putNewer(ctx, st.open, s.ID, s, st.newerState); err != nil {
			return err
		}
	} else if err := st.open.Purge(ctx, s.ID, jetstream.PurgeTTL(st.markerTTL)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("remove closed ticket %s from the open list: %w", s.ID, err)
	}
	// The tenant index names the ticket once; a search reads the records.
	if _, err := st.tenants.Create(ctx, tenantKey(s.TenantID, s.ID), nil); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("index ticket %s under its tenant: %w", s.ID, err)
	}
	return nil
}

// newerState reports whether the stored record of s's ticket is newer than
// s: a summary missing from the open list may have been purged because
// the ticket closed, and a slower writer must not bring it back.
func (st *store) newerState(ctx context.Context, s Summary) (bool, error) {
	r, _, err := st.read(ctx, s.ID)
	if err != nil {
		return false, err
	}
	return r.Version > s.Version, nil
}

// putNewer puts s under key unless the bucket holds a newer version of it
// (or, for a key not there, unless missing says a newer state exists): two
// writers of one ticket may reach the indexes in either order.
func putNewer(ctx context.Context, kv jetstream.KeyValue, key string, s Summary, missing func(context.Context, Summary) (bool, error)) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode summary %s: %w", s.ID, err)
	}
	for {
		e, err := kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			if newer, nerr := missing(ctx, s); nerr != nil || newer {
				return nerr
			}
			_, err = kv.Create(ctx, key, b)
		case err != nil:
			return fmt.Errorf("read %s: %w", key, err)
		default:
			var have Summary
			if json.Unmarshal(e.Value(), &have) == nil && have.Version >= s.Version {
				return nil
			}
			_, err = kv.Update(ctx, key, b, e.Revision())
		}
		if err == nil {
			return nil
		}
		if !bus.IsConflict(err) {
			return fmt.Errorf("write %s: %w", key, err)
		}
	}
}

// tenantKey keeps any tenant id a single KV token: hex.
func tenantKey(tenant, id string) string { return hex.EncodeToString([]byte(tenant)) + "." + id }

// maxTenantTickets bounds one tenant search.
const maxTenantTickets = 500

// byTenant lists a tenant's tickets, open and closed, newest first.
func (st *store) byTenant(ctx context.Context, tenant string) ([]Summary, error) {
	keys, err := st.tenants.ListKeysFiltered(ctx, hex.EncodeToString([]byte(tenant))+".*")
	if err != nil {
		return nil, fmt.Errorf("list tenant %s: %w", tenant, err)
	}
	out := []Summary{}
	for key := range keys.Keys() {
		if len(out) == maxTenantTickets {
			_ = keys.Stop()
			break
		}
		id := key[strings.IndexByte(key, '.')+1:]
		r, _, err := st.read(ctx, id)
		if err != nil {
			return nil, err
		}
		if r.Version != 0 {
			out = append(out, summarize(r))
		}
	}
	slices.SortFunc(out, func(a, b Summary) int { return b.SubmittedAt.Compare(a.SubmittedAt) })
	return out, nil
}

// logs reads the logs attached to a ticket, from the routed event that
// carries them.
func (st *store) logs(ctx context.Context, r *Record) ([]events.LogEntry, error) {
	if r.RoutedSeq == 0 {
		return nil, nil
	}
	m, err := st.stream.GetMsg(ctx, r.RoutedSeq)
	if err != nil {
		return nil, fmt.Errorf("read ticket %s's logs (event %d): %w", r.Ticket.ID, r.RoutedSeq, err)
	}
	var ev events.TicketRouted
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		return nil, fmt.Errorf("decode ticket %s's logs: %w", r.Ticket.ID, err)
	}
	return ev.Enrichment.Logs, nil
}

// history lists a ticket's events in order, for its page and API.
func (st *store) history(ctx context.Context, id string) ([]*jetstream.RawStreamMsg, error) {
	var out []*jetstream.RawStreamMsg
	filter := events.TicketHistoryFilter(id)
	for seq := uint64(1); ; {
		m, err := st.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read ticket %s's history: %w", id, err)
		}
		out = append(out, m)
		seq = m.Sequence + 1
	}
}
