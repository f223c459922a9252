// Package ghcontract checks GitHub REST traffic against GitHub's published
// OpenAPI description (the trimmed issues subset in
// ../shared/contracts/github/openapi) and webhook deliveries against the
// published payload schemas and delivery headers
// (../shared/contracts/github/webhooks), so tests can prove that what a
// client sends, and what the fake answers, is what GitHub documents.
//
// The usual use is a validating transport under go-github:
//
//	hc := &http.Client{Transport: ghcontract.Transport(t, nil)}
//	gh, _ := github.NewClient(hc).WithAuthToken(token).WithEnterpriseURLs(base, base)
//
// Every request the client sends and every answer it gets is validated;
// a violation fails the test (t.Errorf, so it is safe from any goroutine).
//
// What is relaxed or added, and why:
//
//   - Path forms. GitHub Enterprise serves the API under /api/v3, and
//     GitHub's own pagination links name a repository by id
//     (/repositories/{id}/issues); neither is in the description, so the
//     prefix is removed and /repositories/{id}/... is checked as
//     /repos/{owner}/{repo}/....
//   - Undocumented error statuses. The description lists few error
//     answers per operation (no 401 or 403 on most, no 429 or 5xx at all),
//     yet GitHub sends them; any status of 400 or more that the operation
//     does not document is checked against the basic-error schema, which
//     every GitHub error body follows.
//   - Nullable unions. validation-error's "value" is a oneOf of three
//     nullable types, so a null value matches all three and "exactly one"
//     cannot hold; a oneOf whose members are all nullable is checked as
//     anyOf.
//   - Headers the description does not model. Every API answer must carry
//     X-GitHub-Request-Id and, below 500, the five X-RateLimit-* headers (a
//     5xx can come from GitHub's front end before any limit is counted); a
//     JSON body must come as application/json; charset=utf-8 (as recorded
//     from api.github.com). CheckHeaders does this; the transport runs it.
package ghcontract

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
	"regexp"
	"strconv"
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

// SpecFile is the trimmed description in contracts/github/openapi.
const SpecFile = "api.github.com.issues-subset.json"

// Errors are wrapped around what the checks find, so a test can tell them
// apart with errors.Is.
var (
	// ErrNoRoute: the description has no operation for the request.
	ErrNoRoute = errors.New("no operation in the description")
	// ErrRequest: a request does not conform.
	ErrRequest = errors.New("request does not conform")
	// ErrResponse: an answer does not conform (body, status or headers).
	ErrResponse = errors.New("response does not conform")
)

// shortSchemaError names where a value broke a schema and why, without
// printing the schema (GitHub's schemas run to pages).
func shortSchemaError(e *openapi3.SchemaError) string {
	return fmt.Sprintf("at /%s: %s", strings.Join(e.JSONPointer(), "/"), e.Reason)
}

// Validator validates requests and responses against one description.
type Validator struct {
	name      string
	doc       *openapi3.T
	router    routers.Router
	basicErr  *openapi3.Schema
	operation map[*openapi3.Operation]string
}

// Load reads an OpenAPI description (JSON) from path.
func Load(path string) (*Validator, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read openapi description: %w", err)
	}
	return Parse(filepath.Base(path), raw)
}

// Parse prepares an OpenAPI description held in raw; name labels errors.
func Parse(name string, raw []byte) (*Validator, error) {
	relaxed, err := relax(raw)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", name, err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(relaxed)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	ctx := openapi3.WithValidationOptions(context.Background(), openapi3.DisableExamplesValidation())
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("validate %s: %w", name, err)
	}
	// Match requests whatever their host.
	doc.Servers = openapi3.Servers{{URL: "/"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", name, err)
	}
	be := doc.Components.Schemas["basic-error"]
	if be == nil || be.Value == nil {
		return nil, fmt.Errorf("%s: no basic-error schema", name)
	}
	ops := map[*openapi3.Operation]string{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops[op] = op.OperationID
		}
	}
	return &Validator{name: name, doc: doc, router: router, basicErr: be.Value, operation: ops}, nil
}

