// Package escontract checks Elasticsearch requests and responses against
// Elastic's published OpenAPI description (the trimmed copies in
// ../shared/contracts/elasticsearch/openapi), so tests can prove that what a
// client sends, and what the development server answers, is what a real
// cluster documents.
//
// What is relaxed, and why:
//
//   - Elastic's media types. The typed client sends
//     application/vnd.elasticsearch+json;compatible-with=8 and the NDJSON
//     variant, and the server may answer with them; the description lists
//     only application/json. They are validated as application/json.
//   - NDJSON bodies. Bulk and multi-search bodies are newline-delimited JSON,
//     which the description models as a JSON array of lines; each body is
//     converted to that array before validation.
//   - Schema names. The stack document names schemas like
//     "_global.bulk:CreateOperation"; kin-openapi's document validation
//     refuses ':' in component names, so they are renamed ('.' instead of
//     ':') before loading. References are renamed with them.
//   - Defaults and examples. The stack document has a default that does not
//     match its own schema (UpdateAction._source); document validation runs
//     without checking defaults and examples.
//   - Bulk lines. The bulk body is "oneOf" an operation, an update action or
//     any object; a document line is also a valid operation container, so
//     "oneOf" can never pass for it. That one list is validated as "anyOf".
//   - Response statuses. The description only documents 200 answers; other
//     statuses are not validated here (their envelope is checked against
//     ../shared/contracts/elasticsearch/errors by the server's own tests).
package escontract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/triage-pipeline/triage/libs/shareddata"
)

// The published descriptions kept in the shared contracts folder.
const (
	// StackSpec is the 8.x stack description; it includes _cluster/health.
	StackSpec = "elasticsearch-openapi.8.x-b5e00d06.trimmed.json"
	// ServerlessSpec is the 8.19 serverless description, generated from the
	// same specification commit as go-elasticsearch v8.19.6's typed API.
	ServerlessSpec = "elasticsearch-serverless-openapi.8.19-6ee016a.trimmed.json"
)

// Validator validates requests and responses against one description.
type Validator struct {
	name   string
	doc    *openapi3.T
	router routers.Router
}

// ErrNoRoute is returned (wrapped) for a request the description does not
// describe at all.
var ErrNoRoute = errors.New("no operation in the description")

// Load reads an OpenAPI description (JSON) from path.
func Load(path string) (*Validator, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read openapi description: %w", err)
	}
	return Parse(path, raw)
}

// Parse prepares an OpenAPI description held in raw; name labels errors.
func Parse(name string, raw []byte) (*Validator, error) {
	relaxed, err := relax(raw)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", name, err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(relaxed)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	ctx := openapi3.WithValidationOptions(context.Background(),
		openapi3.DisableSchemaDefaultsValidation(), openapi3.DisableExamplesValidation())
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("validate %s: %w", name, err)
	}
	// Match requests regardless of host.
	doc.Servers = openapi3.Servers{{URL: "/"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", name, err)
	}
	return &Validator{name: name, doc: doc, router: router}, nil
}

// relax applies the documented workarounds to the raw description.
func relax(raw []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("decode description: %w", err)
	}
	comps, _ := doc["components"].(map[string]any)
	for _, section := range comps {
		m, ok := section.(map[string]any)
		if !ok {
			continue
		}
		for k, v := range m {
			if strings.Contains(k, ":") {
				delete(m, k)
				m[strings.ReplaceAll(k, ":", ".")] = v
			}
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok && strings.HasPrefix(ref, "#/components/") {
				x["$ref"] = strings.ReplaceAll(ref, ":", ".")
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(doc)
	// The bulk body: one list whose alternatives overlap by design.
	if rb, ok := dig(doc, "components", "requestBodies", "bulk", "content", "application/json", "schema", "items").(map[string]any); ok {
		if one, ok := rb["oneOf"]; ok {
			delete(rb, "oneOf")
			rb["anyOf"] = one
		}
	}
	return json.Marshal(doc)
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// Name is the description this validator uses.
func (v *Validator) Name() string { return v.name }

func (v *Validator) input(req *http.Request, body []byte) (*openapi3filter.RequestValidationInput, error) {
	r := req.Clone(req.Context())
	// The router matches on path only.
	r.URL.Scheme, r.URL.Host, r.Host = "", "", ""
	route, pathParams, err := v.router.FindRoute(r)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w (%v)", req.Method, req.URL.Path, ErrNoRoute, err)
	}
	ct := normalizeMediaType(req.Header.Get("Content-Type"))
	r.Header.Set("Content-Type", ct)
	if len(body) > 0 && isNDJSONPath(req.URL.Path) {
		arr, err := ndjsonToArray(body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
		}
		body = arr
		r.Header.Set("Content-Type", "application/json")
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: pathParams,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			MultiError:         true,
		},
	}, nil
}

// ValidateRequest checks a request (with its body, already read) against
// the description: the operation exists, path and query parameters have
// the documented names and types, and the body matches its schema.
func (v *Validator) ValidateRequest(req *http.Request, body []byte) error {
	in, err := v.input(req, body)
	if err != nil {
		return err
	}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
		return fmt.Errorf("%s: request %s %s does not conform: %w", v.name, req.Method, req.URL.Path, err)
	}
	return nil
}

