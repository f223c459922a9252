package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/demoworld"
	"github.com/triage-pipeline/triage/libs/dev/esdev"
	"github.com/triage-pipeline/triage/libs/dev/harness/pipeline"
	"github.com/triage-pipeline/triage/libs/dev/harness/procs"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/services/intake"
)

// Config sets the load.
type Config struct {
	Rate        int           `default:"500" help:"Tickets per second offered in the fixed-rate run."`
	Duration    time.Duration `default:"20s" help:"Length of the fixed-rate run."`
	FullSpeed   int           `name:"full-speed-tickets" default:"3000" help:"Tickets in the full-speed run."`
	Clients     int           `default:"64" help:"Concurrent HTTP clients in the full-speed run."`
	CeilingMsgs int           `name:"ceiling-messages" default:"20000" help:"Messages in the bare JetStream ceiling run."`
	Processes   bool          `name:"processes" default:"true" negatable:"" help:"Run each service, NATS and the development Elasticsearch as its own process (this binary's run, natsd and esdev commands), as a deployment does, and print each one's CPU time per ticket; --no-processes runs them all in this process."`
	// Command runs a service as a process with --processes; nil runs this
	// binary as `triage run <service>`.
	Command procs.Command `kong:"-"`
	// DevCommand runs NATS and the development Elasticsearch as processes
	// with --processes (`triage natsd`, `triage esdev`). When both commands
	// are nil it is this binary; when only DevCommand is nil (this binary
	// may not be triage, as in a test), NATS and the development
	// Elasticsearch run in this process, with the load, and the output says
	// so.
	DevCommand procs.Command `kong:"-"`
	Queue      QueueConfig   `embed:""`
	Storm      StormConfig   `embed:""`
	Only       string        `name:"only" enum:"all,pipeline,storm,queue,github" default:"all" help:"Run one part: the pipeline (ceiling, load), a storm of tickets grouped into incidents, the queue with a large store, or the bug filer's GitHub calls."`
	// SkipQueue leaves the storm, queue and GitHub parts out (tests of the
	// pipeline part).
	SkipQueue bool `kong:"-"`
}

// Result is one run's figures.
type Result struct {
	Name       string
	Tickets    int
	Elapsed    time.Duration
	Throughput float64 // tickets per second from first offer to last visible
	Accept     Percentiles
	Visible    Percentiles
	// Enrich is submitted → enriched (logs searched), from the ticket's
	// own timestamps; ESPerTicket counts _msearch requests per ticket.
	Enrich      Percentiles
	ESPerTicket float64
	// WithLogs counts tickets the enricher attached logs to.
	WithLogs int
	Failed   int
	// cpu is the CPU time each component used over the run.
	cpu *usage
}

// Percentiles of a latency distribution.
type Percentiles struct{ P50, P99, Max time.Duration }

func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	return Percentiles{P50: at(0.50), P99: at(0.99), Max: d[len(d)-1]}
}

