package httpcheck

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// The checks see both bodies, the caller still reads them, the caller's
// request is not changed, and failures are reported.
func TestTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(append([]byte("echo:"), b...))
	}))
	defer srv.Close()
	var seenReq, seenResp string
	var reports []error
	client := &http.Client{Transport: Transport(nil, Checks{
		Request: func(_ *http.Request, body []byte) error { seenReq = string(body); return nil },
		Response: func(_ *http.Request, _ []byte, resp *http.Response, body []byte) error {
			seenResp = string(body)
			return errors.New("bad answer")
		},
	}, func(err error) { reports = append(reports, err) })}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("hello"))
	orig := req.Body
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "echo:hello" || seenReq != "hello" || seenResp != "echo:hello" {
		t.Fatalf("caller got %q, checks saw %q and %q", got, seenReq, seenResp)
	}
	if len(reports) != 1 || req.Body != orig {
		t.Fatalf("reports %v; caller's request changed: %v", reports, req.Body != orig)
	}
	client.CloseIdleConnections()
}

func TestEachObject(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(`{"a":{"oneOf":[{"b":1}]},"list":[{"c":2},[{"d":3}],"x"]}`), &doc); err != nil {
		t.Fatal(err)
	}
	var seen []string
	EachObject(doc, func(obj map[string]any) {
		for k := range obj {
			seen = append(seen, k)
		}
	})
	sort.Strings(seen)
	if got, want := strings.Join(seen, ","), "a,b,c,d,list,oneOf"; got != want {
		t.Fatalf("visited keys %s, want %s", got, want)
	}
}
