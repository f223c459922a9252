package escontract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/typedapi/core/search"
	"github.com/elastic/go-elasticsearch/v8/typedapi/indices/create"
	"github.com/elastic/go-elasticsearch/v8/typedapi/some"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/calendarinterval"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/sortorder"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"go.yaml.in/yaml/v3"

	"github.com/triage-pipeline/triage/libs/dev/esdev"
	"github.com/triage-pipeline/triage/libs/dev/esdev/escontract"
)

func TestMain(m *testing.M) {
	testkit.Main(m)
}

var fixedNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// exchange sends one request to the server in process and returns what it
// answered.
func exchange(t *testing.T, s *esdev.Server, method, target, ctype, body string) (*http.Request, *httptest.ResponseRecorder) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if ctype != "" && body != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return req, rec
}

func seedLogs(t *testing.T, s *esdev.Server) {
	t.Helper()
	var b strings.Builder
	for i, svc := range []string{"payment-gateway", "payment-gateway", "printer-bridge", "order-api"} {
		fmt.Fprintf(&b, `{"index":{"_index":"logs-pos-2026.11.22","_id":"e%d"}}`+"\n", i)
		fmt.Fprintf(&b, `{"@timestamp":"2026-11-22T10:%02d:00Z","message":"upstream returned HTTP 503","log":{"level":"error"},"service":{"name":%q},"labels":{"tenant_id":"rst-0042"}}`+"\n", i*10, svc)
	}
	if err := s.LoadBulk([]byte(b.String()), ""); err != nil {
		t.Fatal(err)
	}
}

// TestServerResponsesConform checks the server's answers against the
// response schemas of both descriptions.
func TestServerResponsesConform(t *testing.T) {
	s := esdev.New(esdev.Options{Now: func() time.Time { return fixedNow }})
	seedLogs(t, s)
	calls := []struct {
		name, method, target, ctype, body string
		stackOnly                         bool
	}{
		{"info", "GET", "/", "", "", false},
		{"ping", "HEAD", "/", "", "", false},
		{"search", "POST", "/logs-*/_search?typed_keys=true", "application/json",
			`{"query":{"bool":{"filter":[{"term":{"labels.tenant_id.keyword":"rst-0042"}}],"should":[{"match":{"message":"503"}}]}},"sort":[{"@timestamp":"desc"},"_score"],"aggs":{"s":{"terms":{"field":"service.name.keyword"},"aggs":{"first":{"min":{"field":"@timestamp"}},"top":{"top_hits":{"size":1}}}},"h":{"date_histogram":{"field":"@timestamp","calendar_interval":"hour"}},"c":{"cardinality":{"field":"labels.tenant_id.keyword"}},"f":{"filter":{"term":{"log.level.keyword":"error"}}},"v":{"value_count":{"field":"@timestamp"}},"mx":{"max":{"field":"@timestamp"}}}}`, false},
		{"search untyped", "GET", "/_search?size=1&track_total_hits=false", "", "", false},
		{"msearch", "POST", "/logs-*/_msearch?typed_keys=true", "application/x-ndjson",
			"{}\n{\"query\":{\"match_all\":{}},\"size\":1}\n{\"index\":\"missing\"}\n{}\n", false},
		{"bulk", "POST", "/_bulk", "application/x-ndjson",
			"{\"index\":{\"_index\":\"b\",\"_id\":\"1\"}}\n{\"a\":1}\n{\"create\":{\"_index\":\"b\",\"_id\":\"1\"}}\n{\"a\":2}\n{\"delete\":{\"_index\":\"b\",\"_id\":\"2\"}}\n{\"update\":{\"_index\":\"b\",\"_id\":\"1\"}}\n{\"doc\":{\"a\":3}}\n", false},
		{"count", "POST", "/logs-*/_count", "application/json", `{"query":{"term":{"log.level.keyword":"error"}}}`, false},
		{"count without body", "GET", "/_count", "", "", false},
		{"indices.create", "PUT", "/tickets", "application/json", `{"settings":{"number_of_shards":1},"mappings":{"properties":{"title":{"type":"text"}}}}`, false},
		{"indices.exists", "HEAD", "/tickets", "", "", false},
		{"cluster.health", "GET", "/_cluster/health", "", "", true},
		{"cluster.health index", "GET", "/_cluster/health/tickets", "", "", true},
		{"indices.put_index_template", "PUT", "/_index_template/t1", "application/json", `{"index_patterns":["t-*"],"priority":1,"template":{"settings":{"number_of_shards":1}}}`, false},
		{"indices.get_index_template", "GET", "/_index_template/t1", "", "", false},
		{"indices.delete", "DELETE", "/tickets", "", "", false},
	}
	specs := []string{escontract.StackSpec, escontract.ServerlessSpec}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			req, rec := exchange(t, s, c.method, c.target, c.ctype, c.body)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
			for _, spec := range specs {
				if spec == escontract.ServerlessSpec && c.stackOnly {
					continue
				}
				v := escontract.Shared(t, spec)
				if err := v.ValidateRequest(req, []byte(c.body)); err != nil {
					t.Errorf("request: %v", err)
				}
				if err := v.ValidateResponse(req, []byte(c.body), rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
					t.Errorf("response: %v", err)
				}
			}
		})
	}
}

