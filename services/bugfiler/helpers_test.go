package bugfiler

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
	"github.com/triage-pipeline/triage/libs/dev/fakegithub/ghcontract"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
)

func TestMain(m *testing.M) { testkit.Main(m) }

const (
	testRepo   = "acme/pos"
	hookSecret = "test-webhook-secret"
)

// env is a real JetStream server, the fake GitHub (its webhook pointing at
// the first filer), and bug filers.
type env struct {
	t      *testing.T
	nats   *server.Server
	gh     *fakegithub.Server
	ghURL  string
	filers []*Service
	js     jetstream.JetStream
}

func newEnv(t *testing.T, opts fakegithub.Options) *env {
	t.Helper()
	e := &env{t: t, nats: testkit.RunJetStream(t)}
	opts.Repos = append(opts.Repos, testRepo)
	opts.Seed = 7
	var err error
	if e.gh, err = fakegithub.New(opts); err != nil {
		t.Fatal(err)
	}
	if e.ghURL, err = e.gh.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.gh.Close() })
	nc, js, err := bus.Connect(t.Context(), e.nats.ClientURL(), "test", zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if err := bus.EnsureStreams(t.Context(), js, bus.DefaultTopology().Streams()...); err != nil {
		t.Fatal(err)
	}
	e.js = js
	return e
}

// filer starts a bug filer whose every GitHub request and answer is held
// to GitHub's published description.
func (e *env) filer(adjust func(*Config), args ...string) *Service {
	e.t.Helper()
	// The secrets come from files, as a Kubernetes secret mounts them (and
	// parallel tests cannot share the environment).
	dir := e.t.TempDir()
	tokenFile, secretFile := filepath.Join(dir, "token"), filepath.Join(dir, "webhook-secret")
	for path, text := range map[string]string{tokenFile: fakegithub.DefaultToken, secretFile: hookSecret} {
		if err := os.WriteFile(path, []byte(text+"\n"), 0o600); err != nil {
			e.t.Fatal(err)
		}
	}
	var cfg Config
	all := append([]string{"--nats-url", e.nats.ClientURL(), "--http-addr", "127.0.0.1:0", "--retry-backoff", "50ms",
		"--github-url", e.ghURL + "/", "--github-repo", testRepo, "--comment-batch", "300ms",
		"--github-token-file", tokenFile, "--github-webhook-secret-file", secretFile}, args...)
	if err := config.Load("bugfiler", &cfg, all); err != nil {
		e.t.Fatal(err)
	}
	cfg.GitHub.transport = ghcontract.Transport(e.t, http.DefaultTransport)
	if adjust != nil {
		adjust(&cfg)
	}
	s, err := New(e.t.Context(), cfg, zaptest.NewLogger(e.t, zaptest.Level(zap.WarnLevel)))
	if err != nil {
		e.t.Fatal(err)
	}
	testkit.RunService(e.t, s)
	testkit.Eventually(e.t, 20*time.Second, func() error { return s.Ready(e.t.Context()) })
	if len(e.filers) == 0 {
		e.gh.SetWebhook(s.URL()+"/webhooks/github", hookSecret)
	}
	e.filers = append(e.filers, s)
	return s
}

// confirm publishes a confirmed bug as the queue does.
func (e *env) confirm(fp, ticket, tenant string, mutate ...func(*events.BugReport)) {
	e.t.Helper()
	b := events.BugReport{
		Fingerprint: fp, Title: "[payment] provider timeout after <*> ms", Severity: "P1", Component: "payment",
		TicketIDs: []string{ticket}, Tenants: []string{tenant}, Reported: []string{"Card payments fail at the register"},
		FirstSeen: time.Now().Add(-time.Hour), LastSeen: time.Now(),
		Signatures: []events.Signature{{ID: "sig1", Template: "provider timeout after <*> ms", Count: 14, Services: []string{"payment-gateway"}}},
		Excerpts:   []events.LogExcerpt{{ID: "l1", Timestamp: time.Now(), Level: "ERROR", Service: "payment-gateway", Message: "provider timeout after 3000 ms"}},
		TicketURL:  "http://triage.example/tickets/" + ticket,
	}
	for _, m := range mutate {
		m(&b)
	}
	_, err := bus.Publish(e.t.Context(), e.js, bus.Event{
		Subject: events.SubjectConfirmed + "." + fp, Type: events.TypeBugConfirmed, ID: fmt.Sprintf("confirmed:%s:%d", ticket, time.Now().UnixNano()),
		Source: "test", About: fp, Time: time.Now(),
		Data: events.BugConfirmed{SchemaVersion: 1, Bug: b, TicketID: ticket, ConfirmedBy: events.Actor{Name: "kim"}, ConfirmedAt: time.Now()},
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// record reads a fingerprint's entry in the bugs bucket.
func (e *env) record(fp string) *bugRecord {
	e.t.Helper()
	kv, err := e.js.KeyValue(e.t.Context(), bus.BucketBugs)
	if err != nil {
		e.t.Fatal(err)
	}
	r, _, err := records{kv}.get(e.t.Context(), fp)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// filedTickets waits until want tickets of fp are in its issue.
func (e *env) filedTickets(fp string, want int, timeout time.Duration) *bugRecord {
	e.t.Helper()
	var r *bugRecord
	testkit.Eventually(e.t, timeout, func() error {
		r = e.record(fp)
		if r == nil || r.State != stateOpen || len(r.Tickets) < want {
			return fmt.Errorf("bug %s not filed with %d tickets yet: %+v", fp, want, r)
		}
		return nil
	})
	return r
}

// states collects the bug-state events the filer publishes.
type states struct {
	mu   sync.Mutex
	list []events.BugState
	typs []string
}

func (e *env) watchStates() *states {
	e.t.Helper()
	st := &states{}
	cons, err := e.js.OrderedConsumer(e.t.Context(), bus.StreamBugs, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"bugs.filed.>", "bugs.closed.>", "bugs.reopened.>", "bugs.failed.>"}})
	if err != nil {
		e.t.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		var s events.BugState
		_ = json.Unmarshal(m.Data(), &s)
		st.mu.Lock()
		st.list = append(st.list, s)
		st.typs = append(st.typs, m.Headers().Get(bus.HeaderType))
		st.mu.Unlock()
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(cc.Stop)
	return st
}

func (s *states) count(typ string) (n int, tickets map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tickets = map[string]bool{}
	for i, t := range s.typs {
		if t == typ {
			n++
			for _, id := range s.list[i].TicketIDs {
				tickets[id] = true
			}
		}
	}
	return n, tickets
}

var _ = context.Background
