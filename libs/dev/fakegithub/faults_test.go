package fakegithub_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
)

func TestFaultValidation(t *testing.T) {
	s := newServer(t, fakegithub.Options{})
	for name, f := range map[string]fakegithub.Fault{
		"unknown kind":            {Kind: "meteor"},
		"latency without delay":   {Kind: fakegithub.FaultLatency},
		"status 404":              {Kind: fakegithub.FaultServerError, Status: 404},
		"fraction above one":      {Kind: fakegithub.FaultDrop, Fraction: 1.5},
		"negative count":          {Kind: fakegithub.FaultDrop, Count: -1},
		"unknown endpoint":        {Kind: fakegithub.FaultDrop, Endpoints: []string{"repos/delete"}},
		"primary limit per count": {Kind: fakegithub.FaultPrimaryLimit, Count: 2},
	} {
		if err := s.InjectFault(f); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if len(s.Faults()) != 0 {
		t.Errorf("faults %v after refusals", s.Faults())
	}
}

func TestServerErrorsAndEndpoints(t *testing.T) {
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}})
	a := newAPI(t, s)
	if err := s.InjectFault(fakegithub.Fault{Kind: fakegithub.FaultServerError, Status: 500, Count: 2, Endpoints: []string{fakegithub.OpCreateIssue}}); err != nil {
		t.Fatal(err)
	}
	a.want(200, "GET", "/repos/o/r/issues", "", nil) // another endpoint
	var eb errorBody
	a.want(500, "POST", "/repos/o/r/issues", `{"title":"t"}`, &eb)
	if eb.Message != "Server Error" {
		t.Errorf("500 body %+v", eb)
	}
	if f := s.Faults(); len(f) != 1 || f[0].Count != 1 {
		t.Errorf("faults %+v, want one with one hit left", f)
	}
	a.want(500, "POST", "/repos/o/r/issues", `{"title":"t"}`, nil)
	a.want(201, "POST", "/repos/o/r/issues", `{"title":"t"}`, nil)
	if len(s.Faults()) != 0 {
		t.Errorf("a used-up fault is still listed: %+v", s.Faults())
	}
	if err := s.InjectFault(fakegithub.Fault{Kind: fakegithub.FaultLatency, Delay: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	a.want(200, "GET", "/repos/o/r/issues/1", "", nil)
	s.ClearFaults()
	if len(s.Faults()) != 0 {
		t.Error("ClearFaults left faults")
	}
}

// TestFractionIsSeeded: the same seed hits the same requests.
func TestFractionIsSeeded(t *testing.T) {
	hits := func(seed uint64) []int {
		s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, Seed: seed})
		if err := s.InjectFault(fakegithub.Fault{Kind: fakegithub.FaultServerError, Fraction: 0.3}); err != nil {
			t.Fatal(err)
		}
		a := newAPI(t, s)
		var out []int
		for i := 0; i < 100; i++ {
			if a.do("GET", "/repos/o/r/issues", "").Code == 502 {
				out = append(out, i)
			}
		}
		return out
	}
	first, again, other := hits(1), hits(1), hits(2)
	if fmt.Sprint(first) != fmt.Sprint(again) {
		t.Errorf("seed 1 hit %v, then %v", first, again)
	}
	if len(first) < 15 || len(first) > 45 {
		t.Errorf("a 0.3 fraction hit %d of 100", len(first))
	}
	if fmt.Sprint(first) == fmt.Sprint(other) {
		t.Error("seeds 1 and 2 hit the same requests")
	}
}

