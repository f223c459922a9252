package bus_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
)

func bareJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	srv := testkit.RunJetStream(t)
	nc, js, err := bus.Connect(t.Context(), srv.ClientURL(), "test", zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return js
}

// older plays the configuration an older replica would bring: one event
// type fewer in each event stream, smaller limits, an older contract
// version.
func older(cfg jetstream.StreamConfig) jetstream.StreamConfig {
	if len(cfg.Subjects) > 1 {
		cfg.Subjects = cfg.Subjects[:len(cfg.Subjects)-1]
	}
	cfg.MaxMsgSize = 1 << 10
	cfg.Duplicates = time.Minute
	cfg.Description = "older"
	cfg.Metadata = map[string]string{bus.MetadataContractVersion: strconv.Itoa(bus.ContractVersion - 1)}
	return cfg
}

func streamConfig(t *testing.T, js jetstream.JetStream, name string) jetstream.StreamConfig {
	t.Helper()
	s, err := js.Stream(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().Config
}

// An older replica that restarts during a rolling upgrade must leave the
// streams as the current version made them: every current event type can
// still be published, and no setting is undone.
func TestOlderReplicaCannotShrinkTheContract(t *testing.T) {
	js := bareJetStream(t)
	ctx := t.Context()
	topo := bus.DefaultTopology()
	current := topo.Streams()
	if err := bus.EnsureStreams(ctx, js, current...); err != nil {
		t.Fatal(err)
	}
	var olderCfgs []jetstream.StreamConfig
	for _, c := range current {
		olderCfgs = append(olderCfgs, older(c))
	}
	if err := bus.EnsureStreams(ctx, js, olderCfgs...); err != nil {
		t.Fatalf("older replica's ensure: %v", err)
	}
	for _, want := range current {
		got := streamConfig(t, js, want.Name)
		for _, s := range want.Subjects {
			if !slices.Contains(got.Subjects, s) {
				t.Errorf("stream %s lost subject %s to an older replica: %v", want.Name, s, got.Subjects)
			}
		}
		if got.MaxMsgSize != want.MaxMsgSize || got.Duplicates != want.Duplicates || got.Description != want.Description {
			t.Errorf("stream %s settings undone by an older replica: max msg %d dup %s %q, want %d %s %q",
				want.Name, got.MaxMsgSize, got.Duplicates, got.Description, want.MaxMsgSize, want.Duplicates, want.Description)
		}
		if v := got.Metadata[bus.MetadataContractVersion]; v != strconv.Itoa(bus.ContractVersion) {
			t.Errorf("stream %s contract version %q, want %d", want.Name, v, bus.ContractVersion)
		}
	}
	for _, k := range events.Kinds() {
		if _, err := bus.Publish(ctx, js, bus.Event{
			Subject: events.TicketSubject(k.Subject, "t-1"), Type: k.Type, ID: k.Type + ":t-1",
			Source: "test", About: "t-1", Time: time.Now(), Data: map[string]int{"schema_version": 1},
		}); err != nil {
			t.Errorf("publish %s after an older replica started: %v", k.Type, err)
		}
	}
}

// A newer replica brings streams made by an older version (or before
// versions were recorded) up to its contract, keeping every subject.
func TestNewerReplicaUpgradesAndKeepsSubjects(t *testing.T) {
	js := bareJetStream(t)
	ctx := t.Context()
	cur := bus.DefaultTopology().TicketsStream()
	old := older(cur)
	old.Metadata = nil
	old.Subjects = append(old.Subjects, "tickets.retired.>")
	if _, err := js.CreateStream(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureStreams(ctx, js, cur); err != nil {
		t.Fatal(err)
	}
	got := streamConfig(t, js, cur.Name)
	for _, s := range append(slices.Clone(cur.Subjects), "tickets.retired.>") {
		if !slices.Contains(got.Subjects, s) {
			t.Errorf("subject %s missing after upgrade: %v", s, got.Subjects)
		}
	}
	if got.MaxMsgSize != cur.MaxMsgSize || got.Metadata[bus.MetadataContractVersion] != strconv.Itoa(bus.ContractVersion) {
		t.Errorf("upgrade did not apply the current settings: max msg %d, metadata %v", got.MaxMsgSize, got.Metadata)
	}
}

// The first release made BUGS with the one subject "bugs.>"; the server
// refuses subjects overlapping inside a stream, so the per-event subjects
// it covers are not added to it, and every bug event still lands there.
func TestUpgradeFromOneWildcardSubject(t *testing.T) {
	js := bareJetStream(t)
	ctx := t.Context()
	cur := bus.DefaultTopology().BugsStream()
	first := cur
	first.Subjects, first.Metadata = []string{"bugs.>"}, nil
	if _, err := js.CreateStream(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureStreams(ctx, js, cur); err != nil {
		t.Fatalf("upgrading BUGS from the first release's bugs.>: %v", err)
	}
	got := streamConfig(t, js, cur.Name)
	if !slices.Equal(got.Subjects, []string{"bugs.>"}) || got.Metadata[bus.MetadataContractVersion] != strconv.Itoa(bus.ContractVersion) {
		t.Errorf("after the upgrade: subjects %v, metadata %v", got.Subjects, got.Metadata)
	}
	for _, subj := range cur.Subjects {
		subj = strings.Replace(subj, ">", "fp-1", 1)
		if _, err := js.Publish(ctx, subj, []byte("{}")); err != nil {
			t.Errorf("publish %s: %v", subj, err)
		}
	}
}

// Buckets follow the same rule as streams (consumers: version_test.go).
func TestOlderReplicaKeepsNewerBucket(t *testing.T) {
	js := bareJetStream(t)
	ctx := t.Context()
	topo := bus.DefaultTopology()
	if err := bus.EnsureStreams(ctx, js, topo.Streams()...); err != nil {
		t.Fatal(err)
	}
	if _, err := bus.EnsureBucket(ctx, js, topo.TicketsBucket()); err != nil {
		t.Fatal(err)
	}
	oldBucket := topo.TicketsBucket()
	oldBucket.History = 1
	oldBucket.Metadata = map[string]string{bus.MetadataContractVersion: strconv.Itoa(bus.ContractVersion - 1)}
	kv, err := bus.EnsureBucket(ctx, js, oldBucket)
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.History() != int64(topo.TicketsBucket().History) {
		t.Errorf("an older replica set the bucket's history to %d", st.History())
	}

}

// Dead letters are captured for every event stream.
func TestDeadLettersCoverEveryEventStream(t *testing.T) {
	dl := bus.DefaultTopology().DeadLettersStream()
	for _, s := range bus.EventStreams() {
		want := "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + s + ".>"
		if !slices.Contains(dl.Subjects, want) {
			t.Errorf("dead letters miss %s's advisories (%s)", s, want)
		}
	}
	kinds := map[string]bool{}
	for _, k := range events.Kinds() {
		kinds[k.Stream] = true
	}
	for s := range kinds {
		if !slices.Contains(bus.EventStreams(), s) {
			t.Errorf("events are published to %s, which is not an event stream with dead letters", s)
		}
	}
}

// An event of a type this version does not know waits for a newer
// replica; a message without a type is no event of ours and fails at once.
func TestByTypeDispatch(t *testing.T) {
	js := bareJetStream(t)
	ctx := t.Context()
	if err := bus.EnsureStreams(ctx, js, bus.DefaultTopology().Streams()...); err != nil {
		t.Fatal(err)
	}
	handled := 0
	h := bus.ByType(map[string]bus.Handler{"known": func(context.Context, jetstream.Msg) error { handled++; return nil }})
	cons, err := js.CreateOrUpdateConsumer(ctx, bus.StreamTickets, jetstream.ConsumerConfig{FilterSubject: "tickets.routed.>"})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"known", "io.triage.from.the.future.v9", ""} {
		m := nats.NewMsg("tickets.routed.x-" + strings.ReplaceAll(typ, ".", "-"))
		if typ != "" {
			m.Header.Set(bus.HeaderType, typ)
		}
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	batch, err := cons.Fetch(3, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for m := range batch.Messages() {
		errs = append(errs, h(ctx, m))
	}
	if len(errs) != 3 || errs[0] != nil || handled != 1 || bus.IsPermanent(errs[1]) || errs[1] == nil || !bus.IsPermanent(errs[2]) {
		t.Fatalf("outcomes %v (handled %d): want handled, put off, permanent", errs, handled)
	}
}

// An upgrade changes what the contract owns and keeps what an operator
// tuned (here, an age limit on TICKETS).
func TestUpgradeKeepsOperatorSettings(t *testing.T) {
	js := bareJetStream(t)
	ctx := t.Context()
	cur := bus.DefaultTopology().TicketsStream()
	old := older(cur)
	old.MaxAge = 90 * 24 * time.Hour
	if _, err := js.CreateStream(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureStreams(ctx, js, cur); err != nil {
		t.Fatal(err)
	}
	got := streamConfig(t, js, cur.Name)
	if got.MaxAge != old.MaxAge || got.MaxMsgSize != cur.MaxMsgSize {
		t.Fatalf("after the upgrade: max age %s (want the operator's %s), max msg %d (want %d)", got.MaxAge, old.MaxAge, got.MaxMsgSize, cur.MaxMsgSize)
	}
}

// On a cluster, a replicated bucket answers reads as soon as EnsureBucket
// returns it, through any server. Its servers take a moment to answer
// direct gets after it is created; a service reading its first key in that
// moment failed to start with "no responders" (seen under load, a few
// buckets in a hundred).
func TestNewReplicatedBucketAnswersAtOnce(t *testing.T) {
	servers := testkit.RunJetStreamCluster(t, 3)
	var jss []jetstream.JetStream
	for _, s := range servers {
		nc, js, err := bus.Connect(t.Context(), s.ClientURL(), "test", zaptest.NewLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		jss = append(jss, js)
	}
	for i := range 30 {
		kv, err := bus.EnsureBucket(t.Context(), jss[i%3], jetstream.KeyValueConfig{Bucket: "answers-" + strconv.Itoa(i), Replicas: 3})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Get(t.Context(), "first-key"); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Fatalf("bucket %d: first read: %v, want key not found", i, err)
		}
	}
}
