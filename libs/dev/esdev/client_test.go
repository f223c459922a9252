package esdev

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/elastic/go-elasticsearch/v8/typedapi/core/search"
	"github.com/elastic/go-elasticsearch/v8/typedapi/indices/create"
	"github.com/elastic/go-elasticsearch/v8/typedapi/some"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/calendarinterval"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/refresh"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/sortorder"
)

// clientConfig points cfg at url through a transport of the test's own,
// closed when the test ends so no connection outlives it.
func clientConfig(tb testing.TB, url string, cfg elasticsearch.Config) elasticsearch.Config {
	tr := &http.Transport{}
	tb.Cleanup(tr.CloseIdleConnections)
	cfg.Addresses, cfg.Transport = []string{url}, tr
	return cfg
}

func typedClient(tb testing.TB, url string, cfg elasticsearch.Config) *elasticsearch.TypedClient {
	tb.Helper()
	es, err := elasticsearch.NewTypedClient(clientConfig(tb, url, cfg))
	if err != nil {
		tb.Fatalf("typed client: %v", err)
	}
	return es
}

func plainClient(tb testing.TB, url string, cfg elasticsearch.Config) *elasticsearch.Client {
	tb.Helper()
	es, err := elasticsearch.NewClient(clientConfig(tb, url, cfg))
	if err != nil {
		tb.Fatalf("client: %v", err)
	}
	return es
}