// TestValidatorCatchesNonConformingTraffic makes sure the validator is not
// a rubber stamp.
func TestValidatorCatchesNonConformingTraffic(t *testing.T) {
	v := escontract.Shared(t, escontract.StackSpec)
	cases := []struct {
		name, method, target, body string
		reqErr                     bool
		status                     int
		respBody                   string
	}{
		{"unknown endpoint", "GET", "/_nodes/stats", "", true, 0, ""},
		{"bad query parameter type", "GET", "/_search?size=ten", "", true, 0, ""},
		{"body of the wrong type", "POST", "/_search", `{"size":"ten"}`, true, 0, ""},
		{"count missing", "POST", "/_count", `{}`, false, 200, `{"_shards":{"total":1,"successful":1,"skipped":0,"failed":0}}`},
		{"hits.total of the wrong type", "POST", "/_search", `{}`, false, 200, `{"took":1,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":"many","hits":[]}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			err := v.ValidateRequest(req, []byte(c.body))
			if c.reqErr {
				if err == nil {
					t.Errorf("request validated, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			h := http.Header{"Content-Type": []string{"application/json"}}
			if err := v.ValidateResponse(req, []byte(c.body), c.status, h, []byte(c.respBody)); err == nil {
				t.Errorf("response validated, want an error")
			}
		})
	}
}

// TestGoElasticsearchRequestsConform runs go-elasticsearch (typed API and
// esapi) through a validating transport against the server: every request
// the client sends and every answer must match the description.
func TestGoElasticsearchRequestsConform(t *testing.T) {
	s := esdev.New(esdev.Options{Now: func() time.Time { return fixedNow }})
	url, stop, err := s.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	v := escontract.Shared(t, escontract.StackSpec)
	var mu sync.Mutex
	var problems []string
	report := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, err.Error())
	}
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	cfg := elasticsearch.Config{Addresses: []string{url}, Transport: v.Transport(transport, report)}
	typed, err := elasticsearch.NewTypedClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := elasticsearch.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := typed.Info().Do(ctx); err != nil {
		t.Fatalf("info: %v", err)
	}
	if _, err := typed.Indices.Create("logs-pos-2026.11.22").Request(&create.Request{Mappings: &types.TypeMapping{
		Properties: map[string]types.Property{"@timestamp": types.NewDateProperty(), "labels": &types.ObjectProperty{Properties: map[string]types.Property{"tenant_id": types.NewKeywordProperty()}}},
	}}).Do(ctx); err != nil {
		t.Fatalf("create: %v", err)
	}
	bulk := typed.Bulk().Index("logs-pos-2026.11.22")
	for i := 0; i < 3; i++ {
		_ = bulk.IndexOp(types.IndexOperation{Id_: some.String(fmt.Sprint(i))}, map[string]any{
			"@timestamp": fmt.Sprintf("2026-11-22T1%d:00:00Z", i), "labels": map[string]any{"tenant_id": "rst-0042"}, "message": "printer offline",
		})
	}
	if _, err := bulk.Do(ctx); err != nil {
		t.Fatalf("bulk: %v", err)
	}
	if _, err := typed.Search().Index("logs-*").Request(&search.Request{
		Query: &types.Query{Bool: &types.BoolQuery{Filter: []types.Query{
			{Term: map[string]types.TermQuery{"labels.tenant_id": {Value: "rst-0042"}}},
			{Range: map[string]types.RangeQuery{"@timestamp": types.DateRangeQuery{Gte: some.String("now-1d/d")}}},
		}}},
		Sort: []types.SortCombinations{types.SortOptions{SortOptions: map[string]types.FieldSort{"@timestamp": {Order: &sortorder.Desc}}}},
		Aggregations: map[string]types.Aggregations{
			"h": {DateHistogram: &types.DateHistogramAggregation{Field: some.String("@timestamp"), CalendarInterval: &calendarinterval.Hour}},
			"t": {Terms: &types.TermsAggregation{Field: some.String("labels.tenant_id")}},
		},
	}).Do(ctx); err != nil {
		t.Fatalf("search: %v", err)
	}
	ms := typed.Msearch()
	_ = ms.AddSearch(types.MultisearchHeader{Index: []string{"logs-*"}}, types.MultisearchBody{Query: &types.Query{MatchAll: &types.MatchAllQuery{}}})
	if _, err := ms.Do(ctx); err != nil {
		t.Fatalf("msearch: %v", err)
	}
	if _, err := typed.Count().Index("logs-*").Do(ctx); err != nil {
		t.Fatalf("count: %v", err)
	}
	res, err := plain.Search(plain.Search.WithIndex("logs-*"), plain.Search.WithBody(strings.NewReader(`{"query":{"match":{"message":"printer"}}}`)), plain.Search.WithSize(5))
	if err != nil {
		t.Fatalf("esapi search: %v", err)
	}
	res.Body.Close()
	res, err = plain.Cluster.Health()
	if err != nil {
		t.Fatalf("health: %v", err)
	}
	res.Body.Close()
	if len(problems) > 0 {
		t.Errorf("non-conforming traffic:\n%s", strings.Join(problems, "\n"))
	}
}

// example is one request example from the specification.
type example struct {
	Summary       string `yaml:"summary"`
	MethodRequest string `yaml:"method_request"`
	Value         any    `yaml:"value"`
}

func readExample(t *testing.T, path string) example {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var node yaml.Node
	if err := yaml.Unmarshal(raw, &node); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	quoteZeroPadded(&node)
	var ex example
	if err := node.Decode(&ex); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ex
}

// quoteZeroPadded keeps plain scalars such as 00000000 (a build hash in the
// info examples) as strings: YAML reads them as integers, but the JSON they
// stand for has strings there.
func quoteZeroPadded(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" && len(n.Value) > 1 && n.Value[0] == '0' {
		n.Tag = "!!str"
	}
	for _, c := range n.Content {
		quoteZeroPadded(c)
	}
}

// body renders an example's value: JSON or NDJSON text as given, a YAML map
// as JSON.
func (ex example) body(t *testing.T) string {
	t.Helper()
	switch v := ex.Value.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// skippedExamples use features the development server refuses on purpose.
var skippedExamples = map[string]string{
	"BulkRequestExample2.yaml":   "scripted updates",
	"BulkRequestExample4.yaml":   "dynamic_templates in bulk metadata",
	"SearchRequestExample2.yaml": "point in time",
	"SearchRequestExample3.yaml": "sliced point-in-time search",
}

// responseFor pairs request examples with the response example that answers
// the same request; filter_path shapes the third bulk answer.
var responseFor = map[string][]struct{ file, query string }{
	"bulk/BulkRequestExample1.yaml":                    {{"bulk/response/BulkResponseExample1.yaml", ""}},
	"bulk/BulkRequestExample3.yaml":                    {{"bulk/response/BulkResponseExample2.yaml", ""}, {"bulk/response/BulkResponseExample3.yaml", "filter_path=items.*.error"}},
	"cluster.health/ClusterHealthRequestExample1.yaml": {{"cluster.health/response/ClusterHealthResponseExample1.yaml", ""}},
	"count/CountRequestExample1.yaml":                  {{"count/200_response/CountResponseExample1.yaml", ""}},
	"info/RootNodeInfoRequestExample1.yaml":            {{"info/response/RootNodeInfoResponseExample1.yaml", ""}, {"info/response/RootNodeInfoResponseExample2.yaml", ""}},
	"search/SearchRequestExample1.yaml":                {{"search/200_response/SearchResponseExample1.yaml", ""}},
}

// seedExamples creates what the examples of an API expect to exist (the
// create-index examples expect my-index-000001 not to).
func seedExamples(t *testing.T, s *esdev.Server, api string) {
	t.Helper()
	var b strings.Builder
	for i := 0; i < 60 && api != "indices.create"; i++ {
		fmt.Fprintf(&b, `{"index":{"_index":"my-index-000001","_id":"%d"}}`+"\n", i)
		fmt.Fprintf(&b, `{"@timestamp":"2099-11-15T14:12:12","http":{"request":{"method":"get"},"response":{"status_code":200,"bytes":1070000},"version":"1.1"},"source":{"ip":"127.0.0.1"},"message":"GET /search HTTP/1.1 200 1070000","user":{"id":"kimchy"}}`+"\n")
	}
	b.WriteString(`{"index":{"_index":"my-index-000002","_id":"1"}}` + "\n" + `{"message":"another"}` + "\n")
	b.WriteString(`{"index":{"_index":"books","_id":"1"}}` + "\n" + `{"name":"Snow Crash"}` + "\n")
	b.WriteString(`{"index":{"_index":"my-data-stream","_id":"1"}}` + "\n" + `{"message":"x"}` + "\n")
	if err := s.LoadBulk([]byte(b.String()), ""); err != nil {
		t.Fatal(err)
	}
	_, rec := exchange(t, s, "PUT", "/_index_template/my-index-template", "application/json", `{"index_patterns":["nothing-*"]}`)
	if rec.Code != 200 {
		t.Fatalf("seed template: %s", rec.Body.String())
	}
}

// TestSpecificationExamples sends every request example of the
// specification that uses implemented features to the server, requires
// success, validates the exchange against the description, and compares the
// answer's shape with the matching response example.
func TestSpecificationExamples(t *testing.T) {
	dir := testkit.SharedPath(t, "contracts", "elasticsearch", "examples")
	files, err := filepath.Glob(filepath.Join(dir, "*", "request", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no request examples in %s: %v", dir, err)
	}
	stack := escontract.Shared(t, escontract.StackSpec)
	ran := 0
	for _, file := range files {
		api := filepath.Base(filepath.Dir(filepath.Dir(file)))
		key := api + "/" + filepath.Base(file)
		t.Run(key, func(t *testing.T) {
			if why, ok := skippedExamples[filepath.Base(file)]; ok {
				t.Skipf("uses %s, which esdev refuses", why)
			}
			ex := readExample(t, file)
			method, target, ok := strings.Cut(strings.TrimSpace(ex.MethodRequest), " ")
			if !ok {
				t.Fatalf("cannot read method_request %q", ex.MethodRequest)
			}
			target = "/" + strings.TrimPrefix(strings.TrimSpace(target), "/")
			body := ex.body(t)
			ctype := "application/json"
			if api == "bulk" || api == "msearch" {
				ctype = "application/x-ndjson"
				if body != "" && !strings.HasSuffix(body, "\n") {
					body += "\n" // Kibana's console adds the final newline
				}
			}
			pairs := responseFor[key]
			if len(pairs) == 0 {
				pairs = append(pairs, struct{ file, query string }{"", ""})
			}
			for _, pair := range pairs {
				s := esdev.New(esdev.Options{Now: func() time.Time { return fixedNow }})
				seedExamples(t, s, api)
				tgt := target
				if pair.query != "" {
					sep := "?"
					if strings.Contains(tgt, "?") {
						sep = "&"
					}
					tgt += sep + pair.query
				}
				req, rec := exchange(t, s, method, tgt, ctype, body)
				if rec.Code != http.StatusOK {
					t.Fatalf("%s %s: status %d: %s", method, tgt, rec.Code, rec.Body.String())
				}
				if rec.Header().Get("X-Elastic-Product") != "Elasticsearch" {
					t.Errorf("no X-Elastic-Product header")
				}
				if err := stack.ValidateRequest(req, []byte(body)); errors.Is(err, escontract.ErrNoRoute) {
					t.Logf("not validated: the trimmed description has no %s %s", method, target)
				} else if err != nil {
					t.Errorf("request: %v", err)
				} else if err := stack.ValidateResponse(req, []byte(body), rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
					t.Errorf("response: %v", err)
				}
				if pair.file != "" {
					want := readExample(t, filepath.Join(dir, pair.file))
					var wantV any
					switch v := want.Value.(type) {
					case string:
						if err := json.Unmarshal([]byte(v), &wantV); err != nil {
							t.Fatalf("%s: %v", pair.file, err)
						}
					default:
						b, _ := json.Marshal(v)
						_ = json.Unmarshal(b, &wantV)
					}
					var gotV any
					if err := json.Unmarshal(rec.Body.Bytes(), &gotV); err != nil {
						t.Fatalf("answer is not JSON: %v", err)
					}
					if diffs := shapeDiff("", wantV, gotV); len(diffs) > 0 {
						t.Errorf("shape differs from %s:\n%s", pair.file, strings.Join(diffs, "\n"))
					}
				}
			}
			ran++
		})
	}
	if ran < 15 {
		t.Errorf("ran %d request examples, want at least 15", ran)
	}
}

// extraKeys are keys the server sends that an older response example lacks,
// with why that is right.
var extraKeys = map[string]string{
	"unassigned_primary_shards": "added to _cluster/health in 8.16; the example predates it",
}

// shapeDiff compares two decoded JSON values by keys and value types.
// Inside _source (user data) only the type is compared.
func shapeDiff(path string, want, got any) []string {
	kind := func(v any) string {
		switch v.(type) {
		case map[string]any:
			return "object"
		case []any:
			return "array"
		case string:
			return "string"
		case float64:
			return "number"
		case bool:
			return "boolean"
		}
		return "null"
	}
	if kind(want) != kind(got) {
		return []string{fmt.Sprintf("%s: %s in the example, %s from the server", path, kind(want), kind(got))}
	}
	var diffs []string
	switch w := want.(type) {
	case map[string]any:
		if strings.HasSuffix(path, "._source") {
			return nil
		}
		g := got.(map[string]any)
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		var sorted []string
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inG:
				diffs = append(diffs, fmt.Sprintf("%s.%s: missing from the server's answer", path, k))
			case !inW:
				if _, ok := extraKeys[k]; !ok {
					diffs = append(diffs, fmt.Sprintf("%s.%s: not in the example", path, k))
				}
			default:
				diffs = append(diffs, shapeDiff(path+"."+k, wv, gv)...)
			}
		}
	case []any:
		g := got.([]any)
		if len(w) > 0 && len(g) > 0 {
			n := min(len(w), len(g))
			for i := 0; i < n; i++ {
				diffs = append(diffs, shapeDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
			}
		} else if len(w) != len(g) {
			diffs = append(diffs, fmt.Sprintf("%s: %d items in the example, %d from the server", path, len(w), len(g)))
		}
	}
	return diffs
}

// TestErrorEnvelopesMatchFixtures compares the server's errors with the
// error bodies recorded from Elasticsearch and its clients.
func TestErrorEnvelopesMatchFixtures(t *testing.T) {
	s := esdev.New(esdev.Options{Now: func() time.Time { return fixedNow }})
	seedLogs(t, s)
	dir := testkit.SharedPath(t, "contracts", "elasticsearch", "errors")
	cases := []struct {
		fixture                     string
		method, target, ctype, body string
		fault                       esdev.FaultKind
		// anyCause: the fixture's shard failure is a parsing_exception, which
		// real Elasticsearch raises before any shard runs; compare the
		// envelope of a shard failure whatever its cause.
		anyCause bool
	}{
		{"index_not_found_exception.404.json", "GET", "/foo/_search", "", "", "", false},
		{"parsing_exception.400.json", "POST", "/_search", "application/json", `{"query":{"foo":{}}}`, "", false},
		{"illegal_argument_exception.400.json", "GET", "/_search?size=surprise_me", "", "", "", false},
		{"resource_already_exists_exception.400.SYNTHESIZED.json", "PUT", "/logs-pos-2026.11.22", "", "", "", false},
		{"search_phase_execution_exception.400.SYNTHESIZED.json", "POST", "/logs-*/_search", "application/json", `{"query":{"range":{"@timestamp":{"gte":"yesterday"}}}}`, "", true},
		{"es_rejected_execution_exception.429.SYNTHESIZED.json", "GET", "/_search", "", "", esdev.FaultRejected, false},
		{"msearch.200.mixed-items.SYNTHESIZED.json", "POST", "/_msearch", "application/x-ndjson", "{\"index\":\"logs-*\"}\n{\"size\":1}\n{\"index\":\"foo\"}\n{}\n", "", false},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, c.fixture))
			if err != nil {
				t.Fatal(err)
			}
			var want any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if c.fault != "" {
				if err := s.InjectFault(esdev.Fault{Kind: c.fault, Count: 1}); err != nil {
					t.Fatal(err)
				}
			}
			_, rec := exchange(t, s, c.method, c.target, c.ctype, c.body)
			var got any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("answer is not JSON: %s", rec.Body.String())
			}
			wantStatus := want.(map[string]any)["status"]
			if c.fixture == "msearch.200.mixed-items.SYNTHESIZED.json" {
				wantStatus = float64(200)
			}
			if float64(rec.Code) != wantStatus {
				t.Errorf("status = %d, want %v", rec.Code, wantStatus)
			}
			if c.anyCause {
				forgetCause(want)
				forgetCause(got)
			}
			if diffs := envelopeDiff("", want, got); len(diffs) > 0 {
				t.Errorf("differs from %s:\n%s\ngot: %s", c.fixture, strings.Join(diffs, "\n"), rec.Body.String())
			}
		})
	}
}

// forgetCause drops what depends on the cause of a shard failure (its type
// and cause-specific metadata) from root_cause and failed_shards.
func forgetCause(v any) {
	e, _ := v.(map[string]any)["error"].(map[string]any)
	var causes []map[string]any
	for _, rc := range e["root_cause"].([]any) {
		causes = append(causes, rc.(map[string]any))
	}
	for _, fs := range e["failed_shards"].([]any) {
		causes = append(causes, fs.(map[string]any)["reason"].(map[string]any))
	}
	for _, c := range causes {
		for k := range c {
			if k != "reason" {
				delete(c, k)
			}
		}
	}
}

// envelopeDiff is shapeDiff for error bodies: the example's keys must be
// present with the same types, and "type" values must be equal; the server
// may add keys (Elasticsearch adds metadata freely).
func envelopeDiff(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{path + ": not an object"}
		}
		var diffs []string
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				diffs = append(diffs, path+"."+k+": missing")
				continue
			}
			if k == "_source" {
				continue
			}
			if k == "type" && wv != gv {
				diffs = append(diffs, fmt.Sprintf("%s.type = %v, want %v", path, gv, wv))
				continue
			}
			diffs = append(diffs, envelopeDiff(path+"."+k, wv, gv)...)
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: %d items, want %d", path, len(g), len(w))}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, envelopeDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return diffs
	case nil:
		return nil
	default:
		if fmt.Sprintf("%T", want) != fmt.Sprintf("%T", got) {
			return []string{fmt.Sprintf("%s: %T, want %T", path, got, want)}
		}
		return nil
	}
}

// drain is used by validating transports in other packages' tests; make
// sure a body passed through is still readable afterwards.
func TestTransportKeepsBodies(t *testing.T) {
	s := esdev.New(esdev.Options{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	v := escontract.Shared(t, escontract.StackSpec)
	var problems []error
	client := &http.Client{Transport: v.Transport(nil, func(err error) { problems = append(problems, err) })}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest("POST", srv.URL+"/_search", bytes.NewBufferString(`{"size":"ten"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !bytes.Contains(b, []byte("x_content_parse_exception")) {
		t.Errorf("answer = %d %s", resp.StatusCode, b)
	}
	if len(problems) != 1 {
		t.Errorf("problems = %v, want the one non-conforming request", problems)
	}
}
