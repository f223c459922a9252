package logsearch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/demoworld"
	"github.com/triage-pipeline/triage/libs/dev/esdev"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/extract"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

func testConfig(t *testing.T, args ...string) Config {
	t.Helper()
	var c struct {
		ES Config `embed:""`
	}
	if err := config.Load("test", &c, args); err != nil {
		t.Fatal(err)
	}
	return c.ES
}

// dslKeys are the only object keys a built query may hold besides the
// configured field names: the customer's text can only ever be a value.
var dslKeys = map[string]bool{
	"query": true, "bool": true, "filter": true, "should": true, "must": true, "minimum_should_match": true,
	"term": true, "terms": true, "range": true, "match": true, "value": true, "boost": true, "gte": true,
	"lte": true, "format": true, "operator": true, "size": true, "sort": true, "order": true, "_score": true,
	"track_total_hits": true, "_source": true, "includes": true,
}

func walkKeys(t *testing.T, v any, allowed map[string]bool, path string) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if !allowed[k] {
				t.Errorf("unexpected key %q at %s", k, path)
			}
			walkKeys(t, child, allowed, path+"."+k)
		}
	case []any:
		for i, child := range x {
			walkKeys(t, child, allowed, fmt.Sprintf("%s[%d]", path, i))
		}
	case string:
		if len(x) > maxKeywordsText+256 {
			t.Errorf("value of %d bytes at %s: not capped", len(x), path)
		}
	}
}

func TestHostileTextCannotChangeTheQuery(t *testing.T) {
	cfg := testConfig(t)
	allowed := map[string]bool{}
	for k := range dslKeys {
		allowed[k] = true
	}
	for _, f := range []string{cfg.Fields.Timestamp, cfg.Fields.Message, cfg.Fields.Level, cfg.Fields.Service, cfg.Fields.Tenant,
		cfg.Fields.User, cfg.Fields.TraceID, cfg.Fields.RequestID, cfg.Fields.OrderID, cfg.Fields.DeviceID, cfg.Fields.ErrorCode, cfg.Fields.HTTPStatus} {
		allowed[f] = true
	}
	ex := extract.New(extract.DefaultConfig())
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ name, subject, description string }{
		{"query string syntax", `tenant:* OR 1=1`, `labels.tenant_id:* AND NOT log.level:debug) OR (*:*`},
		{"json injection", `{"query":{"match_all":{}}}`, `"}}},{"script":{"source":"System.exit(0)"}},{"a":"`},
		{"control characters", "\x00\x01\x1b[31mred\u2028", "line\nbreak\r\ttab\x7f"},
		{"huge", strings.Repeat("エラー決済 payment failed ", 5000), strings.Repeat("PAY-1042 ord_2611221053 ", 20000)},
		{"dsl words as text", "bool must should filter", "query_string script runtime_mappings _source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := events.Ticket{ID: "t", TenantID: "rst-0042", Subject: tc.subject, Description: tc.description, SubmittedAt: now}
			plan := BuildPlan(tk, ex.Extract(extract.Input{Subject: tc.subject, Description: tc.description, TenantID: tk.TenantID, SubmittedAt: now}), cfg)
			b, err := json.Marshal(plan.Body)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			walkKeys(t, v, allowed, "body")
			for _, banned := range []string{"query_string", "simple_query_string", "script", "match_all"} {
				var keys []string
				collectKeys(v, &keys)
				for _, k := range keys {
					if k == banned {
						t.Fatalf("query holds %q", banned)
					}
				}
			}
			// The tenant filter is always there, whatever the text says.
			filter := v.(map[string]any)["query"].(map[string]any)["bool"].(map[string]any)["filter"].([]any)
			term := filter[0].(map[string]any)["term"].(map[string]any)[cfg.Fields.Tenant].(map[string]any)["value"]
			if term != "rst-0042" {
				t.Fatalf("tenant filter %v", term)
			}
		})
	}
}

