package esdev

import (
	"encoding/json"
	"testing"
)

// TestAggregations checks aggregation results (with typed_keys, as the
// typed client asks) against hand-computed answers over the fixture logs.
func TestAggregations(t *testing.T) {
	s, url := startServer(t, Options{})
	loadLogs(t, s, true)
	cases := []struct {
		name string
		body string
		want map[string]string // aggregation key -> expected JSON
	}{
		{"terms with sub min", `{"size":0,"query":{"term":{"log.level":"error"}},"aggs":{"svc":{"terms":{"field":"service.name","size":2},"aggs":{"first":{"min":{"field":"@timestamp"}}}}}}`, map[string]string{
			"sterms#svc": `{"buckets":[{"doc_count":4,"key":"payment-gateway","min#first":{"value":1795341601000,"value_as_string":"2026-11-22T10:00:01.000Z"}},{"doc_count":1,"key":"menu-sync","min#first":{"value":1795342260000,"value_as_string":"2026-11-22T10:11:00.000Z"}}],"doc_count_error_upper_bound":0,"sum_other_doc_count":2}`}},
		{"terms order by key", `{"size":0,"aggs":{"lvl":{"terms":{"field":"log.level","order":{"_key":"asc"}}}}}`, map[string]string{
			"sterms#lvl": `{"buckets":[{"doc_count":1,"key":"debug"},{"doc_count":7,"key":"error"},{"doc_count":1,"key":"fatal"},{"doc_count":4,"key":"info"},{"doc_count":2,"key":"warn"}],"doc_count_error_upper_bound":0,"sum_other_doc_count":0}`}},
		{"terms order by sub-aggregation", `{"size":0,"aggs":{"t":{"terms":{"field":"labels.tenant_id","order":{"last":"desc"}},"aggs":{"last":{"max":{"field":"@timestamp"}}}}}}`, map[string]string{
			"sterms#t": `{"buckets":[{"doc_count":2,"key":"rst-0300","max#last":{"value":1795347000000,"value_as_string":"2026-11-22T11:30:00.000Z"}},{"doc_count":9,"key":"rst-0042","max#last":{"value":1795342800000,"value_as_string":"2026-11-22T10:20:00.000Z"}},{"doc_count":4,"key":"rst-0107","max#last":{"value":1795342260000,"value_as_string":"2026-11-22T10:11:00.000Z"}}],"doc_count_error_upper_bound":0,"sum_other_doc_count":0}`}},
		{"terms on long", `{"size":0,"aggs":{"st":{"terms":{"field":"http.response.status_code"}}}}`, map[string]string{
			"lterms#st": `{"buckets":[{"doc_count":3,"key":503},{"doc_count":1,"key":200},{"doc_count":1,"key":504}],"doc_count_error_upper_bound":0,"sum_other_doc_count":0}`}},
		{"terms unmapped", `{"size":0,"aggs":{"u":{"terms":{"field":"nope"}}}}`, map[string]string{
			"umterms#u": `{"buckets":[],"doc_count_error_upper_bound":0,"sum_other_doc_count":0}`}},
		{"terms include and missing", `{"size":0,"aggs":{"c":{"terms":{"field":"error.code","include":"PAY-.*|none","missing":"none"}}}}`, map[string]string{
			"sterms#c": `{"buckets":[{"doc_count":6,"key":"none"},{"doc_count":4,"key":"PAY-1042"}],"doc_count_error_upper_bound":0,"sum_other_doc_count":0}`}},
		{"metrics", `{"size":0,"query":{"exists":{"field":"http.response.status_code"}},"aggs":{"mx":{"max":{"field":"http.response.status_code"}},"av":{"avg":{"field":"http.response.status_code"}},"sm":{"sum":{"field":"http.response.status_code"}},"vc":{"value_count":{"field":"http.response.status_code"}},"cd":{"cardinality":{"field":"http.response.status_code"}},"st":{"stats":{"field":"http.response.status_code"}}}}`, map[string]string{
			"max#mx":         `{"value":504}`,
			"avg#av":         `{"value":442.6}`,
			"sum#sm":         `{"value":2213}`,
			"value_count#vc": `{"value":5}`,
			"cardinality#cd": `{"value":3}`,
			"stats#st":       `{"avg":442.6,"count":5,"max":504,"min":200,"sum":2213}`,
		}},
		{"metrics on no documents", `{"size":0,"query":{"match_none":{}},"aggs":{"mn":{"min":{"field":"@timestamp"}},"vc":{"value_count":{"field":"error.code"}}}}`, map[string]string{
			"min#mn": `{"value":null}`, "value_count#vc": `{"value":0}`}},
		{"date_histogram fixed with gaps filled", `{"size":0,"query":{"term":{"service.name":"payment-gateway"}},"aggs":{"h":{"date_histogram":{"field":"@timestamp","fixed_interval":"30m"}}}}`, map[string]string{
			"date_histogram#h": `{"buckets":[{"doc_count":4,"key":1795341600000,"key_as_string":"2026-11-22T10:00:00.000Z"},{"doc_count":0,"key":1795343400000,"key_as_string":"2026-11-22T10:30:00.000Z"},{"doc_count":1,"key":1795345200000,"key_as_string":"2026-11-22T11:00:00.000Z"}]}`}},
		{"date_histogram calendar day in Tokyo", `{"size":0,"aggs":{"d":{"date_histogram":{"field":"@timestamp","calendar_interval":"day","time_zone":"Asia/Tokyo","min_doc_count":1}}}}`, map[string]string{
			"date_histogram#d": `{"buckets":[{"doc_count":15,"key":1795273200000,"key_as_string":"2026-11-22T00:00:00.000+09:00"}]}`}},
		{"date_histogram hourly with sub terms and format", `{"size":0,"query":{"range":{"@timestamp":{"gte":"2026-11-22T11:00:00Z"}}},"aggs":{"h":{"date_histogram":{"field":"@timestamp","calendar_interval":"1h","format":"yyyy-MM-dd HH:mm"},"aggs":{"s":{"terms":{"field":"service.name"}}}}}}`, map[string]string{
			"date_histogram#h": `{"buckets":[{"doc_count":2,"key":1795345200000,"key_as_string":"2026-11-22 11:00","sterms#s":{"buckets":[{"doc_count":1,"key":"order-api"},{"doc_count":1,"key":"payment-gateway"}],"doc_count_error_upper_bound":0,"sum_other_doc_count":0}}]}`}},
		{"date_histogram extended bounds", `{"size":0,"query":{"ids":{"values":["evt-0015"]}},"aggs":{"h":{"date_histogram":{"field":"@timestamp","fixed_interval":"1h","extended_bounds":{"min":"2026-11-22T10:00:00Z","max":"2026-11-22T12:00:00Z"}}}}}`, map[string]string{
			"date_histogram#h": `{"buckets":[{"doc_count":0,"key":1795341600000,"key_as_string":"2026-11-22T10:00:00.000Z"},{"doc_count":1,"key":1795345200000,"key_as_string":"2026-11-22T11:00:00.000Z"},{"doc_count":0,"key":1795348800000,"key_as_string":"2026-11-22T12:00:00.000Z"}]}`}},
		{"filter and filters", `{"size":0,"aggs":{"f":{"filter":{"term":{"labels.tenant_id":"rst-0107"}},"aggs":{"lv":{"cardinality":{"field":"log.level"}}}},"fs":{"filters":{"filters":{"pay":{"prefix":{"error.code":"PAY"}},"ord":{"prefix":{"error.code":"ORD"}}},"other_bucket_key":"rest"}}}}`, map[string]string{
			"filter#f":   `{"cardinality#lv":{"value":3},"doc_count":4}`,
			"filters#fs": `{"buckets":{"ord":{"doc_count":2},"pay":{"doc_count":4},"rest":{"doc_count":9}}}`}},
		{"top_hits", `{"size":0,"aggs":{"t":{"terms":{"field":"error.code","size":1},"aggs":{"latest":{"top_hits":{"size":1,"sort":[{"@timestamp":"desc"}],"_source":["message"]}}}}}}`, map[string]string{
			"sterms#t": `{"buckets":[{"doc_count":4,"key":"PAY-1042","top_hits#latest":{"hits":{"hits":[{"_id":"evt-0014","_index":"logs-pos-2026.11.22","_score":null,"_source":{"message":"payment gateway timeout after 30s"},"sort":[1795345200000]}],"max_score":null,"total":{"relation":"eq","value":4}}}}],"doc_count_error_upper_bound":0,"sum_other_doc_count":5}`}},
		{"meta", `{"size":0,"aggs":{"m":{"max":{"field":"@timestamp"},"meta":{"owner":"enricher"}}}}`, map[string]string{
			"max#m": `{"meta":{"owner":"enricher"},"value":1795347000000,"value_as_string":"2026-11-22T11:30:00.000Z"}`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, resp, _ := call(t, url, "POST", "/logs-*/_search?typed_keys=true", c.body)
			if code != 200 {
				t.Fatalf("status %d: %v", code, resp)
			}
			aggs, _ := resp["aggregations"].(map[string]any)
			for key, want := range c.want {
				got, _ := json.Marshal(aggs[key])
				if !jsonEqual(t, string(got), want) {
					t.Errorf("%s =\n  %s\nwant\n  %s", key, got, want)
				}
			}
			if len(aggs) != len(c.want) {
				t.Errorf("aggregation keys = %v, want %d", keys(aggs), len(c.want))
			}
		})
	}
	// Without typed_keys the names are bare.
	_, resp, _ := call(t, url, "POST", "/logs-*/_search", `{"size":0,"aggs":{"svc":{"terms":{"field":"service.name"}}}}`)
	if _, ok := dig(resp, "aggregations", "svc").(map[string]any); !ok {
		t.Errorf("untyped aggregation key missing: %v", resp["aggregations"])
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// jsonEqual compares two JSON texts as values.
func jsonEqual(tb testing.TB, a, b string) bool {
	tb.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		tb.Fatalf("bad JSON %s: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		tb.Fatalf("bad JSON %s: %v", b, err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
