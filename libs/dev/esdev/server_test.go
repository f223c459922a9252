package esdev

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

func TestMain(m *testing.M) {
	testkit.Main(m)
}

func TestInfoAndHeaders(t *testing.T) {
	_, url := startServer(t, Options{ClusterName: "demo"})
	code, resp, h := call(t, url, "GET", "/", "")
	if code != 200 || dig(resp, "cluster_name") != "demo" || !strings.HasPrefix(fmt.Sprint(dig(resp, "version", "number")), "8.19.") || dig(resp, "tagline") != "You Know, for Search" {
		t.Errorf("GET / = %d %v", code, resp)
	}
	if h.Get("X-Elastic-Product") != "Elasticsearch" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", h)
	}
	code, raw, h := callRaw(t, url, "HEAD", "/", "")
	if code != 200 || len(raw) != 0 || h.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Errorf("HEAD / = %d %q %v", code, raw, h)
	}
	// The typed client's media type is echoed back.
	req, _ := http.NewRequest("POST", url+"/_search", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/vnd.elasticsearch+json;compatible-with=8")
	req.Header.Set("Accept", "application/vnd.elasticsearch+json;compatible-with=8")
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 200 || resp2.Header.Get("Content-Type") != "application/vnd.elasticsearch+json;compatible-with=8" {
		t.Errorf("compat request: %d %s", resp2.StatusCode, resp2.Header.Get("Content-Type"))
	}
}

