package incidents

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func bucket(t *testing.T) jetstream.KeyValue {
	t.Helper()
	srv := testkit.RunJetStream(t)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := bus.EnsureBucket(t.Context(), js, bus.Topology{}.IncidentsBucket())
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

// Writers racing on one incident each get their change in: none is lost
// to another's compare-and-set.
func TestUpdateLosesNoChange(t *testing.T) {
	kv := bucket(t)
	s := Store{KV: kv}
	key := GroupKey("component:printer")
	inc := events.Incident{ID: NewID(key, time.Unix(1_700_000_000, 0)), Key: "component:printer"}
	b, _ := json.Marshal(inc)
	if _, err := kv.Create(t.Context(), key, b); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := s.Update(t.Context(), inc.ID, func(i *events.Incident) error { i.Count++; return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, _, _, err := s.Get(t.Context(), inc.ID)
	if err != nil || got.Count != 20 {
		t.Fatalf("count %d (%v), want 20", got.Count, err)
	}
	stop := errors.New("refused")
	if _, err := s.Update(t.Context(), inc.ID, func(*events.Incident) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("a refused change: %v", err)
	}
	for _, id := range []string{"0123456789abcdef-zz", "bad id", inc.ID[:16] + "-1"} {
		if _, _, _, err := s.Get(t.Context(), id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", id, err)
		}
	}
}

// Declaring again updates the live declaration; after it was resolved, a
// new one starts and the old one is kept under its id.
func TestDeclare(t *testing.T) {
	s := Store{KV: bucket(t)}
	now := time.Now().UTC()
	fresh := func(msg string) events.Incident {
		return events.Incident{Component: "payment", Open: true, FirstSeen: now, Declared: &events.Declaration{Message: msg}}
	}
	setMsg := func(msg string) func(*events.Incident) { return func(i *events.Incident) { i.Declared.Message = msg } }
	first, created, err := s.Declare(t.Context(), "declared:x", fresh("one"), setMsg("one"))
	if err != nil || !created || !idPattern.MatchString(first.ID) {
		t.Fatalf("first declaration: %+v %v %v", first, created, err)
	}
	again, created, err := s.Declare(t.Context(), "declared:x", fresh("two"), setMsg("two"))
	if err != nil || created || again.ID != first.ID || again.Declared.Message != "two" {
		t.Fatalf("repeat: %+v %v %v", again, created, err)
	}
	if _, err := s.Update(t.Context(), first.ID, func(i *events.Incident) error {
		i.Resolution = &events.IncidentResolution{At: now}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	next, created, err := s.Declare(t.Context(), "declared:x", fresh("three"), setMsg("three"))
	if err != nil || !created || next.ID == first.ID {
		t.Fatalf("after the resolution: %+v %v %v", next, created, err)
	}
	old, _, _, err := s.Get(t.Context(), first.ID)
	if err != nil || old.Resolution == nil || old.Declared.Message != "two" {
		t.Fatalf("the resolved declaration is not kept: %+v %v", old, err)
	}
	cur, err := s.Group(t.Context(), "declared:x")
	if err != nil || cur.ID != next.ID {
		t.Fatalf("group's current: %+v %v", cur, err)
	}
}

// An ended incident is kept under its id once: a writer replaces only what
// it wrote itself (a retry after a conflict), never a person's change made
// since, nor another writer's copy.
func TestKeepNeverUndoesAPersonsChange(t *testing.T) {
	kv := bucket(t)
	s := Store{KV: kv}
	ctx := t.Context()
	inc := events.Incident{ID: "0123456789abcdef-t1", Key: "component:printer", Component: "printer", Count: 3}
	encode := func(inc events.Incident) []byte {
		b, err := json.Marshal(inc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	stored := func() events.Incident {
		t.Helper()
		got, _, _, err := s.Get(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	first := encode(inc)
	if err := s.Keep(ctx, inc.ID, first, ""); err != nil {
		t.Fatal(err)
	}
	// The same writer, retrying with a newer copy of its own: replaced.
	inc.Count = 4
	if err := s.Keep(ctx, inc.ID, encode(inc), string(first)); err != nil {
		t.Fatal(err)
	}
	if got := stored(); got.Count != 4 {
		t.Fatalf("count %d, want the writer's own retry (4)", got.Count)
	}
	// A person resolves it; a slower writer's stale copy does not undo it.
	if _, err := s.Update(ctx, inc.ID, func(i *events.Incident) error {
		i.Resolution = &events.IncidentResolution{At: time.Now().UTC(), Message: "fixed"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	stale := inc
	stale.Count = 5
	for _, mine := range []string{"", string(first), string(encode(inc))} {
		if err := s.Keep(ctx, inc.ID, encode(stale), mine); err != nil {
			t.Fatal(err)
		}
		if got := stored(); got.Resolution == nil || got.Count == 5 {
			t.Fatalf("a stale copy (mine %.40q…) overwrote the person's change: %+v", mine, got)
		}
	}
}