func collectKeys(v any, keys *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			*keys = append(*keys, k)
			collectKeys(child, keys)
		}
	case []any:
		for _, child := range x {
			collectKeys(child, keys)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--es-addresses", "localhost:9200"}, "is not an http(s) URL"},
		{[]string{"--es-api-key", "k", "--es-username", "u"}, "exclusive"},
		{[]string{"--es-max-logs", "0"}, "--es-max-logs must be"},
		{[]string{"--es-deadline", "1s", "--es-timeout", "5s"}, "must exceed"},
		{[]string{"--kibana-url", "::"}, "--kibana-url"},
	} {
		var c struct {
			ES Config `embed:""`
		}
		err := config.Load("test", &c, tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

// countingES serves the development server and counts requests in flight.
type countingES struct {
	srv         *esdev.Server
	inflight    atomic.Int64
	maxInflight atomic.Int64
	msearches   atomic.Int64
}

func (c *countingES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := c.inflight.Add(1)
	defer c.inflight.Add(-1)
	for {
		m := c.maxInflight.Load()
		if n <= m || c.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	if strings.HasSuffix(r.URL.Path, "/_msearch") {
		c.msearches.Add(1)
	}
	c.srv.ServeHTTP(w, r)
}

func startES(t *testing.T) (*countingES, string) {
	t.Helper()
	srv := esdev.New(esdev.Options{FaultSeed: 1})
	// Explicit ECS mappings: dynamic mapping would make ids text fields,
	// which term queries do not match, as in Elasticsearch.
	if err := srv.CreateIndex("logs-pos-2026.11.22", demoworld.IndexMapping()); err != nil {
		t.Fatal(err)
	}
	var bulk strings.Builder
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 200; i++ {
		level := "info"
		if i%4 == 0 {
			level = "error"
		}
		doc := map[string]any{
			"@timestamp": base.Add(time.Duration(i) * 30 * time.Second).Format(time.RFC3339Nano),
			"message":    fmt.Sprintf("payment provider timeout after %d ms for order ord_26112200%02d", 30000+i, i%100),
			"log":        map[string]any{"level": level}, "service": map[string]any{"name": "payment-gateway"},
			"labels": map[string]any{"tenant_id": fmt.Sprintf("rst-%04d", i%5), "order_id": fmt.Sprintf("ord_26112200%02d", i%100)},
			"error":  map[string]any{"code": "PAY-1042"},
		}
		b, _ := json.Marshal(doc)
		fmt.Fprintf(&bulk, "{\"index\":{\"_index\":\"logs-pos-2026.11.22\",\"_id\":\"log-%d\"}}\n%s\n", i, b)
	}
	if err := srv.LoadBulk([]byte(bulk.String()), ""); err != nil {
		t.Fatal(err)
	}
	c := &countingES{srv: srv}
	ts := httptest.NewServer(c)
	t.Cleanup(ts.Close)
	return c, ts.URL
}

func startFinder(t *testing.T, cfg Config) *Finder {
	t.Helper()
	es, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSearcher(es, cfg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	f, err := NewFinder(cfg, s, nil, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func ticket(i int) events.Ticket {
	return events.Ticket{
		ID: fmt.Sprintf("t%d", i), TenantID: fmt.Sprintf("rst-%04d", i%5), Subject: "Card payments fail",
		Description: "Card payments time out with PAY-1042 since 10:30.", SubmittedAt: time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC),
	}
}

func TestFindBatchesAndCapsRequests(t *testing.T) {
	es, url := startES(t)
	cfg := testConfig(t, "--es-addresses", url, "--es-max-concurrent", "2", "--es-batch-wait", "50ms")
	f := startFinder(t, cfg)
	const n = 100
	var wg sync.WaitGroup
	errs := make([]error, n)
	enrs := make([]events.Enrichment, n)
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); enrs[i], errs[i] = f.Find(context.Background(), ticket(i)) }()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("ticket %d: %v", i, errs[i])
		}
		e := enrs[i]
		if e.LogsStatus != events.LogsAttached || len(e.Logs) == 0 || len(e.Logs) > cfg.MaxLogs {
			t.Fatalf("ticket %d: status %s with %d logs", i, e.LogsStatus, len(e.Logs))
		}
		for _, l := range e.Logs {
			if l.Level != "error" || !strings.HasPrefix(l.ID, "log-") {
				t.Fatalf("ticket %d attached %+v", i, l)
			}
		}
		if len(e.Signatures) != 1 || e.Signatures[0].Template != "payment provider timeout after <*> ms for order <*>" {
			t.Fatalf("signatures %+v", e.Signatures)
		}
	}
	if got := es.msearches.Load(); got > n/5 {
		t.Fatalf("%d _msearch requests for %d tickets, want at most %d (0.2 per ticket)", got, n, n/5)
	}
	if got := es.maxInflight.Load(); got > 2 {
		t.Fatalf("%d requests in flight at once, cap is 2", got)
	}
}

func TestRejectionStormStaysWithinBudget(t *testing.T) {
	es, url := startES(t)
	cfg := testConfig(t, "--es-addresses", url, "--es-max-concurrent", "2", "--es-max-retries", "3",
		"--es-retry-backoff", "5ms", "--es-batch-wait", "20ms")
	f := startFinder(t, cfg)
	// Half of all searches are refused for load, as a busy cluster does.
	if err := es.srv.InjectFault(esdev.Fault{Kind: esdev.FaultRejected, Fraction: 0.5, Endpoints: []string{"msearch"}}); err != nil {
		t.Fatal(err)
	}
	const n = 60
	var wg sync.WaitGroup
	var found, unavailable atomic.Int64
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := f.Find(context.Background(), ticket(i))
			switch {
			case err == nil && e.LogsStatus == events.LogsAttached:
				found.Add(1)
			case IsUnavailable(err):
				unavailable.Add(1)
			default:
				t.Errorf("ticket %d: %v (%s)", i, err, e.LogsStatus)
			}
		}()
	}
	wg.Wait()
	if found.Load()+unavailable.Load() != n {
		t.Fatalf("%d found + %d unavailable of %d tickets", found.Load(), unavailable.Load(), n)
	}
	if found.Load() == 0 {
		t.Fatal("retries with backoff found nothing through a 50% rejection rate")
	}
	// Every attempt of every batch counts: the budget is (retries+1) per batch.
	batches := int64(n)/2 + 1
	if got := es.msearches.Load(); got > batches*int64(cfg.MaxRetries+1) {
		t.Fatalf("%d requests, budget %d", got, batches*int64(cfg.MaxRetries+1))
	}
	if got := es.maxInflight.Load(); got > 2 {
		t.Fatalf("%d requests in flight, cap is 2", got)
	}
}