// Run prints the benchmark's figures to out.
func Run(ctx context.Context, cfg Config, out io.Writer) error {
	fmt.Fprintf(out, "machine: %s\n", machine())
	switch cfg.Only {
	case "queue":
		_, err := RunQueue(ctx, cfg.Queue, out)
		return err
	case "github":
		_, err := RunGitHub(ctx, 20, 10, out)
		return err
	}
	if perSecond, err := syncedWrites(os.TempDir(), 500); err == nil {
		fmt.Fprintf(out, "disk under %s: %.0f synced %d-byte writes/s (a stored message costs one; a ticket costs four)\n", os.TempDir(), perSecond, eventSize)
	} else {
		fmt.Fprintf(out, "disk under %s: not measured (%v)\n", os.TempDir(), err)
	}
	start, procsNote := runInProcess, ""
	var dev procs.Command
	if cfg.Processes {
		p, err := cfg.processes()
		if err != nil {
			return err
		}
		start, dev = p.run, p.dev
		procsNote = "services: one process each; NATS and the development Elasticsearch too (the load in this one)"
		if dev == nil {
			procsNote = "services: one process each (NATS, the development Elasticsearch and the load in this one: no triage binary was given to run them apart)"
		}
	}
	ceilingMsgs := cfg.CeilingMsgs
	if cfg.Only == "storm" {
		if err := cfg.Storm.validate(); err != nil {
			return err
		}
		ceilingMsgs = cfg.Storm.CeilingMsgs
	}
	c, err := runCeiling(ctx, dev, ceilingMsgs, eventSize)
	if err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	ceiling := c.rate
	fmt.Fprintf(out, "bare JetStream ceiling: %.0f msg/s (%d msgs of %d bytes, async publish + %d consume-and-republish hops, sync writes)\n",
		ceiling, ceilingMsgs, eventSize, hops)
	c.cpu.print(out, "message", ceilingMsgs)
	if procsNote != "" {
		fmt.Fprintln(out, procsNote)
	}
	if cfg.Only == "storm" {
		_, err := runStorm(ctx, start, cfg.Storm, cfg.Clients, ceiling, out)
		return err
	}
	var offered []intake.SubmitRequest
	fixed, err := start(ctx, func(ctx context.Context, p target) (Result, error) {
		offered = p.tickets
		return fixedRate(ctx, p, cfg.Rate, cfg.Duration)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "load: the demo world's %d tickets, over and over (mean request body %d bytes)\n", len(offered), meanSize(offered))
	report(out, fixed, ceiling)
	alone, err := intakeAlone(ctx, offered, cfg.Rate, cfg.Duration)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s (nothing downstream): %.0f tickets/s, failed %d\n", alone.Name, alone.Throughput, alone.Failed)
	fmt.Fprintf(out, "  intake 202:          p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms\n", ms(alone.Accept.P50), ms(alone.Accept.P99), ms(alone.Accept.Max))
	full, err := start(ctx, func(ctx context.Context, p target) (Result, error) {
		return fullSpeed(ctx, p, cfg.FullSpeed, cfg.Clients)
	})
	if err != nil {
		return err
	}
	report(out, full, ceiling)
	fmt.Fprintf(out, "pipeline/ceiling ratio at full speed: %.2f\n", full.Throughput/ceiling)
	if cfg.SkipQueue || cfg.Only == "pipeline" {
		return nil
	}
	if _, err = runStorm(ctx, start, cfg.Storm, cfg.Clients, ceiling, out); err != nil {
		return err
	}
	if _, err = RunQueue(ctx, cfg.Queue, out); err != nil {
		return err
	}
	_, err = RunGitHub(ctx, 20, 10, out)
	return err
}

// processes is how --processes runs things, from the configuration.
func (cfg Config) processes() (*processes, error) {
	var pc pipeline.Config // the demo seed, as the in-process run reads it
	if err := config.Load("bench", &pc, nil); err != nil {
		return nil, err
	}
	p := &processes{services: cfg.Command, dev: cfg.DevCommand, seed: pc.DemoSeed}
	if p.services == nil {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find this binary: %w", err)
		}
		p.services = procs.TriageRun(exe)
		if p.dev == nil {
			p.dev = procs.TriageDev(exe)
		}
	}
	return p, nil
}

// eventSize is about the size of a submitted-ticket event on the wire.
const eventSize = 900

func report(out io.Writer, r Result, ceiling float64) {
	fmt.Fprintf(out, "%s: %d tickets in %s = %.0f tickets/s (%.2f of ceiling), failed %d\n",
		r.Name, r.Tickets, r.Elapsed.Round(time.Millisecond), r.Throughput, r.Throughput/ceiling, r.Failed)
	fmt.Fprintf(out, "  intake 202:          p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms\n", ms(r.Accept.P50), ms(r.Accept.P99), ms(r.Accept.Max))
	fmt.Fprintf(out, "  202 -> queue API:    p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms\n", ms(r.Visible.P50), ms(r.Visible.P99), ms(r.Visible.Max))
	fmt.Fprintf(out, "  enrichment:          p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms  (submitted -> logs searched)\n", ms(r.Enrich.P50), ms(r.Enrich.P99), ms(r.Enrich.Max))
	fmt.Fprintf(out, "  Elasticsearch:       %.3f _msearch requests per ticket; logs attached to %d of %d tickets\n", r.ESPerTicket, r.WithLogs, r.Tickets)
	r.cpu.print(out, "ticket", r.Tickets-r.Failed)
}

