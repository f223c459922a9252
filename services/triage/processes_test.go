package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/natsembed/natstest"
	"github.com/triage-pipeline/triage/services/triage/bench"
	"github.com/triage-pipeline/triage/services/triage/procs"
)

// childEnv makes the test binary run main() instead of the tests, so the
// services run as real separate processes built with the same flags.
const childEnv = "TRIAGE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startProc runs one service as a child process of the test binary.
func startProc(t *testing.T, natsURL, name string) *procs.Proc {
	t.Helper()
	p, err := procs.Start(os.Args[0], name,
		[]string{"--nats-url", natsURL, "--http-addr", "127.0.0.1:0", "--retry-backoff", "200ms", "--shutdown-grace", "10s"},
		[]string{childEnv + "=1"})
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
	ns := natstest.RunJetStream(t)
	running := map[string]*procs.Proc{}
	for _, name := range []string{"intake", "enricher", "router", "queue", "bugfiler"} {
		running[name] = startProc(t, ns.ClientURL(), name)
	}
	urls := map[string]string{}
	for name, p := range running {
		urls[name] = readyURL(t, p)
	}
	client := &http.Client{Timeout: 40 * time.Second}
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
	running["router"] = startProc(t, ns.ClientURL(), "router")
	readyURL(t, running["router"])
	for _, id := range ids {
		if got := awaitQueued(t, client, urls["queue"], id); got != want[id] {
			t.Errorf("ticket %s went to %q, want %q", id, got, want[id])
		}
	}
	var total int
	for _, q := range []string{"escalation", "support"} {
		var page struct{ Total int }
		getJSON(t, client, urls["queue"]+"/api/v1/queue?queue="+q, &page)
		total += page.Total
	}
	if total != len(ids) {
		t.Errorf("queues hold %d tickets, want %d", total, len(ids))
	}

	for name, p := range running {
		if err := stop(t, p, syscall.SIGTERM); err != nil {
			t.Errorf("%s exited with %v after SIGTERM\n%s", name, err, p.Logs())
			continue
		}
		if !strings.Contains(p.Logs(), `"msg":"stopped"`) {
			t.Errorf("%s did not log its orderly stop\n%s", name, p.Logs())
		}
	}
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
	if resp.StatusCode != http.StatusOK {
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
	cfg := bench.Config{Rate: 20, Duration: time.Second, FullSpeed: 20, Clients: 4, CeilingMsgs: 50,
		Processes: true, ChildEnv: []string{childEnv + "=1"}}
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