func TestTimedFaults(t *testing.T) {
	clk := newClock()
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, Now: clk.Now})
	a := newAPI(t, s)
	if err := s.InjectFault(fakegithub.Fault{Kind: fakegithub.FaultSecondaryLimit, For: 90 * time.Second, Endpoints: []string{fakegithub.OpCreateIssue}}); err != nil {
		t.Fatal(err)
	}
	rec := a.want(403, "POST", "/repos/o/r/issues", `{"title":"t"}`, nil)
	if rec.Header().Get("Retry-After") != "90" {
		t.Errorf("Retry-After %q, want 90", rec.Header().Get("Retry-After"))
	}
	clk.Advance(60 * time.Second)
	rec = a.want(403, "POST", "/repos/o/r/issues", `{"title":"t"}`, nil)
	if rec.Header().Get("Retry-After") != "30" {
		t.Errorf("Retry-After %q, want 30", rec.Header().Get("Retry-After"))
	}
	clk.Advance(30 * time.Second)
	a.want(201, "POST", "/repos/o/r/issues", `{"title":"t"}`, nil)

	if err := s.InjectFault(fakegithub.Fault{Kind: fakegithub.FaultPrimaryLimit, For: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	rec = a.want(403, "GET", "/repos/o/r/issues/1", "", nil)
	if rec.Header().Get("X-RateLimit-Remaining") != "0" || rec.Header().Get("X-RateLimit-Reset") != fmt.Sprint(clk.Now().Add(10*time.Minute).Unix()) {
		t.Errorf("primary limit: %v", rec.Header())
	}
	var rl rateLimits
	a.want(200, "GET", "/rate_limit", "", &rl)
	if rl.Resources["core"].Remaining != 0 {
		t.Errorf("rate_limit during the fault: %+v", rl.Resources["core"])
	}
	a.want(200, "GET", "/search/issues?q=t", "", nil) // search has its own limit
	clk.Advance(10 * time.Minute)
	a.want(200, "GET", "/repos/o/r/issues/1", "", nil)
}

// TestDroppedConnections needs a real connection to drop.
func TestDroppedConnections(t *testing.T) {
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, Seed: 3})
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	create := func(title string) (int, error) {
		req, _ := http.NewRequest("POST", base+"/repos/o/r/issues", strings.NewReader(`{"title":"`+title+`"}`))
		req.Header.Set("Authorization", "token "+fakegithub.DefaultToken)
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}

	if err := s.InjectFault(fakegithub.Fault{Kind: fakegithub.FaultDrop, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := create("dropped"); err == nil {
		t.Error("a dropped connection answered")
	}
	if n := len(s.Issues("o", "r")); n != 0 {
		t.Errorf("a dropped request created %d issues", n)
	}

	if err := s.InjectFault(fakegithub.Fault{Kind: fakegithub.FaultLoseResponse, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := create("lost"); err == nil {
		t.Error("a lost response arrived")
	}
	if is := s.Issues("o", "r"); len(is) != 1 || is[0].Title != "lost" {
		t.Errorf("the lost create did not create its issue: %+v", is)
	}

	// A fraction of creates loses its answer; every issue is created, and
	// the client saw an error exactly for the lost ones.
	if err := s.InjectFault(fakegithub.Fault{Kind: fakegithub.FaultLoseResponse, Fraction: 0.3, Endpoints: []string{fakegithub.OpCreateIssue}}); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for i := 0; i < 20; i++ {
		if code, err := create(fmt.Sprint(i)); err != nil {
			failed++
		} else if code != 201 {
			t.Fatalf("create %d: %d", i, code)
		}
	}
	if n := len(s.Issues("o", "r")); n != 21 {
		t.Errorf("%d issues, want 21", n)
	}
	lost := 0
	for _, r := range s.RequestsTo(fakegithub.OpCreateIssue) {
		if r.Status == 0 {
			lost++
			if !strings.Contains(r.Note, "dropped") {
				t.Errorf("note %q", r.Note)
			}
		}
	}
	if failed == 0 || failed == 20 || lost != failed+2 {
		t.Errorf("%d of 20 creates failed, %d recorded without answer (want failed+2)", failed, lost)
	}
}

func TestFaultsOverHTTP(t *testing.T) {
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}})
	ctl := func(method, body string) (int, string) {
		req := httptest.NewRequest(method, "/_fake/faults", strings.NewReader(body))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	code, body := ctl("POST", `{"kind":"secondary_limit","endpoints":["issues/create"],"for":"30s"}`)
	if code != 200 || !strings.Contains(body, `"secondary_limit"`) {
		t.Fatalf("add one: %d %s", code, body)
	}
	code, _ = ctl("POST", `[{"kind":"server_error","status":503,"count":2},{"kind":"latency","delay":"5ms","fraction":0.5}]`)
	if code != 200 || len(s.Faults()) != 3 {
		t.Fatalf("add a list: %d, %d faults", code, len(s.Faults()))
	}
	var listed struct {
		Faults []map[string]any `json:"faults"`
	}
	_, body = ctl("GET", "")
	if err := json.Unmarshal([]byte(body), &listed); err != nil || len(listed.Faults) != 3 || listed.Faults[1]["count"] != float64(2) {
		t.Errorf("listed %s", body)
	}
	for _, bad := range []string{`{"kind":"meteor"}`, `{"kind":"latency","delay":"soon"}`, `not json`, `[{"kind":"drop"},{"kind":"nope"}]`} {
		if code, _ := ctl("POST", bad); code != 400 {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
	if len(s.Faults()) != 3 {
		t.Errorf("a refused list added faults: %d", len(s.Faults()))
	}
	if code, _ := ctl("DELETE", ""); code != 200 || len(s.Faults()) != 0 {
		t.Errorf("clear: %d, %d left", code, len(s.Faults()))
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("control requests were recorded: %d", n)
	}
}
