package bus

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/events"
)

// Stream and bucket names: the messaging contract (README "Messaging
// contract"). The event streams are named in events, beside the event
// types they hold.
const (
	StreamSubmissions = events.StreamSubmissions
	StreamTickets     = events.StreamTickets
	StreamBugs        = events.StreamBugs
	StreamDeadLetters = "DEADLETTERS"

	// BucketTickets holds each ticket's current state in the queue.
	BucketTickets = "tickets"
	// BucketOpenTickets holds a summary of each open ticket: what the
	// queue's list view loads at start, so start-up grows with open
	// tickets, not with every ticket ever.
	BucketOpenTickets = "tickets-open"
	// BucketTenantIndex finds tickets by tenant, closed ones included:
	// <hex tenant>.<ticket id> → summary.
	BucketTenantIndex = "ticket-tenants"
	// BucketBugs holds each bug fingerprint's GitHub issue and the
	// reservation that makes filing happen once.
	BucketBugs = "bugs"
	// BucketWebhookDeliveries remembers GitHub webhook deliveries already
	// handled, for three days.
	BucketWebhookDeliveries = "github-deliveries"
	// BucketIncidents holds each storm group's current incident
	// ("group.<hash>") and the incidents that ended ("past.<id>").
	BucketIncidents = "incidents"
	// BucketTokens holds the people's tokens, hashed (libs/auth).
	BucketTokens = "tokens"
	// BucketSignedOut holds the sessions people signed out of, until they
	// would have expired anyway.
	BucketSignedOut = "sessions-signed-out"
	// BucketSecrets holds keys the replicas of a service share, such as the
	// session cookie's signing key.
	BucketSecrets = "secrets"

	// DeadLetterPrefix is where handlers put messages that failed for good:
	// deadletters.<stream>.<consumer>.
	DeadLetterPrefix = "deadletters"
	// maxDeliveriesAdvisory is what the server publishes when a message ran
	// out of deliveries without any handler deciding (for example its worker
	// crashed each time). Plain NATS messages are lost when nobody listens, so
	// the dead-letter stream captures them.
	maxDeliveriesAdvisory = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"
)

// ContractVersion is the version of the streams, buckets and consumers this
// code creates. Raise it whenever their configuration changes (a new event
// type, a new setting): a replica of an older version then leaves the newer
// configuration alone during a rolling upgrade instead of undoing it.
const ContractVersion = 4

// MetadataContractVersion is the stream, bucket and consumer metadata key
// that records which contract version last configured it.
const MetadataContractVersion = "triage.contract"

// EventStreams are the streams that hold events and have consumers: each
// is built from events.Kinds, and dead letters are captured for each.
func EventStreams() []string {
	return []string{StreamSubmissions, StreamTickets, StreamBugs}
}

// Topology sets how streams and buckets are stored.
type Topology struct {
	// Replicas is 1 on one machine and 3 on a cluster.
	Replicas int
	// DuplicateWindow is how long JetStream deduplicates Nats-Msg-Id.
	DuplicateWindow time.Duration
}

// DefaultTopology suits one machine.
func DefaultTopology() Topology {
	return Topology{Replicas: 1, DuplicateWindow: 2 * time.Minute}
}

func (t Topology) replicas() int {
	if t.Replicas < 1 {
		return 1
	}
	return t.Replicas
}

// stream is a file-backed, limits-retained stream: history is kept.
func (t Topology) stream(name, description string, subjects ...string) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        name,
		Description: description,
		Subjects:    subjects,
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Replicas:    t.replicas(),
		Duplicates:  t.DuplicateWindow,
		AllowDirect: true,
		MaxMsgSize:  1 << 20,
		Metadata:    contractMetadata(),
	}
}

// StreamSubjects are the subjects of an event stream: one per event kind
// it holds, <prefix>.> (the last token is the ticket id or fingerprint; ">" as streams made before this list had it).
func StreamSubjects(stream string) []string {
	var subjects []string
	for _, k := range events.Kinds() {
		if k.Stream == stream {
			subjects = append(subjects, k.Subject+".>")
		}
	}
	return subjects
}

// SubmissionsStream holds each accepted ticket once: tickets.submitted.<id>.
func (t Topology) SubmissionsStream() jetstream.StreamConfig {
	return t.stream(StreamSubmissions, "accepted tickets: tickets.submitted.<ticket_id>", StreamSubjects(StreamSubmissions)...)
}

// TicketsStream holds the ticket events after submission; per-ticket
// subjects make SUBMISSIONS plus TICKETS the ticket's audit history.
func (t Topology) TicketsStream() jetstream.StreamConfig {
	return t.stream(StreamTickets, "ticket events: tickets.<event>.<ticket_id>", StreamSubjects(StreamTickets)...)
}

// BugsStream holds confirmed, filed and closed bug events by fingerprint.
func (t Topology) BugsStream() jetstream.StreamConfig {
	return t.stream(StreamBugs, "bug events: bugs.<event>.<fingerprint>", StreamSubjects(StreamBugs)...)
}

