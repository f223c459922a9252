package ghcontract_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
	"github.com/triage-pipeline/triage/libs/dev/fakegithub/ghcontract"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// TestValidatorCatchesNonConformingTraffic makes sure the checks are not a
// rubber stamp.
func TestValidatorCatchesNonConformingTraffic(t *testing.T) {
	v := ghcontract.Shared(t)
	json := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	cases := []struct {
		name, method, target, body string
		wantReq                    error // nil: the request conforms
		status                     int
		header                     http.Header
		respBody                   string
	}{
		{name: "operation outside the subset", method: "GET", target: "/repos/o/r", wantReq: ghcontract.ErrNoRoute},
		{name: "per_page not a number", method: "GET", target: "/repos/o/r/issues?per_page=ten", wantReq: ghcontract.ErrRequest},
		{name: "state outside the enum", method: "GET", target: "/repos/o/r/issues?state=sideways", wantReq: ghcontract.ErrRequest},
		{name: "title of the wrong type", method: "POST", target: "/repos/o/r/issues", body: `{"title":true}`, wantReq: ghcontract.ErrRequest},
		{name: "comment without body", method: "POST", target: "/repos/o/r/issues/1/comments", body: `{}`, wantReq: ghcontract.ErrRequest},
		{name: "issue without number", method: "GET", target: "/repos/o/r/issues/1", status: 200, header: json,
			respBody: `{"id":1,"node_id":"x","url":"http://x/1","repository_url":"http://x","labels_url":"x","comments_url":"http://x/c","events_url":"http://x/e","html_url":"http://x/h","state":"open","title":"t","user":null,"labels":[],"assignee":null,"milestone":null,"locked":false,"comments":0,"closed_at":null,"created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00Z"}`},
		{name: "422 without documentation_url", method: "POST", target: "/repos/o/r/issues", body: `{"title":"t"}`, status: 422, header: json,
			respBody: `{"message":"Validation Failed"}`},
		{name: "undocumented 401 that is not an error body", method: "GET", target: "/repos/o/r/issues/1", status: 401, header: json,
			respBody: `["Bad credentials"]`},
		{name: "undocumented 500 in HTML", method: "GET", target: "/repos/o/r/issues/1", status: 500,
			header: http.Header{"Content-Type": {"text/html"}}, respBody: `<h1>Unicorn</h1>`},
		{name: "label list of strings", method: "POST", target: "/repos/o/r/issues/1/labels", body: `["bug"]`, status: 200, header: json,
			respBody: `["bug"]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			err := v.ValidateRequest(req, []byte(c.body))
			if c.wantReq != nil {
				if !errors.Is(err, c.wantReq) {
					t.Errorf("request: %v, want %v", err, c.wantReq)
				}
				return
			}
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			err = v.ValidateResponse(req, []byte(c.body), c.status, c.header, []byte(c.respBody))
			if !errors.Is(err, ghcontract.ErrResponse) {
				t.Errorf("response: %v, want ErrResponse", err)
			}
		})
	}
}

// TestCheckHeaders covers the headers GitHub sends beyond the description.
func TestCheckHeaders(t *testing.T) {
	full := http.Header{
		"X-Github-Request-Id": {"0685:0449:1C50991:3C001E6:62D634E3"}, "X-Ratelimit-Limit": {"5000"},
		"X-Ratelimit-Remaining": {"4999"}, "X-Ratelimit-Reset": {"1658208999"}, "X-Ratelimit-Used": {"1"},
		"X-Ratelimit-Resource": {"core"}, "Content-Type": {"application/json; charset=utf-8"},
	}
	without := func(name string) http.Header { h := full.Clone(); h.Del(name); return h }
	cases := []struct {
		name   string
		status int
		header http.Header
		ok     bool
	}{
		{"complete", 200, full, true},
		{"no request id", 200, without("X-Github-Request-Id"), false},
		{"no rate-limit resource", 404, without("X-Ratelimit-Resource"), false},
		{"no rate limit on a 502", 502, without("X-Ratelimit-Used"), true},
		{"JSON without charset", 200, func() http.Header { h := full.Clone(); h.Set("Content-Type", "application/json"); return h }(), false},
	}
	for _, c := range cases {
		err := ghcontract.CheckHeaders(c.status, c.header, []byte(`{}`))
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

// TestOperationsMatchDescription holds the fake's operation names and
// documentation links to the description's operationIds and externalDocs,
// and checks the path forms the validator maps.
func TestOperationsMatchDescription(t *testing.T) {
	raw, err := os.ReadFile(testkit.SharedPath(t, "contracts", "github", "openapi", ghcontract.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	for _, item := range doc.Paths {
		for _, opRaw := range item {
			var op struct {
				OperationID  string `json:"operationId"`
				ExternalDocs struct {
					URL string `json:"url"`
				} `json:"externalDocs"`
			}
			if json.Unmarshal(opRaw, &op) == nil && op.OperationID != "" {
				docs[op.OperationID] = op.ExternalDocs.URL
			}
		}
	}
	for _, op := range fakegithub.Operations() {
		want, ok := docs[op]
		if !ok {
			t.Errorf("%s is not an operation of the description", op)
		} else if got := fakegithub.DocumentationURL(op); got != want {
			t.Errorf("%s: documentation %q, description says %q", op, got, want)
		}
	}
	v := ghcontract.Shared(t)
	for target, want := range map[string]string{
		"/api/v3/repos/o/r/issues":                fakegithub.OpListIssues,
		"/repositories/42/issues?page=2":          fakegithub.OpListIssues,
		"/api/v3/repositories/42/issues/7/labels": fakegithub.OpListLabels,
		"/search/issues?q=x":                      fakegithub.OpSearchIssues,
	} {
		got, err := v.Operation(httptest.NewRequest("GET", target, nil))
		if err != nil || got != want {
			t.Errorf("%s: %q (%v), want %q", target, got, err, want)
		}
	}
}
