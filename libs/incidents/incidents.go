// Package incidents keeps incidents in the incidents bucket: where each
// one lives, how a change is written (a compare-and-set on the whole
// record, so the router adding tickets and a person resolving never
// overwrite each other), and a view kept in memory from a watch.
//
// Keys: "group.<hash>" holds a storm group's current incident,
// "declared.<hash>" a declaration's (apart, so the router watches only
// those, not every storm's writes), "past.<id>" one that ended,
// "paged.<id>" the pager's marker, "suppressed.<id>.<reason>" a
// suppressed page counted.
package incidents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
)

// ErrNotFound: no incident has that id.
var ErrNotFound = errors.New("no such incident")

// idPattern is an incident id: its group's hash, a dash, the first
// ticket's (or the declaration's) time in base 36.
var idPattern = regexp.MustCompile(`^([0-9a-f]{16})-[0-9a-z]{1,13}$`)

// DeclaredPrefix starts the group (events.Incident.Key) of a declared
// incident.
const DeclaredPrefix = "declared:"

// DeclaredGroup is the group of a declaration: one per source and name, so
// a repeat updates the live incident.
func DeclaredGroup(d events.Declaration) string { return DeclaredPrefix + d.Source + ":" + d.Name }

// Key prefixes of the current incidents: storms', declarations'.
const (
	stormKeys    = "group."
	declaredKeys = "declared."
	pastKeys     = "past."
)

// GroupKey is the bucket key of a group's current incident; group is what
// groups its tickets (events.Incident.Key).
func GroupKey(group string) string {
	sum := sha256.Sum256([]byte(group))
	prefix := stormKeys
	if strings.HasPrefix(group, DeclaredPrefix) {
		prefix = declaredKeys
	}
	return prefix + hex.EncodeToString(sum[:8])
}

// NewID is the id of the incident starting at at in the group kept at key.
func NewID(key string, at time.Time) string {
	_, hash, _ := strings.Cut(key, ".")
	return hash + "-" + strconv.FormatInt(at.Unix(), 36)
}

// currentKeys are where the incident with this id's hash would be its
// group's current one.
func currentKeys(hash string) []string { return []string{stormKeys + hash, declaredKeys + hash} }

// PastKey is where an incident that ended is kept.
func PastKey(id string) string { return pastKeys + id }

// Store reads and changes incidents in the bucket.
type Store struct {
	KV jetstream.KeyValue
}

// Get finds an incident by id: its group's current one, or one that ended.
// It returns the bucket key and revision to update it with.
func (s Store) Get(ctx context.Context, id string) (events.Incident, string, uint64, error) {
	m := idPattern.FindStringSubmatch(id)
	if m == nil {
		return events.Incident{}, "", 0, ErrNotFound
	}
	for _, key := range append(currentKeys(m[1]), PastKey(id)) {
		inc, rev, err := s.read(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return events.Incident{}, "", 0, err
		}
		if inc.ID == id {
			return inc, key, rev, nil
		}
	}
	return events.Incident{}, "", 0, ErrNotFound
}

func (s Store) read(ctx context.Context, key string) (events.Incident, uint64, error) {
	e, err := s.KV.Get(ctx, key)
	if err != nil {
		return events.Incident{}, 0, fmt.Errorf("read incident %s: %w", key, err)
	}
	var inc events.Incident
	if err := json.Unmarshal(e.Value(), &inc); err != nil {
		return events.Incident{}, 0, fmt.Errorf("decode incident %s: %w", key, err)
	}
	return inc, e.Revision(), nil
}

// maxConflicts bounds the compare-and-set retries of one change; each
// conflict means another writer got in, so the record is moving on.
const maxConflicts = 100

