package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/services/queue"
)

// QueueConfig sets the queue benchmark's size.
type QueueConfig struct {
	Tickets  int     `name:"queue-tickets" default:"50000" help:"Tickets in the queue benchmark's store."`
	OpenPart float64 `name:"queue-open" default:"0.1" help:"Share of them still open."`
	Requests int     `name:"queue-requests" default:"500" help:"List requests, claims and live updates timed."`
}

// QueueResult is what the queue benchmark measured.
type QueueResult struct {
	Tickets, Open     int
	Seed, Materialize time.Duration
	StartUp           time.Duration
	HeapMB            float64
	List, Claim, Live Percentiles
	BytesPerTicket    float64 // TICKETS stream bytes of a ticket's routed event
	BytesPerAction    float64 // stream bytes plus state-bucket bytes one claim adds
}

// RunQueue measures the escalation engineers' queue with a large store:
// the first page of a filtered listing, a claim, a live update reaching a
// connected page, and the service's start-up time and memory.
func RunQueue(ctx context.Context, cfg QueueConfig, out io.Writer) (QueueResult, error) {
	var res QueueResult
	srv, _, stop, err := scratchNATS("triage-bench-queue-")
	if err != nil {
		return res, err
	}
	defer stop()
	nc, err := nats.Connect(srv.ClientURL(), nats.Name("triage-bench-queue"))
	if err != nil {
		return res, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return res, err
	}
	if err := bus.EnsureStreams(ctx, js, bus.DefaultTopology().Streams()...); err != nil {
		return res, err
	}
	res.Tickets = cfg.Tickets
	open, err := seedTickets(ctx, js, cfg, &res)
	if err != nil {
		return res, err
	}
	res.Open = len(open)

	// First start: the queue materialises every ticket.
	start := time.Now()
	q, stopQ, err := startQueue(ctx, srv.ClientURL())
	if err != nil {
		return res, err
	}
	if err := waitStored(ctx, js, cfg.Tickets, len(open), q); err != nil {
		stopQ()
		return res, err
	}
	res.Materialize = time.Since(start)
	stopQ()

	// Second start, on the materialised store: what a restart costs.
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start = time.Now()
	q, stopQ, err = startQueue(ctx, srv.ClientURL())
	if err != nil {
		return res, err
	}
	defer stopQ()
	res.StartUp = time.Since(start)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	res.HeapMB = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)

	token, err := issueToken(ctx, srv.ClientURL())
	if err != nil {
		return res, err
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: bearer{token: token, next: http.DefaultTransport}}
	defer client.CloseIdleConnections()
	if res.List, err = timeList(ctx, client, q.URL(), cfg.Requests); err != nil {
		return res, err
	}
	n := min(cfg.Requests, len(open)/2)
	ticketsInfo := func() (uint64, uint64) {
		s, _ := js.Stream(ctx, bus.StreamTickets)
		k, _ := js.Stream(ctx, "KV_"+bus.BucketTickets)
		si, _ := s.Info(ctx)
		ki, _ := k.Info(ctx)
		return si.State.Bytes, ki.State.Bytes
	}
	sb, kb := ticketsInfo()
	if res.Claim, err = timeClaims(ctx, client, q.URL(), open[:n]); err != nil {
		return res, err
	}
	sa, ka := ticketsInfo()
	res.BytesPerAction = float64((sa-sb)+(ka-kb)) / float64(n)
	if res.Live, err = timeLive(ctx, client, q.URL(), open[n:2*n]); err != nil {
		return res, err
	}
	printQueue(out, res)
	return res, nil
}

func printQueue(out io.Writer, r QueueResult) {
	fmt.Fprintf(out, "queue: %d tickets (%d open); seeded in %s, materialised by a fresh queue in %s\n",
		r.Tickets, r.Open, r.Seed.Round(time.Millisecond), r.Materialize.Round(time.Millisecond))
	fmt.Fprintf(out, "  start-up on that store: %s to ready; heap %.1f MB for the open tickets' view\n", r.StartUp.Round(time.Millisecond), r.HeapMB)
	fmt.Fprintf(out, "  first page, filtered:  p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms\n", ms(r.List.P50), ms(r.List.P99), ms(r.List.Max))
	fmt.Fprintf(out, "  claim:                 p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms\n", ms(r.Claim.P50), ms(r.Claim.P99), ms(r.Claim.Max))
	fmt.Fprintf(out, "  live update (action sent -> event on a connected page): p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms\n", ms(r.Live.P50), ms(r.Live.P99), ms(r.Live.Max))
	fmt.Fprintf(out, "  bytes stored: %.0f per ticket with 20 logs attached (its routed event; the state holds no logs), %.0f per action (the event and the state's new revision)\n", r.BytesPerTicket, r.BytesPerAction)
}

