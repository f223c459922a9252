package logsearch

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Items are decoded from an _msearch answer as Elasticsearch writes it:
// a refused item carries an error and its status, an answered one its hits.
func TestAllItemsUnavailable(t *testing.T) {
	const (
		rejected = `{"error":{"type":"es_rejected_execution_exception","reason":"rejected execution"},"status":429}`
		down     = `{"error":{"type":"no_shard_available_action_exception","reason":"no shard"},"status":503}`
		bad      = `{"error":{"type":"parsing_exception","reason":"unknown query"},"status":400}`
		answered = `{"took":1,"timed_out":false,"hits":{"total":{"value":0,"relation":"eq"},"hits":[]},"status":200}`
	)
	for _, tc := range []struct {
		name  string
		items string
		want  bool
	}{
		{"all rejected", rejected + "," + down, true},
		{"one answered", rejected + "," + answered, false},
		{"query error", rejected + "," + bad, false},
		{"all answered", answered, false},
	} {
		var r msearchResponse
		if err := json.Unmarshal([]byte(`{"took":3,"responses":[`+tc.items+`]}`), &r); err != nil {
			t.Fatal(err)
		}
		err := allItemsUnavailable(r.Responses)
		if (err != nil) != tc.want || (err != nil && !IsUnavailable(err)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestItemErrorsSayWhetherToRetry(t *testing.T) {
	overload := &Item{Status: 429, Error: &itemCause{Type: "es_rejected_execution_exception"}}
	query := &Item{Status: 400, Error: &itemCause{Type: "parsing_exception", Reason: "unknown query [foo]"}}
	if err := itemError(overload); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("429 item: %v", err)
	}
	err := itemError(query)
	if errors.Is(err, ErrUnavailable) {
		t.Fatalf("400 item counted as an outage: %v", err)
	}
	if want := "search failed: 400 parsing_exception: unknown query [foo]"; err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
}

// An item's error is an object with root causes, or a bare string.
func TestItemErrorShapes(t *testing.T) {
	for _, tc := range []struct{ item, want string }{
		{`{"error":{"type":"search_phase_execution_exception","reason":"all shards failed","root_cause":[{"type":"query_shard_exception","reason":"failed to create query"}]},"status":400}`,
			"search failed: 400 search_phase_execution_exception: all shards failed: query_shard_exception: failed to create query"},
		{`{"error":"rejected by the proxy","status":503}`, "search failed: 503 : rejected by the proxy"},
		{`{"error":{"type":"es_rejected_execution_exception","reason":"queue full"},"status":429}`, "search failed: 429 es_rejected_execution_exception: queue full"},
	} {
		var it Item
		if err := json.Unmarshal([]byte(tc.item), &it); err != nil {
			t.Fatalf("decode %s: %v", tc.item, err)
		}
		if it.Error == nil {
			t.Fatalf("%s: no error decoded", tc.item)
		}
		if err := itemError(&it); !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %q, want it to hold %q", err, tc.want)
		}
	}
}
