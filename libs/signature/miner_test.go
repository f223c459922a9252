package signature

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

func newMiner(tb testing.TB, cfg Config) *Miner {
	tb.Helper()
	m, err := New(cfg)
	if err != nil {
		tb.Fatalf("New(%+v): %v", cfg, err)
	}
	return m
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"zero value uses defaults", Config{}, false},
		{"explicit values", Config{Similarity: 0.7, PrefixTokens: 3, MaxChildren: 10, MinVariableValues: 3, MaxSampleIDs: 1}, false},
		{"similarity above one", Config{Similarity: 1.5}, true},
		{"negative similarity", Config{Similarity: -0.1}, true},
		{"negative prefix", Config{PrefixTokens: -1}, true},
		{"negative children", Config{MaxChildren: -1}, true},
		{"one variable value", Config{MinVariableValues: 1}, true},
		{"negative samples", Config{MaxSampleIDs: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.cfg)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("New(%+v) = %+v, want an error", tt.cfg, m.Config())
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%+v): %v", tt.cfg, err)
			}
		})
	}
	got := newMiner(t, Config{}).Config()
	want := Config{DefaultSimilarity, DefaultPrefixTokens, DefaultMaxChildren, DefaultMinVariableValues, DefaultMaxSampleIDs}
	if got != want {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
}

// groupsOf returns, per message, the index of the first message with the
// same signature, so tests can state groups without knowing ids.
func groupsOf(sigs []Signature) []int {
	first := make(map[string]int)
	out := make([]int, len(sigs))
	for i, s := range sigs {
		if _, ok := first[s.ID]; !ok {
			first[s.ID] = i
		}
		out[i] = first[s.ID]
	}
	return out
}

func TestMineGroups(t *testing.T) {
	tests := []struct {
		name       string
		msgs       []string
		wantGroups []int
		// wantTemplate is the template of the first message's group.
		wantTemplate string
	}{
		{
			name: "masked variables share a group",
			msgs: []string{
				"payment provider timeout after 3000 ms for order ord_2611221053",
				"payment provider timeout after 15 ms for order ord_1000000001",
				"printer prn-9f00aa offline",
			},
			wantGroups:   []int{0, 0, 2},
			wantTemplate: "payment provider timeout after <*> ms for order <*>",
		},
		{
			name: "a changing unit joins the variable",
			msgs: []string{
				"Block rdd_0_1 stored as bytes in memory (estimated size 16.0 B, free 3.0 GB)",
				"Block rdd_0_2 stored as bytes in memory (estimated size 2.3 KB, free 3.0 GB)",
				"Block rdd_0_3 stored as values in memory (estimated size 2.3 KB, free 3.0 GB)",
			},
			wantGroups:   []int{0, 0, 2},
			wantTemplate: "Block <*> stored as bytes in memory (estimated size <*>, free <*> GB)",
		},
		{
			name: "few alternatives are different events",
			msgs: []string{
				`10.11.10.1 "GET /v2/servers HTTP/1.1" status: 200 len: 1893 time: 0.26`,
				`10.11.10.1 "POST /v2/servers HTTP/1.1" status: 202 len: 733 time: 0.51`,
				`10.11.10.1 "DELETE /v2/servers HTTP/1.1" status: 204 len: 0 time: 0.11`,
				`10.11.10.1 "GET /v2/flavors HTTP/1.1" status: 200 len: 1893 time: 0.26`,
			},
			wantGroups:   []int{0, 1, 2, 0},
			wantTemplate: `<*> "GET <*>" status: <*> len: <*> time: <*>`,
		},
		{
			name: "many distinct words make a variable",
			msgs: []string{
				"login failed for user alice from kiosk",
				"login failed for user bob from kiosk",
				"login failed for user carol from kiosk",
				"login failed for user dave from kiosk",
				"login failed for user erin from kiosk",
				"logout for user erin from kiosk",
			},
			wantGroups:   []int{0, 0, 0, 0, 0, 5},
			wantTemplate: "login failed for user <*> from kiosk",
		},
		{
			name: "too few distinct words stay apart",
			msgs: []string{
				"login failed for user alice from kiosk",
				"login failed for user bob from kiosk",
			},
			wantGroups:   []int{0, 1},
			wantTemplate: "login failed for user alice from kiosk",
		},
		{
			name: "a word where others have a variable is a variable",
			msgs: []string{
				"ciod: LOGIN chdir(/home/u1) failed: No such file or directory",
				"ciod: LOGIN chdir(/home/u2/x) failed: No such file or directory",
				"ciod: LOGIN chdir(pwd) failed: No such file or directory",
			},
			wantGroups:   []int{0, 0, 0},
			wantTemplate: "ciod: LOGIN chdir(<*>) failed: No such file or directory",
		},
		{
			name:         "error codes separate otherwise equal messages",
			msgs:         []string{"request failed with ORD-5002", "request failed with PAY-1042", "request failed with ORD-5002"},
			wantGroups:   []int{0, 1, 0},
			wantTemplate: "request failed with ORD-5002",
		},
		{
			name:         "different lengths never share a group",
			msgs:         []string{"cache warm", "cache warm done"},
			wantGroups:   []int{0, 1},
			wantTemplate: "cache warm",
		},
	}
	m := newMiner(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sigs := m.Mine(tt.msgs)
			if len(sigs) != len(tt.msgs) {
				t.Fatalf("got %d signatures for %d messages", len(sigs), len(tt.msgs))
			}
			got := groupsOf(sigs)
			for i := range got {
				if got[i] != tt.wantGroups[i] {
					t.Errorf("groups = %v, want %v; signatures:", got, tt.wantGroups)
					for _, s := range sigs {
						t.Logf("  %s %s", s.ID, s.Template)
					}
					break
				}
			}
			if sigs[0].Template != tt.wantTemplate {
				t.Errorf("template = %q, want %q", sigs[0].Template, tt.wantTemplate)
			}
			for _, s := range sigs {
				if s.ID != TemplateID(s.Template) {
					t.Errorf("id %q is not TemplateID(%q)", s.ID, s.Template)
				}
			}
		})
	}
}

