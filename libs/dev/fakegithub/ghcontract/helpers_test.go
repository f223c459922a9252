package ghcontract_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
	"github.com/triage-pipeline/triage/libs/dev/fakegithub/ghcontract"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// startFake serves a fake on a random port until the test ends.
func startFake(t *testing.T, opts fakegithub.Options) (*fakegithub.Server, string) {
	t.Helper()
	s, err := fakegithub.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close fake: %v", err)
		}
	})
	return s, base
}

// transport is a fresh transport whose idle connections close when the
// test ends (before the server stops), so no goroutine outlives it.
func transport(t *testing.T) *http.Transport {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// validatingClient is go-github with every exchange checked against the
// description. base "" means api.github.com; enterprise reaches the base
// as GitHub Enterprise (/api/v3/), otherwise at plain paths.
func validatingClient(t *testing.T, base, token string, enterprise bool) *github.Client {
	t.Helper()
	return client(t, ghcontract.Transport(t, transport(t)), base, token, enterprise)
}

// lenientClient checks only the answers, for requests wrong on purpose.
func lenientClient(t *testing.T, base, token string, enterprise bool) *github.Client {
	t.Helper()
	return client(t, ghcontract.ResponseTransport(t, transport(t)), base, token, enterprise)
}

func client(t *testing.T, rt http.RoundTripper, base, token string, enterprise bool) *github.Client {
	t.Helper()
	c := github.NewClient(&http.Client{Transport: rt}).WithAuthToken(token)
	switch {
	case base == "":
	case enterprise:
		var err error
		if c, err = c.WithEnterpriseURLs(base, base); err != nil {
			t.Fatal(err)
		}
	default:
		u, err := url.Parse(strings.TrimSuffix(base, "/") + "/")
		if err != nil {
			t.Fatal(err)
		}
		c.BaseURL = u
	}
	return c
}

// rawExchange sends one request with no validation in the way.
func rawExchange(t *testing.T, hc *http.Client, method, target, token, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Accept", "application/vnd.github.v3+json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}