// Update applies change to the incident and writes it if nothing else
// wrote meanwhile, reading again and re-applying if something did. An error
// from change stops it and is returned as it is. The change must be a pure
// function of the record it is given.
func (s Store) Update(ctx context.Context, id string, change func(*events.Incident) error) (events.Incident, error) {
	for range maxConflicts {
		inc, key, rev, err := s.Get(ctx, id)
		if err != nil {
			return events.Incident{}, err
		}
		if err := change(&inc); err != nil {
			return events.Incident{}, err
		}
		data, err := json.Marshal(inc)
		if err != nil {
			return events.Incident{}, fmt.Errorf("encode incident %s: %w", id, err)
		}
		_, err = s.KV.Update(ctx, key, data, rev)
		if err == nil {
			return inc, nil
		}
		if !bus.IsConflict(err) {
			return events.Incident{}, fmt.Errorf("write incident %s: %w", id, err)
		}
	}
	return events.Incident{}, fmt.Errorf("incident %s kept changing: %d writes lost the race", id, maxConflicts)
}

// Declare creates the declared incident for group, or, when one is live
// there already (a repeat of the same alert or declaration), applies
// update to it. It returns the incident and whether it is new.
func (s Store) Declare(ctx context.Context, group string, fresh events.Incident, update func(*events.Incident)) (events.Incident, bool, error) {
	key := GroupKey(group)
	kept := "" // what this call wrote where the resolved one is kept
	for range maxConflicts {
		cur, rev, err := s.read(ctx, key)
		missing := errors.Is(err, jetstream.ErrKeyNotFound)
		if err != nil && !missing {
			return events.Incident{}, false, err
		}
		next, created := fresh, true
		if !missing && cur.Resolution == nil {
			next, created = cur, false
			update(&next)
		} else if !missing {
			// The group's last declaration was resolved: keep it, then
			// start a new one.
			data, err := json.Marshal(cur)
			if err != nil {
				return events.Incident{}, false, fmt.Errorf("encode incident %s: %w", cur.ID, err)
			}
			if kept != string(data) {
				if err := s.Keep(ctx, cur.ID, data, kept); err != nil {
					return events.Incident{}, false, err
				}
				kept = string(data)
			}
		}
		if created {
			next.ID, next.Key = NewID(key, next.FirstSeen), group
			if !missing && next.ID == cur.ID {
				// Declared again within the second it was resolved: the
				// id must still be new, or the new one would overwrite
				// the resolved one where it is kept.
				next.ID = NewID(key, cur.FirstSeen.Add(time.Second))
			}
		}
		data, err := json.Marshal(next)
		if err != nil {
			return events.Incident{}, false, fmt.Errorf("encode incident %s: %w", next.ID, err)
		}
		if missing {
			_, err = s.KV.Create(ctx, key, data)
		} else {
			_, err = s.KV.Update(ctx, key, data, rev)
		}
		if err == nil {
			return next, created, nil
		}
		if !bus.IsConflict(err) {
			return events.Incident{}, false, fmt.Errorf("write incident %s: %w", next.ID, err)
		}
	}
	return events.Incident{}, false, fmt.Errorf("incident group %s kept changing", group)
}

// Keep writes an ended incident under its id: created if missing, replaced
// only if it still holds what this writer put there before (mine).
// Otherwise a replica that ended it first, and a person since, own it: a
// slower replica's stale copy must not undo a resolution made there.
func (s Store) Keep(ctx context.Context, id string, data []byte, mine string) error {
	key := PastKey(id)
	_, err := s.KV.Create(ctx, key, data)
	if err == nil || !errors.Is(err, jetstream.ErrKeyExists) {
		if err != nil {
			return fmt.Errorf("keep incident %s: %w", id, err)
		}
		return nil
	}
	e, err := s.KV.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("read kept incident %s: %w", id, err)
	}
	if mine == "" || string(e.Value()) != mine {
		return nil
	}
	if _, err := s.KV.Update(ctx, key, data, e.Revision()); err != nil && !bus.IsWrongLastSequence(err) {
		return fmt.Errorf("keep incident %s: %w", id, err)
	}
	return nil
}

// Group returns a group's current incident (events.Incident.Key names the
// group).
func (s Store) Group(ctx context.Context, group string) (events.Incident, error) {
	inc, _, err := s.read(ctx, GroupKey(group))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return events.Incident{}, ErrNotFound
	}
	return inc, err
}