func TestMineSingletonMatchesTemplate(t *testing.T) {
	// A group with one distinct masked message has the stateless template, so
	// an id seen in a batch can be looked up from one message.
	msgs := []string{
		"payment provider timeout after 3000 ms for order ord_2611221053",
		"payment provider timeout after 15 ms for order ord_1000000001",
		"printer prn-9f00aa offline",
	}
	for i, s := range newMiner(t, Config{}).Mine(msgs) {
		if want := Template(msgs[i]); s.Template != want {
			t.Errorf("Mine template %q, Template %q", s.Template, want)
		}
	}
}

// demoMessages builds n messages of a few event types with varying values.
func demoMessages(n int, rng *rand.Rand) []string {
	formats := []func() string{
		func() string {
			return fmt.Sprintf("payment provider timeout after %d ms for order ord_%010d", rng.IntN(5000), rng.Int64N(1e10))
		},
		func() string {
			return fmt.Sprintf("printer prn-%06x offline for tenant rst-%04d", rng.IntN(1<<24), rng.IntN(10000))
		},
		func() string {
			return fmt.Sprintf("HTTP %d from payment-gateway for request %08x-0000-4000-8000-%012x", 500+rng.IntN(4), rng.Uint32(), rng.Int64N(1<<48))
		},
		func() string {
			return fmt.Sprintf("menu sync for rst-%04d finished in %d.%ds", rng.IntN(10000), rng.IntN(9), rng.IntN(9))
		},
		func() string {
			return fmt.Sprintf("user %s signed in from tab-%06x", []string{"alice", "bob", "carol", "dave", "erin", "frank"}[rng.IntN(6)], rng.IntN(1<<24))
		},
		func() string {
			return fmt.Sprintf("VM %s (Lifecycle Event)", []string{"Paused", "Resumed", "Started", "Stopped"}[rng.IntN(4)])
		},
	}
	msgs := make([]string, n)
	for i := range msgs {
		msgs[i] = formats[rng.IntN(len(formats))]()
	}
	return msgs
}

func TestMineOrderIndependent(t *testing.T) {
	m := newMiner(t, Config{})
	rng := rand.New(rand.NewPCG(1, 2))
	msgs := demoMessages(3000, rng)
	want := m.Mine(msgs)

	for round := range 5 {
		perm := rng.Perm(len(msgs))
		shuffled := make([]string, len(msgs))
		for i, p := range perm {
			shuffled[i] = msgs[p]
		}
		got := m.Mine(shuffled)
		for i, p := range perm {
			if got[i] != want[p] {
				t.Fatalf("round %d: message %q got %+v, unshuffled %+v", round, msgs[p], got[i], want[p])
			}
		}
	}

	// Repeating messages changes no id: grouping sees distinct messages only.
	doubled := append(append([]string{}, msgs...), msgs[:100]...)
	got := m.Mine(doubled)
	for i := range msgs {
		if got[i] != want[i] {
			t.Fatalf("with repeats, message %q got %+v, want %+v", msgs[i], got[i], want[i])
		}
	}
}

func TestMineEmpty(t *testing.T) {
	if got := newMiner(t, Config{}).Mine(nil); len(got) != 0 {
		t.Errorf("Mine(nil) = %v, want none", got)
	}
}

func BenchmarkMine(b *testing.B) {
	m := newMiner(b, Config{})
	msgs := demoMessages(10000, rand.New(rand.NewPCG(3, 4)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.Mine(msgs)
	}
	b.ReportMetric(float64(len(msgs))*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkTemplate(b *testing.B) {
	msgs := demoMessages(1000, rand.New(rand.NewPCG(5, 6)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Template(msgs[i%len(msgs)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// checkIndexMatchesScan mines msgs with the candidate index and with a full
// scan of each leaf; the index is an optimisation and must change nothing.
func checkIndexMatchesScan(t *testing.T, msgs []string) {
	t.Helper()
	indexed := newMiner(t, Config{})
	scan := newMiner(t, Config{})
	scan.scanAll = true
	got, want := indexed.Mine(msgs), scan.Mine(msgs)
	for i := range msgs {
		if got[i] != want[i] {
			t.Fatalf("message %q: indexed %+v, full scan %+v", msgs[i], got[i], want[i])
		}
	}
}

func TestCandidateIndexMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	msgs := demoMessages(2000, rng)
	// Messages of one shape whose words vary, so similarity decides.
	words := []string{"order", "payment", "printer", "menu", "auth", "sync", "failed", "ok", "slow", "retry"}
	for range 2000 {
		msg := "event"
		for range 5 {
			msg += " " + words[rng.IntN(len(words))]
		}
		msgs = append(msgs, msg)
	}
	checkIndexMatchesScan(t, msgs)
}
