package esdev

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// sourceDocs are stored sources with what filtering must get right: nested
// and dotted fields, escapes, empty objects, arrays of scalars and objects.
var sourceDocs = []string{
	`{"@timestamp":"2026-11-22T10:05:00.123Z","message":"payment provider timeout after 3000 ms","log":{"level":"error"},"service":{"name":"payment-gateway"},"trace":{"id":"4bf92f35"},"http":{"request":{"id":"req-1"},"response":{"status_code":504}},"labels":{"order_id":"ord_1","tenant_id":"rst-0042"},"error":{"code":"PAY-1042","message":"timeout"}}`,
	`{ "message" : "quote \" and \\ backslash, \u00e9 and \ud83d\ude00" , "log" : { "level" : "warn" } , "n" : -1.5e3 , "t" : true , "z" : null }`,
	`{"labels.order_id":"dotted-key","labels":{"device_id":"dev-1"},"empty":{},"deep":{"a":{"b":{"c":1}}}}`,
	`{"tags":["a","b"],"service":{"name":"auth"},"hosts":[{"name":"h1","ip":"10.0.0.1"},{"name":"h2"}],"nums":[1,2,3],"nested":[[1],[2]]}`,
	`{"message":"{not json} [brackets] , colons: inside","error":{"type":"TimeoutError","stack_trace":"a\nb"},"user":{"id":"usr-1"}}`,
	`{}`,
	`{"tags":[],"objs":[{}],"mixed":[{},{"a":1}],"message":"m"}`,
}

var sourceFilters = []sourceFilter{
	{includes: []string{"@timestamp", "message", "log.level", "service.name", "trace.id", "http.request.id", "labels.order_id", "user.id", "labels.device_id", "error.code", "error.type", "error.message", "http.response.status_code", "labels.app_version"}},
	{includes: []string{"labels.*"}},
	{includes: []string{"*.id"}},
	{includes: []string{"error"}, excludes: []string{"error.message"}},
	{excludes: []string{"message"}},
	{includes: []string{"log", "service"}},
	{includes: []string{"deep.a"}},
	{includes: []string{"hosts.name"}},
	{includes: []string{"tags", "nums"}},
	{includes: []string{"nothing.here"}},
	{excludes: []string{"*"}},
	{includes: []string{"empty", "n", "t", "z"}},
	{includes: []string{"tags", "objs", "mixed"}},
	{includes: []string{"mixed.a", "message"}},
	{excludes: []string{"mixed.a"}},
}

// The one-pass filter keeps exactly what decoding, filtering and encoding
// the source keeps, or leaves the source to that path.
func TestFilterRawMatchesDecodedFilter(t *testing.T) {
	fastPaths := 0
	for i, doc := range sourceDocs {
		for _, sf := range sourceFilters {
			t.Run(fmt.Sprintf("doc%d %v-%v", i, sf.includes, sf.excludes), func(t *testing.T) {
				decoded, err := decodeSource([]byte(doc))
				if err != nil {
					t.Fatal(err)
				}
				want, _ := json.Marshal(sf.filterObject("", decoded))
				got, ok := sf.filterRaw([]byte(doc))
				if !ok {
					return // filterObject does it
				}
				fastPaths++
				if !json.Valid(got) {
					t.Fatalf("invalid JSON %s", got)
				}
				if !sameJSON(t, got, want) {
					t.Fatalf("one pass kept %s\ndecoding kept %s", got, want)
				}
			})
		}
	}
	if fastPaths < len(sourceDocs)*len(sourceFilters)/2 {
		t.Fatalf("the one-pass filter handled only %d of %d cases", fastPaths, len(sourceDocs)*len(sourceFilters))
	}
}

// Kept values are copied as written (the same JSON Elasticsearch returns,
// which may spell numbers and escapes its own way).
func TestFilterRawKeepsValuesAsWritten(t *testing.T) {
	doc := `{"message":"caf\u00e9 <b>","n":1.50,"drop":1}`
	got := sourceFilter{includes: []string{"message", "n"}}.apply(json.RawMessage(doc))
	if want := `{"message":"caf\u00e9 <b>","n":1.50}`; string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	decode := func(b []byte) any {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		return v
	}
	return reflect.DeepEqual(decode(a), decode(b))
}

func TestSkipValue(t *testing.T) {
	for _, tc := range []struct{ in, rest string }{
		{`"a\"b",x`, `,x`},
		{`{"a":[1,{"b":"}"}]} ,`, ` ,`},
		{`123}`, `}`},
		{`-1.5e3 `, ` `},
		{`true`, ``},
		{`[[],[[]]]]`, `]`},
	} {
		p := jsonParser{data: []byte(tc.in)}
		if !p.skipValue() || string(p.data[p.pos:]) != tc.rest {
			t.Errorf("skipValue(%s) left %q, want %q", tc.in, p.data[p.pos:], tc.rest)
		}
	}
	if p := (jsonParser{data: []byte(`"open`)}); p.skipValue() {
		t.Error("an unterminated string was skipped")
	}
}
