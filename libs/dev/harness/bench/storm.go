package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/dev/demoworld"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/services/intake"
)

// StormConfig sets the storm benchmark's size.
type StormConfig struct {
	Tickets   int `name:"storm-tickets" default:"2000" help:"Tickets of the storm, spread evenly over its failures."`
	Failures  int `name:"storm-failures" default:"3" help:"Underlying failures the storm's tickets report (1 to 3)."`
	Unrelated int `name:"storm-unrelated" default:"200" help:"Unrelated tickets (one-off faults, each with its own error) mixed into the storm."`
	// CeilingMsgs sizes the ceiling run of --only storm; the whole
	// benchmark reuses the pipeline part's ceiling.
	CeilingMsgs int `name:"storm-ceiling-messages" default:"4000" help:"Messages in the bare JetStream ceiling run that --only storm makes for its ratio."`
}

func (c StormConfig) validate() error {
	switch {
	case c.Failures < 1 || c.Failures > len(stormFailures):
		return fmt.Errorf("--storm-failures must be 1 to %d, got %d", len(stormFailures), c.Failures)
	case c.Tickets < 3*c.Failures:
		return fmt.Errorf("--storm-tickets must be at least 3 per failure (%d), got %d", 3*c.Failures, c.Tickets)
	case c.Unrelated < 0 || c.Unrelated > maxUnrelated:
		return fmt.Errorf("--storm-unrelated must be 0 to %d, got %d", maxUnrelated, c.Unrelated)
	}
	return nil
}

// StormResult is what the storm benchmark measured.
type StormResult struct {
	Tickets, Unrelated, Failed int
	// Submitted is how long intake took to accept them all at full speed.
	Submitted time.Duration
	// Routed counts the offered tickets the router published, RoutedRate
	// per second from the first submission to the last routed event.
	Routed     int
	RoutedRate float64
	// FirstVisible is the first storm ticket's submission → its incident
	// listed by GET /api/v1/incidents.
	FirstVisible time.Duration
	Incidents    []StormIncident
	// Held counts the storm tickets in incidents; Stray the unrelated ones
	// that were grouped into one.
	Held, Stray int
	// Settled says the incidents' counts reached every routed ticket of
	// theirs before the deadline.
	Settled bool
}

// StormIncident is one live incident at the end of the storm.
type StormIncident struct {
	ID      string
	Failure string // the failure most of its tickets report; "" for unrelated ones
	Count   int
	// Purity is the share of its listed tickets that report Failure;
	// Completeness the share of Failure's tickets it holds.
	Purity, Completeness float64
	// Opener is the first routed ticket that carried the incident open;
	// OpenToVisible its routing (routed_at) → the incident listed by the
	// API.
	Opener        string
	OpenToVisible time.Duration
}

// stormFailure is one underlying failure: what support staff write for it
// and the error its logs carry (its code stays in the signature's
// template, the numbers vary and are masked).
type stormFailure struct {
	name, service, code, errType string
	message                      func(rng *rand.Rand) string
	texts                        [][2]string // subject, description; each quotes the code
}

var stormFailures = []stormFailure{
	{name: "payment", service: "payment-gateway", code: "PAY-1042", errType: "ProviderTimeout",
		message: func(rng *rand.Rand) string {
			return fmt.Sprintf("PAY-1042 payment provider tsubame-pay timed out after %d ms for order ord_%08d", 3000+rng.IntN(2000), rng.IntN(1e8))
		},
		texts: [][2]string{
			{"Card payments failing at the register", "Every card payment fails with a timeout error since dinner started; guests are paying cash. PAY-1042 on the terminal."},
			{"カード決済がタイムアウトする", "ディナーの開始からカード決済がすべてタイムアウトになり、端末に PAY-1042 と表示されます。"},
		}},
	{name: "printer", service: "printer-bridge", code: "PRN-3001", errType: "PrinterOffline",
		message: func(rng *rand.Rand) string {
			return fmt.Sprintf("PRN-3001 printer bridge lost connection to kitchen printer %d after %d retries", 1+rng.IntN(4), 3+rng.IntN(5))
		},
		texts: [][2]string{
			{"キッチンプリンターが印刷されない", "注文を送ってもキッチンプリンターに印刷されない。再起動しても同じエラーが出る。PRN-3001 と表示。"},
			{"Kitchen printer stopped printing", "Orders sent from the tablets no longer print in the kitchen; the printer shows PRN-3001 even after a restart."},
		}},
	{name: "menu", service: "menu-sync", code: "MENU-2207", errType: "SchemaRejected",
		message: func(rng *rand.Rand) string {
			return fmt.Sprintf("MENU-2207 menu sync rejected: schema version %d is not supported (revision %d)", 40+rng.IntN(3), rng.IntN(1e5))
		},
		texts: [][2]string{
			{"Menu changes not syncing to tablets", "Price changes made in the back office are not syncing to the tablets; the sync shows error MENU-2207 every time we retry."},
			{"メニューの変更がタブレットに反映されない", "管理画面で変更した価格がタブレットに同期されず、再試行するたびに MENU-2207 エラーが出ます。"},
		}},
}

