package esdev

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
)

type searchCase struct {
	name  string
	path  string // defaults to /logs-*/_search
	body  string
	want  []string // expected ids; compared in order when ordered is set
	order bool
}

func ids(nums ...int) []string {
	out := make([]string, len(nums))
	for i, n := range nums {
		out[i] = fmt.Sprintf("evt-%04d", n)
	}
	return out
}

func runSearchCases(t *testing.T, url string, cases []searchCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.path
			if path == "" {
				path = "/logs-*/_search?size=100"
			}
			code, resp, _ := call(t, url, "POST", path, c.body)
			if code != 200 {
				t.Fatalf("status %d: %v", code, resp)
			}
			got := hitIDs(resp)
			want := append([]string{}, c.want...)
			if !c.order {
				sort.Strings(got)
				sort.Strings(want)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("hits = %v, want %v", got, want)
			}
		})
	}
}

// TestQueriesWithECSMappings runs the query DSL over the fixture logs
// mapped by an ECS-style template (keyword identifiers).
func TestQueriesWithECSMappings(t *testing.T) {
	s, url := startServer(t, Options{})
	loadLogs(t, s, true)
	runSearchCases(t, url, []searchCase{
		{name: "match_all", body: `{"query":{"match_all":{}}}`, want: ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)},
		{name: "match_none", body: `{"query":{"match_none":{}}}`, want: nil},
		{name: "term keyword", body: `{"query":{"term":{"labels.tenant_id":"rst-0042"}}}`, want: ids(1, 2, 3, 4, 6, 7, 8, 12, 13)},
		{name: "term object form", body: `{"query":{"term":{"labels.tenant_id":{"value":"rst-0107","boost":2}}}}`, want: ids(5, 9, 10, 11)},
		{name: "term case_insensitive", body: `{"query":{"term":{"log.level":{"value":"ERROR","case_insensitive":true}}}}`, want: ids(2, 3, 5, 6, 8, 11, 14)},
		{name: "term on long with string", body: `{"query":{"term":{"http.response.status_code":"503"}}}`, want: ids(2, 3, 5)},
		{name: "term on date covers the day", body: `{"query":{"term":{"@timestamp":"2026-11-21"}}}`, want: ids(1)},
		{name: "terms", body: `{"query":{"terms":{"error.code":["PAY-1042","PRN-2001"]}}}`, want: ids(2, 3, 5, 6, 14)},
		{name: "tenant and time window, newest first",
			body: `{"query":{"bool":{"filter":[{"term":{"labels.tenant_id":"rst-0042"}},{"range":{"@timestamp":{"gte":"now-2h","lte":"now"}}}]}},"sort":[{"@timestamp":"desc"}]}`,
			want: ids(13, 12, 8, 7, 6, 4, 3, 2), order: true},
		{name: "range with anchor date math", body: `{"query":{"range":{"@timestamp":{"gte":"2026-11-22T10:30:00Z||-30m","lt":"2026-11-22T10:30:00Z||+30m"}}},"sort":["@timestamp"]}`,
			want: ids(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13), order: true},
		{name: "range gt rounds up", body: `{"query":{"range":{"@timestamp":{"gt":"2026-11-22T10:05"}}}}`, want: ids(8, 9, 10, 11, 12, 13, 14, 15)},
		{name: "range lte whole day", body: `{"query":{"range":{"@timestamp":{"lte":"2026-11-21"}}}}`, want: ids(1)},
		{name: "range custom format and time zone", body: `{"query":{"range":{"@timestamp":{"gte":"2026/11/22 20:00","format":"yyyy/MM/dd HH:mm","time_zone":"Asia/Tokyo"}}}}`, want: ids(14, 15)},
		{name: "range numeric", body: `{"query":{"range":{"http.response.status_code":{"gte":500}}}}`, want: ids(2, 3, 5, 14)},
		{name: "range keyword", body: `{"query":{"range":{"labels.tenant_id":{"gt":"rst-0107"}}}}`, want: ids(14, 15)},
		{name: "match", body: `{"query":{"match":{"message":"declined"}}}`, want: ids(2, 3, 5)},
		{name: "match and", body: `{"query":{"match":{"message":{"query":"payment timeout","operator":"and"}}}}`, want: ids(14)},
		{name: "match minimum_should_match", body: `{"query":{"match":{"message":{"query":"payment gateway timeout","minimum_should_match":2}}}}`, want: ids(14)},
		{name: "match on keyword is exact", body: `{"query":{"match":{"service.name":"payment-gateway"}}}`, want: ids(2, 3, 4, 5, 14)},
		{name: "match japanese", body: `{"query":{"match_phrase":{"message":"送信に失敗"}}}`, want: ids(8)},
		{name: "match katakana word", body: `{"query":{"match":{"message":"キッチンプリンター"}}}`, want: ids(7)},
		{name: "match_phrase", body: `{"query":{"match_phrase":{"message":"upstream returned"}}}`, want: ids(2, 3, 5)},
		{name: "match_phrase order matters", body: `{"query":{"match_phrase":{"message":"returned upstream"}}}`, want: nil},
		{name: "match_phrase slop", body: `{"query":{"match_phrase":{"message":{"query":"payment upstream","slop":2}}}}`, want: ids(2, 3, 5)},
		{name: "multi_match best_fields", body: `{"query":{"multi_match":{"query":"ORD-5002","fields":["message","error.code^2"]}}}`, want: ids(8, 9)},
		{name: "multi_match phrase", body: `{"query":{"multi_match":{"query":"paper jam","type":"phrase","fields":["message","error.message"]}}}`, want: ids(6)},
		{name: "multi_match wildcard fields", body: `{"query":{"multi_match":{"query":"usr-104233","fields":["user.*","labels.*"]}}}`, want: ids(1, 12)},
		{name: "exists leaf", body: `{"query":{"exists":{"field":"labels.order_id"}}}`, want: ids(1, 2, 3, 4, 15)},
		{name: "exists object", body: `{"query":{"exists":{"field":"error"}}}`, want: ids(2, 3, 5, 6, 8, 9, 11, 12, 14)},
		{name: "ids", body: `{"query":{"ids":{"values":["evt-0003","evt-9999"]}}}`, want: ids(3)},
		{name: "terms on _id", body: `{"query":{"terms":{"_id":["evt-0004","evt-0005"]}}}`, want: ids(4, 5)},
		{name: "term on _index", body: `{"query":{"term":{"_index":"logs-pos-2026.11.21"}}}`, want: ids(1)},
		{name: "search_after with formatted sort", body: `{"sort":[{"@timestamp":{"order":"desc","format":"strict_date_optional_time"}}],"search_after":["2026-11-22T11:00:00.000Z"],"size":1}`, path: "/logs-*/_search", want: ids(13), order: true},
		{name: "must_not", body: `{"query":{"bool":{"must_not":{"term":{"labels.tenant_id":"rst-0042"}}}}}`, want: ids(5, 9, 10, 11, 14, 15)},
		{name: "should with filter", body: `{"query":{"bool":{"filter":{"term":{"labels.tenant_id":"rst-0107"}},"should":[{"term":{"log.level":"error"}},{"term":{"log.level":"fatal"}}],"minimum_should_match":1}}}`, want: ids(5, 9, 11)},
		{name: "should only", body: `{"query":{"bool":{"should":[{"term":{"error.code":"MENU-3003"}},{"term":{"error.code":"AUTH-4011"}}]}}}`, want: ids(11, 12)},
		{name: "should msm 2", body: `{"query":{"bool":{"should":[{"term":{"log.level":"error"}},{"term":{"labels.tenant_id":"rst-0300"}},{"match":{"message":"timeout"}}],"minimum_should_match":"2"}}}`, want: ids(14)},
		{name: "nested bool", body: `{"query":{"bool":{"must":[{"bool":{"should":[{"match":{"message":"printer"}},{"match":{"message":"menu"}}]}}],"must_not":[{"term":{"log.level":"info"}}]}}}`, want: ids(6, 11)},
		{name: "constant_score", body: `{"query":{"constant_score":{"filter":{"term":{"service.name":"auth"}},"boost":3}}}`, want: ids(12)},
		{name: "dis_max", body: `{"query":{"dis_max":{"queries":[{"term":{"error.code":"PRN-2001"}},{"term":{"labels.device_id":"prn-9f00aa"}}]}}}`, want: ids(6, 7)},
		{name: "prefix", body: `{"query":{"prefix":{"error.code":"PAY"}}}`, want: ids(2, 3, 5, 14)},
		{name: "wildcard", body: `{"query":{"wildcard":{"labels.device_id":{"value":"prn-*"}}}}`, want: ids(6, 7)},
		{name: "paging", body: `{"query":{"match_all":{}},"sort":[{"@timestamp":{"order":"asc"}}],"from":2,"size":2}`, path: "/logs-*/_search", want: ids(3, 4), order: true},
		{name: "search_after", body: `{"sort":[{"@timestamp":"asc"},{"event.id":"asc"}],"search_after":[1795341660000,"evt-0004"],"size":2}`, path: "/logs-*/_search", want: ids(5, 6), order: true},
		{name: "post_filter", body: `{"query":{"term":{"service.name":"payment-gateway"}},"post_filter":{"term":{"labels.tenant_id":"rst-0300"}}}`, want: ids(14)},
		{name: "min_score", body: `{"query":{"bool":{"should":[{"constant_score":{"filter":{"term":{"log.level":"error"}},"boost":1}},{"constant_score":{"filter":{"term":{"labels.tenant_id":"rst-0300"}},"boost":1}}]}},"min_score":2}`, want: ids(14)},
		{name: "URL sort and size", path: "/logs-pos-2026.11.22/_search?sort=@timestamp:desc&size=2", body: ``, want: ids(15, 14), order: true},
		{name: "single index", path: "/logs-pos-2026.11.21/_search", body: `{}`, want: ids(1)},
		{name: "comma list and exclusion", path: "/logs-pos-2026.11.21,logs-pos-2026.11.22,-logs-pos-2026.11.22/_search", body: `{}`, want: ids(1)},
	})
}

