package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream and bucket names: the messaging contract (README "Messaging").
const (
	// StreamSubmissions holds accepted tickets (tickets.submitted.<id>)
	// apart from the later events, so intake's acknowledgement never waits
	// behind the pipeline's own writes: support staff get a ticket id at
	// once even while a storm backs the pipeline up.
	StreamSubmissions = "SUBMISSIONS"
	StreamTickets     = "TICKETS"
	StreamBugs        = "BUGS"
	StreamDeadLetters = "DEADLETTERS"

	// BucketTickets holds each ticket's current state in the queue.
	BucketTickets = "tickets"

	// DeadLetterPrefix is where handlers put messages that failed for good:
	// deadletters.<stream>.<consumer>.
	DeadLetterPrefix = "deadletters"
	// maxDeliveriesAdvisory is what the server publishes when a message ran
	// out of deliveries without any handler deciding (for example its worker
	// crashed each time). Plain NATS messages are lost when nobody listens, so
	// the dead-letter stream captures them.
	maxDeliveriesAdvisory = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"
)

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
	}
}

// SubmissionsStream holds each accepted ticket once: tickets.submitted.<id>.
func (t Topology) SubmissionsStream() jetstream.StreamConfig {
	return t.stream(StreamSubmissions, "accepted tickets: tickets.submitted.<ticket_id>", "tickets.submitted.>")
}

// TicketEvents are the subjects of TICKETS: every ticket event after
// submission. A new event type is added here.
func TicketEvents() []string {
	return []string{"tickets.enriched.>", "tickets.logs_pending.>", "tickets.routed.>"}
}

// TicketsStream holds the ticket events after submission; per-ticket
// subjects make SUBMISSIONS plus TICKETS the ticket's audit history.
func (t Topology) TicketsStream() jetstream.StreamConfig {
	return t.stream(StreamTickets, "ticket events: tickets.<event>.<ticket_id>", TicketEvents()...)
}

// BugsStream holds confirmed, filed and closed bug events by fingerprint.
func (t Topology) BugsStream() jetstream.StreamConfig {
	return t.stream(StreamBugs, "bug events: bugs.<event>.<fingerprint>", "bugs.>")
}

// DeadLettersStream keeps what failed for good, for people to see and replay.
func (t Topology) DeadLettersStream() jetstream.StreamConfig {
	return t.stream(StreamDeadLetters, "messages that failed every delivery, with the reason",
		DeadLetterPrefix+".>",
		maxDeliveriesAdvisory+"."+StreamSubmissions+".>",
		maxDeliveriesAdvisory+"."+StreamTickets+".>",
		maxDeliveriesAdvisory+"."+StreamBugs+".>",
	)
}

// TicketsBucket is the queue's current state of each ticket.
func (t Topology) TicketsBucket() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      BucketTickets,
		Description: "current state of each ticket, by ticket id",
		History:     5,
		Storage:     jetstream.FileStorage,
		Replicas:    t.replicas(),
	}
}

// EnsureStreams creates or updates streams; safe to call from every replica
// at every start.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, cfgs ...jetstream.StreamConfig) error {
	for _, cfg := range cfgs {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("ensure stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

// EnsureBucket creates or updates a KV bucket.
func EnsureBucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensure kv bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}