func TestRequestHandling(t *testing.T) {
	_, url := startServer(t, Options{})
	send := func(method, path, ctype, body string, gz bool) (int, string, http.Header) {
		var rd io.Reader = strings.NewReader(body)
		if gz {
			var buf bytes.Buffer
			w := gzip.NewWriter(&buf)
			w.Write([]byte(body))
			w.Close()
			rd = &buf
		}
		req, _ := http.NewRequest(method, url+path, rd)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if gz {
			req.Header.Set("Content-Encoding", "gzip")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	cases := []struct {
		name, method, path, ctype, body string
		gzip                            bool
		status                          int
		contains                        string
	}{
		{"text/plain refused", "POST", "/_search", "text/plain", `{}`, false, 406, `"error":"Content-Type header [text/plain] is not supported","status":406`},
		{"ndjson accepted for search", "POST", "/_search", "application/x-ndjson", `{}`, false, 200, `"hits"`},
		{"charset accepted", "POST", "/_search", "application/json; charset=UTF-8", `{}`, false, 200, `"hits"`},
		{"compat 9 refused", "POST", "/_search", "application/vnd.elasticsearch+json;compatible-with=9", `{}`, false, 400, `media_type_header_exception`},
		{"gzip body", "POST", "/_search", "application/json", `{"size":0}`, true, 200, `"hits"`},
		{"unknown endpoint", "GET", "/_nodes/stats", "", ``, false, 400, `"error":"no handler found for uri [/_nodes/stats] and method [GET]"`},
		{"wrong method", "DELETE", "/_search", "", ``, false, 405, `Incorrect HTTP method for uri [/_search] and method [DELETE], allowed: [GET POST]`},
		{"pretty", "GET", "/?pretty", "", ``, false, 200, "{\n  \""},
		{"filter_path with wildcard", "GET", "/?filter_path=version.minimum_*", "", ``, false, 200, `{"version":{"minimum_index_compatibility_version":"7.0.0","minimum_wire_compatibility_version":"7.17.0"}}`},
		{"filter_path exclusion", "GET", "/?filter_path=-version,-cluster_uuid,-name,-tagline", "", ``, false, 200, `{"cluster_name":"esdev"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body, h := send(c.method, c.path, c.ctype, c.body, c.gzip)
			if code != c.status || !strings.Contains(body, c.contains) {
				t.Errorf("%s %s = %d %s; want %d containing %s", c.method, c.path, code, body, c.status, c.contains)
			}
			if h.Get("X-Elastic-Product") != "Elasticsearch" {
				t.Errorf("X-Elastic-Product missing")
			}
		})
	}
}

func TestIndexLifecycle(t *testing.T) {
	_, url := startServer(t, Options{})
	steps := []struct {
		method, path, body string
		status             int
		check              map[string]string // dotted path -> JSON
	}{
		{"HEAD", "/tickets", "", 404, nil},
		{"PUT", "/tickets", `{"settings":{"number_of_shards":2,"number_of_replicas":0},"mappings":{"properties":{"title":{"type":"text"},"tenant":{"type":"keyword"},"opened":{"type":"date","format":"yyyy-MM-dd HH:mm||epoch_millis"}}},"aliases":{"open-tickets":{"filter":{"term":{"tenant":"rst-0042"}}}}}`, 200,
			map[string]string{"acknowledged": `true`, "shards_acknowledged": `true`, "index": `"tickets"`}},
		{"HEAD", "/tickets", "", 200, nil},
		{"PUT", "/tickets", `{}`, 400, map[string]string{"error.type": `"resource_already_exists_exception"`, "error.index": `"tickets"`}},
		{"PUT", "/Tickets", `{}`, 400, map[string]string{"error.type": `"invalid_index_name_exception"`}},
		{"PUT", "/bad", `{"mappings":{"properties":{"x":{"type":"nonsense"}}}}`, 400, map[string]string{"error.type": `"mapper_parsing_exception"`}},
		{"PUT", "/tickets/_doc/1", `{"title":"Printer offline","tenant":"rst-0042","opened":"2026-11-22 10:00"}`, 201,
			map[string]string{"result": `"created"`, "_version": `1`, "_seq_no": `0`, "_primary_term": `1`, "_shards": `{"failed":0,"successful":1,"total":1}`}},
		{"PUT", "/tickets/_doc/1", `{"title":"Printer offline again","tenant":"rst-0042","opened":"2026-11-22 10:05"}`, 200,
			map[string]string{"result": `"updated"`, "_version": `2`, "_seq_no": `1`}},
		{"PUT", "/tickets/_create/1", `{"title":"dup"}`, 409, map[string]string{"error.type": `"version_conflict_engine_exception"`}},
		{"PUT", "/tickets/_doc/2?op_type=create", `{"title":"Card payments fail","tenant":"rst-0107","opened":1795341600000}`, 201, nil},
		{"PUT", "/tickets/_doc/3", `{"title":"bad date","opened":"yesterday"}`, 400, map[string]string{"error.type": `"document_parsing_exception"`}},
		{"PUT", "/tickets/_doc/1?if_seq_no=0", `{"title":"stale"}`, 409, map[string]string{"error.type": `"version_conflict_engine_exception"`}},
		{"GET", "/tickets/_doc/1", "", 200, map[string]string{"found": `true`, "_version": `2`, "_source.title": `"Printer offline again"`}},
		{"GET", "/tickets/_doc/1?_source_includes=tenant", "", 200, map[string]string{"_source": `{"tenant":"rst-0042"}`}},
		{"GET", "/tickets/_doc/9", "", 404, map[string]string{"found": `false`, "_id": `"9"`}},
		{"GET", "/nope/_doc/9", "", 404, map[string]string{"error.type": `"index_not_found_exception"`}},
		{"POST", "/tickets/_update/2", `{"doc":{"tenant":"rst-0300"}}`, 200, map[string]string{"result": `"updated"`, "_version": `2`}},
		{"POST", "/tickets/_update/2", `{"doc":{"tenant":"rst-0300"}}`, 200, map[string]string{"result": `"noop"`}},
		{"POST", "/tickets/_update/7", `{"doc":{"tenant":"x"}}`, 404, map[string]string{"error.type": `"document_missing_exception"`}},
		{"POST", "/tickets/_refresh", "", 200, map[string]string{"_shards": `{"failed":0,"successful":2,"total":2}`}},
		{"GET", "/tickets/_count", "", 200, map[string]string{"count": `2`, "_shards.total": `2`}},
		{"POST", "/open-tickets/_search", `{}`, 200, map[string]string{"hits.total.value": `1`, "hits.hits.0._id": `"1"`}},
		{"POST", "/tickets/_search", `{"query":{"range":{"opened":{"gte":"2026-11-22 10:01"}}}}`, 200, map[string]string{"hits.total.value": `1`}},
		{"GET", "/tickets", "", 200, map[string]string{"tickets.settings.index.number_of_shards": `"2"`, "tickets.mappings.properties.tenant": `{"type":"keyword"}`, "tickets.aliases.open-tickets.filter.term.tenant": `"rst-0042"`}},
		{"PUT", "/tickets/_mapping", `{"properties":{"priority":{"type":"keyword"}}}`, 200, map[string]string{"acknowledged": `true`}},
		{"PUT", "/tickets/_mapping", `{"properties":{"tenant":{"type":"text"}}}`, 400, map[string]string{"error.type": `"illegal_argument_exception"`}},
		{"GET", "/tickets/_mapping", "", 200, map[string]string{"tickets.mappings.properties.priority": `{"type":"keyword"}`}},
		{"DELETE", "/tickets/_doc/1", "", 200, map[string]string{"result": `"deleted"`, "_version": `3`}},
		{"DELETE", "/tickets/_doc/1", "", 404, map[string]string{"result": `"not_found"`}},
		{"GET", "/tickets/_count", "", 200, map[string]string{"count": `1`}},
		{"POST", "/tickets/_doc", `{"title":"auto id"}`, 201, map[string]string{"result": `"created"`}},
		{"GET", "/_cluster/health", "", 200, map[string]string{"status": `"green"`, "number_of_nodes": `1`, "active_primary_shards": `2`, "unassigned_shards": `0`}},
		{"PUT", "/replicated", `{}`, 200, nil},
		{"GET", "/_cluster/health", "", 200, map[string]string{"status": `"yellow"`, "unassigned_shards": `1`}},
		{"GET", "/_cluster/health?wait_for_status=green&timeout=1s", "", 408, map[string]string{"timed_out": `true`}},
		{"GET", "/_cluster/health/tickets", "", 200, map[string]string{"status": `"green"`}},
		{"DELETE", "/tickets", "", 200, map[string]string{"acknowledged": `true`}},
		{"DELETE", "/tickets", "", 404, map[string]string{"error.type": `"index_not_found_exception"`}},
		{"HEAD", "/tickets", "", 404, nil},
	}
	for i, st := range steps {
		code, resp, _ := call(t, url, st.method, st.path, st.body)
		if code != st.status {
			t.Fatalf("step %d %s %s: status %d, want %d: %v", i, st.method, st.path, code, st.status, resp)
		}
		for path, want := range st.check {
			if got := lookupJSON(resp, path); got != want {
				t.Errorf("step %d %s %s: %s = %s, want %s", i, st.method, st.path, path, got, want)
			}
		}
	}
}

// lookupJSON renders the value at a dotted path (numbers index arrays).
func lookupJSON(v any, path string) string {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			var n int
			if _, err := fmt.Sscanf(p, "%d", &n); err != nil || n >= len(x) {
				return "<absent>"
			}
			v = x[n]
		default:
			return "<absent>"
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestBulk(t *testing.T) {
	_, url := startServer(t, Options{})
	body := `{"index":{"_index":"a","_id":"1"}}
{"msg":"one","n":1}
{"create":{"_index":"a","_id":"1"}}
{"msg":"dup"}
{"create":{"_id":"2"}}
{"msg":"two","n":"x"}
{"index":{"_index":"a","_id":"3"}}
{"msg":"three","n":"not a number"}
{"update":{"_index":"a","_id":"1"}}
{"doc":{"msg":"one!"}}
{"update":{"_index":"a","_id":"9"}}
{"doc":{"msg":"nine"}}
{"delete":{"_index":"a","_id":"2"}}
{"index":{"_index":"a"}}
{"msg":"auto"}
`
	code, resp, _ := call(t, url, "POST", "/b/_bulk", body)
	if code != 200 {
		t.Fatalf("bulk: %d %v", code, resp)
	}
	want := []struct {
		action, index, result, errType string
		status                         int
	}{
		{"index", "a", "created", "", 201},
		{"create", "a", "", "version_conflict_engine_exception", 409},
		{"create", "b", "created", "", 201},
		{"index", "a", "", "document_parsing_exception", 400},
		{"update", "a", "updated", "", 200},
		{"update", "a", "", "document_missing_exception", 404},
		{"delete", "a", "not_found", "", 404},
		{"index", "a", "created", "", 201},
	}
	items, _ := resp["items"].([]any)
	if resp["errors"] != true || len(items) != len(want) {
		t.Fatalf("errors=%v items=%d", resp["errors"], len(items))
	}
	for i, w := range want {
		item := dig(items[i], w.action)
		if item == nil {
			t.Errorf("item %d: no %q key in %v", i, w.action, items[i])
			continue
		}
		if got := lookupJSON(item, "status"); got != fmt.Sprint(w.status) {
			t.Errorf("item %d status = %s, want %d", i, got, w.status)
		}
		if got := dig(item, "_index"); got != w.index {
			t.Errorf("item %d _index = %v, want %s", i, got, w.index)
		}
		if w.result != "" && dig(item, "result") != w.result {
			t.Errorf("item %d result = %v, want %s", i, dig(item, "result"), w.result)
		}
		if w.errType != "" && dig(item, "error", "type") != w.errType {
			t.Errorf("item %d error = %v, want %s", i, dig(item, "error"), w.errType)
		}
		if w.errType == "" && (dig(item, "_seq_no") == nil || dig(item, "_primary_term") == nil || dig(item, "_shards") == nil) {
			t.Errorf("item %d lacks _seq_no/_primary_term/_shards: %v", i, item)
		}
	}
	// Whole-request errors.
	for _, c := range []struct{ body, typ, reason string }{
		{`{"index":{"_index":"a"}}` + "\n" + `{"x":1}`, "illegal_argument_exception", "must be terminated by a newline"},
		{`{"index":{"_id":"1"}}` + "\n" + `{"x":1}` + "\n", "action_request_validation_exception", "index is missing"},
		{`{"upsert":{"_index":"a"}}` + "\n", "illegal_argument_exception", "expected one of [create, delete, index, update] but found [upsert]"},
		{`{"index":{"_index":"a","foo":1}}` + "\n{}\n", "illegal_argument_exception", "unknown parameter [foo]"},
	} {
		code, resp, _ := call(t, url, "POST", "/_bulk", c.body)
		if code != 400 || dig(resp, "error", "type") != c.typ || !strings.Contains(fmt.Sprint(dig(resp, "error", "reason")), c.reason) {
			t.Errorf("bulk %q = %d %v, want 400 %s", c.body, code, resp, c.typ)
		}
	}
}

func TestMsearch(t *testing.T) {
	s, url := startServer(t, Options{})
	loadLogs(t, s, true)
	body := `{"index":"logs-*"}
{"query":{"term":{"labels.tenant_id":"rst-0300"}},"size":1}
{"index":"missing"}
{"query":{"match_all":{}}}
{}
{"query":{"foo":{}}}
{"index":["logs-pos-2026.11.21"],"ignore_unavailable":true}
{"size":0,"aggs":{"s":{"terms":{"field":"service.name"}}}}
`
	code, resp, _ := call(t, url, "POST", "/logs-pos-2026.11.22/_msearch?typed_keys=true", body)
	if code != 200 {
		t.Fatalf("msearch: %d %v", code, resp)
	}
	checks := map[string]string{
		"responses.0.status":                          `200`,
		"responses.0.hits.total.value":                `2`,
		"responses.1.status":                          `404`,
		"responses.1.error.type":                      `"index_not_found_exception"`,
		"responses.2.status":                          `400`,
		"responses.2.error.type":                      `"parsing_exception"`,
		"responses.3.status":                          `200`,
		"responses.3.aggregations.sterms#s.buckets.0": `{"doc_count":1,"key":"order-api"}`,
	}
	for path, want := range checks {
		if got := lookupJSON(resp, path); got != want {
			t.Errorf("%s = %s, want %s", path, got, want)
		}
	}
	code, resp, _ = call(t, url, "POST", "/_msearch", `{"foo":1}`+"\n{}\n")
	if code != 400 || !strings.Contains(fmt.Sprint(dig(resp, "error", "reason")), "key [foo] is not supported in the metadata section") {
		t.Errorf("bad header: %d %v", code, resp)
	}
}

func TestTemplates(t *testing.T) {
	_, url := startServer(t, Options{})
	steps := []struct {
		method, path, body string
		status             int
	}{
		{"PUT", "/_component_template/ecs-base", `{"template":{"mappings":{"properties":{"@timestamp":{"type":"date"},"labels":{"type":"object"}}}}}`, 200},
		{"PUT", "/_index_template/logs", `{"index_patterns":["logs-*"],"composed_of":["ecs-base"],"priority":10,"template":{"settings":{"number_of_replicas":0},"mappings":{"date_detection":false,"dynamic_templates":[{"strings":{"match_mapping_type":"string","mapping":{"type":"keyword"}}}],"properties":{"message":{"type":"match_only_text"}}}}}`, 200},
		{"PUT", "/_index_template/broken", `{"index_patterns":["x-*"],"composed_of":["missing"]}`, 400},
		{"GET", "/_index_template/logs", "", 200},
		{"HEAD", "/_index_template/logs", "", 200},
		{"GET", "/_index_template/nope", "", 404},
		{"DELETE", "/_component_template/ecs-base", "", 400},
		{"POST", "/logs-app/_doc/1", `{"@timestamp":"2026-11-22T10:00:00Z","message":"Printer offline","labels":{"tenant_id":"rst-0042"},"when":"2026-11-22"}`, 201},
	}
	for i, st := range steps {
		code, resp, _ := call(t, url, st.method, st.path, st.body)
		if code != st.status {
			t.Fatalf("step %d %s %s: %d, want %d: %v", i, st.method, st.path, code, st.status, resp)
		}
	}
	_, resp, _ := call(t, url, "GET", "/logs-app/_mapping", "")
	want := map[string]string{
		"logs-app.mappings.properties.@timestamp.type":             `"date"`,
		"logs-app.mappings.properties.message.type":                `"match_only_text"`,
		"logs-app.mappings.properties.labels.properties.tenant_id": `{"type":"keyword"}`,
		"logs-app.mappings.properties.when":                        `{"type":"keyword"}`, // date_detection is off
	}
	for path, w := range want {
		if got := lookupJSON(resp, path); got != w {
			t.Errorf("%s = %s, want %s", path, got, w)
		}
	}
	_, resp, _ = call(t, url, "GET", "/logs-app", "")
	if got := lookupJSON(resp, "logs-app.settings.index.number_of_replicas"); got != `"0"` {
		t.Errorf("replicas from template = %s", got)
	}
}

func TestDynamicMapping(t *testing.T) {
	_, url := startServer(t, Options{})
	call(t, url, "PUT", "/d/_doc/1", `{"s":"text here","n":3,"f":1.5,"b":true,"t":"2026-11-22T10:00:00Z","o":{"x.y":"deep"},"a":["one","two"],"nil":null}`)
	_, resp, _ := call(t, url, "GET", "/d/_mapping", "")
	want := map[string]string{
		"d.mappings.properties.s":                                `{"fields":{"keyword":{"ignore_above":256,"type":"keyword"}},"type":"text"}`,
		"d.mappings.properties.n":                                `{"type":"long"}`,
		"d.mappings.properties.f":                                `{"type":"float"}`,
		"d.mappings.properties.b":                                `{"type":"boolean"}`,
		"d.mappings.properties.t":                                `{"type":"date"}`,
		"d.mappings.properties.o.properties.x.properties.y.type": `"text"`,
		"d.mappings.properties.a.type":                           `"text"`,
		"d.mappings.properties.nil":                              `null`,
	}
	for path, w := range want {
		if got := lookupJSON(resp, path); got != w {
			t.Errorf("%s = %s, want %s", path, got, w)
		}
	}
	// A later document cannot turn an object into a value or the reverse.
	code, resp, _ := call(t, url, "PUT", "/d/_doc/2", `{"o":"flat"}`)
	if code != 400 || dig(resp, "error", "type") != "document_parsing_exception" {
		t.Errorf("object as value: %d %v", code, resp)
	}
	code, _, _ = call(t, url, "PUT", "/d/_doc/3", `{"n":{"x":1}}`)
	if code != 400 {
		t.Errorf("value as object: %d", code)
	}
	// Strict mappings refuse new fields.
	call(t, url, "PUT", "/strict", `{"mappings":{"dynamic":"strict","properties":{"a":{"type":"keyword"}}}}`)
	code, resp, _ = call(t, url, "PUT", "/strict/_doc/1", `{"a":"x","b":"y"}`)
	if code != 400 || dig(resp, "error", "type") != "strict_dynamic_mapping_exception" {
		t.Errorf("strict: %d %v", code, resp)
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	s := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	url, stop, err := s.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if code, _, _ := call(t, url, "GET", "/", ""); code != 200 {
		t.Fatalf("GET / = %d", code)
	}
	http.DefaultClient.CloseIdleConnections()
	cancel()
	stop()
	client := &http.Client{Timeout: time.Second}
	if _, err := client.Get(url + "/"); err == nil {
		t.Errorf("server still answers after its context ended")
	}
}

func TestRequestLogAndStats(t *testing.T) {
	var log RequestLog
	_, url := startServer(t, Options{OnRequest: log.Record})
	call(t, url, "POST", "/_search?typed_keys=true", `{"size":0}`)
	call(t, url, "GET", "/", "")
	reqs := log.Requests()
	if len(reqs) != 2 || reqs[0].Endpoint != "search" || reqs[0].Query.Get("typed_keys") != "true" || string(reqs[0].Body) != `{"size":0}` || reqs[0].Header.Get("Content-Type") != "application/json" {
		t.Errorf("recorded = %+v", reqs)
	}
	_, resp, _ := call(t, url, "GET", "/_dev/stats", "")
	if lookupJSON(resp, "by_endpoint.search") != "1" || lookupJSON(resp, "by_endpoint.info") != "1" {
		t.Errorf("stats = %v", resp)
	}
}

func TestFaultSelection(t *testing.T) {
	s := New(Options{FaultSeed: 7})
	if err := s.InjectFault(Fault{Kind: "bogus"}); err == nil {
		t.Errorf("bogus kind accepted")
	}
	if err := s.InjectFault(Fault{Kind: FaultRejected, Fraction: 0.5, Endpoints: []string{"search"}}); err != nil {
		t.Fatal(err)
	}
	hits := 0
	for i := 0; i < 1000; i++ {
		if _, f := s.faults.pick("search"); f != nil {
			hits++
		}
		if _, f := s.faults.pick("bulk"); f != nil {
			t.Fatalf("fault for search hit bulk")
		}
	}
	if hits < 400 || hits > 600 {
		t.Errorf("fraction 0.5 hit %d of 1000", hits)
	}
	s.ClearFaults()
	if err := s.InjectFault(Fault{Kind: FaultUnavailable, Count: 2, Delay: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if got := s.Faults(); len(got) != 1 || got[0].Count != 2 {
		t.Errorf("faults = %+v", got)
	}
	s.faults.pick("search")
	if got := s.Faults(); len(got) != 1 || got[0].Count != 1 {
		t.Errorf("after one hit: %+v", got)
	}
	s.faults.pick("search")
	if got := s.Faults(); len(got) != 0 {
		t.Errorf("after two hits: %+v", got)
	}
}

// TestConcurrentWritesAndSearches exercises the locking under -race:
// writers create indices and documents while readers search across them.
func TestConcurrentWritesAndSearches(t *testing.T) {
	_, url := startServer(t, Options{})
	done := make(chan error, 8)
	for w := 0; w < 4; w++ {
		go func(w int) {
			var b strings.Builder
			for i := 0; i < 50; i++ {
				fmt.Fprintf(&b, `{"index":{"_index":"c-%d","_id":"%d"}}`+"\n"+`{"n":%d,"tenant":"rst-%04d","@timestamp":"2026-11-22T10:%02d:00Z"}`+"\n", i%3, w*100+i, i, w, i%60)
			}
			code, raw, err := post(url+"/_bulk", b.String())
			if err != nil || code != 200 || bytes.Contains(raw, []byte(`"errors":true`)) {
				done <- fmt.Errorf("bulk: %d %s", code, raw)
				return
			}
			done <- nil
		}(w)
		go func() {
			for i := 0; i < 20; i++ {
				code, raw, err := post(url+"/c-*/_search", `{"query":{"range":{"n":{"gte":10}}},"aggs":{"t":{"terms":{"field":"tenant.keyword"}}}}`)
				if err != nil || code != 200 {
					done <- fmt.Errorf("search: %d %s", code, raw)
					return
				}
			}
			done <- nil
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	_, resp, _ := call(t, url, "GET", "/c-*/_count", "")
	if lookupJSON(resp, "count") != "200" {
		t.Errorf("count = %v, want 200", resp["count"])
	}
}

// post is a goroutine-safe request helper (no testing.TB).
func post(url, body string) (int, []byte, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// Requests that cannot be applied whole change nothing.
func TestRefusedRequestsChangeNothing(t *testing.T) {
	s, url := startServer(t, Options{})
	if code, resp, _ := call(t, url, "PUT", "/a1", ""); code != 200 {
		t.Fatalf("create index: %d %v", code, resp)
	}
	for _, body := range []string{`{"upsert":"x"}`, `{"doc":[1]}`} {
		if code, resp, _ := call(t, url, "POST", "/a1/_update/9", body); code != 400 || dig(resp, "error", "type") != "parsing_exception" {
			t.Errorf("update %s: %d %v", body, code, resp)
		}
	}
	if code, resp, _ := call(t, url, "GET", "/a1/_doc/9", ""); code != 404 || resp["found"] != false {
		t.Errorf("a refused upsert stored a document: %d", code)
	}
	code, resp, _ := call(t, url, "POST", "/_dev/faults", `[{"kind":"rejected"},{"kind":"bogus"}]`)
	if code != 400 || len(s.Faults()) != 0 {
		t.Errorf("fault list with a bad entry: %d %v, %d faults active", code, resp, len(s.Faults()))
	}
}

// A mapping put on two indices at once leaves them independent: a field
// one of them gets later is searchable there and absent from the other.
func TestPutMappingOnTwoIndices(t *testing.T) {
	_, url := startServer(t, Options{})
	for _, ix := range []string{"a1", "a2"} {
		if code, resp, _ := call(t, url, "PUT", "/"+ix, ""); code != 200 {
			t.Fatalf("create %s: %d %v", ix, code, resp)
		}
	}
	if code, resp, _ := call(t, url, "PUT", "/a1,a2/_mapping", `{"properties":{"attrs":{"type":"object"}}}`); code != 200 {
		t.Fatalf("put mapping: %d %v", code, resp)
	}
	for _, ix := range []string{"a1", "a2"} {
		if code, resp, _ := call(t, url, "PUT", "/"+ix+"/_doc/1?refresh=true", `{"attrs":{"foo":"bar"}}`); code != 201 {
			t.Fatalf("index into %s: %d %v", ix, code, resp)
		}
	}
	for _, ix := range []string{"a1", "a2"} {
		code, resp, _ := call(t, url, "POST", "/"+ix+"/_search", `{"query":{"term":{"attrs.foo.keyword":"bar"}}}`)
		if code != 200 || fmt.Sprint(dig(resp, "hits", "total", "value")) != "1" {
			t.Errorf("%s: term on the dynamic field: %d %v", ix, code, dig(resp, "hits", "total"))
		}
	}
}