// unrelatedShapes are one-off faults: each ticket quotes its own error
// code (codes stay in templates), so no two share a signature, or a
// component and code.
var unrelatedShapes = []struct {
	prefix, service, subject, description, message string
}{
	{"ORD", "order-api", "One order cannot be closed", "The order for table %[2]d cannot be closed; the tablet shows %[1]s. Other tables work normally.",
		"%[1]s order close refused: table %[2]d has a pending split"},
	{"AUTH", "auth", "A staff member cannot log in", "One waiter's PIN login fails with %[1]s since this morning (staff number %[2]d); everyone else can log in.",
		"%[1]s PIN login rejected for staff member %[2]d: PIN expired"},
	{"CUS", "order-api", "Loyalty points missing for one guest", "A regular guest's loyalty points from yesterday's visit are missing; the screen showed %[1]s for member %[2]d.",
		"%[1]s loyalty points not credited for member %[2]d: ledger entry missing"},
}

// Unrelated tickets' codes are 6000 and up: four digits, as extraction
// wants.
const (
	unrelatedCodeBase = 6000
	maxUnrelated      = 9999 - unrelatedCodeBase
)

// stormIndex holds the storm's logs in the development Elasticsearch; the
// enricher searches logs-*.
const stormIndex = "logs-storm-bench"

// stormTicket is one ticket offered in the storm.
type stormTicket struct {
	req     intake.SubmitRequest
	failure string // "" for an unrelated ticket
}