// relax rewrites the description as the package comment explains.
func relax(raw []byte) ([]byte, error) {
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("decode description: %w", err)
	}
	httpcheck.EachObject(doc, func(x map[string]any) {
		if one, ok := x["oneOf"].([]any); ok && allNullable(one) {
			delete(x, "oneOf")
			x["anyOf"] = one
		}
	})
	return json.Marshal(doc)
}

func allNullable(members []any) bool {
	for _, m := range members {
		obj, ok := m.(map[string]any)
		if !ok || obj["nullable"] != true {
			return false
		}
	}
	return len(members) > 0
}

// Name is the description this validator uses.
func (v *Validator) Name() string { return v.name }

// Operation names the operation (its operationId) a request is for.
func (v *Validator) Operation(req *http.Request) (string, error) {
	route, _, err := v.route(req)
	if err != nil {
		return "", err
	}
	return v.operation[route.Operation], nil
}

// repositoryByID is GitHub's id form of a repository path.
var repositoryByID = regexp.MustCompile(`^/repositories/([0-9]+)(/.*)$`)

// routePath maps the path forms the description does not list to the
// ones it does.
func routePath(p string) string {
	if p == "/api/v3" || strings.HasPrefix(p, "/api/v3/") {
		p = strings.TrimPrefix(p, "/api/v3")
	}
	if m := repositoryByID.FindStringSubmatch(p); m != nil {
		p = "/repos/repositories/" + m[1] + m[2]
	}
	return p
}

func (v *Validator) route(req *http.Request) (*routers.Route, map[string]string, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = "", "", ""
	r.URL.Path = routePath(r.URL.Path)
	r.URL.RawPath = ""
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w (%v)", req.Method, req.URL.Path, ErrNoRoute, err)
	}
	return route, params, nil
}

func (v *Validator) input(req *http.Request, body []byte) (*openapi3filter.RequestValidationInput, error) {
	route, params, err := v.route(req)
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.URL.Path = routePath(r.URL.Path)
	r.URL.RawPath = ""
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	opts := &openapi3filter.Options{
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		MultiError:         true,
		// Validate what was sent, not the description's defaults.
		SkipSettingDefaults: true,
	}
	opts.WithCustomSchemaErrorFunc(shortSchemaError)
	return &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}, nil
}

// ValidateRequest checks a request (its body already read) against the
// description: the operation exists, path and query parameters have the
// documented types, and the body matches its schema.
func (v *Validator) ValidateRequest(req *http.Request, body []byte) error {
	in, err := v.input(req, body)
	if err != nil {
		return err
	}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
		return fmt.Errorf("%s: %w: %s %s: %w", v.name, ErrRequest, req.Method, req.URL.Path, err)
	}
	return nil
}

// ValidateResponse checks a response to req against the response the
// description documents for its status (and an undocumented error status
// against basic-error).
func (v *Validator) ValidateResponse(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	in, err := v.input(req, reqBody)
	if err != nil {
		return err
	}
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if status >= 400 && in.Route.Operation.Responses.Status(status) == nil {
		if err := v.validateBasicError(h, body); err != nil {
			return fmt.Errorf("%s: %w: %d to %s %s: %w", v.name, ErrResponse, status, req.Method, req.URL.Path, err)
		}
		return nil
	}
	opts := &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true}
	opts.WithCustomSchemaErrorFunc(shortSchemaError)
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: h, Options: opts}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), out); err != nil {
		return fmt.Errorf("%s: %w: %d to %s %s: %w", v.name, ErrResponse, status, req.Method, req.URL.Path, err)
	}
	return nil
}

