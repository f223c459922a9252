package logsearch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/typedapi/core/msearch"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

// ErrUnavailable means Elasticsearch is failing; the caller moves on without
// logs and tries again later.
var ErrUnavailable = errors.New("elasticsearch unavailable")

// NewClient builds the typed client with what its defaults lack: retries on
// 429 as well as 502/503/504, exponential backoff with jitter between them,
// and a per-request timeout.
func NewClient(cfg Config) (*elasticsearch.TypedClient, error) {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: cfg.RequestTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ResponseHeaderTimeout: cfg.RequestTimeout,
		MaxIdleConnsPerHost:   cfg.MaxConcurrent * 2,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.RequestTimeout,
	}
	if cfg.CACert != "" {
		pem, err := os.ReadFile(cfg.CACert)
		if err != nil {
			return nil, fmt.Errorf("read --es-ca-cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--es-ca-cert %s holds no PEM certificate", cfg.CACert)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	base := cfg.RetryBackoff
	es, err := elasticsearch.NewTypedClient(elasticsearch.Config{
		Addresses:     cfg.Addresses,
		APIKey:        cfg.APIKey,
		Username:      cfg.Username,
		Password:      cfg.Password,
		Transport:     tr,
		RetryOnStatus: []int{http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
		MaxRetries:    cfg.MaxRetries,
		DisableRetry:  cfg.MaxRetries == 0,
		RetryBackoff: func(attempt int) time.Duration {
			d := base << min(attempt-1, 6)
			return d/2 + rand.N(d/2+1) // jitter spreads a storm's retries
		},
	})
	if err != nil {
		return nil, fmt.Errorf("elasticsearch client: %w", err)
	}
	return es, nil
}

// Searcher batches searches from many tickets into one _msearch, caps the
// requests in flight, and stops calling a failing cluster for a while
// (circuit breaker) so tickets move on at once instead of each waiting out
// its deadline.
type Searcher struct {
	es      *elasticsearch.TypedClient
	cfg     Config
	queue   chan *pending
	slots   chan struct{}
	breaker *gobreaker.CircuitBreaker[*msearchResponse]
	metrics *searchMetrics
}

type pending struct {
	ctx  context.Context
	body types.MultisearchBody
	done chan outcome
}

type outcome struct {
	item *Item
	err  error
}

// msearchResponse is an _msearch answer, decoded here rather than by the
// typed client: its token-by-token decoding of every hit cost more CPU than
// the rest of enrichment together (see BenchmarkDecodeMsearch).
type msearchResponse struct {
	Responses []Item `json:"responses"`
}

// Item is one search's answer in an _msearch: its hits, or an error and
// the status it would have had alone.
type Item struct {
	Status int        `json:"status"`
	Error  *itemCause `json:"error"`
	Hits   struct {
		Total *struct {
			Value int64 `json:"value"`
		} `json:"total"`
		Hits []Hit `json:"hits"`
	} `json:"hits"`
}

type itemCause struct {
	Type      string `json:"type"`
	Reason    string `json:"reason"`
	RootCause []struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"root_cause"`
}

// UnmarshalJSON takes the error object Elasticsearch writes, or the bare
// string some proxies and older servers write instead.
func (c *itemCause) UnmarshalJSON(b []byte) error {
	var reason string
	if err := json.Unmarshal(b, &reason); err == nil {
		*c = itemCause{Reason: reason}
		return nil
	}
	type plain itemCause
	return json.Unmarshal(b, (*plain)(c))
}

// why is the reason, or the first root cause's when the top one says only
// that every shard failed.
func (c *itemCause) why() string {
	if len(c.RootCause) > 0 && c.RootCause[0].Reason != "" && c.RootCause[0].Reason != c.Reason {
		return c.Reason + ": " + c.RootCause[0].Type + ": " + c.RootCause[0].Reason
	}
	return c.Reason
}

// Hit is a log found; its source is decoded by whoever reads it.
type Hit struct {
	Index  string          `json:"_index"`
	ID     string          `json:"_id"`
	Source json.RawMessage `json:"_source"`
}

type searchMetrics struct {
	requests *prometheus.CounterVec
	batch    prometheus.Histogram
	latency  prometheus.Histogram
}

// NewSearcher returns a Searcher; Run must be running for Search to answer.
func NewSearcher(es *elasticsearch.TypedClient, cfg Config, reg prometheus.Registerer) *Searcher {
	m := &searchMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_es_requests_total", Help: "Elasticsearch _msearch requests by outcome.",
		}, []string{"outcome"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "triage_es_batch_size", Help: "Ticket searches per _msearch.", Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "triage_es_request_seconds", Help: "Time of one _msearch, retries included.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.batch, m.latency)
	}
	return &Searcher{
		es: es, cfg: cfg, metrics: m,
		queue: make(chan *pending, cfg.BatchSize*4),
		slots: make(chan struct{}, cfg.MaxConcurrent),
		breaker: gobreaker.NewCircuitBreaker[*msearchResponse](gobreaker.Settings{
			Name:        "elasticsearch",
			MaxRequests: 1,
			Timeout:     5 * time.Second,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 2 },
		}),
	}
}

// Search runs one ticket's search as part of a batch.
func (s *Searcher) Search(ctx context.Context, body types.MultisearchBody) (*Item, error) {
	if s.breaker.State() == gobreaker.StateOpen {
		return nil, fmt.Errorf("%w: circuit open after repeated failures", ErrUnavailable)
	}
	p := &pending{ctx: ctx, body: body, done: make(chan outcome, 1)}
	select {
	case s.queue <- p:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	select {
	case o := <-p.done:
		return o.item, o.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
}

// Run gathers queued searches into batches until ctx ends.
func (s *Searcher) Run(ctx context.Context) error {
	for {
		var first *pending
		select {
		case <-ctx.Done():
			return nil
		case first = <-s.queue:
		}
		batch := []*pending{first}
		timer := time.NewTimer(s.cfg.BatchWait)
	collect:
		for len(batch) < s.cfg.BatchSize {
			select {
			case p := <-s.queue:
				batch = append(batch, p)
			case <-timer.C:
				break collect
			case <-ctx.Done():
				break collect
			}
		}
		timer.Stop()
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			fail(batch, fmt.Errorf("%w: shutting down", ErrUnavailable))
			return nil
		}
		go func() {
			defer func() { <-s.slots }()
			s.send(ctx, batch)
		}()
	}
}

func fail(batch []*pending, err error) {
	for _, p := range batch {
		p.done <- outcome{err: err}
	}
}

func (s *Searcher) send(ctx context.Context, batch []*pending) {
	// Searches whose tickets gave up already are dropped, not sent.
	live := batch[:0]
	for _, p := range batch {
		if p.ctx.Err() != nil {
			p.done <- outcome{err: fmt.Errorf("%w: %w", ErrUnavailable, p.ctx.Err())}
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	req := make(msearch.Request, 0, 2*len(live))
	for _, p := range live {
		req = append(req, types.MultisearchHeader{}, p.body)
	}
	s.metrics.batch.Observe(float64(len(live)))
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Deadline)
	defer cancel()
	start := time.Now()
	resp, err := s.breaker.Execute(func() (*msearchResponse, error) {
		r, err := s.msearch(rctx, &req)
		if err != nil {
			return nil, fmt.Errorf("_msearch on %s: %w", s.cfg.IndexPattern, err)
		}
		if len(r.Responses) != len(live) {
			return nil, fmt.Errorf("_msearch answered %d items for %d searches", len(r.Responses), len(live))
		}
		// Under load Elasticsearch answers 200 with every item rejected:
		// that is an outage too, and the breaker must count it.
		if err := allItemsUnavailable(r.Responses); err != nil {
			return nil, err
		}
		return r, nil
	})
	s.metrics.latency.Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.requests.WithLabelValues("error").Inc()
		if !IsUnavailable(err) { // item errors say so already
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		fail(live, err)
		return
	}
	s.metrics.requests.WithLabelValues("ok").Inc()
	for i, p := range live {
		if item := &resp.Responses[i]; item.Error != nil {
			p.done <- outcome{err: itemError(item)}
		} else {
			p.done <- outcome{item: item}
		}
	}
}

// msearch sends one _msearch and decodes the answer.
func (s *Searcher) msearch(ctx context.Context, req *msearch.Request) (*msearchResponse, error) {
	res, err := s.es.Msearch().Index(s.cfg.IndexPattern).Request(req).Perform(ctx)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		e := types.NewElasticsearchError()
		if err := json.NewDecoder(res.Body).Decode(e); err != nil {
			return nil, fmt.Errorf("status %d, unreadable error body: %w", res.StatusCode, err)
		}
		if e.Status == 0 {
			e.Status = res.StatusCode
		}
		return nil, e
	}
	var r msearchResponse
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	return &r, nil
}

// allItemsUnavailable returns the first item's error when every item of a
// multi search was refused for overload or unavailability.
func allItemsUnavailable(items []Item) error {
	var first error
	for i := range items {
		if items[i].Error == nil {
			return nil
		}
		err := itemError(&items[i])
		if !IsUnavailable(err) {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}
func itemError(e *Item) error {
	err := fmt.Errorf("search failed: %d %s: %s", e.Status, e.Error.Type, e.Error.why())
	// Overload and unavailability pass; anything else is our query's fault.
	if e.Status == http.StatusTooManyRequests || e.Status >= 500 {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}