// meanSize is the mean JSON size of the requests.
func meanSize(reqs []intake.SubmitRequest) int {
	total := 0
	for _, r := range reqs {
		b, _ := json.Marshal(r)
		total += len(b)
	}
	return total / max(len(reqs), 1)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// target is a running pipeline the load is offered to.
type target struct {
	intakeURL, queueURL string
	natsURL             string
	esURL               string // the development Elasticsearch, which counts _msearch requests
	token               string // an engineer's, for intake and the queue API
	// tickets are offered in turn: the demo world's, so the enricher
	// finds real logs for them as it would for real tickets.
	tickets []intake.SubmitRequest
}

// worldLoad is the demo world's tickets as support staff would submit them,
// leaving out any whose moment is still ahead of now (intake refuses those).
func worldLoad(w *demoworld.World, now time.Time) ([]intake.SubmitRequest, error) {
	if w == nil {
		return nil, errors.New("the benchmark offers the demo world's tickets: run it with the development Elasticsearch (unset TRIAGE_ES_ADDRESSES, keep TRIAGE_DEMO_ES on)")
	}
	var out []intake.SubmitRequest
	for _, t := range pipeline.DemoTicketsBefore(w, now) {
		out = append(out, pipeline.DemoRequest(t))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the demo world (seed %d) has no ticket before %s to offer", w.Config.Seed, now.Format(time.RFC3339))
	}
	return out, nil
}

// runInProcess runs the whole pipeline in this process, as `triage dev`
// does.
func runInProcess(ctx context.Context, run func(context.Context, target) (Result, error)) (Result, error) {
	dir, err := os.MkdirTemp("", "triage-bench-")
	if err != nil {
		return Result{}, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	var cfg pipeline.Config
	if err := config.Load("bench", &cfg, nil); err != nil {
		return Result{}, err
	}
	cfg.DataDir, cfg.NATSPort, cfg.HTTPPort, cfg.ESPort = dir, -1, 0, 0
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p, err := pipeline.Start(pctx, cfg, zap.NewNop())
	if err != nil {
		return Result{}, err
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(pctx) }()
	tickets, err := worldLoad(p.World, time.Now())
	if err != nil {
		cancel()
		<-done
		return Result{}, err
	}
	cpu := measure([]part{selfPart("the whole process (services, NATS, development Elasticsearch and load; --processes separates them)")})
	token, err := issueToken(ctx, p.NATS.ClientURL())
	if err != nil {
		cancel()
		<-done
		return Result{}, err
	}
	res, err := run(ctx, target{intakeURL: p.Intake.URL(), queueURL: p.Queue.URL(), natsURL: p.NATS.ClientURL(), esURL: p.ESURL, token: token, tickets: tickets})
	res.cpu = cpu()
	cancel()
	if rerr := <-done; err == nil && rerr != nil {
		err = rerr
	}
	return res, err
}

type probe struct {
	tickets  []intake.SubmitRequest
	withLogs int
	client   *http.Client
	intake   *intake.Client
	queue    string
	esURL    string
	esBefore int64
	mu       sync.Mutex
	accept   []time.Duration
	visible  []time.Duration
	enrich   []time.Duration
	failed   int
	lastSeen time.Time
}

// msearches reads how many _msearch requests the development
// Elasticsearch has answered, from its GET /_dev/stats.
func (pr *probe) msearches(ctx context.Context) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pr.esURL+"/_dev/stats", nil)
	if err != nil {
		return 0, fmt.Errorf("elasticsearch stats: %w", err)
	}
	resp, err := pr.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("elasticsearch stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("elasticsearch stats: GET %s/_dev/stats answered %s", pr.esURL, resp.Status)
	}
	var st esdev.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, fmt.Errorf("elasticsearch stats: %w", err)
	}
	return st.ByEndpoint["msearch"], nil
}

func newProbe(ctx context.Context, p target) (*probe, error) {
	pr := newLoadClient(p.intakeURL, p.token, p.tickets)
	pr.queue, pr.esURL = p.queueURL, p.esURL
	n, err := pr.msearches(ctx)
	pr.esBefore = n
	return pr, err
}

// one offers a ticket and waits until the queue API shows it.
func (pr *probe) one(ctx context.Context, i int) { pr.oneSignalled(ctx, i, make(chan struct{})) }

// newLoadClient returns a probe whose HTTP client keeps a connection per
// concurrent request and sends token with each, and whose intake client
// never retries: a retry would hide the latency being measured.
func newLoadClient(intakeURL, token string, tickets []intake.SubmitRequest) *probe {
	tr := &http.Transport{MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: time.Minute}
	hc := &http.Client{Transport: bearer{token: token, next: tr}, Timeout: time.Minute}
	return &probe{tickets: tickets, client: hc, intake: intake.NewClient(intakeURL, intake.ClientOptions{HTTP: hc, Retries: -1})}
}

func (pr *probe) submit(ctx context.Context, i int) (string, error) {
	resp, err := pr.intake.Submit(ctx, pr.tickets[i%len(pr.tickets)], fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i))
	return resp.TicketID, err
}

// queuedTimes is the part of the queue API's ticket the benchmark reads;
// decoding only that keeps the load generator's own CPU use small.
type queuedTimes struct {
	Ticket struct {
		SubmittedAt time.Time `json:"submitted_at"`
	} `json:"ticket"`
	Enrichment struct {
		EnrichedAt time.Time         `json:"enriched_at"`
		LogsStatus events.LogsStatus `json:"logs_status"`
	} `json:"enrichment"`
}