// TestQueriesWithDynamicMappings checks the behaviour that catches clients
// out on a real cluster: without explicit mappings identifiers are text, so
// exact matches need the .keyword sub-field.
func TestQueriesWithDynamicMappings(t *testing.T) {
	s, url := startServer(t, Options{})
	loadLogs(t, s, false)
	runSearchCases(t, url, []searchCase{
		{name: "term on analysed text misses", body: `{"query":{"term":{"labels.tenant_id":"rst-0042"}}}`, want: nil},
		{name: "term on token", body: `{"query":{"term":{"labels.tenant_id":"0042"}}}`, want: ids(1, 2, 3, 4, 6, 7, 8, 12, 13)},
		{name: "term on keyword sub-field", body: `{"query":{"term":{"labels.tenant_id.keyword":"rst-0042"}}}`, want: ids(1, 2, 3, 4, 6, 7, 8, 12, 13)},
		{name: "match_phrase on text", body: `{"query":{"match_phrase":{"labels.tenant_id":"rst-0107"}}}`, want: ids(5, 9, 10, 11)},
		{name: "date detection", body: `{"query":{"range":{"@timestamp":{"lt":"2026-11-22"}}}}`, want: ids(1)},
		{name: "long detection", body: `{"query":{"range":{"http.response.status_code":{"gt":503}}}}`, want: ids(14)},
		{name: "dotted and nested keys are one field", body: `{"query":{"term":{"error.code.keyword":"ORD-5002"}}}`, want: ids(8, 9)},
	})
	// A match on an analysed identifier matches every document sharing a
	// token, but the exact tenant ranks first.
	code, resp, _ := call(t, url, "POST", "/logs-*/_search?size=9", `{"query":{"match":{"labels.tenant_id":"rst-0300"}}}`)
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	if got := dig(resp, "hits", "total", "value"); fmt.Sprint(got) != "15" {
		t.Errorf("total = %v, want 15", got)
	}
	top := hitIDs(resp)[:2]
	sort.Strings(top)
	if strings.Join(top, ",") != "evt-0014,evt-0015" {
		t.Errorf("top hits = %v, want evt-0014 and evt-0015", top)
	}
}

