package systemtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/dev/harness/bench"
	"github.com/triage-pipeline/triage/libs/dev/harness/procs"
	"github.com/triage-pipeline/triage/libs/dev/shareddata"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// binaries is where TestMain built the per-service binaries.
var binaries string

// TestMain builds the five per-service binaries once, as deployments run
// them, for the tests that start services as processes.
func TestMain(m *testing.M) {
	testkit.Main(m, func() (func(), error) {
		if testing.Short() {
			return func() {}, nil
		}
		dir, err := os.MkdirTemp("", "triage-binaries-")
		if err != nil {
			return nil, err
		}
		root, err := shareddata.RepoRoot()
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			err = procs.Build(ctx, root, dir)
			cancel()
		}
		binaries = dir
		return func() { os.RemoveAll(dir) }, err
	})
}

// startProc runs one service's own binary as a child process.
func startProc(t *testing.T, natsURL, name string, env []string, flags ...string) *procs.Proc {
	t.Helper()
	p, err := procs.Start(procs.Binaries(binaries), name,
		append([]string{"--nats-url", natsURL, "--http-addr", "127.0.0.1:0", "--retry-backoff", "200ms", "--shutdown-grace", "10s"}, flags...),
		env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

// readyURL waits until the service has started and is ready, and returns
// its base URL.
func readyURL(t *testing.T, p *procs.Proc) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	u, err := p.URL(ctx)
	if err == nil {
		err = p.WaitReady(ctx, u)
	}
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func stop(t *testing.T, p *procs.Proc, sig syscall.Signal) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return p.Stop(ctx, sig)
}

// TestServicesAsSeparateProcesses runs each service as its own process
// against one NATS server, the way a deployment does: tickets flow, a
// crashed router is replaced without losing or doubling anything, and every
// service exits cleanly on SIGTERM.
func TestServicesAsSeparateProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five processes")
	}
	ns := testkit.RunJetStream(t)
	gh, ghFlags, ghEnv, _, err := procs.FakeGitHub()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gh.Close() })
	running := map[string]*procs.Proc{}
	for _, name := range []string{"intake", "enricher", "router", "queue", "bugfiler"} {
		if name == "bugfiler" {
			running[name] = startProc(t, ns.ClientURL(), name, ghEnv, ghFlags...)
			continue
		}
		running[name] = startProc(t, ns.ClientURL(), name, nil)
	}
	urls := map[string]string{}
	for name, p := range running {
		urls[name] = readyURL(t, p)
	}
	client := &http.Client{Timeout: 40 * time.Second, Transport: bearer{token: adminToken(t, ns.ClientURL())}}
	defer client.CloseIdleConnections()

	first := submit(t, client, urls["intake"], "proc-0", "Card payments fail with HTTP 503 since 19:05")
	if got := awaitQueued(t, client, urls["queue"], first); got != "escalation" {
		t.Errorf("technical ticket went to %q, want escalation", got)
	}

	// A router crash: tickets accepted meanwhile wait in the stream and reach
	// the queue once a new router runs, each exactly once.
	if err := stop(t, running["router"], syscall.SIGKILL); err == nil {
		t.Fatalf("router survived SIGKILL")
	}
	ids := []string{first}
	want := map[string]string{first: "escalation"}
	for i := 1; i <= 20; i++ {
		text, queue := "How do I change the opening hours shown on receipts?", "support"
		if i%2 == 0 {
			text, queue = "Kitchen printer error PRN-2001 since 7pm, orders are not printed", "escalation"
		}
		id := submit(t, client, urls["intake"], fmt.Sprintf("proc-%d", i), text)
		if i == 1 {
			// A retried submission is the same ticket.
			if again := submit(t, client, urls["intake"], "proc-1", text); again != id {
				t.Errorf("retried submission got id %s, want %s", again, id)
			}
		}
		ids = append(ids, id)
		want[id] = queue
	}
	running["router"] = startProc(t, ns.ClientURL(), "router", nil)
	readyURL(t, running["router"])
	for _, id := range ids {
		if got := awaitQueued(t, client, urls["queue"], id); got != want[id] {
			t.Errorf("ticket %s went to %q, want %q", id, got, want[id])
		}
	}
	var total int
	for _, q := range []string{"escalation", "support"} {
		var page struct{ Counts struct{ Total int } }
		getJSON(t, client, urls["queue"]+"/api/v1/queue?queue="+q, &page)
		total += page.Counts.Total
	}
	if total != len(ids) {
		t.Errorf("queues hold %d tickets, want %d", total, len(ids))
	}

	// A long poll longer than the shutdown grace (10s here) must not hold
	// the queue's exit up: SIGTERM ends it at once with an answer.
	polled := make(chan int, 1)
	go func() {
		status, _ := getStatus(context.Background(), client, urls["queue"]+"/api/v1/queue/tickets/never-queued?wait=30s", nil)
		polled <- status
	}()
	testkit.Eventually(t, 10*time.Second, func() error {
		if n := metric(t, client, urls["queue"], "triage_queue_long_polls_waiting"); n != 1 {
			return fmt.Errorf("%v long polls waiting on the queue, want 1", n)
		}
		return nil
	})
	for name, p := range running {
		// Exit 0 within the grace the services were given (10s).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := p.Stop(ctx, syscall.SIGTERM)
		cancel()
		if err != nil {
			t.Errorf("%s exited with %v after SIGTERM\n%s", name, err, p.Logs())
			continue
		}
		if !strings.Contains(p.Logs(), `"msg":"stopped"`) {
			t.Errorf("%s did not log its orderly stop\n%s", name, p.Logs())
		}
	}
	if status := <-polled; status != http.StatusServiceUnavailable {
		t.Errorf("the long poll open at SIGTERM answered %d, want 503 shutting_down", status)
	}
}

