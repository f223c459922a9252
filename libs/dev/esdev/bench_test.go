package esdev

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// genLogs builds an NDJSON bulk body of n ECS log documents spread over
// three days, 200 tenants and the demo services, deterministically.
func genLogs(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	services := []string{"order-api", "payment-gateway", "printer-bridge", "menu-sync", "auth"}
	levels := []string{"info", "info", "info", "warn", "error", "debug"}
	messages := []string{
		"order created %s for table %d",
		"payment declined: upstream returned HTTP 503 for %s (attempt %d)",
		"kitchen printer offline for %s, retry %d",
		"menu synced for %s with %d items",
		"login failed for %s: invalid pin %d",
		"注文 %s の送信に失敗しました %d",
	}
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	for i := 0; i < n; i++ {
		ts := start.Add(time.Duration(i) * (72 * time.Hour / time.Duration(n)))
		svc := rng.IntN(len(services))
		order := fmt.Sprintf("ord_%010d", rng.IntN(1e10))
		doc := map[string]any{
			"@timestamp": ts.Format("2006-01-02T15:04:05.000Z"),
			"message":    fmt.Sprintf(messages[rng.IntN(len(messages))], order, rng.IntN(50)),
			"log":        map[string]any{"level": levels[rng.IntN(len(levels))]},
			"service":    map[string]any{"name": services[svc]},
			"labels":     map[string]any{"tenant_id": fmt.Sprintf("rst-%04d", rng.IntN(200)), "order_id": order},
			"trace.id":   fmt.Sprintf("%032x", rng.Uint64()),
			"event":      map[string]any{"id": fmt.Sprintf("evt-%08d", i)},
		}
		if rng.IntN(4) == 0 {
			doc["error.code"] = fmt.Sprintf("PAY-%04d", 1000+rng.IntN(50))
			doc["http.response.status_code"] = 503
		}
		meta, _ := json.Marshal(map[string]any{"index": map[string]any{"_index": "logs-pos-" + ts.Format("2006.01.02"), "_id": fmt.Sprintf("evt-%08d", i)}})
		src, _ := json.Marshal(doc)
		buf.Write(meta)
		buf.WriteByte('\n')
		buf.Write(src)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func loadGenerated(tb testing.TB, s *Server, body []byte) {
	tb.Helper()
	tmpl := readFixture(tb, "logs-template.json")
	req, _ := http.NewRequest(http.MethodPut, "/_index_template/logs", bytes.NewReader(tmpl))
	req.Header.Set("Content-Type", "application/json")
	rec := &recorder{header: http.Header{}}
	s.ServeHTTP(rec, req)
	if rec.status != http.StatusOK {
		tb.Fatalf("template: %s", rec.body.String())
	}
	// Send in 5,000-document batches (10,000 lines), as a loader would.
	lines := bytes.SplitAfter(bytes.TrimSuffix(body, []byte("\n")), []byte("\n"))
	lines[len(lines)-1] = append(lines[len(lines)-1], '\n')
	for i := 0; i < len(lines); i += 10000 {
		end := min(i+10000, len(lines))
		if err := s.LoadBulk(bytes.Join(lines[i:end], nil), ""); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkBulkLoad100k loads 100,000 ECS documents through the bulk path.
func BenchmarkBulkLoad100k(b *testing.B) {
	body := genLogs(100_000)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := New(Options{})
		loadGenerated(b, s, body)
	}
}

// BenchmarkFilteredSearch runs the enricher's typical query (tenant term,
// one-hour window, newest first, an error-signature aggregation) over
// 100,000 documents through HTTP handling.
func BenchmarkFilteredSearch(b *testing.B) {
	s := New(Options{Now: func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) }})
	loadGenerated(b, s, genLogs(100_000))
	query := `{"query":{"bool":{"filter":[{"term":{"labels.tenant_id":"rst-0042"}},{"range":{"@timestamp":{"gte":"now-6h","lte":"now"}}}]}},` +
		`"sort":[{"@timestamp":"desc"}],"size":20,"aggs":{"sig":{"terms":{"field":"error.code","size":10},"aggs":{"first":{"min":{"field":"@timestamp"}},"last":{"max":{"field":"@timestamp"}}}}}}`
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest(http.MethodPost, "/logs-*/_search?typed_keys=true", strings.NewReader(query))
		req.Header.Set("Content-Type", "application/json")
		rec := &recorder{header: http.Header{}}
		s.ServeHTTP(rec, req)
		if rec.status != http.StatusOK {
			b.Fatalf("search: %d %s", rec.status, rec.body.String())
		}
	}
}

// BenchmarkTextSearch is a scored full-text match over 100,000 documents.
func BenchmarkTextSearch(b *testing.B) {
	s := New(Options{})
	loadGenerated(b, s, genLogs(100_000))
	query := `{"query":{"bool":{"must":{"match":{"message":"payment declined 503"}},"filter":{"term":{"service.name":"payment-gateway"}}}},"size":10}`
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest(http.MethodPost, "/logs-*/_search", strings.NewReader(query))
		req.Header.Set("Content-Type", "application/json")
		rec := &recorder{header: http.Header{}}
		s.ServeHTTP(rec, req)
		if rec.status != http.StatusOK {
			b.Fatalf("search: %d %s", rec.status, rec.body.String())
		}
	}
}

// TestLoadAndSearchLargeVolume checks the scale the product needs: 100k
// documents load in seconds and a filtered search answers correctly.
func TestLoadAndSearchLargeVolume(t *testing.T) {
	if testing.Short() || raceEnabled() {
		t.Skip("volume test: skipped with -short and under the race detector")
	}
	start := time.Now()
	body := genLogs(100_000)
	t.Logf("generated 100k documents (%d MB) in %v", len(body)>>20, time.Since(start))
	s := New(Options{Now: func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) }})
	start = time.Now()
	loadGenerated(t, s, body)
	t.Logf("loaded 100k documents in %v", time.Since(start))
	req, _ := http.NewRequest(http.MethodPost, "/logs-*/_count", strings.NewReader(`{"query":{"bool":{"filter":[{"term":{"labels.tenant_id":"rst-0042"}},{"range":{"@timestamp":{"gte":"now-1d"}}}]}}}`))
	req.Header.Set("Content-Type", "application/json")
	rec := &recorder{header: http.Header{}}
	start = time.Now()
	s.ServeHTTP(rec, req)
	t.Logf("filtered count in %v: %s", time.Since(start), rec.body.String())
	var resp struct{ Count int }
	if err := json.Unmarshal(rec.body.Bytes(), &resp); err != nil || resp.Count < 100 || resp.Count > 250 {
		t.Errorf("count = %d (%v), want about 100000/3/200 ≈ 167", resp.Count, err)
	}
}

// raceEnabled reports a -race build: the volume test is skipped under the
// race detector, which makes loading 100k documents take far longer than a
// unit test should.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