func startQueue(ctx context.Context, natsURL string) (*queue.Service, func(), error) {
	var cfg queue.Config
	if err := config.Load("queue", &cfg, []string{"--nats-url", natsURL, "--http-addr", "127.0.0.1:0", "--log-level", "warn"}); err != nil {
		return nil, nil, err
	}
	qctx, cancel := context.WithCancel(ctx)
	q, err := queue.New(qctx, cfg, zap.NewNop())
	if err != nil {
		cancel()
		return nil, nil, err
	}
	done := make(chan error, 1)
	go func() { done <- q.Run(qctx) }()
	stop := func() { cancel(); <-done }
	for q.Ready(qctx) != nil {
		select {
		case <-ctx.Done():
			stop()
			return nil, nil, ctx.Err()
		case err := <-done:
			cancel()
			return nil, nil, fmt.Errorf("queue stopped: %w", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	return q, stop, nil
}

// seedTickets stores tickets' routed events (and, for the closed ones, a
// status change to closed) and returns the open tickets' ids.
func seedTickets(ctx context.Context, js jetstream.JetStream, cfg QueueConfig, res *QueueResult) ([]string, error) {
	start := time.Now()
	components := []string{"payment", "order", "printer", "menu", "auth"}
	sevs := []string{"P1", "P2", "P3", "P4"}
	var openIDs []string
	openEvery := max(1, int(1/cfg.OpenPart))
	var futures []jetstream.PubAckFuture
	flush := func() error {
		for _, f := range futures {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		futures = futures[:0]
		return nil
	}
	var routedBytes, withLogs int
	for i := range cfg.Tickets {
		id := fmt.Sprintf("bench-%06d", i)
		now := time.Now().UTC()
		open := i%openEvery == 0
		ev := events.TicketRouted{SchemaVersion: 1,
			Ticket: events.Ticket{ID: id, Subject: "Card payments fail at the register #" + id, Description: "カード決済でエラーになります",
				TenantID: fmt.Sprintf("rst-%04d", i%500), Channel: "phone", Language: "ja", SubmittedAt: now, SubmittedBy: "support"},
			Enrichment: events.Enrichment{LogsStatus: events.LogsNoneFound, Attempt: 1},
			Routing: events.Routing{Queue: events.QueueEscalation, Technical: true, Severity: sevs[i%4], Component: components[i%5],
				Reasons: []string{"benchmark load"}, RoutedAt: now}}
		if open {
			// The open tickets carry what the enricher attaches (20 logs
			// and a signature), so the bytes per ticket are a real ticket's.
			ev.Enrichment = benchEnrichment(id, now)
		}
		m, err := bus.Event{Subject: events.TicketSubject(events.SubjectRouted, id), Type: events.TypeTicketRouted,
			ID: "routed:" + id + ":1", Source: "bench", About: id, Time: now, Data: ev}.Msg()
		if err != nil {
			return nil, err
		}
		if open {
			routedBytes += len(m.Data)
			withLogs++
		}
		f, err := js.PublishMsgAsync(m)
		if err != nil {
			return nil, err
		}
		futures = append(futures, f)
		if open {
			openIDs = append(openIDs, id)
		} else {
			st := events.TicketStatusChanged{Action: events.Action{SchemaVersion: 1, TicketID: id, Actor: events.Actor{Name: "bench", Role: "engineer"}, At: now},
				From: queue.StatusNew, To: queue.StatusClosed}
			m, err := bus.Event{Subject: events.TicketSubject(events.SubjectStatusChanged, id), Type: events.TypeTicketStatusChanged,
				ID: "closed:" + id, Source: "bench", About: id, Time: now, Data: st}.Msg()
			if err != nil {
				return nil, err
			}
			if f, err = js.PublishMsgAsync(m); err != nil {
				return nil, err
			}
			futures = append(futures, f)
		}
		if len(futures) >= 2000 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	res.Seed = time.Since(start)
	res.BytesPerTicket = float64(routedBytes) / float64(max(withLogs, 1))
	return openIDs, nil
}

// benchEnrichment is what the enricher attaches to a ticket with logs.
func benchEnrichment(id string, now time.Time) events.Enrichment {
	e := events.Enrichment{LogsStatus: events.LogsAttached, Attempt: 1, ErrorLogs: 14, TotalMatches: 140, EnrichedAt: now,
		Signatures: []events.Signature{{ID: "a1b2c3d4", Template: "payment provider timeout after <*> ms order=<*>", Count: 14,
			FirstSeen: now.Add(-time.Hour), LastSeen: now, Services: []string{"payment-gateway"}}},
		Evidence: []events.Evidence{{Kind: "order_id", Value: "ord_2611211905", Field: "description", Text: "ord_2611211905"}}}
	for j := range 20 {
		e.Logs = append(e.Logs, events.LogEntry{ID: fmt.Sprintf("%s-log-%02d", id, j), Index: "logs-pos-2026.12.07", Timestamp: now,
			Level: "ERROR", Service: "payment-gateway", Message: "payment provider timeout after 3000 ms order=ord_2611211905 tenant=rst-0042",
			Fields:    map[string]string{"trace.id": "4bf92f3577b34da6a3ce929d0e0e4736", "labels.tenant_id": "rst-0042"},
			MatchedBy: []string{"order_id"}})
	}
	return e
}

// waitStored waits until the queue has materialised every ticket.
func waitStored(ctx context.Context, js jetstream.JetStream, total, open int, q *queue.Service) error {
	deadline := time.Now().Add(30 * time.Minute)
	for {
		kv, err := js.KeyValue(ctx, bus.BucketTickets)
		if err == nil {
			st, err := kv.Status(ctx)
			if err == nil && st.Values() >= uint64(total) && q.OpenTickets() == open {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("the queue did not materialise the benchmark's tickets in 30 minutes")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func timeList(ctx context.Context, client *http.Client, base string, n int) (Percentiles, error) {
	var d []time.Duration
	filters := []string{"assignee=unassigned", "component=payment", "status=new&component=printer", "tenant=rst-0042", ""}
	for i := range n {
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/queue?limit=50&"+filters[i%len(filters)], nil)
		resp, err := client.Do(req)
		if err != nil {
			return Percentiles{}, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return Percentiles{}, fmt.Errorf("list: status %d", resp.StatusCode)
		}
		d = append(d, time.Since(start))
	}
	return percentiles(d), nil
}

func claim(ctx context.Context, client *http.Client, base, id string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/queue/tickets/"+id+"/claim", nil)
	req.Header.Set("If-Match", "*")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("claim %s: status %d", id, resp.StatusCode)
	}
	return nil
}

func timeClaims(ctx context.Context, client *http.Client, base string, ids []string) (Percentiles, error) {
	var d []time.Duration
	for _, id := range ids {
		start := time.Now()
		if err := claim(ctx, client, base, id); err != nil {
			return Percentiles{}, err
		}
		d = append(d, time.Since(start))
	}
	return percentiles(d), nil
}

// timeLive keeps the queue's event stream open, as the queue page does,
// and times each claim from its request to its change arriving there.
func timeLive(ctx context.Context, client *http.Client, base string, ids []string) (Percentiles, error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, base+"/api/v1/queue/events", nil)
	resp, err := client.Do(req)
	if err != nil {
		return Percentiles{}, err
	}
	defer resp.Body.Close()
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var lat []time.Duration
	got := make(chan struct{}, len(ids))
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var c struct {
				ID      string `json:"id"`
				Summary *struct {
					Assignee string `json:"assignee"`
				} `json:"summary"`
			}
			if json.Unmarshal([]byte(data), &c) != nil || c.Summary == nil || c.Summary.Assignee == "" {
				continue
			}
			mu.Lock()
			if t, ok := sent[c.ID]; ok {
				lat = append(lat, time.Since(t))
				delete(sent, c.ID)
				got <- struct{}{}
			}
			mu.Unlock()
		}
	}()
	for _, id := range ids {
		mu.Lock()
		sent[id] = time.Now()
		mu.Unlock()
		if err := claim(ctx, client, base, id); err != nil {
			return Percentiles{}, err
		}
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			return Percentiles{}, fmt.Errorf("the claim of %s never reached the event stream", id)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return percentiles(lat), nil
}
