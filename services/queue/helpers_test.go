package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// fixture is a running queue on a real JetStream server, with a token for
// each role.
type fixture struct {
	t      *testing.T
	srv    *server.Server
	s      *Service
	tokens map[string]string // name → token text
	client *http.Client
	// stopFirst stops the fixture's first queue service.
	stopFirst func()
	// now is the clock of the services it starts (nil: the real one).
	now func() time.Time
}

func loadConfig(t *testing.T, natsURL string, extra ...string) Config {
	t.Helper()
	var cfg Config
	args := append([]string{"--nats-url", natsURL, "--http-addr", "127.0.0.1:0", "--retry-backoff", "20ms", "--sla-check", "1s"}, extra...)
	if err := config.Load("queue", &cfg, args); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startQueue(t *testing.T, extra ...string) *fixture {
	t.Helper()
	return startQueueAt(t, nil, extra...)
}

// startQueueAt is startQueue with the services' clock set to now (nil:
// the real clock).
func startQueueAt(t *testing.T, now func() time.Time, extra ...string) *fixture {
	t.Helper()
	srv := testkit.RunJetStream(t)
	// Redirects are answers to check, not to follow.
	f := &fixture{t: t, srv: srv, tokens: map[string]string{}, now: now, client: &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	f.s, f.stopFirst = f.start(loadConfig(t, srv.ClientURL(), extra...), true)
	for _, p := range []struct {
		name string
		role auth.Role
	}{{"sato", auth.RoleSupport}, {"kim", auth.RoleEngineer}, {"lee", auth.RoleEngineer}, {"root", auth.RoleAdmin}, {"alertmanager", auth.RoleMonitoring}} {
		text, _, err := f.s.auth.Issue(t.Context(), p.name, p.role, time.Hour, "test")
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[p.name] = text
	}
	t.Cleanup(f.client.CloseIdleConnections)
	return f
}

// start runs a queue service until the test ends or stop is called.
func (f *fixture) start(cfg Config, materialize bool) (*Service, func()) {
	f.t.Helper()
	ctx, cancel := context.WithCancel(f.t.Context())
	s, err := New(ctx, cfg, testLogger(f.t))
	if err != nil {
		cancel()
		f.t.Fatal(err)
	}
	if !materialize {
		s.withoutMaterializer()
	}
	if f.now != nil {
		s.now = f.now
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				f.t.Errorf("queue run: %v", err)
			}
		})
	}
	f.t.Cleanup(stop)
	testkit.Eventually(f.t, 20*time.Second, func() error { return s.Ready(ctx) })
	return s, stop
}

func testLogger(t *testing.T) *zap.Logger { return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)) }

// route publishes a routed event as the router would.
func (f *fixture) route(id, queue, severity string, attempt int, mutate ...func(*events.TicketRouted)) {
	f.t.Helper()
	ev := events.TicketRouted{
		SchemaVersion: events.SchemaVersion,
		Ticket: events.Ticket{ID: id, Subject: "Card payments fail " + id, Description: "HTTP 503 at the register",
			TenantID: "rst-0042", Reporter: "sato", Channel: "phone", Language: "en", SubmittedAt: time.Now().UTC()},
		Enrichment: events.Enrichment{LogsStatus: events.LogsAttached, Attempt: attempt, ErrorLogs: 2,
			Logs: []events.LogEntry{
				{ID: "log-1", Timestamp: time.Now().UTC(), Level: "ERROR", Service: "payment-gateway", Message: "provider timeout user=usr-991"},
				{ID: "log-2", Timestamp: time.Now().UTC(), Level: "ERROR", Service: "payment-gateway", Message: "HTTP 503 from provider"},
			},
			Signatures: []events.Signature{{ID: "sig1234", Template: "provider timeout user=<*>", Count: 2, Services: []string{"payment-gateway"}}},
			Evidence:   []events.Evidence{{Kind: "user_id", Value: "usr-991", Field: "description", Text: "usr-991"}}},
		Routing: events.Routing{Queue: queue, Technical: queue == events.QueueEscalation, Severity: severity, Component: "payment",
			Reasons: []string{"2 ERROR logs from payment-gateway"}, RoutedAt: time.Now().UTC()},
	}
	for _, m := range mutate {
		m(&ev)
	}
	if _, err := bus.Publish(f.t.Context(), f.s.JS, bus.Event{
		Subject: events.TicketSubject(events.SubjectRouted, id), Type: events.TypeTicketRouted,
		ID: fmt.Sprintf("routed:%s:%d", id, attempt), Source: "test", About: id, Time: time.Now(), Data: ev,
	}); err != nil {
		f.t.Fatal(err)
	}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

func (a answer) code() string {
	var e struct{ Error struct{ Code string } }
	_ = json.Unmarshal(a.body, &e)
	return e.Error.Code
}

// do sends a request as who ("" for nobody) to this fixture's service.
func (f *fixture) do(who, method, path string, body any, header ...string) answer {
	f.t.Helper()
	return f.doAt(f.s, who, method, path, body, header...)
}

func (f *fixture) doAt(s *Service, who, method, path string, body any, header ...string) answer {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.URL()+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[who])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// queued waits until the ticket is in the queue and returns its engineer
// view and ETag.
func (f *fixture) queued(id string) (Record, string) {
	f.t.Helper()
	a := f.do("kim", "GET", "/api/v1/queue/tickets/"+id+"?wait=20s", nil)
	if a.status != http.StatusOK {
		f.t.Fatalf("ticket %s: %d %s", id, a.status, a.body)
	}
	var v Record
	a.decode(f.t, &v)
	return v, a.header.Get("ETag")
}

// eventually waits for the engineer view of a ticket to satisfy ok.
func (f *fixture) eventually(id string, what string, ok func(Record) bool) Record {
	f.t.Helper()
	var v Record
	testkit.Eventually(f.t, 20*time.Second, func() error {
		a := f.do("kim", "GET", "/api/v1/queue/tickets/"+id, nil)
		v = Record{}
		if a.status == http.StatusOK {
			a.decode(f.t, &v)
			if v.Version != 0 && ok(v) {
				return nil
			}
		}
		return fmt.Errorf("ticket %s not yet %s: %d %s", id, what, a.status, a.body)
	})
	return v
}
