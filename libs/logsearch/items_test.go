package logsearch

import (
	"testing"

	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
)

// A 200 _msearch whose every item was refused for overload counts as an
// outage (the breaker sees it); one answered item, or a refusal that is the
// query's fault, does not.
func TestAllItemsUnavailable(t *testing.T) {
	rejected := &types.ErrorResponseBase{Status: 429, Error: types.ErrorCause{Type: "es_rejected_execution_exception"}}
	down := types.ErrorResponseBase{Status: 503, Error: types.ErrorCause{Type: "no_shard_available_action_exception"}}
	bad := &types.ErrorResponseBase{Status: 400, Error: types.ErrorCause{Type: "parsing_exception"}}
	answered := &types.MultiSearchItem{}
	for _, tc := range []struct {
		name  string
		items []types.MsearchResponseItem
		want  bool
	}{
		{"all rejected", []types.MsearchResponseItem{rejected, down}, true},
		{"one answered", []types.MsearchResponseItem{rejected, answered}, false},
		{"query error", []types.MsearchResponseItem{rejected, bad}, false},
		{"all answered", []types.MsearchResponseItem{answered}, false},
	} {
		err := allItemsUnavailable(tc.items)
		if (err != nil) != tc.want || (err != nil && !IsUnavailable(err)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