// DeadLettersStream keeps what failed for good, for people to see and
// replay: handlers' dead letters and the server's max-deliveries advisories
// of every event stream.
func (t Topology) DeadLettersStream() jetstream.StreamConfig {
	subjects := []string{DeadLetterPrefix + ".>"}
	for _, s := range EventStreams() {
		subjects = append(subjects, maxDeliveriesAdvisory+"."+s+".>")
	}
	return t.stream(StreamDeadLetters, "messages that failed every delivery, with the reason", subjects...)
}

// Streams is every stream the project owns.
func (t Topology) Streams() []jetstream.StreamConfig {
	return []jetstream.StreamConfig{t.SubmissionsStream(), t.TicketsStream(), t.BugsStream(), t.DeadLettersStream()}
}

// bucket is a file-backed KV bucket of this contract version.
func (t Topology) bucket(name, description string, history uint8) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      name,
		Description: description,
		History:     history,
		Storage:     jetstream.FileStorage,
		Replicas:    t.replicas(),
		Metadata:    contractMetadata(),
	}
}

// TicketsBucket is the queue's current state of each ticket.
func (t Topology) TicketsBucket() jetstream.KeyValueConfig {
	return t.bucket(BucketTickets, "current state of each ticket, by ticket id", 5)
}

// OpenTicketsBucket holds open tickets' summaries; a closed ticket's key
// is purged with a marker that expires, so nothing of it stays.
func (t Topology) OpenTicketsBucket() jetstream.KeyValueConfig {
	b := t.bucket(BucketOpenTickets, "summary of each open ticket, by ticket id (the queue's list view)", 1)
	b.LimitMarkerTTL = 10 * time.Minute
	return b
}

// TenantIndexBucket lists each tenant's tickets, open and closed.
func (t Topology) TenantIndexBucket() jetstream.KeyValueConfig {
	return t.bucket(BucketTenantIndex, "each tenant's tickets: <hex tenant id>.<ticket id>, written once", 1)
}

// BugsBucket maps a bug fingerprint to its GitHub issue.
func (t Topology) BugsBucket() jetstream.KeyValueConfig {
	return t.bucket(BucketBugs, "bug fingerprint → GitHub issue, with the reservation that files it once", 5)
}

// IncidentsBucket holds the router's incidents (events.Incident).
func (t Topology) IncidentsBucket() jetstream.KeyValueConfig {
	return t.bucket(BucketIncidents, "storm incidents: group.<hash> the current one of each group, past.<id> the ended ones", 1)
}

// WebhookDeliveriesBucket remembers GitHub deliveries (X-GitHub-Delivery)
// so a repeated delivery changes nothing.
func (t Topology) WebhookDeliveriesBucket() jetstream.KeyValueConfig {
	b := t.bucket(BucketWebhookDeliveries, "GitHub webhook deliveries handled, by X-GitHub-Delivery", 1)
	b.TTL = 72 * time.Hour
	return b
}

// TokensBucket holds issued tokens by id (hashed secrets only).
func (t Topology) TokensBucket() jetstream.KeyValueConfig {
	return t.bucket(BucketTokens, "people's tokens by id: role, expiry, revocation, SHA-256 of the secret", 5)
}

// SignedOutBucket holds signed-out sessions' nonces for a session's
// longest life (12 hours) and a margin.
func (t Topology) SignedOutBucket() jetstream.KeyValueConfig {
	b := t.bucket(BucketSignedOut, "sessions people signed out of, by nonce, until they would have expired", 1)
	b.TTL = 13 * time.Hour
	return b
}

// SecretsBucket holds keys shared by replicas (session signing key).
func (t Topology) SecretsBucket() jetstream.KeyValueConfig {
	return t.bucket(BucketSecrets, "keys the replicas share, such as the session cookie's signing key", 1)
}

func contractMetadata() map[string]string {
	return map[string]string{MetadataContractVersion: strconv.Itoa(ContractVersion)}
}

// contractVersion reads the version that configured a stream, bucket or
// consumer; 0 for one made before versions were recorded.
func contractVersion(metadata map[string]string) int {
	v, err := strconv.Atoi(metadata[MetadataContractVersion])
	if err != nil {
		return 0
	}
	return v
}

