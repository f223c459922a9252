package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/services/queue"
)

// sharedES is the development Elasticsearch every pipeline of this
// package's tests searches: loading the demo world costs seconds, and the
// logs are the same for all of them.
var sharedES *DemoES

// TestMain starts the shared Elasticsearch, runs the tests, and fails the
// package if any leaves a goroutine running.
func TestMain(m *testing.M) {
	testkit.Main(m, func() (func(), error) {
		dir, err := os.MkdirTemp("", "triage-pipeline-es-")
		if err != nil {
			return nil, err
		}
		if sharedES, err = StartDemoES(context.Background(), "127.0.0.1:0", dir, 1); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		return func() { sharedES.Stop(); os.RemoveAll(dir) }, nil
	})
}

// running is a pipeline started for a test.
type running struct {
	*Pipeline
	stop func()
	done chan error
	once sync.Once
}

func startPipeline(t *testing.T, dataDir string, args ...string) *running {
	t.Helper()
	var cfg Config
	if err := config.Load("test", &cfg, args); err != nil {
		t.Fatalf("default config: %v", err)
	}
	cfg.DataDir, cfg.NATSPort, cfg.HTTPPort, cfg.ESPort = dataDir, -1, 0, 0
	cfg.SharedDemoES = sharedES
	cfg.Backoff = []time.Duration{50 * time.Millisecond, 200 * time.Millisecond}
	// Long enough for the enricher's default search deadline (10s) to fit
	// in the handler timeout (2/3 of it) with room to publish.
	cfg.AckWait = 20 * time.Second
	cfg.ShutdownGrace = 10 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	p, err := Start(ctx, cfg, zaptest.NewLogger(t, zaptest.Level(zapcore.WarnLevel)))
	if err != nil {
		cancel()
		t.Fatalf("start pipeline: %v", err)
	}
	r := &running{Pipeline: p, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- p.Run(ctx) }()
	t.Cleanup(func() { r.shutdown(t) })
	return r
}

// shutdown stops the pipeline gracefully and waits for it.
func (r *running) shutdown(t *testing.T) {
	t.Helper()
	r.once.Do(func() {
		r.stop()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("pipeline stopped with error: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("pipeline did not stop within 30s")
		}
	})
}

type submission struct {
	key       string
	body      map[string]any
	technical bool
}

func sampleTickets(n int) []submission {
	technical := []map[string]any{
		{"subject": "カード決済でエラー", "description": "19:05頃からカード決済をするとエラーになり、画面に503と表示されます。"},
		{"subject": "Kitchen printer not printing", "description": "Since around 7pm the kitchen printer stopped printing orders; tablets show an error."},
		{"subject": "メニューが同期されない", "description": "昨日の夜からメニューの変更がタブレットに反映されない。"},
		{"subject": "Staff cannot log in", "description": "Our staff get logged out and cannot log in again, the app says the token expired."},
	}
	support := []map[string]any{
		{"subject": "請求書の再発行について", "description": "先月分の請求書を再発行する方法を教えてください。"},
		{"subject": "How do I add a new menu item?", "description": "We want to add a seasonal dish. How do I add it to the menu?"},
		{"subject": "プラン変更の相談", "description": "来月から上位プランに変更したいので契約について相談したいです。"},
		{"subject": "Feature request: tips", "description": "It would be nice to split tips between staff. Please add this."},
	}
	out := make([]submission, n)
	for i := range out {
		var base map[string]any
		tech := i%2 == 0
		if tech {
			base = technical[(i/2)%len(technical)]
		} else {
			base = support[(i/2)%len(support)]
		}
		body := map[string]any{"tenant_id": fmt.Sprintf("rst-%04d", i%50), "reporter": "support@example.com"}
		for k, v := range base {
			body[k] = v
		}
		body["subject"] = fmt.Sprintf("%s #%d", base["subject"], i)
		out[i] = submission{key: fmt.Sprintf("test-key-%d", i), body: body, technical: tech}
	}
	return out
}

type submitResult struct {
	status int
	id     string
}