func TestScoring(t *testing.T) {
	s, url := startServer(t, Options{})
	loadLogs(t, s, true)
	score := func(resp map[string]any, i int) float64 {
		f, _ := dig(resp, "hits", "hits", i, "_score").(json.Number).Float64()
		return f
	}
	// A should clause ranks matching documents first; a boost reorders.
	_, resp, _ := call(t, url, "POST", "/logs-*/_search", `{"query":{"bool":{"filter":{"term":{"service.name":"payment-gateway"}},"should":[{"match":{"message":"timeout"}}]}}}`)
	if got := hitIDs(resp)[0]; got != "evt-0014" {
		t.Errorf("should: first hit %s, want evt-0014", got)
	}
	if score(resp, 0) <= score(resp, 1) {
		t.Errorf("should: scores %v, %v not descending", score(resp, 0), score(resp, 1))
	}
	_, resp, _ = call(t, url, "POST", "/logs-*/_search", `{"query":{"bool":{"should":[{"term":{"error.code":{"value":"PRN-2001","boost":5}}},{"term":{"error.code":"PAY-1042"}}]}}}`)
	if got := hitIDs(resp)[0]; got != "evt-0006" {
		t.Errorf("boost: first hit %s, want evt-0006", got)
	}
	// Filters do not score; sorting by field hides scores.
	_, resp, _ = call(t, url, "POST", "/logs-*/_search", `{"query":{"bool":{"filter":{"term":{"service.name":"auth"}}}}}`)
	if score(resp, 0) != 0 {
		t.Errorf("filter-only bool scored %v, want 0", score(resp, 0))
	}
	_, resp, _ = call(t, url, "POST", "/logs-*/_search", `{"query":{"match":{"message":"payment"}},"sort":["@timestamp"]}`)
	if dig(resp, "hits", "hits", 0, "_score") != nil || dig(resp, "hits", "max_score") != nil {
		t.Errorf("field sort: _score/max_score = %v/%v, want null", dig(resp, "hits", "hits", 0, "_score"), dig(resp, "hits", "max_score"))
	}
	// A rarer term scores higher (idf).
	_, resp, _ = call(t, url, "POST", "/logs-*/_search", `{"query":{"match":{"message":"payment crashed"}}}`)
	if got := hitIDs(resp)[0]; got != "evt-0009" {
		t.Errorf("idf: first hit %s, want evt-0009", got)
	}
}