// TestTypedClientEndToEnd drives the server with go-elasticsearch's typed
// API the way the enricher does: create an index with mappings, bulk-load,
// search with filters, sorting and typed aggregations, msearch, count.
func TestTypedClientEndToEnd(t *testing.T) {
	_, url := startServer(t, Options{})
	es := typedClient(t, url, elasticsearch.Config{DisableRetry: true})
	ctx := context.Background()

	info, err := es.Info().Do(ctx)
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	if !strings.HasPrefix(info.Version.Int, "8.") || info.Tagline == "" {
		t.Fatalf("info = %+v, want an 8.x version and a tagline", info.Version)
	}

	created, err := es.Indices.Create("logs-pos-2026.11.22").Request(&create.Request{
		Mappings: &types.TypeMapping{Properties: map[string]types.Property{
			"@timestamp": types.NewDateProperty(),
			"message":    types.NewMatchOnlyTextProperty(),
			"log":        &types.ObjectProperty{Properties: map[string]types.Property{"level": types.NewKeywordProperty()}},
			"service":    &types.ObjectProperty{Properties: map[string]types.Property{"name": types.NewKeywordProperty()}},
			"labels":     &types.ObjectProperty{Properties: map[string]types.Property{"tenant_id": types.NewKeywordProperty()}},
			"http":       &types.ObjectProperty{Properties: map[string]types.Property{"response": &types.ObjectProperty{Properties: map[string]types.Property{"status_code": types.NewLongNumberProperty()}}}},
		}},
	}).Do(ctx)
	if err != nil || !created.Acknowledged || created.Index != "logs-pos-2026.11.22" {
		t.Fatalf("create index: %+v, %v", created, err)
	}
	_, err = es.Indices.Create("logs-pos-2026.11.22").Do(ctx)
	var esErr *types.ElasticsearchError
	if !errors.As(err, &esErr) || esErr.Status != 400 || esErr.ErrorCause.Type != "resource_already_exists_exception" {
		t.Fatalf("second create: got %v, want resource_already_exists_exception 400", err)
	}

	bulk := es.Bulk().Index("logs-pos-2026.11.22").Refresh(refresh.Waitfor)
	docs := []map[string]any{
		{"@timestamp": "2026-11-22T10:00:01.000Z", "message": "payment declined: upstream returned HTTP 503", "log.level": "error", "service": map[string]any{"name": "payment-gateway"}, "labels": map[string]any{"tenant_id": "rst-0042"}, "http.response.status_code": 503},
		{"@timestamp": "2026-11-22T10:30:00.000Z", "message": "payment declined: upstream returned HTTP 503", "log": map[string]any{"level": "error"}, "service.name": "payment-gateway", "labels.tenant_id": "rst-0107", "http": map[string]any{"response": map[string]any{"status_code": 503}}},
		{"@timestamp": "2026-11-22T11:05:00.000Z", "message": "kitchen printer offline", "log.level": "error", "service.name": "printer-bridge", "labels.tenant_id": "rst-0042"},
		{"@timestamp": "2026-11-22T11:10:00.000Z", "message": "order created", "log.level": "info", "service.name": "order-api", "labels.tenant_id": "rst-0042"},
	}
	for i, d := range docs {
		id := []string{"a", "b", "c", "d"}[i]
		if err := bulk.CreateOp(types.CreateOperation{Id_: some.String(id)}, d); err != nil {
			t.Fatalf("bulk op: %v", err)
		}
	}
	if err := bulk.CreateOp(types.CreateOperation{Id_: some.String("a")}, docs[0]); err != nil {
		t.Fatalf("bulk op: %v", err)
	}
	bres, err := bulk.Do(ctx)
	if err != nil {
		t.Fatalf("bulk: %v", err)
	}
	if !bres.Errors || len(bres.Items) != 5 {
		t.Fatalf("bulk: errors=%v items=%d, want errors=true and 5 items", bres.Errors, len(bres.Items))
	}
	for i, item := range bres.Items {
		for action, r := range item {
			wantStatus := 201
			if i == 4 {
				wantStatus = 409
			}
			if action.String() != "create" || r.Status != wantStatus {
				t.Errorf("item %d: %s status %d, want create %d", i, action, r.Status, wantStatus)
			}
			if i == 4 && (r.Error == nil || r.Error.Type != "version_conflict_engine_exception") {
				t.Errorf("item 4 error = %+v, want version_conflict_engine_exception", r.Error)
			}
		}
	}

	res, err := es.Search().Index("logs-*").Request(&search.Request{
		Query: &types.Query{Bool: &types.BoolQuery{
			Filter: []types.Query{
				{Term: map[string]types.TermQuery{"labels.tenant_id": {Value: "rst-0042"}}},
				{Range: map[string]types.RangeQuery{"@timestamp": types.DateRangeQuery{Gte: some.String("2026-11-22T12:00:00Z||-2h"), Lt: some.String("now")}}},
			},
			Should: []types.Query{{Match: map[string]types.MatchQuery{"message": {Query: "printer"}}}},
		}},
		Sort: []types.SortCombinations{types.SortOptions{SortOptions: map[string]types.FieldSort{"@timestamp": {Order: &sortorder.Desc}}}},
		Size: some.Int(10),
		Aggregations: map[string]types.Aggregations{
			"by_service": {
				Terms:        &types.TermsAggregation{Field: some.String("service.name")},
				Aggregations: map[string]types.Aggregations{"first_seen": {Min: &types.MinAggregation{Field: some.String("@timestamp")}}},
			},
			"per_hour": {DateHistogram: &types.DateHistogramAggregation{Field: some.String("@timestamp"), CalendarInterval: &calendarinterval.Hour}},
			"tenants":  {Cardinality: &types.CardinalityAggregation{Field: some.String("labels.tenant_id")}},
			"errors":   {Filter: &types.Query{Term: map[string]types.TermQuery{"log.level": {Value: "error"}}}},
			"latest":   {TopHits: &types.TopHitsAggregation{Size: some.Int(1), Sort: []types.SortCombinations{types.SortOptions{SortOptions: map[string]types.FieldSort{"@timestamp": {Order: &sortorder.Desc}}}}}},
		},
	}).Do(ctx)
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	if res.Hits.Total == nil || res.Hits.Total.Value != 3 || len(res.Hits.Hits) != 3 {
		t.Fatalf("search total = %+v, hits = %d; want 3 and 3", res.Hits.Total, len(res.Hits.Hits))
	}
	if got := *res.Hits.Hits[0].Id_; got != "d" {
		t.Errorf("first hit = %s, want d (newest)", got)
	}
	terms, ok := res.Aggregations["by_service"].(*types.StringTermsAggregate)
	if !ok {
		t.Fatalf("by_service decoded as %T, want *types.StringTermsAggregate", res.Aggregations["by_service"])
	}
	buckets := terms.Buckets.([]types.StringTermsBucket)
	if len(buckets) != 3 || buckets[0].Key != "order-api" || buckets[0].DocCount != 1 {
		t.Errorf("by_service buckets = %+v", buckets)
	}
	minAgg, ok := buckets[0].Aggregations["first_seen"].(*types.MinAggregate)
	if !ok || minAgg.ValueAsString == nil || *minAgg.ValueAsString != "2026-11-22T11:10:00.000Z" {
		t.Errorf("first_seen = %#v", buckets[0].Aggregations["first_seen"])
	}
	hist, ok := res.Aggregations["per_hour"].(*types.DateHistogramAggregate)
	if !ok {
		t.Fatalf("per_hour decoded as %T", res.Aggregations["per_hour"])
	}
	if hb := hist.Buckets.([]types.DateHistogramBucket); len(hb) != 2 || hb[0].DocCount != 1 || hb[1].DocCount != 2 {
		t.Errorf("per_hour buckets = %+v", hb)
	}
	if card := res.Aggregations["tenants"].(*types.CardinalityAggregate); card.Value != 1 {
		t.Errorf("tenants cardinality = %d, want 1", card.Value)
	}
	if f := res.Aggregations["errors"].(*types.FilterAggregate); f.DocCount != 2 {
		t.Errorf("errors filter doc_count = %d, want 2", f.DocCount)
	}
	if th := res.Aggregations["latest"].(*types.TopHitsAggregate); len(th.Hits.Hits) != 1 || *th.Hits.Hits[0].Id_ != "d" {
		t.Errorf("latest top_hits = %+v", th.Hits.Hits)
	}

	ms := es.Msearch().Index("logs-*")
	if err := ms.AddSearch(types.MultisearchHeader{}, types.MultisearchBody{Query: &types.Query{Term: map[string]types.TermQuery{"http.response.status_code": {Value: 503}}}}); err != nil {
		t.Fatal(err)
	}
	if err := ms.AddSearch(types.MultisearchHeader{Index: []string{"no-such-index"}}, types.MultisearchBody{Query: &types.Query{MatchAll: &types.MatchAllQuery{}}}); err != nil {
		t.Fatal(err)
	}
	mres, err := ms.Do(ctx)
	if err != nil {
		t.Fatalf("msearch: %v", err)
	}
	if len(mres.Responses) != 2 {
		t.Fatalf("msearch responses = %d, want 2", len(mres.Responses))
	}
	if item, ok := mres.Responses[0].(*types.MultiSearchItem); !ok || item.Hits.Total.Value != 2 || item.Status == nil || *item.Status != 200 {
		t.Errorf("msearch item 0 = %#v", mres.Responses[0])
	}
	if item, ok := mres.Responses[1].(*types.ErrorResponseBase); !ok || item.Status != 404 || item.Error.Type != "index_not_found_exception" {
		t.Errorf("msearch item 1 = %#v", mres.Responses[1])
	}

	cnt, err := es.Count().Index("logs-pos-2026.11.22").Query(&types.Query{Term: map[string]types.TermQuery{"log.level": {Value: "error"}}}).Do(ctx)
	if err != nil || cnt.Count != 3 {
		t.Errorf("count = %+v, %v; want 3", cnt, err)
	}

	_, err = es.Search().Index("logs-*").Raw(strings.NewReader(`{"query":{"query_string":{"query":"a:b"}}}`)).Do(ctx)
	if !errors.As(err, &esErr) || esErr.Status != 400 || esErr.ErrorCause.Type != "parsing_exception" {
		t.Errorf("query_string: got %v, want parsing_exception 400", err)
	}
	_, err = es.Search().Index("missing-index").Do(ctx)
	if !errors.As(err, &esErr) || esErr.Status != 404 || esErr.ErrorCause.Type != "index_not_found_exception" {
		t.Errorf("missing index: got %v, want index_not_found_exception 404", err)
	}
	exists, err := es.Indices.Exists("logs-pos-2026.11.22").IsSuccess(ctx)
	if err != nil || !exists {
		t.Errorf("exists = %v, %v", exists, err)
	}
	exists, err = es.Indices.Exists("nope").IsSuccess(ctx)
	if err != nil || exists {
		t.Errorf("exists(nope) = %v, %v", exists, err)
	}
}

