package fakegithub_test

import (
	"maps"
	"net/http/httptest"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
)

func TestRequestsAreRecorded(t *testing.T) {
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}})
	a := newAPI(t, s)
	a.want(201, "POST", "/api/v3/repos/o/r/issues", `{"title":"recorded"}`, nil)
	a.want(200, "GET", "/repos/o/r/issues?state=all", "", nil)
	a.want(200, "GET", "/rate_limit", "", nil)
	a.as("wrong").want(401, "GET", "/repos/o/r/issues/1", "", nil)
	s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/_fake/", nil))
	s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/o/r/issues/1", nil))

	reqs := s.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests recorded, want the 4 API ones: %+v", len(reqs), reqs)
	}
	first := reqs[0]
	if first.Endpoint != fakegithub.OpCreateIssue || first.Method != "POST" || first.Path != "/api/v3/repos/o/r/issues" ||
		string(first.Body) != `{"title":"recorded"}` || first.Status != 201 || first.Time.IsZero() {
		t.Errorf("first request %+v", first)
	}
	if got := first.Header.Get("Authorization"); got != "[redacted]" {
		t.Errorf("Authorization recorded as %q", got)
	}
	if reqs[1].Query != "state=all" || reqs[3].Status != 401 {
		t.Errorf("second %+v fourth %+v", reqs[1], reqs[3])
	}
	want := map[string]int{fakegithub.OpCreateIssue: 1, fakegithub.OpListIssues: 1, fakegithub.OpGetRateLimit: 1, fakegithub.OpGetIssue: 1}
	if got := s.Calls(); !maps.Equal(got, want) {
		t.Errorf("calls %v, want %v", got, want)
	}
	if s.TotalCalls() != 3 {
		t.Errorf("TotalCalls %d, want 3 (rate_limit excluded)", s.TotalCalls())
	}
	if got := s.RequestsTo(fakegithub.OpListIssues); len(got) != 1 {
		t.Errorf("RequestsTo: %d", len(got))
	}
	reqs[0].Header.Set("Authorization", "changed")
	if s.Requests()[0].Header.Get("Authorization") != "[redacted]" {
		t.Error("Requests shares its headers with the log")
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 || len(s.Calls()) != 0 {
		t.Error("ResetRequests left something")
	}
	a.want(200, "GET", "/repos/o/r/issues/1", "", nil)
	if r := s.Requests(); len(r) != 1 || r[0].Status != 200 {
		t.Errorf("after reset: %+v", r)
	}
}
