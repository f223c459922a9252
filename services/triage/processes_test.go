package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/natsembed/natstest"
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

// proc is one service running as its own process.
type proc struct {
	name string
	cmd  *exec.Cmd
	url  chan string // the service's base URL, from its "started" log line
	done chan error  // Wait's result
	mu   sync.Mutex
	logs bytes.Buffer // stderr: zap JSON lines
}

func startProc(t *testing.T, natsURL, name string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "run", name, "--nats-url", natsURL, "--http-addr", "127.0.0.1:0",
		"--retry-backoff", "200ms", "--shutdown-grace", "10s")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, url: make(chan string, 1), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			p.mu.Lock()
			p.logs.Write(line)
			p.logs.WriteByte('\n')
			p.mu.Unlock()
			var entry struct{ Msg, URL string }
			if json.Unmarshal(line, &entry) == nil && entry.Msg == "started" && entry.URL != "" {
				select {
				case p.url <- entry.URL:
				default:
				}
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	return p
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// baseURL waits for the service to say it has started.
func (p *proc) baseURL(t *testing.T) string {
	t.Helper()
	select {
	case u := <-p.url:
		p.url <- u
		return u
	case err := <-p.done:
		t.Fatalf("%s exited before starting: %v\n%s", p.name, err, p.log())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start\n%s", p.name, p.log())
	}
	return ""
}

// stop sends sig and waits for the process to exit.
func (p *proc) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %s: %v", p.name, err)
	}
	select {
	case err := <-p.done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not exit after %v\n%s", p.name, sig, p.log())
		return nil
	}
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
	procs := map[string]*proc{}
	for _, name := range []string{"intake", "enricher", "router", "queue", "bugfiler"} {
		procs[name] = startProc(t, ns.ClientURL(), name)
	}
	urls := map[string]string{}
	for name, p := range procs {
		urls[name] = p.baseURL(t)
		waitReady(t, urls[name])
	}
	client := &http.Client{Timeout: 40 * time.Second}
	defer client.CloseIdleConnections()

	first := submit(t, client, urls["intake"], "proc-0", "Card payments fail with HTTP 503 since 19:05")
	if got := awaitQueued(t, client, urls["queue"], first); got != "escalation" {
		t.Errorf("technical ticket went to %q, want escalation", got)
	}

	// A router crash: tickets accepted meanwhile wait in the stream and reach
	// the queue once a new router runs, each exactly once.
	if err := procs["router"].stop(t, syscall.SIGKILL); err == nil {
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
	procs["router"] = startProc(t, ns.ClientURL(), "router")
	waitReady(t, procs["router"].baseURL(t))
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

	for name, p := range procs {
		if err := p.stop(t, syscall.SIGTERM); err != nil {
			t.Errorf("%s exited with %v after SIGTERM\n%s", name, err, p.log())
			continue
		}
		if !strings.Contains(p.log(), `"msg":"stopped"`) {
			t.Errorf("%s did not log its orderly stop\n%s", name, p.log())
		}
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz not ready: %v", base, err)
		}
		time.Sleep(100 * time.Millisecond)
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
