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
//   - Component names. The stack document names components like
//     "_global.bulk:CreateOperation" and "bulk#_source"; kin-openapi's
//     document validation refuses ':' and '#' in component names (OpenAPI 3.0
//     allows only [a-zA-Z0-9._-]), so they become '.' before loading, and
//     references are renamed with them.
//   - info.version. The trimmed copies have an empty one, which OpenAPI
//     requires; it is set to "trimmed".
//   - Defaults and examples. The stack document has a default that does not
//     match its own schema (UpdateAction._source); document validation runs
//     without checking defaults and examples.
//   - Unions. Elastic's generator writes every TypeScript union as "oneOf",
//     even when the members overlap (FieldValue lists "number" twice, a range
//     bound fits all four range query types, a bulk document line is also a
//     valid operation container), so "exactly one" can never hold. Every
//     "oneOf" is validated as "anyOf".
//   - Shortcut forms. {"term":{"f":"x"}} and {"match":{"f":"text"}} are
//     short for {"term":{"f":{"value":"x"}}}; the specification marks such
//     types with @shortcut_property, which its OpenAPI output drops. A query
//     type built as allOf [QueryBase, {required: [value|query]}] also accepts
//     that property's value alone.
//   - filter_path. An answer filtered on request is not checked against
//     the response schema.
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

	"github.com/triage-pipeline/triage/libs/dev/httpcheck"
	"github.com/triage-pipeline/triage/libs/dev/shareddata"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
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
			if clean := componentName(k); clean != k {
				delete(m, k)
				m[clean] = v
			}
		}
	}
	httpcheck.EachObject(doc, func(x map[string]any) {
		if ref, ok := x["$ref"].(string); ok && strings.HasPrefix(ref, "#/components/") {
			parts := strings.SplitN(strings.TrimPrefix(ref, "#/components/"), "/", 2)
			if len(parts) == 2 {
				x["$ref"] = "#/components/" + parts[0] + "/" + componentName(parts[1])
			}
		}
	})
	// The trimmed documents carry an empty info.version, which OpenAPI
	// requires; name the trim instead.
	if info, ok := doc["info"].(map[string]any); ok && info["version"] == "" {
		info["version"] = "trimmed"
	}
	// Unions: Elastic's generator writes every TypeScript union as "oneOf",
	// even when its members overlap (FieldValue lists "number" twice; a
	// range bound fits all four range types; a bulk document line is also a
	// valid operation). "Exactly one" can then never hold, so unions are
	// validated as "anyOf".
	httpcheck.EachObject(doc, func(x map[string]any) {
		if one, ok := x["oneOf"]; ok {
			delete(x, "oneOf")
			x["anyOf"] = one
		}
	})
	// Shortcut forms: {"term":{"f":"x"}} and {"match":{"f":"text"}} are the
	// short form of {"term":{"f":{"value":"x"}}}; the specification marks
	// such types with @shortcut_property, which the OpenAPI output drops. A
	// query type whose only required property is "value" or "query" also
	// accepts that property's value on its own.
	schemas, _ := comps["schemas"].(map[string]any)
	for name, sch := range schemas {
		if prop, ok := shortcutProperty(sch); ok {
			schemas[name] = map[string]any{"anyOf": []any{sch, prop}}
		}
	}
	return json.Marshal(doc)
}

// shortcutProperty recognises a query type built as allOf [QueryBase,
// {properties, required: [value|query]}] and returns the schema of that one
// required property.
func shortcutProperty(sch any) (any, bool) {
	all, ok := dig(sch, "allOf").([]any)
	if !ok || len(all) != 2 {
		return nil, false
	}
	base, _ := dig(all[0], "$ref").(string)
	if !strings.HasSuffix(base, ".QueryBase") {
		return nil, false
	}
	req, _ := dig(all[1], "required").([]any)
	if len(req) != 1 {
		return nil, false
	}
	name, _ := req[0].(string)
	if name != "value" && name != "query" {
		return nil, false
	}
	prop := dig(all[1], "properties", name)
	return prop, prop != nil
}

// componentName replaces the characters OpenAPI 3.0 does not allow in
// component names (':' and '#' appear in Elastic's) with '.'.
func componentName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '.'
	}, name)
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
			// Validate what was sent; filling in documented defaults would
			// validate the description's own defaults too.
			SkipSettingDefaults: true,
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
	// filter_path removes parts of the answer on request, so such answers
	// are not held to the full schema.
	skipBody := req.Method == http.MethodHead || req.URL.Query().Has("filter_path")
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 h,
		Options:                &openapi3filter.Options{MultiError: true, ExcludeResponseBody: skipBody},
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
	return httpcheck.Transport(next, httpcheck.Checks{
		Request: v.ValidateRequest,
		Response: func(req *http.Request, reqBody []byte, resp *http.Response, body []byte) error {
			return v.ValidateResponse(req, reqBody, resp.StatusCode, resp.Header, body)
		},
	}, report)
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
	_ = testkit.SharedPath(tb, "contracts", "elasticsearch", "openapi", spec) // skips without the folder
	v, err := load()
	if err != nil {
		tb.Fatalf("load %s: %v", spec, err)
	}
	return v
}
