package bus

import (
	"slices"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// Consumers follow the same rule as streams: an older replica never
// narrows a consumer a newer one configured. Inside the package, because
// a replica's version is not something callers choose.
func TestOlderReplicaKeepsNewerConsumer(t *testing.T) {
	srv := testkit.RunJetStream(t)
	nc, js, err := Connect(t.Context(), srv.ClientURL(), "test", zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx := t.Context()
	if err := EnsureStreams(ctx, js, DefaultTopology().Streams()...); err != nil {
		t.Fatal(err)
	}

	cfg := DefaultConsumerConfig(StreamTickets, "c", "tickets.enriched.*", "tickets.routed.*")
	if _, err := ensureConsumerAt(ctx, js, cfg, ContractVersion); err != nil {
		t.Fatal(err)
	}
	oldCfg := DefaultConsumerConfig(StreamTickets, "c", "tickets.enriched.*")
	cons, err := ensureConsumerAt(ctx, js, oldCfg, ContractVersion-1)
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(info.Config.FilterSubjects, cfg.FilterSubjects) {
		t.Errorf("an older replica narrowed the consumer to %v, want %v", info.Config.FilterSubjects, cfg.FilterSubjects)
	}
	// The current version still updates a consumer it owns.
	if cons, err = ensureConsumerAt(ctx, js, oldCfg, ContractVersion); err != nil {
		t.Fatal(err)
	}
	if info, err = cons.Info(ctx); err != nil || !slices.Equal(info.Config.FilterSubjects, oldCfg.FilterSubjects) {
		t.Errorf("the same version could not update its consumer: %v %v", info.Config.FilterSubjects, err)
	}
}

func TestSubjectCovers(t *testing.T) {
	for _, tc := range []struct {
		pattern, sub string
		want         bool
	}{
		{"bugs.>", "bugs.confirmed.>", true},
		{"bugs.>", "bugs.confirmed.x", true},
		{"bugs.>", "bugs", false},
		{"bugs.>", "tickets.routed.>", false},
		{"bugs.*.>", "bugs.filed.>", true},
		{"bugs.*", "bugs.filed.>", false},
		{"bugs.filed.>", "bugs.>", false},
		{"bugs.filed.*", "bugs.filed.>", false},
		{"bugs.filed.x", "bugs.filed.x", true},
		{"bugs.filed.x", "bugs.filed.*", false},
	} {
		if got := subjectCovers(tc.pattern, tc.sub); got != tc.want {
			t.Errorf("subjectCovers(%q, %q) = %v, want %v", tc.pattern, tc.sub, got, tc.want)
		}
	}
}