// stormLoad builds the storm's tickets, in random order, and the logs they
// find: each failure hits every tenant of a pool (a few error logs per
// tenant, all with the failure's code and one template), and many of those
// tenants call; each unrelated ticket's tenant has logs of its own error.
func stormLoad(cfg StormConfig, now time.Time) ([]stormTicket, []demoworld.Log) {
	rng := rand.New(rand.NewPCG(7, 9))
	t0 := now.Add(-10 * time.Minute).UTC().Truncate(time.Second)
	span := 8 * time.Minute
	tenants := max(cfg.Failures*2, cfg.Tickets/5)
	var logs []demoworld.Log
	doc := func(id, tenant, service, level, code, errType, msg string, at time.Time) demoworld.Log {
		return demoworld.Log{Timestamp: demoworld.ECSTime{Time: at}, Message: msg, Log: demoworld.LogFields{Level: level},
			Service: demoworld.Service{Name: service}, Error: demoworld.ErrorInfo{Type: errType, Message: msg, Code: code},
			Labels: demoworld.Labels{TenantID: tenant}, Event: demoworld.EventField{ID: id, Dataset: "storm-bench"}}
	}
	for t := range tenants {
		tenant := fmt.Sprintf("storm-%04d", t)
		for _, f := range stormFailures[:cfg.Failures] {
			for k := range 4 {
				at := t0.Add(time.Duration(k)*span/4 + time.Duration(rng.Int64N(int64(span/4))))
				logs = append(logs, doc(fmt.Sprintf("%s-%s-%d", tenant, f.name, k), tenant, f.service, demoworld.LevelError, f.code, f.errType, f.message(rng), at))
			}
		}
	}
	var out []stormTicket
	for i := range cfg.Tickets {
		f := stormFailures[i%cfg.Failures]
		text := f.texts[rng.IntN(len(f.texts))]
		at := t0.Add(time.Duration(rng.Int64N(int64(span))))
		out = append(out, stormTicket{failure: f.name, req: intake.SubmitRequest{
			Subject: text[0], Description: text[1], TenantID: fmt.Sprintf("storm-%04d", rng.IntN(tenants)),
			Reporter: "bench@support.example", Channel: "phone", OccurredAt: at.Format(time.RFC3339)}})
	}
	for i := range cfg.Unrelated {
		s := unrelatedShapes[i%len(unrelatedShapes)]
		code := fmt.Sprintf("%s-%04d", s.prefix, unrelatedCodeBase+i)
		n := 1 + rng.IntN(40)
		tenant := fmt.Sprintf("calm-%04d", i)
		at := t0.Add(time.Duration(rng.Int64N(int64(span))))
		msg := fmt.Sprintf(s.message, code, n)
		for k := range 2 {
			logs = append(logs, doc(fmt.Sprintf("%s-%d", tenant, k), tenant, s.service, demoworld.LevelError, code, "", msg, at.Add(time.Duration(k-1)*time.Minute)))
		}
		out = append(out, stormTicket{req: intake.SubmitRequest{
			Subject: s.subject, Description: fmt.Sprintf(s.description, code, n), TenantID: tenant,
			Reporter: "bench@support.example", Channel: "email", OccurredAt: at.Format(time.RFC3339)}})
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, logs
}

// loadStormLogs puts the storm's logs into the development Elasticsearch
// at esURL over its HTTP API, as a log shipper would (writes are
// searchable at once there).
func loadStormLogs(ctx context.Context, esURL string, logs []demoworld.Log) error {
	do := func(method, path, contentType string, body []byte) error {
		req, err := http.NewRequestWithContext(ctx, method, esURL+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("storm logs: %s %s: %w", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("storm logs: %s %s answered %s: %.300s", method, path, resp.Status, b)
		}
		var r struct {
			Errors bool `json:"errors"`
		}
		if json.Unmarshal(b, &r) == nil && r.Errors {
			return fmt.Errorf("storm logs: %s %s: some documents failed: %.300s", method, path, b)
		}
		return nil
	}
	if err := do(http.MethodPut, "/"+stormIndex, "application/json", demoworld.IndexMapping()); err != nil {
		return err
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	for i := range logs {
		action := map[string]map[string]string{"index": {"_index": stormIndex, "_id": logs[i].Event.ID}}
		if err := enc.Encode(action); err != nil {
			return err
		}
		if err := enc.Encode(&logs[i]); err != nil {
			return err
		}
	}
	return do(http.MethodPost, "/_bulk", "application/x-ndjson", body.Bytes())
}

// routedTicket is what the benchmark reads of a routed event.
type routedTicket struct {
	stored   time.Time // the routed event's time in the stream
	routedAt time.Time
	incident string
	open     bool // the router said the ticket is part of an open incident
}

// watchRouted follows the routed events in the TICKETS stream.
type watchRouted struct {
	mu     sync.Mutex
	byID   map[string]routedTicket
	firsts map[string]string // incident → the first ticket routed into it open
}

func (w *watchRouted) handle(m jetstream.Msg) {
	var ev struct {
		Ticket  struct{ ID string }
		Routing struct {
			RoutedAt time.Time `json:"routed_at"`
			Incident string    `json:"incident"`
			Reasons  []string  `json:"reasons"`
		}
	}
	if json.Unmarshal(m.Data(), &ev) != nil {
		return
	}
	r := routedTicket{routedAt: ev.Routing.RoutedAt, incident: ev.Routing.Incident}
	if md, err := m.Metadata(); err == nil {
		r.stored = md.Timestamp
	}
	r.open = r.incident != "" && slices.ContainsFunc(ev.Routing.Reasons, func(s string) bool { return strings.HasPrefix(s, "part of incident ") })
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, seen := w.byID[ev.Ticket.ID]; !seen {
		w.byID[ev.Ticket.ID] = r
	}
	if _, ok := w.firsts[r.incident]; r.open && !ok {
		w.firsts[r.incident] = ev.Ticket.ID
	}
}

// listedIncident is what the benchmark reads of GET /api/v1/incidents.
type listedIncident struct {
	ID      string   `json:"id"`
	Count   int      `json:"count"`
	Open    bool     `json:"open"`
	Tickets []string `json:"tickets"`
}

func getIncidents(ctx context.Context, client *http.Client, queueURL string) ([]listedIncident, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, queueURL+"/api/v1/incidents", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("incidents: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("incidents: GET %s/api/v1/incidents answered %s", queueURL, resp.Status)
	}
	var body struct {
		Incidents []listedIncident `json:"incidents"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("incidents: %w", err)
	}
	return body.Incidents, nil
}

// Polling the incidents API: often enough to time a ≤ 1 s target, and the
// time allowed for the storm to be routed and its counts to settle.
const (
	pollEvery      = 20 * time.Millisecond
	routedPatience = 2 * time.Minute
	settlePatience = 30 * time.Second
)

// runStorm offers the storm at full speed through intake, on a pipeline
// that start runs, and prints what it measured; ceiling (msg/s) gives the
// ratio.
func runStorm(ctx context.Context, start func(context.Context, func(context.Context, target) (Result, error)) (Result, error),
	cfg StormConfig, clients int, ceiling float64, out io.Writer) (StormResult, error) {
	var res StormResult
	if err := cfg.validate(); err != nil {
		return res, err
	}
	r, err := start(ctx, func(ctx context.Context, p target) (Result, error) {
		var err error
		res, err = storm(ctx, p, cfg, clients)
		return Result{Name: "storm", Tickets: res.Tickets + res.Unrelated, Failed: res.Failed}, err
	})
	if err != nil {
		return res, err
	}
	printStorm(out, cfg, clients, res, r.cpu, ceiling)
	return res, nil
}

func printStorm(out io.Writer, cfg StormConfig, clients int, r StormResult, cpu *usage, ceiling float64) {
	fmt.Fprintf(out, "storm: %d tickets of %d failures (each from many tenants, logs sharing its signature) + %d unrelated, in random order, %d clients at full speed: accepted in %s, failed %d\n",
		r.Tickets, cfg.Failures, r.Unrelated, clients, r.Submitted.Round(time.Millisecond), r.Failed)
	ratio := ""
	if ceiling > 0 {
		ratio = fmt.Sprintf(" (%.2f of ceiling)", r.RoutedRate/ceiling)
	}
	fmt.Fprintf(out, "  routed:              %d tickets, %.0f tickets/s%s from the first submission to the last routed\n", r.Routed, r.RoutedRate, ratio)
	fmt.Fprintf(out, "  first storm ticket submitted -> its incident in GET /api/v1/incidents: %6.1f ms\n", ms(r.FirstVisible))
	for _, inc := range r.Incidents {
		name := inc.Failure
		if name == "" {
			name = "(unrelated)"
		}
		fmt.Fprintf(out, "  incident %-26s %-11s opener routed -> listed: %6.1f ms (target ≤ 1000 ms); %4d tickets, purity %.3f, completeness %.3f\n",
			inc.ID, name, ms(inc.OpenToVisible), inc.Count, inc.Purity, inc.Completeness)
	}
	settled := ""
	if !r.Settled {
		settled = fmt.Sprintf("; counts still short of the routed tickets after %s", settlePatience)
	}
	fmt.Fprintf(out, "  incidents: %d live (want %d), holding %d of the %d storm tickets; unrelated tickets in them: %d%s\n",
		len(r.Incidents), cfg.Failures, r.Held, r.Tickets, r.Stray, settled)
	cpu.print(out, "ticket", r.Routed)
	if ceiling > 0 {
		fmt.Fprintf(out, "storm routing/ceiling ratio: %.2f\n", r.RoutedRate/ceiling)
	}
}

// storm offers the storm to the pipeline p and measures it.
func storm(ctx context.Context, p target, cfg StormConfig, clients int) (StormResult, error) {
	res := StormResult{}
	load, logs := stormLoad(cfg, time.Now())
	if err := loadStormLogs(ctx, p.esURL, logs); err != nil {
		return res, err
	}
	nc, err := nats.Connect(p.natsURL, nats.Name("triage-bench-storm"))
	if err != nil {
		return res, fmt.Errorf("storm: connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return res, err
	}
	cons, err := js.OrderedConsumer(ctx, bus.StreamTickets, jetstream.OrderedConsumerConfig{FilterSubjects: []string{events.SubjectRouted + ".>"}})
	if err != nil {
		return res, fmt.Errorf("storm: follow routed tickets: %w", err)
	}
	routed := &watchRouted{byID: map[string]routedTicket{}, firsts: map[string]string{}}
	cc, err := cons.Consume(routed.handle)
	if err != nil {
		return res, fmt.Errorf("storm: follow routed tickets: %w", err)
	}
	defer cc.Stop()

	lc := newLoadClient(p.intakeURL, p.token, nil)
	defer lc.client.CloseIdleConnections()

	// The poller notes when each incident is first listed.
	pctx, stopPoll := context.WithCancel(ctx)
	var (
		pmu      sync.Mutex
		listedAt = map[string]time.Time{}
		pollErr  error
	)
	polled := make(chan struct{})
	defer func() { stopPoll(); <-polled }()
	go func() {
		defer close(polled)
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
		for {
			list, err := getIncidents(pctx, lc.client, p.queueURL)
			at := time.Now()
			pmu.Lock()
			if err != nil && pctx.Err() == nil {
				pollErr = err
			}
			for _, inc := range list {
				if _, ok := listedAt[inc.ID]; !ok && inc.Open {
					listedAt[inc.ID] = at
				}
			}
			pmu.Unlock()
			select {
			case <-pctx.Done():
				return
			case <-tick.C:
			}
		}
	}()

	// Submit at full speed.
	ids := make([]string, len(load))
	submitted := make([]time.Time, len(load))
	next := make(chan int)
	var wg sync.WaitGroup
	var failed sync.Map
	begin := time.Now()
	key := fmt.Sprintf("storm-%d", begin.UnixNano())
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				submitted[i] = time.Now()
				resp, err := lc.intake.Submit(ctx, load[i].req, fmt.Sprintf("%s-%d", key, i))
				if err != nil {
					failed.Store(i, err)
					continue
				}
				ids[i] = resp.TicketID
			}
		}()
	}
	for i := range load {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	res.Submitted = time.Since(begin)
	truth := map[string]string{} // ticket id → its failure, "" if unrelated
	perFailure := map[string]int{}
	first := -1
	for i, t := range load {
		if ids[i] == "" {
			res.Failed++
			continue
		}
		truth[ids[i]] = t.failure
		if t.failure == "" {
			res.Unrelated++
			continue
		}
		res.Tickets++
		perFailure[t.failure]++
		if first < 0 || submitted[i].Before(submitted[first]) {
			first = i
		}
	}
	if len(truth) == 0 {
		var first error
		failed.Range(func(_, v any) bool { first = v.(error); return false })
		return res, fmt.Errorf("storm: intake accepted no ticket: %w", first)
	}

	// Wait until every accepted ticket is routed.
	deadline := time.Now().Add(routedPatience)
	var last time.Time
	for {
		routed.mu.Lock()
		n := 0
		last = time.Time{}
		for id := range truth {
			if r, ok := routed.byID[id]; ok {
				n++
				if r.stored.After(last) {
					last = r.stored
				}
			}
		}
		routed.mu.Unlock()
		res.Routed = n
		if n == len(truth) {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("storm: %d of %d tickets routed within %s", n, len(truth), routedPatience)
		}
		if err := sleepCtx(ctx, pollEvery); err != nil {
			return res, err
		}
	}
	res.RoutedRate = float64(res.Routed) / last.Sub(begin).Seconds()

	// Wait until the API's counts hold every routed ticket of theirs.
	want := map[string]int{}
	routed.mu.Lock()
	for id := range truth {
		if inc := routed.byID[id].incident; inc != "" {
			want[inc]++
		}
	}
	routed.mu.Unlock()
	var final []listedIncident
	deadline = time.Now().Add(settlePatience)
	for {
		list, err := getIncidents(ctx, lc.client, p.queueURL)
		if err != nil {
			return res, err
		}
		final = slices.DeleteFunc(list, func(inc listedIncident) bool { return !inc.Open })
		res.Settled = len(final) > 0 && !slices.ContainsFunc(final, func(inc listedIncident) bool { return inc.Count != want[inc.ID] })
		if res.Settled || time.Now().After(deadline) {
			break
		}
		if err := sleepCtx(ctx, pollEvery); err != nil {
			return res, err
		}
	}
	stopPoll()
	<-polled
	pmu.Lock()
	defer pmu.Unlock()
	if pollErr != nil {
		return res, pollErr
	}

	routed.mu.Lock()
	defer routed.mu.Unlock()
	for _, inc := range final {
		kinds := map[string]int{}
		for _, id := range inc.Tickets {
			kinds[truth[id]]++
		}
		si := StormIncident{ID: inc.ID, Count: inc.Count}
		best := -1
		for k, n := range kinds {
			if n > best || (n == best && k < si.Failure) {
				si.Failure, best = k, n
			}
		}
		if len(inc.Tickets) > 0 {
			si.Purity = float64(best) / float64(len(inc.Tickets))
		}
		if si.Failure != "" {
			si.Completeness = float64(best) / float64(perFailure[si.Failure])
			res.Held += best
		}
		res.Stray += kinds[""]
		si.Opener = routed.firsts[inc.ID] // the router says which routing carried it open
		if o, ok := routed.byID[si.Opener]; ok {
			si.OpenToVisible = listedAt[inc.ID].Sub(o.routedAt)
		}
		res.Incidents = append(res.Incidents, si)
	}
	if first >= 0 {
		// The first storm ticket's incident: the one holding it, else its
		// failure's.
		in := ""
		for _, inc := range final {
			if slices.Contains(inc.Tickets, ids[first]) {
				in = inc.ID
			}
		}
		for _, si := range res.Incidents {
			if in == "" && si.Failure == load[first].failure {
				in = si.ID
			}
		}
		if at, ok := listedAt[in]; ok {
			res.FirstVisible = at.Sub(submitted[first])
		}
	}
	slices.SortFunc(res.Incidents, func(a, b StormIncident) int { return strings.Compare(a.Failure, b.Failure) })
	return res, nil
}

// sleepCtx waits d unless ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