func TestOutageOpensTheBreakerAndTicketsMoveOnAtOnce(t *testing.T) {
	es, url := startES(t)
	cfg := testConfig(t, "--es-addresses", url, "--es-max-retries", "1", "--es-retry-backoff", "5ms", "--es-batch-wait", "1ms",
		// Refused connections fail at once; a generous timeout keeps slow
		// answers on a loaded machine from re-opening the breaker later.
		"--es-timeout", "2s", "--es-deadline", "4s")
	f := startFinder(t, cfg)
	if err := es.srv.InjectFault(esdev.Fault{Kind: esdev.FaultRefuse}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // trip the breaker
		if _, err := f.Find(context.Background(), ticket(i)); !IsUnavailable(err) {
			t.Fatalf("search %d during outage: %v", i, err)
		}
	}
	before := es.msearches.Load()
	_, err := f.Find(context.Background(), ticket(9))
	if !IsUnavailable(err) || !strings.Contains(err.Error(), "circuit open") {
		t.Fatalf("with the breaker open: %v", err)
	}
	if es.msearches.Load() != before {
		t.Fatal("an open breaker still called Elasticsearch")
	}
	es.srv.ClearFaults()
	testkit.Eventually(t, 30*time.Second, func() error {
		e, err := f.Find(context.Background(), ticket(1))
		if err == nil && e.LogsStatus != events.LogsAttached {
			err = fmt.Errorf("logs %s", e.LogsStatus)
		}
		return err
	})
}

func TestDiscoverURL(t *testing.T) {
	cfg := testConfig(t, "--kibana-url", "https://kibana.example/", "--kibana-data-view", "logs")
	from := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	p := Plan{TenantID: "rst-0042", Window: extract.TimeWindow{From: from, To: from.Add(time.Hour)},
		Wanted: map[string][]string{cfg.Fields.OrderID: {`ord_1"x'!`}}}
	u := DiscoverURL(cfg, p)
	if !strings.HasPrefix(u, "https://kibana.example/app/discover#/?_g=") {
		t.Fatalf("url %s", u)
	}
	q, err := url.ParseQuery(strings.SplitN(u, "?", 2)[1])
	if err != nil {
		t.Fatal(err)
	}
	if g := q.Get("_g"); g != "(time:(from:'2026-11-22T10:00:00Z',to:'2026-11-22T11:00:00Z'))" {
		t.Fatalf("_g %s", g)
	}
	want := `(dataSource:(dataViewId:'logs',type:dataView),query:(language:kuery,query:'labels.tenant_id:"rst-0042" and (labels.order_id:"ord_1\"x!'!!")'))`
	if a := q.Get("_a"); a != want {
		t.Fatalf("_a %s\nwant %s", a, want)
	}
}
