package esdev

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fixedNow is the clock of test servers: shortly after the fixture's logs.
var fixedNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// startServer runs a server on a random port for the test's lifetime.
func startServer(t testing.TB, opts Options) (*Server, string) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	s := New(opts)
	url, stop, err := s.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		// The shared transport may hold a spare connection it dialled but
		// never used; closing it first lets the server shut down at once.
		http.DefaultClient.CloseIdleConnections()
		stop()
	})
	return s, url
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

// loadLogs loads testdata/logs.ndjson, with the ECS index template first
// when withTemplate is set (keyword fields) or with dynamic mappings
// otherwise (text + .keyword).
func loadLogs(t testing.TB, s *Server, withTemplate bool) {
	t.Helper()
	if withTemplate {
		req, _ := http.NewRequest(http.MethodPut, "/_index_template/logs", bytes.NewReader(readFixture(t, "logs-template.json")))
		req.Header.Set("Content-Type", "application/json")
		rec := &recorder{header: http.Header{}}
		s.ServeHTTP(rec, req)
		if rec.status != http.StatusOK {
			t.Fatalf("put template: %d %s", rec.status, rec.body.String())
		}
	}
	if err := s.LoadBulk(readFixture(t, "logs.ndjson"), ""); err != nil {
		t.Fatalf("load logs: %v", err)
	}
}

// recorder is a minimal http.ResponseWriter for in-process calls.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) { r.status = code }

// call sends one request over HTTP and decodes the JSON answer.
func call(t testing.TB, base, method, path, body string) (int, map[string]any, http.Header) {
	t.Helper()
	code, raw, header := callRaw(t, base, method, path, body)
	var out map[string]any
	if len(raw) > 0 && method != http.MethodHead {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return code, out, header
}

// callRaw sends one request over HTTP and returns the raw answer.
func callRaw(t testing.TB, base, method, path, body string) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewBufferString(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, raw, resp.Header
}

// hitIDs lists the _id of each hit of a search answer.
func hitIDs(resp map[string]any) []string {
	hits, _ := resp["hits"].(map[string]any)
	list, _ := hits["hits"].([]any)
	ids := make([]string, 0, len(list))
	for _, h := range list {
		ids = append(ids, h.(map[string]any)["_id"].(string))
	}
	return ids
}

// dig walks a decoded JSON value by keys and array indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}