// ValidateResponse checks a response to req against the description. Only
// statuses the description documents (200) are checked.
func (v *Validator) ValidateResponse(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	in, err := v.input(req, reqBody)
	if err != nil {
		return err
	}
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", normalizeMediaType(h.Get("Content-Type")))
	if req.Method == http.MethodHead {
		body = nil
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 h,
		Options:                &openapi3filter.Options{MultiError: true, ExcludeResponseBody: req.Method == http.MethodHead},
	}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		return fmt.Errorf("%s: response %d to %s %s does not conform: %w", v.name, status, req.Method, req.URL.Path, err)
	}
	return nil
}

// normalizeMediaType maps Elastic's versioned media types to the plain ones
// the description lists.
func normalizeMediaType(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	switch mt {
	case "application/vnd.elasticsearch+json", "application/x-ndjson", "application/vnd.elasticsearch+x-ndjson":
		return "application/json"
	}
	return mt
}

func isNDJSONPath(p string) bool {
	return strings.HasSuffix(p, "/_bulk") || strings.HasSuffix(p, "/_msearch")
}

// ndjsonToArray turns newline-delimited JSON into a JSON array of its lines.
func ndjsonToArray(body []byte) ([]byte, error) {
	var items []json.RawMessage
	for i, line := range bytes.Split(body, []byte{'\n'}) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) {
			return nil, fmt.Errorf("ndjson line %d is not JSON", i+1)
		}
		items = append(items, line)
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	return json.Marshal(items)
}

// Transport wraps next so that every request and response passing through
// is validated; failures go to report (requests without a documented
// operation included). Use it as elasticsearch.Config.Transport in tests.
func (v *Validator) Transport(next http.RoundTripper, report func(error)) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &validatingTransport{v: v, next: next, report: report}
}

type validatingTransport struct {
	v      *Validator
	next   http.RoundTripper
	report func(error)
}

func (t *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body for validation: %w", err)
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	if err := t.v.ValidateRequest(req, body); err != nil {
		t.report(err)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	rb, rerr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	if rerr != nil {
		return resp, fmt.Errorf("read response body for validation: %w", rerr)
	}
	if err := t.v.ValidateResponse(req, body, resp.StatusCode, resp.Header, rb); err != nil {
		t.report(err)
	}
	return resp, nil
}

// sharedLoaders load each shared description at most once per test
// binary: validators are immutable once built, and loading one takes a few
// hundred milliseconds.
var sharedLoaders = map[string]func() (*Validator, error){
	StackSpec:      sync.OnceValues(func() (*Validator, error) { return loadShared(StackSpec) }),
	ServerlessSpec: sync.OnceValues(func() (*Validator, error) { return loadShared(ServerlessSpec) }),
}

func loadShared(spec string) (*Validator, error) {
	dir, err := shareddata.Dir()
	if err != nil {
		return nil, fmt.Errorf("find shared contracts: %w", err)
	}
	return Load(filepath.Join(dir, "contracts", "elasticsearch", "openapi", spec))
}

// Shared returns a validator for one of the descriptions in the shared
// contracts folder (StackSpec or ServerlessSpec), skipping the test when the
// folder is absent.
func Shared(tb testing.TB, spec string) *Validator {
	tb.Helper()
	load, ok := sharedLoaders[spec]
	if !ok {
		tb.Fatalf("unknown description %q (want StackSpec or ServerlessSpec)", spec)
	}
	_ = shareddata.Path(tb, "contracts", "elasticsearch", "openapi", spec) // skips without the folder
	v, err := load()
	if err != nil {
		tb.Fatalf("load %s: %v", spec, err)
	}
	return v
}
