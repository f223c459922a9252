package logsearch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/msearch"
)

// msearchBody is an _msearch answer as the enricher gets it: items of 200
// hits (the default --es-candidates), each an ECS log limited to the
// fields the finder reads.
func msearchBody(items, hits int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"took":12,"responses":[`)
	for i := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"took":3,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"total":{"value":%d,"relation":"eq"},"max_score":null,"hits":[`, hits)
		for h := range hits {
			if h > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"_index":"logs-pos-2026.11.22","_id":"log-%d-%d","_score":7.5,"_source":{"@timestamp":"2026-11-22T10:05:%02d.123Z","message":"payment provider timeout after 3000 ms for order ord_2611221053","log":{"level":"error"},"service":{"name":"payment-gateway"},"trace":{"id":"4bf92f3577b34da6a3ce929d0e0e4736"},"http":{"request":{"id":"req-8f3a"},"response":{"status_code":504}},"labels":{"order_id":"ord_2611221053","device_id":"dev-17","app_version":"5.2.1"},"user":{"id":"usr-104233"},"error":{"code":"PAY-1042","type":"TimeoutError","message":"provider timeout"}},"sort":[7.5,1763805900123]}`, i, h, h%60)
		}
		b.WriteString(`]},"status":200}`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// BenchmarkDecodeMsearch compares the typed client's decoding of an
// _msearch answer with the enricher's own.
func BenchmarkDecodeMsearch(b *testing.B) {
	body := msearchBody(10, 200)
	b.Run("typed client", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			r := msearch.NewResponse()
			if err := json.NewDecoder(bytes.NewReader(body)).Decode(r); err != nil || len(r.Responses) != 10 {
				b.Fatal(err, len(r.Responses))
			}
		}
	})
	b.Run("enricher", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var r msearchResponse
			if err := json.NewDecoder(bytes.NewReader(body)).Decode(&r); err != nil || len(r.Responses) != 10 || len(r.Responses[9].Hits.Hits) != 200 {
				b.Fatal(err, len(r.Responses))
			}
		}
	})
}