// TestEsapiEndToEnd uses the untyped esapi client (application/json
// bodies) against the fixture logs.
func TestEsapiEndToEnd(t *testing.T) {
	s, url := startServer(t, Options{})
	loadLogs(t, s, false)
	es := plainClient(t, url, elasticsearch.Config{})
	ctx := context.Background()

	res, err := es.Info(es.Info.WithContext(ctx))
	if err != nil || res.IsError() {
		t.Fatalf("info: %v %v", res, err)
	}
	res.Body.Close()

	// Dynamic mapping made labels.tenant_id text with a .keyword sub-field,
	// so the exact match goes to .keyword, as it would on Elasticsearch.
	body := `{"query":{"bool":{"filter":[{"term":{"labels.tenant_id.keyword":"rst-0042"}},{"match":{"log.level":"error"}}]}},"sort":[{"@timestamp":{"order":"asc","unmapped_type":"date"}}],"_source":["message","error.code"]}`
	res, err = es.Search(es.Search.WithContext(ctx), es.Search.WithIndex("logs-*"), es.Search.WithBody(strings.NewReader(body)))
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	var sr struct {
		Hits struct {
			Total struct{ Value int }
			Hits  []struct {
				ID     string          `json:"_id"`
				Source json.RawMessage `json:"_source"`
				Sort   []any           `json:"sort"`
			}
		}
	}
	decodeBody(t, res, &sr)
	var ids []string
	for _, h := range sr.Hits.Hits {
		ids = append(ids, h.ID)
	}
	if got, want := strings.Join(ids, ","), "evt-0002,evt-0003,evt-0006,evt-0008"; got != want {
		t.Errorf("ids = %s, want %s", got, want)
	}
	// _source filtering matches dotted keys as paths, as Elasticsearch does.
	if len(sr.Hits.Hits) > 0 {
		var src map[string]any
		if err := json.Unmarshal(sr.Hits.Hits[0].Source, &src); err != nil {
			t.Fatal(err)
		}
		if len(src) != 2 || src["error.code"] != "PAY-1042" || src["message"] == nil {
			t.Errorf("filtered source = %s, want only message and error.code", sr.Hits.Hits[0].Source)
		}
	}

	res, err = es.Count(es.Count.WithIndex("logs-pos-2026.11.22"), es.Count.WithBody(strings.NewReader(`{"query":{"exists":{"field":"error"}}}`)))
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	var cr struct{ Count int }
	decodeBody(t, res, &cr)
	if cr.Count != 9 {
		t.Errorf("count of docs with error.* = %d, want 9", cr.Count)
	}

	res, err = es.Search(es.Search.WithIndex("logs-*"), es.Search.WithBody(strings.NewReader(`{"aggs":{"x":{"terms":{"field":"message"}}}}`)))
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	if res.StatusCode != 400 || !strings.Contains(res.String(), "search_phase_execution_exception") || !strings.Contains(res.String(), "Fielddata is disabled") {
		t.Errorf("terms on text: %s", res.String())
	}
	res.Body.Close()
}