// EnsureStreams creates the streams or brings them up to this version's
// contract; safe to call from every replica at every start, of any
// version: see ensureStream.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, cfgs ...jetstream.StreamConfig) error {
	for _, cfg := range cfgs {
		if err := ensureStream(ctx, js, cfg); err != nil {
			return fmt.Errorf("ensure stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

// ensureStream creates the stream, or updates it so that it never loses
// what another replica needs during a rolling upgrade: subjects are only
// ever added (the union of what is there and what this version wants), and
// a stream configured by a newer contract version keeps its settings.
func ensureStream(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig) error {
	for {
		s, err := js.Stream(ctx, want.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			_, err = js.CreateStream(ctx, want)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				continue // another replica created it meanwhile: merge with it
			}
			return err
		}
		if err != nil {
			return err
		}
		have := s.CachedInfo().Config
		merged := mergeStream(have, want)
		if streamConfigEqual(have, merged) {
			return nil
		}
		_, err = js.UpdateStream(ctx, merged)
		return err
	}
}

// mergeStream is what a replica of this version may set on a stream that
// exists as have.
func mergeStream(have, want jetstream.StreamConfig) jetstream.StreamConfig {
	subjects := slices.Clone(have.Subjects)
	for _, s := range want.Subjects {
		// A subject an existing wildcard covers is not added: the server
		// refuses overlapping subjects in one stream (an early BUGS had
		// "bugs.>", which covers every "bugs.<event>.>").
		if !slices.ContainsFunc(subjects, func(have string) bool { return subjectCovers(have, s) }) {
			subjects = append(subjects, s)
		}
	}
	if contractVersion(have.Metadata) > contractVersion(want.Metadata) {
		// Configured by a newer version: take nothing back, only add the
		// subjects this older replica still publishes to.
		have.Subjects = subjects
		return have
	}
	// Only what the contract owns changes; what an operator tuned on the
	// stream (age and size limits, placement, ...) stays.
	merged := have
	merged.Subjects = subjects
	merged.Description, merged.Duplicates, merged.MaxMsgSize = want.Description, want.Duplicates, want.MaxMsgSize
	merged.AllowDirect, merged.Replicas = want.AllowDirect, want.Replicas
	merged.Metadata = maps.Clone(have.Metadata)
	if merged.Metadata == nil {
		merged.Metadata = map[string]string{}
	}
	maps.Copy(merged.Metadata, want.Metadata)
	return merged
}

// subjectCovers reports whether every subject that sub matches is matched
// by pattern too (both may hold the wildcards "*" and ">").
func subjectCovers(pattern, sub string) bool {
	p, t := strings.Split(pattern, "."), strings.Split(sub, ".")
	for i, tok := range p {
		switch {
		case tok == ">":
			return i < len(t)
		case i >= len(t) || t[i] == ">":
			return false
		case tok != "*" && tok != t[i]:
			return false
		}
	}
	return len(p) == len(t)
}

func streamConfigEqual(a, b jetstream.StreamConfig) bool {
	return slices.Equal(a.Subjects, b.Subjects) &&
		a.Description == b.Description && a.Replicas == b.Replicas && a.Duplicates == b.Duplicates &&
		a.AllowDirect == b.AllowDirect && a.MaxMsgSize == b.MaxMsgSize &&
		maps.Equal(a.Metadata, b.Metadata)
}

// EnsureBucket creates a KV bucket, or updates it unless a newer contract
// version configured it (which this replica then uses as it is). It
// returns once the bucket answers reads.
func EnsureBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := ensureBucket(ctx, js, cfg)
	if err != nil {
		return nil, err
	}
	return kv, answering(ctx, kv, cfg.Bucket)
}

func ensureBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	for {
		kv, err := js.KeyValue(ctx, cfg.Bucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			kv, err = js.CreateKeyValue(ctx, cfg)
			if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("create kv bucket %s: %w", cfg.Bucket, err)
			}
			return kv, nil
		}
		if err != nil {
			return nil, fmt.Errorf("open kv bucket %s: %w", cfg.Bucket, err)
		}
		st, err := kv.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("kv bucket %s status: %w", cfg.Bucket, err)
		}
		have := st.Config()
		if contractVersion(have.Metadata) > contractVersion(cfg.Metadata) ||
			(have.History == cfg.History && have.Description == cfg.Description && have.Replicas == cfg.Replicas &&
				contractVersion(have.Metadata) == contractVersion(cfg.Metadata)) {
			return kv, nil
		}
		// Only what the contract owns changes; an operator's limits stay.
		md := maps.Clone(have.Metadata)
		if md == nil {
			md = map[string]string{}
		}
		maps.Copy(md, cfg.Metadata)
		up := have
		up.Bucket, up.Metadata = cfg.Bucket, md
		up.Description, up.History, up.Replicas = cfg.Description, cfg.History, cfg.Replicas
		if cfg.TTL != 0 {
			up.TTL = cfg.TTL
		}
		if cfg.LimitMarkerTTL != 0 {
			up.LimitMarkerTTL = cfg.LimitMarkerTTL
		}
		if kv, err = js.UpdateKeyValue(ctx, up); err != nil {
			return nil, fmt.Errorf("update kv bucket %s: %w", cfg.Bucket, err)
		}
		return kv, nil
	}
}

// answering waits (at most 30 s) until a bucket answers reads. A
// replicated bucket's servers take a moment after it is created to answer
// direct gets, and a read in that moment fails with "no responders", which
// would stop a service starting on a new cluster.
func answering(ctx context.Context, kv jetstream.KeyValue, bucket string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		_, err := kv.Get(ctx, "answering")
		if err == nil || errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil
		}
		if !errors.Is(err, nats.ErrNoResponders) {
			return fmt.Errorf("read kv bucket %s: %w", bucket, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kv bucket %s does not answer reads: %w (%w)", bucket, err, ctx.Err())
		case <-time.After(wait):
		}
	}
}