func TestSearchResponseShape(t *testing.T) {
	s, url := startServer(t, Options{})
	loadLogs(t, s, true)
	cases := []struct {
		name string
		path string
		body string
		want map[string]string // dotted path -> JSON value
	}{
		{"total and shards", "/logs-*/_search", `{"size":1}`, map[string]string{
			"hits.total": `{"relation":"eq","value":15}`, "_shards": `{"failed":0,"skipped":0,"successful":2,"total":2}`, "timed_out": `false`}},
		{"track_total_hits int", "/logs-*/_search", `{"track_total_hits":5,"size":0}`, map[string]string{
			"hits.total": `{"relation":"gte","value":5}`, "hits.max_score": `null`, "hits.hits": `[]`}},
		{"track_total_hits false", "/logs-*/_search", `{"track_total_hits":false,"size":0}`, map[string]string{"hits.total": `<absent>`}},
		{"rest_total_hits_as_int", "/logs-*/_search?rest_total_hits_as_int=true&size=0", ``, map[string]string{"hits.total": `15`}},
		{"source disabled", "/logs-*/_search", `{"size":1,"_source":false}`, map[string]string{"hits.hits.0._source": `<absent>`}},
		{"source excludes", "/logs-pos-2026.11.21/_search", `{"_source":{"excludes":["labels.tenant_id","message","user","@timestamp","event","log","service"]}}`, map[string]string{
			"hits.hits.0._source": `{"labels":{},"labels.device_id":"tab-1a2b3c","labels.order_id":"ord_2611212358"}`}},
		{"source exclude covers dotted keys", "/logs-pos-2026.11.21/_search", `{"_source":{"excludes":["labels","message","user.id","@timestamp","event","log","service"]}}`, map[string]string{
			"hits.hits.0._source": `{}`}},
		{"source includes wildcard", "/logs-pos-2026.11.21/_search", `{"_source":{"includes":["labels.*"]}}`, map[string]string{
			"hits.hits.0._source": `{"labels":{"tenant_id":"rst-0042"},"labels.device_id":"tab-1a2b3c","labels.order_id":"ord_2611212358"}`}},
		{"sort values", "/logs-pos-2026.11.21/_search", `{"sort":[{"@timestamp":"desc"},{"service.name":"asc"},{"missing_field":{"unmapped_type":"long"}}]}`, map[string]string{
			"hits.hits.0.sort": `[1795305490120,"order-api",9223372036854775807]`}},
		{"sort format", "/logs-pos-2026.11.21/_search", `{"sort":[{"@timestamp":{"order":"desc","format":"yyyy-MM-dd HH:mm"}}]}`, map[string]string{
			"hits.hits.0.sort": `["2026-11-21 23:58"]`}},
		{"version and seq_no", "/logs-pos-2026.11.21/_search", `{"version":true,"seq_no_primary_term":true}`, map[string]string{
			"hits.hits.0._version": `1`, "hits.hits.0._primary_term": `1`, "hits.hits.0._seq_no": `0`}},
		{"wildcard matching nothing", "/nothing-*/_search", `{}`, map[string]string{
			"hits.total": `{"relation":"eq","value":0}`, "_shards": `{"failed":0,"skipped":0,"successful":0,"total":0}`}},
		{"ignore_unavailable", "/missing,logs-pos-2026.11.21/_search?ignore_unavailable=true", `{"size":0}`, map[string]string{
			"hits.total": `{"relation":"eq","value":1}`}},
		// labels.app_version is mapped only in the 11.22 index: the other
		// shard fails to sort and the answer is partial, as on Elasticsearch.
		{"partial shard failure", "/logs-*/_search", `{"sort":[{"labels.app_version":"asc"}],"size":1}`, map[string]string{
			"_shards.failed": `1`, "_shards.successful": `1`, "hits.hits.0._id": `"evt-0015"`,
			"_shards.failures.0.reason.type": `"query_shard_exception"`, "_shards.failures.0.index": `"logs-pos-2026.11.21"`}},
		{"filter_path", "/logs-*/_search?filter_path=hits.hits._id,hits.total.value&size=1&sort=event.id", ``, map[string]string{
			"": `{"hits":{"hits":[{"_id":"evt-0001"}],"total":{"value":15}}}`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, resp, _ := call(t, url, "POST", c.path, c.body)
			if code != 200 {
				t.Fatalf("status %d: %v", code, resp)
			}
			for path, want := range c.want {
				var v any = resp
				if path != "" {
					for _, p := range strings.Split(path, ".") {
						var n int
						if _, err := fmt.Sscanf(p, "%d", &n); err == nil && fmt.Sprint(n) == p {
							v = dig(v, n)
						} else {
							m, ok := v.(map[string]any)
							if !ok {
								v = nil
								break
							}
							x, present := m[p]
							if !present {
								v = "<absent>"
								break
							}
							v = x
						}
					}
				}
				got := "<absent>"
				if v != "<absent>" {
					b, _ := json.Marshal(v)
					got = string(b)
				}
				if got != want {
					t.Errorf("%s = %s, want %s", path, got, want)
				}
			}
		})
	}
}