func decodeBody(tb testing.TB, res *esapi.Response, v any) {
	tb.Helper()
	defer res.Body.Close()
	if res.IsError() {
		tb.Fatalf("unexpected error answer: %s", res.String())
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		tb.Fatalf("decode: %v", err)
	}
}

// TestClientSeesFaults checks what go-elasticsearch reports when faults are
// injected: 503 is retried (three retries by default) and then surfaced, 429
// is surfaced at once, a refused connection is a transport error.
func TestClientSeesFaults(t *testing.T) {
	s, url := startServer(t, Options{})
	loadLogs(t, s, true)
	ctx := context.Background()

	t.Run("503 retried then surfaced", func(t *testing.T) {
		s.ResetStats()
		if err := s.InjectFault(Fault{Kind: FaultUnavailable, Endpoints: []string{"search"}}); err != nil {
			t.Fatal(err)
		}
		defer s.ClearFaults()
		es := plainClient(t, url, elasticsearch.Config{})
		res, err := es.Search(es.Search.WithContext(ctx), es.Search.WithIndex("logs-*"))
		if err != nil {
			t.Fatalf("search: %v", err)
		}
		res.Body.Close()
		if res.StatusCode != 503 {
			t.Errorf("status = %d, want 503", res.StatusCode)
		}
		if got := s.Stats().ByEndpoint["search"]; got != 4 {
			t.Errorf("search requests = %d, want 4 (1 + 3 retries)", got)
		}
	})
	t.Run("503 twice then success", func(t *testing.T) {
		s.ResetStats()
		if err := s.InjectFault(Fault{Kind: FaultUnavailable, Count: 2}); err != nil {
			t.Fatal(err)
		}
		defer s.ClearFaults()
		// Default retries: the two 503s are retried away.
		es := typedClient(t, url, elasticsearch.Config{})
		res, err := es.Search().Index("logs-*").Do(ctx)
		if err != nil || res.Hits.Total.Value != 15 {
			t.Fatalf("search after two 503s: %v, %v", res, err)
		}
		if got := s.Stats().Faulted["search"]; got != 2 {
			t.Errorf("faulted = %d, want 2", got)
		}
	})
	t.Run("429 surfaced without retry", func(t *testing.T) {
		s.ResetStats()
		if err := s.InjectFault(Fault{Kind: FaultRejected, Count: 1}); err != nil {
			t.Fatal(err)
		}
		defer s.ClearFaults()
		es := typedClient(t, url, elasticsearch.Config{})
		_, err := es.Search().Index("logs-*").Do(ctx)
		var esErr *types.ElasticsearchError
		if !errors.As(err, &esErr) || esErr.Status != 429 || esErr.ErrorCause.Type != "es_rejected_execution_exception" {
			t.Fatalf("got %v, want es_rejected_execution_exception 429", err)
		}
		if got := s.Stats().ByEndpoint["search"]; got != 1 {
			t.Errorf("search requests = %d, want 1 (429 is not retried)", got)
		}
	})
	t.Run("refused connection is a transport error", func(t *testing.T) {
		if err := s.InjectFault(Fault{Kind: FaultRefuse}); err != nil {
			t.Fatal(err)
		}
		defer s.ClearFaults()
		s.ResetStats()
		es := plainClient(t, url, elasticsearch.Config{})
		res, err := es.Search(es.Search.WithContext(ctx))
		if err == nil {
			res.Body.Close()
			t.Fatalf("search succeeded with status %d, want a transport error", res.StatusCode)
		}
		// The client retries transport errors three times; net/http may
		// itself replay a request whose reused connection died, so at least 4.
		if got := s.Stats().Faulted["search"]; got < 4 {
			t.Errorf("dropped searches = %d, want at least 4", got)
		}
		// The dev endpoints stay reachable, so a demo can be repaired.
		if code, _, _ := call(t, url, "DELETE", "/_dev/faults", ""); code != 200 {
			t.Fatalf("clear faults over HTTP: %d", code)
		}
		res, err = es.Search(es.Search.WithContext(ctx))
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("search after clearing: %v", err)
		}
		res.Body.Close()
	})
	t.Run("latency honours client timeout", func(t *testing.T) {
		if err := s.InjectFault(Fault{Kind: FaultLatency, Delay: 2 * time.Second}); err != nil {
			t.Fatal(err)
		}
		defer s.ClearFaults()
		es := plainClient(t, url, elasticsearch.Config{DisableRetry: true})
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		res, err := es.Search(es.Search.WithContext(cctx))
		if err == nil {
			res.Body.Close()
			t.Fatalf("search succeeded, want a deadline error")
		}
		if time.Since(start) > time.Second {
			t.Errorf("client waited %v, want about 100ms", time.Since(start))
		}
	})
	t.Run("faults over HTTP", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, url+"/_dev/faults", strings.NewReader(`{"kind":"gateway_timeout","endpoints":["count"],"count":1}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		code, _, _ := callRaw(t, url, "GET", "/_count", "")
		if code != 504 {
			t.Errorf("count status = %d, want 504", code)
		}
		code, _, _ = call(t, url, "GET", "/_count", "")
		if code != 200 {
			t.Errorf("count status after the fault expired = %d, want 200", code)
		}
	})
}
