// Package httpcheck is the transport the contract checks share: it hands
// every request and answer passing through a client to a check (against a
// vendor's published description), with their bodies read once and given
// back to the caller untouched; and the walk they use to adjust a
// vendor's description before validating with it.
package httpcheck

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// Checks are what a transport runs on each exchange; either may be nil.
// Their errors go to the transport's report function.
type Checks struct {
	Request  func(req *http.Request, body []byte) error
	Response func(req *http.Request, reqBody []byte, resp *http.Response, body []byte) error
}

// Transport wraps next (http.DefaultTransport when nil): every request is
// checked before it is sent, every answer when it comes; failures go to
// report. A transport error (a dropped connection) is passed on unchecked.
func Transport(next http.RoundTripper, checks Checks, report func(error)) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{next: next, checks: checks, report: report}
}

type transport struct {
	next   http.RoundTripper
	checks Checks
	report func(error)
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body for checking: %w", err)
		}
		body = b
		// A RoundTripper must not change the caller's request.
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	if t.checks.Request != nil {
		if err := t.checks.Request(req, body); err != nil {
			t.report(err)
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	rb, rerr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	if rerr != nil {
		return resp, fmt.Errorf("read response body for checking: %w", rerr)
	}
	if t.checks.Response != nil {
		if err := t.checks.Response(req, body, resp, rb); err != nil {
			t.report(err)
		}
	}
	return resp, nil
}

// EachObject calls visit on every JSON object in a decoded document (v
// itself, and every object nested in it, parents before children): the
// one walk the checks use to adjust a vendor's description before
// validating with it.
func EachObject(v any, visit func(obj map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		visit(x)
		for _, e := range x {
			EachObject(e, visit)
		}
	case []any:
		for _, e := range x {
			EachObject(e, visit)
		}
	}
}
