package logsearch

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/demoworld"
	"github.com/triage-pipeline/triage/libs/dev/esdev"
	"github.com/triage-pipeline/triage/libs/dev/esdev/escontract"
)

// Every request the enricher's search sends must be one Elastic documents:
// checked against the published OpenAPI descriptions, not against our own
// server's leniency.
func TestRequestsConformToElasticContract(t *testing.T) {
	validators := []*escontract.Validator{
		escontract.Shared(t, escontract.StackSpec),
		escontract.Shared(t, escontract.ServerlessSpec),
	}
	var log esdev.RequestLog
	srv := esdev.New(esdev.Options{OnRequest: log.Record})
	if err := srv.CreateIndex("logs-pos-2026.11.22", demoworld.IndexMapping()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	f := startFinder(t, testConfig(t, "--es-addresses", ts.URL))
	tickets := []int{0, 1, 2}
	for _, i := range tickets {
		tk := ticket(i)
		// Every kind of id, so every clause of the query is exercised.
		tk.Description += " order ord_2611221053, request 3f2b9c4e-8d1a-4e6b-9c2d-7a5e1f0b3c4d, trace 4bf92f3577b34da6a3ce929d0e0e4736," +
			" user usr-104233 on prn-9f00aa, HTTP 503, app v4.12.3"
		if _, err := f.Find(context.Background(), tk); err != nil {
			t.Fatal(err)
		}
	}
	reqs := log.Requests()
	searches := 0
	for _, r := range reqs {
		if r.Endpoint != "msearch" {
			continue
		}
		searches++
		target := r.Path
		if q := r.Query.Encode(); q != "" {
			target += "?" + q
		}
		req := httptest.NewRequest(r.Method, target, bytes.NewReader(r.Body))
		req.Header = r.Header.Clone()
		for _, v := range validators {
			if err := v.ValidateRequest(req, r.Body); err != nil {
				t.Errorf("%s %s does not conform to %s: %v", r.Method, target, v.Name(), err)
			}
		}
		// The description's multi-search line schema accepts almost any
		// object (a header or a body), so each body is also checked as
		// the _search body it stands for.
		lines := bytes.Split(bytes.TrimSpace(r.Body), []byte("\n"))
		for i := 1; i < len(lines); i += 2 {
			if err := validSearchBody(validators, lines[i]); err != nil {
				t.Errorf("search body %d of %s: %v", i/2, target, err)
			}
		}
	}
	if searches == 0 {
		t.Fatalf("no _msearch recorded among %d requests", len(reqs))
	}
	// The check can fail: a body Elastic does not document is refused.
	if err := validSearchBody(validators, []byte(`{"query":{"bool":{"filter":"everything"}},"size":"many"}`)); err == nil {
		t.Fatal("a malformed search body passed the contract check")
	}
}

func validSearchBody(validators []*escontract.Validator, body []byte) error {
	for _, v := range validators {
		req := httptest.NewRequest("POST", "/logs-*/_search", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if err := v.ValidateRequest(req, body); err != nil {
			return fmt.Errorf("%s: %w", v.Name(), err)
		}
	}
	return nil
}
