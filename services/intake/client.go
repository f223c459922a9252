package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/triage-pipeline/triage/libs/httpapi"
)

// Client submits tickets to intake over HTTP. Every submission carries an
// Idempotency-Key, so the retries it makes (connection errors, 429, 5xx,
// honouring Retry-After) can never create a second ticket.
type Client struct {
	base  string
	token string
	http  *retryablehttp.Client
}

// ClientOptions tune a Client; the zero value is usable.
type ClientOptions struct {
	// HTTP is the underlying client (default: 10 s timeout).
	HTTP *http.Client
	// Retries after the first attempt; negative means none.
	Retries int
	// MaxWait caps one wait between attempts (default 5 s).
	MaxWait time.Duration
	// Token is the person's triage token (support, engineer or admin),
	// sent as Authorization: Bearer.
	Token string
}

// NewClient returns a client for the intake at baseURL.
func NewClient(baseURL string, opts ClientOptions) *Client {
	rc := retryablehttp.NewClient()
	rc.Logger = nil
	rc.HTTPClient = opts.HTTP
	if rc.HTTPClient == nil {
		rc.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	rc.RetryMax = max(opts.Retries, 0)
	rc.RetryWaitMin = 200 * time.Millisecond
	rc.RetryWaitMax = opts.MaxWait
	if rc.RetryWaitMax <= 0 {
		rc.RetryWaitMax = 5 * time.Second
	}
	// Hand the last answer back instead of a generic "giving up" error, so
	// the caller sees intake's own message.
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return &Client{base: strings.TrimRight(baseURL, "/"), token: opts.Token, http: rc}
}

// contentKey is the Idempotency-Key derived from the request's own hash
// (requestHash): submitting the same ticket again (say, after a timeout left
// it unclear whether the first attempt landed) returns the first ticket
// instead of a copy.
func contentKey(hash string) string { return "content-" + hash[:32] }

// Submit sends one ticket with key (derived from its content when empty). A refusal
// comes back as *httpapi.Error with intake's status, code, message and bad
// fields.
func (c *Client) Submit(ctx context.Context, req SubmitRequest, key string) (SubmitResponse, error) {
	var out SubmitResponse
	body, err := json.Marshal(req)
	if err != nil {
		return out, fmt.Errorf("encode ticket: %w", err)
	}
	if key == "" {
		key = contentKey(hashHex(body)) // the body is what requestHash hashes
	}
	hreq, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/tickets", body)
	if err != nil {
		return out, fmt.Errorf("build request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.token)
	}
	hreq.Header.Set("Idempotency-Key", key)
	resp, err := c.http.Do(hreq)
	if err != nil {
		return out, fmt.Errorf("submit to %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return out, fmt.Errorf("read intake's answer: %w", err)
	}
	if resp.StatusCode != http.StatusAccepted {
		return out, answerError(resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("decode intake's answer: %w", err)
	}
	out.StatusURL = c.base + out.StatusURL
	return out, nil
}

// answerError turns a refusal into *httpapi.Error, keeping the status even
// when the body is not intake's JSON (a proxy's page, say).
func answerError(status int, raw []byte) error {
	var body struct {
		Error *httpapi.Error `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error != nil {
		body.Error.Status = status
		return body.Error
	}
	text := strings.TrimSpace(string(bytes.ToValidUTF8(raw[:min(len(raw), 200)], nil)))
	if text == "" {
		text = http.StatusText(status)
	}
	return &httpapi.Error{Status: status, Code: CodeUnexpectedAnswer, Message: text}
}

// CodeUnexpectedAnswer is the client's own code for an answer that is not
// the API's JSON (a proxy's error page, say); no service sends it.
const CodeUnexpectedAnswer httpapi.Code = "unexpected_answer"

// IsRefusal reports whether err is intake refusing the ticket as sent (a 4xx):
// retrying the same request cannot help, fixing it can.
func IsRefusal(err error) bool {
	var apiErr *httpapi.Error
	return errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500
}