// adminToken issues a token on the tokens bucket, as `triage tokens issue`
// does for a new deployment.
func adminToken(t *testing.T, natsURL string) string {
	t.Helper()
	nc, js, err := bus.Connect(t.Context(), natsURL, "test", zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	store, err := auth.Open(t.Context(), js, bus.DefaultTopology())
	if err != nil {
		t.Fatal(err)
	}
	text, _, err := store.Issue(t.Context(), "ops", auth.RoleAdmin, time.Hour, "test")
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// bearer sends a token with every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// metric reads one gauge or counter from a service's /metrics.
func metric(t *testing.T, client *http.Client, baseURL, name string) float64 {
	t.Helper()
	resp, err := client.Get(baseURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", line, err)
			}
			return f
		}
	}
	return 0
}

func submit(t *testing.T, client *http.Client, intakeURL, key, description string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"subject": description, "description": description, "tenant_id": "rst-0001"})
	req, _ := http.NewRequest(http.MethodPost, intakeURL+"/api/v1/tickets", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		TicketID string `json:"ticket_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: status %d, decode %v", resp.StatusCode, err)
	}
	return out.TicketID
}

// awaitQueued waits until the queue API shows the ticket and returns the
// queue it was routed to.
func awaitQueued(t *testing.T, client *http.Client, queueURL, id string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for {
		var qt struct {
			Routing struct {
				Queue string `json:"queue"`
			} `json:"routing"`
		}
		status, err := getStatus(ctx, client, queueURL+"/api/v1/queue/tickets/"+id+"?wait=10s", &qt)
		if err == nil && status == http.StatusOK {
			return qt.Routing.Queue
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("ticket %s never reached the queue (last status %d, %v)", id, status, err)
		}
	}
}

func getJSON(t *testing.T, client *http.Client, url string, v any) {
	t.Helper()
	status, err := getStatus(context.Background(), client, url, v)
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET %s: status %d, %v", url, status, err)
	}
}

func getStatus(ctx context.Context, client *http.Client, url string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || v == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
}

// The benchmark's --processes mode runs the same load against one process
// per service; a small load must pass through all of them.
func TestBenchmarkWithServiceProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the pipeline's processes twice")
	}
	var out bytes.Buffer
	cfg := bench.Config{Rate: 20, Duration: time.Second, FullSpeed: 20, Clients: 4, CeilingMsgs: 50, SkipQueue: true,
		Processes: true, Command: procs.Binaries(binaries)}
	if err := bench.Run(t.Context(), cfg, &out); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"services: one process each", "fixed rate 20/s for 1s: 20 tickets", "full speed, 4 clients: 20 tickets"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "failed 0"); n != 3 {
		t.Errorf("%d runs without failures, want 3:\n%s", n, text)
	}
}