// queuedPatience is how long a ticket may take to be queued before the
// benchmark counts it failed: long enough for a redelivery after the
// default 30s ack wait, which a loaded machine can need.
const queuedPatience = 2 * time.Minute

func (pr *probe) awaitQueued(ctx context.Context, id string) (queuedTimes, error) {
	ctx, cancel := context.WithTimeout(ctx, queuedPatience)
	defer cancel()
	for {
		t, status, err := pr.getQueued(ctx, id)
		switch {
		case err == nil && status == http.StatusOK:
			return t, nil
		case ctx.Err() != nil:
			return t, fmt.Errorf("ticket %s not queued within %s", id, queuedPatience)
		case err != nil:
			return t, err
		case status != http.StatusNotFound:
			return t, fmt.Errorf("ticket %s: queue answered %d", id, status)
		}
	}
}

// getQueued long-polls the queue API once for ticket id.
func (pr *probe) getQueued(ctx context.Context, id string) (queuedTimes, int, error) {
	var t queuedTimes
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pr.queue+"/api/v1/queue/tickets/"+id+"?wait=30s", nil)
	if err != nil {
		return t, 0, err
	}
	resp, err := pr.client.Do(req)
	if err != nil {
		return t, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return t, resp.StatusCode, nil
	}
	return t, http.StatusOK, json.NewDecoder(resp.Body).Decode(&t)
}

func (pr *probe) result(ctx context.Context, name string, n int, start time.Time) (Result, error) {
	msearches, err := pr.msearches(ctx)
	if err != nil {
		return Result{}, err
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	elapsed := pr.lastSeen.Sub(start)
	ok := len(pr.visible)
	return Result{
		Name: name, Tickets: n, Elapsed: elapsed, Throughput: float64(ok) / elapsed.Seconds(),
		Accept: percentiles(pr.accept), Visible: percentiles(pr.visible), Enrich: percentiles(pr.enrich),
		ESPerTicket: float64(msearches-pr.esBefore) / float64(max(ok, 1)), WithLogs: pr.withLogs, Failed: pr.failed,
	}, nil
}

func fixedRate(ctx context.Context, p target, perSecond int, d time.Duration) (Result, error) {
	pr, err := newProbe(ctx, p)
	if err != nil {
		return Result{}, err
	}
	n := int(float64(perSecond) * d.Seconds())
	start := time.Now()
	if err := offer(ctx, perSecond, n, func(i int) { pr.one(ctx, i) }); err != nil {
		return Result{}, err
	}
	return pr.result(ctx, fmt.Sprintf("fixed rate %d/s for %s", perSecond, d), n, start)
}

// offer calls send n times at perSecond, each in its own goroutine so a slow
// answer does not slow the offered rate, and waits for all of them.
func offer(ctx context.Context, perSecond, n int, send func(i int)) error {
	lim := rate.NewLimiter(rate.Limit(perSecond), 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 0; i < n; i++ {
		if err := lim.Wait(ctx); err != nil {
			return err
		}
		wg.Add(1)
		go func() { defer wg.Done(); send(i) }()
	}
	return nil
}

func fullSpeed(ctx context.Context, p target, n, clients int) (Result, error) {
	pr, err := newProbe(ctx, p)
	if err != nil {
		return Result{}, err
	}
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	// Clients only submit; waiting for the queue happens beside them, so
	// the offered load does not slow down to the pipeline's latency.
	var waits sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				waits.Add(1)
				accepted := make(chan struct{})
				go func() { defer waits.Done(); pr.oneSignalled(ctx, i, accepted) }()
				<-accepted
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	waits.Wait()
	return pr.result(ctx, fmt.Sprintf("full speed, %d clients", clients), n, start)
}

// oneSignalled is one, closing accepted once intake has answered.
func (pr *probe) oneSignalled(ctx context.Context, i int, accepted chan<- struct{}) {
	start := time.Now()
	id, err := pr.submit(ctx, i)
	close(accepted)
	acceptedAt := time.Now()
	var t queuedTimes
	if err == nil {
		t, err = pr.awaitQueued(ctx, id)
	}
	seen := time.Now()
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if err != nil {
		pr.failed++
		return
	}
	pr.accept = append(pr.accept, acceptedAt.Sub(start))
	pr.visible = append(pr.visible, seen.Sub(acceptedAt))
	pr.enrich = append(pr.enrich, t.Enrichment.EnrichedAt.Sub(t.Ticket.SubmittedAt))
	if t.Enrichment.LogsStatus == events.LogsAttached {
		pr.withLogs++
	}
	if seen.After(pr.lastSeen) {
		pr.lastSeen = seen
	}
}