func submit(ctx context.Context, client *http.Client, p *Pipeline, s submission) (submitResult, error) {
	b, _ := json.Marshal(s.body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Intake.URL()+"/api/v1/tickets", bytes.NewReader(b))
	if err != nil {
		return submitResult{}, err
	}
	req.Header.Set("Authorization", "Bearer "+p.Tokens.Support)
	req.Header.Set("Content-Type", "application/json")
	if s.key != "" {
		req.Header.Set("Idempotency-Key", s.key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return submitResult{}, err
	}
	defer resp.Body.Close()
	var out struct {
		TicketID string `json:"ticket_id"`
	}
	body, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(body, &out)
	return submitResult{status: resp.StatusCode, id: out.TicketID}, nil
}

// queueContents waits until both queues hold want tickets (or the deadline
// passes) and returns ticket id -> queue.
func queueContents(t *testing.T, p *Pipeline, want int) map[string]string {
	t.Helper()
	var got map[string]string
	// Callers compare the count themselves: a shortfall returns what there is.
	_ = testkit.Poll(60*time.Second, func() error {
		got = map[string]string{}
		for _, q := range []string{events.QueueEscalation, events.QueueSupport} {
			var page queue.ListResponse
			resp, err := p.Get(p.Queue.URL()+"/api/v1/queue?limit=500&queue="+q, p.Tokens.Engineer)
			if err == nil {
				if resp.StatusCode == http.StatusOK {
					_ = json.NewDecoder(resp.Body).Decode(&page)
				}
				resp.Body.Close()
			}
			for _, s := range page.Tickets {
				if prev, dup := got[s.ID]; dup {
					t.Fatalf("ticket %s listed in both %s and %s", s.ID, prev, q)
				}
				got[s.ID] = q
			}
		}
		if len(got) < want {
			return fmt.Errorf("%d of %d tickets queued", len(got), want)
		}
		return nil
	})
	return got
}

func TestEndToEndTwoHundredTickets(t *testing.T) {
	p := startPipeline(t, t.TempDir())
	subs := sampleTickets(200)
	client := &http.Client{Timeout: 10 * time.Second}
	ctx := context.Background()

	var mu sync.Mutex
	ids := map[string]string{} // key -> ticket id
	record := func(s submission, r submitResult) {
		mu.Lock()
		defer mu.Unlock()
		if prev, ok := ids[s.key]; ok && prev != r.id {
			t.Errorf("key %s gave tickets %s and %s", s.key, prev, r.id)
		}
		ids[s.key] = r.id
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, s := range subs {
		// Every fifth ticket is sent twice at once, and every seventh is
		// retried afterwards: both must give back the same ticket.
		copies := 1
		if i%5 == 0 {
			copies = 2
		}
		for range copies {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				r, err := submit(ctx, client, p.Pipeline, s)
				if err != nil || r.status != http.StatusAccepted {
					t.Errorf("submit %s: status %d, err %v", s.key, r.status, err)
					return
				}
				record(s, r)
			}()
		}
	}
	wg.Wait()
	for i := 0; i < len(subs); i += 7 {
		r, err := submit(ctx, client, p.Pipeline, subs[i])
		if err != nil || r.status != http.StatusAccepted {
			t.Fatalf("retry %s: status %d, err %v", subs[i].key, r.status, err)
		}
		record(subs[i], r)
	}
	if len(ids) != 200 {
		t.Fatalf("got %d distinct keys answered, want 200", len(ids))
	}

	got := queueContents(t, p.Pipeline, 200)
	if len(got) != 200 {
		t.Fatalf("queues hold %d tickets, want exactly 200", len(got))
	}
	for _, s := range subs {
		id := ids[s.key]
		want := events.QueueSupport
		if s.technical {
			want = events.QueueEscalation
		}
		if got[id] != want {
			t.Errorf("ticket %s (%q) in queue %q, want %q", id, s.body["subject"], got[id], want)
		}
	}
	// SUBMISSIONS holds one submitted event per ticket: no doubles upstream.
	if n := countSubjects(t, p.Pipeline, "tickets.submitted.*"); n != 200 {
		t.Errorf("SUBMISSIONS holds %d submitted tickets, want 200", n)
	}
}

func countSubjects(t *testing.T, p *Pipeline, filter string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := p.Intake.JS.Stream(ctx, "SUBMISSIONS")
	if err != nil {
		t.Fatalf("open stream: %v", err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	return len(info.State.Subjects)
}

func client() *http.Client { return &http.Client{Timeout: 10 * time.Second} }