func (v *Validator) validateBasicError(h http.Header, body []byte) error {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return fmt.Errorf("error body has Content-Type %q, want application/json", h.Get("Content-Type"))
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("error body is not JSON: %w", err)
	}
	if err := v.basicErr.VisitJSON(doc, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("error body against basic-error: %w", err)
	}
	if m, ok := doc.(map[string]any); !ok || m["message"] == nil {
		return errors.New(`error body has no "message"`)
	}
	return nil
}

// rateLimitHeaders are on every answer of api.github.com's REST API.
var rateLimitHeaders = []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used"}

// CheckHeaders checks what GitHub sends on every API answer beyond the
// description: X-GitHub-Request-Id, the X-RateLimit-* headers, and a JSON
// media type with charset for a body.
func CheckHeaders(status int, header http.Header, body []byte) error {
	var problems []string
	if header.Get("X-GitHub-Request-Id") == "" {
		problems = append(problems, "no X-GitHub-Request-Id")
	}
	// A 5xx may come from GitHub's front end before any limit was counted.
	if status < 500 {
		for _, name := range rateLimitHeaders {
			if _, err := strconv.ParseInt(header.Get(name), 10, 64); err != nil {
				problems = append(problems, fmt.Sprintf("%s is %q, want an integer", name, header.Get(name)))
			}
		}
		if header.Get("X-RateLimit-Resource") == "" {
			problems = append(problems, "no X-RateLimit-Resource")
		}
	}
	if len(body) > 0 && header.Get("Content-Type") != "application/json; charset=utf-8" {
		problems = append(problems, fmt.Sprintf("Content-Type is %q, want application/json; charset=utf-8", header.Get("Content-Type")))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: answer %d: %s", ErrResponse, status, strings.Join(problems, "; "))
	}
	return nil
}

// Transport wraps next (http.DefaultTransport when nil) so that every
// request and response passing through is validated, headers included;
// failures go to report. A transport error (a dropped connection) is
// passed on unchecked.
func (v *Validator) Transport(next http.RoundTripper, report func(error)) http.RoundTripper {
	return httpcheck.Transport(next, httpcheck.Checks{
		Request: v.ValidateRequest,
		Response: func(req *http.Request, reqBody []byte, resp *http.Response, body []byte) error {
			err := v.ValidateResponse(req, reqBody, resp.StatusCode, resp.Header, body)
			if herr := CheckHeaders(resp.StatusCode, resp.Header, body); herr != nil {
				err = errors.Join(err, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, herr))
			}
			return err
		},
	}, report)
}

// loadShared loads the shared description at most once per test binary:
// a validator is immutable once built.
var loadShared = sync.OnceValues(func() (*Validator, error) {
	dir, err := shareddata.Dir()
	if err != nil {
		return nil, fmt.Errorf("find shared contracts: %w", err)
	}
	return Load(filepath.Join(dir, "contracts", "github", "openapi", SpecFile))
})

// Shared returns the validator of the shared description, skipping the
// test when the shared folder is absent.
func Shared(tb testing.TB) *Validator {
	tb.Helper()
	_ = testkit.SharedPath(tb, "contracts", "github", "openapi", SpecFile) // skips without the folder
	v, err := loadShared()
	if err != nil {
		tb.Fatalf("load GitHub description: %v", err)
	}
	return v
}

// Transport is Shared(tb).Transport(base, …) failing tb on every
// violation: wrap go-github's transport with it in tests.
func Transport(tb testing.TB, base http.RoundTripper) http.RoundTripper {
	tb.Helper()
	return Shared(tb).Transport(base, func(err error) { tb.Errorf("GitHub contract: %v", err) })
}

// ResponseTransport is Transport for a test that sends a wrong request on
// purpose (to see GitHub's 422, say): only the answers are held to the
// contract.
func ResponseTransport(tb testing.TB, base http.RoundTripper) http.RoundTripper {
	tb.Helper()
	return Shared(tb).Transport(base, func(err error) {
		if !errors.Is(err, ErrRequest) {
			tb.Errorf("GitHub contract: %v", err)
		}
	})
}