// TestSearchErrors checks that what the server does not implement, and what
// Elasticsearch rejects, comes back in Elasticsearch's error envelope.
func TestSearchErrors(t *testing.T) {
	s, url := startServer(t, Options{})
	loadLogs(t, s, true)
	cases := []struct {
		name     string
		path     string
		body     string
		status   int
		typ      string // error.type
		rootType string // error.root_cause[0].type, when it differs
		reason   string // substring of error.reason
	}{
		{"unknown query", "/logs-*/_search", `{"query":{"foo":{}}}`, 400, "parsing_exception", "", "unknown query [foo]"},
		{"query_string refused", "/logs-*/_search", `{"query":{"query_string":{"query":"tenant:x"}}}`, 400, "parsing_exception", "", "[query_string] query is not supported"},
		{"script refused", "/logs-*/_search", `{"query":{"bool":{"filter":{"script":{"script":"1"}}}}}`, 400, "parsing_exception", "", "[script] query is not supported"},
		{"bool unknown clause", "/logs-*/_search", `{"query":{"bool":{"musts":[]}}}`, 400, "parsing_exception", "", "[bool] query does not support [musts]"},
		{"term two fields", "/logs-*/_search", `{"query":{"term":{"a":"x","b":"y"}}}`, 400, "parsing_exception", "", "[term] query doesn't support multiple fields"},
		{"two queries in one object", "/logs-*/_search", `{"query":{"term":{"a":"x"},"match":{"b":"y"}}}`, 400, "parsing_exception", "", "malformed query"},
		{"unknown body key", "/logs-*/_search", `{"foo":{}}`, 400, "parsing_exception", "", "Unknown key for a START_OBJECT in [foo]."},
		{"highlight refused", "/logs-*/_search", `{"highlight":{"fields":{"message":{}}}}`, 400, "parsing_exception", "", "[highlight] is not supported"},
		{"unknown aggregation", "/logs-*/_search", `{"aggs":{"x":{"foo":{"field":"a"}}}}`, 400, "parsing_exception", "", "Unknown aggregation type [foo]"},
		{"unimplemented aggregation", "/logs-*/_search", `{"aggs":{"x":{"percentiles":{"field":"a"}}}}`, 400, "parsing_exception", "", "not supported by esdev"},
		{"unknown agg param", "/logs-*/_search", `{"aggs":{"x":{"terms":{"field":"a","foo":1}}}}`, 400, "x_content_parse_exception", "", "[terms] unknown field [foo]"},
		{"sub-aggregation under metric", "/logs-*/_search", `{"aggs":{"x":{"max":{"field":"a"},"aggs":{"y":{"min":{"field":"b"}}}}}}`, 400, "aggregation_initialization_exception", "", "cannot accept sub-aggregations"},
		{"malformed JSON", "/logs-*/_search", `{"query":`, 400, "x_content_parse_exception", "", "failed to parse"},
		{"negative size", "/logs-*/_search", `{"size":-1}`, 400, "illegal_argument_exception", "", "[size] parameter cannot be negative"},
		{"result window", "/logs-*/_search", `{"from":9999,"size":10}`, 400, "illegal_argument_exception", "", "Result window is too large"},
		{"bad size param", "/logs-*/_search?size=surprise_me", ``, 400, "illegal_argument_exception", "", "Failed to parse int parameter [size] with value [surprise_me]"},
		{"unknown URL parameter", "/logs-*/_search?foo=1", ``, 400, "illegal_argument_exception", "", "contains unrecognized parameter: [foo]"},
		{"q parameter refused", "/logs-*/_search?q=tenant:x", ``, 400, "illegal_argument_exception", "", "[q] parameter"},
		{"sort on text", "/logs-*/_search", `{"sort":["message"]}`, 400, "search_phase_execution_exception", "illegal_argument_exception", "all shards failed"},
		{"sort on unmapped", "/logs-*/_search", `{"sort":["nope"]}`, 400, "search_phase_execution_exception", "query_shard_exception", "all shards failed"},
		{"bad date", "/logs-*/_search", `{"query":{"range":{"@timestamp":{"gte":"yesterday"}}}}`, 400, "search_phase_execution_exception", "query_shard_exception", "all shards failed"},
		{"terms agg on text", "/logs-*/_search", `{"aggs":{"m":{"terms":{"field":"message"}}}}`, 400, "search_phase_execution_exception", "illegal_argument_exception", "all shards failed"},
		{"missing index", "/no-such-index/_search", `{}`, 404, "index_not_found_exception", "", "no such index [no-such-index]"},
		{"missing index in list", "/logs-pos-2026.11.21,no-such-index/_search", `{}`, 404, "index_not_found_exception", "", "no such index [no-such-index]"},
		{"allow_no_indices=false", "/nothing-*/_search?allow_no_indices=false", `{}`, 404, "index_not_found_exception", "", "no such index [nothing-*]"},
		{"count unknown key", "/logs-*/_count", `{"size":1}`, 400, "parsing_exception", "", "request does not support [size]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, resp, header := call(t, url, "POST", c.path, c.body)
			if code != c.status {
				t.Fatalf("status = %d, want %d: %v", code, c.status, resp)
			}
			if fmt.Sprint(resp["status"]) != fmt.Sprint(c.status) {
				t.Errorf("body status = %v, want %d", resp["status"], c.status)
			}
			if got := dig(resp, "error", "type"); got != c.typ {
				t.Errorf("error.type = %v, want %s", got, c.typ)
			}
			root := c.rootType
			if root == "" {
				root = c.typ
			}
			if got := dig(resp, "error", "root_cause", 0, "type"); got != root {
				t.Errorf("root_cause[0].type = %v, want %s", got, root)
			}
			if reason, _ := dig(resp, "error", "reason").(string); !strings.Contains(reason, c.reason) {
				t.Errorf("error.reason = %q, want it to contain %q", reason, c.reason)
			}
			if header.Get("X-Elastic-Product") != "Elasticsearch" {
				t.Errorf("X-Elastic-Product missing on an error answer")
			}
		})
	}
	// Parsing errors point at the offending key, as Elasticsearch's do.
	_, resp, _ := call(t, url, "POST", "/logs-*/_search", "{\n  \"query\": {\n    \"foo\": {}\n  }\n}")
	if line, col := dig(resp, "error", "line"), dig(resp, "error", "col"); fmt.Sprint(line) != "3" || fmt.Sprint(col) != "5" {
		t.Errorf("line/col = %v/%v, want 3/5", line, col)
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"logs", "logs", true},
		{"logs", "logs-2024", false}, // no '*': the whole name
		{"msg", "msg_id", false},
		{"logs*", "logs-2024", true},
		{"*-2024", "logs-2024", true},
		{"*-2024", "logs-2025", false},
		{"l*s-*4", "logs-2024", true},
		{"a*a", "a", false},
		{"*", "", true},
		{"labels.*", "labels.tenant_id", true},
		{"x/*/y", "x/a/b/y", true}, // '*' crosses '/'
	} {
		if got := wildcardMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}
