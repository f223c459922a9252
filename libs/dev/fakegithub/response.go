package fakegithub

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// reqCtx is what handlers need from a request.
type reqCtx struct {
	r    *http.Request
	rt   route
	body []byte
	api  string // API root of this request, with /api/v3 when it used it
	web  string // web root, for html_url
	now  time.Time
	user *user
	rate rateInfo
}

func (rc *reqCtx) bases() bases { return bases{api: rc.api, web: rc.web} }

// response is what a handler answers; the frame adds GitHub's headers.
type response struct {
	status int
	header http.Header
	body   any // encoded as JSON; nil means no body
	// search answers carry no ETag and are not cached, as recorded.
	search bool
	// etag is the validator of a 304 (which has no body to derive it from).
	etag string
}

// requestIDPlaceholder in an error message becomes the request id.
const requestIDPlaceholder = "\x00request-id\x00"

// etagOf is GitHub's strong validator of a body.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// notModified turns a 200 to a GET into a 304 when the client already has
// it (If-None-Match), as GitHub's conditional requests do.
func notModified(r *http.Request, resp *response) *response {
	inm := r.Header.Get("If-None-Match")
	if inm == "" || r.Method != http.MethodGet || resp.status != http.StatusOK {
		return resp
	}
	b, err := json.Marshal(resp.body)
	if err != nil {
		return resp
	}
	etag := etagOf(b)
	for _, v := range strings.Split(inm, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == etag || v == "*" {
			return &response{status: http.StatusNotModified, header: resp.header, search: resp.search, etag: etag}
		}
	}
	return resp
}

func jsonResponse(status int, body any) *response {
	return &response{status: status, body: body, header: http.Header{}}
}

// errorBody is GitHub's error envelope (basic-error and validation-error).
type errorBody struct {
	Message          string       `json:"message"`
	Errors           []fieldError `json:"errors,omitempty"`
	DocumentationURL string       `json:"documentation_url"`
	Status           string       `json:"status"`
}

// fieldError is one entry of a 422's errors: resource, field and code, as
// GitHub's model validation reports them.
type fieldError struct {
	Resource string `json:"resource,omitempty"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message,omitempty"`
	// Value is the offending value; never null, because the description's
	// oneOf of three nullable types could not tell a null apart.
	Value any `json:"value,omitempty"`
}

func errorResponse(status int, message, docs string) *response {
	return jsonResponse(status, errorBody{Message: message, DocumentationURL: docs, Status: strconv.Itoa(status)})
}

func notFound(docs string) *response { return errorResponse(http.StatusNotFound, "Not Found", docs) }

// validationFailed is GitHub's 422 from model validation.
func validationFailed(op string, errs ...fieldError) *response {
	return jsonResponse(http.StatusUnprocessableEntity, errorBody{Message: "Validation Failed", Errors: errs,
		DocumentationURL: docsURL[op], Status: "422"})
}

// invalidRequest is GitHub's 422 from its request schema check ("Invalid
// request." and what was wrong).
func invalidRequest(op, detail string) *response {
	return errorResponse(http.StatusUnprocessableEntity, "Invalid request.\n\n"+detail, docsURL[op])
}

func badJSON(op string) *response {
	return errorResponse(http.StatusBadRequest, "Problems parsing JSON", docsURL[op])
}

func serverError(status int) *response {
	msg := http.StatusText(status)
	if status == http.StatusInternalServerError {
		msg = "Server Error"
	}
	return errorResponse(status, msg, docsRoot)
}

func primaryLimitResponse(u *user, rc *reqCtx) *response {
	msg := fmt.Sprintf("API rate limit exceeded for user ID %d. If you reach out to GitHub Support for help, please include the request ID %s and timestamp %s.",
		u.id, requestIDPlaceholder, rc.now.UTC().Format("2006-01-02 15:04:05 MST"))
	return errorResponse(http.StatusForbidden, msg, docsPrimaryLimit)
}

func (s *Server) secondaryLimitResponse(rc *reqCtx, retryAfter time.Duration, content bool) *response {
	msg := "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID " + requestIDPlaceholder + "."
	if content {
		msg = "You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later. If you reach out to GitHub Support for help, please include the request ID " + requestIDPlaceholder + "."
	}
	resp := errorResponse(s.opts.SecondaryStatus, msg, docsSecondaryLimit)
	secs := int((retryAfter + time.Second - 1) / time.Second)
	resp.header.Set("Retry-After", strconv.Itoa(max(secs, 1)))
	return resp
}

// finish writes a response with the headers GitHub sends on every answer.
func (s *Server) finish(w http.ResponseWriter, rc *reqCtx, rec int, resp *response) {
	h := w.Header()
	for k, v := range resp.header {
		h[k] = v
	}
	reqID := s.requestID(rc.now)
	if eb, ok := resp.body.(errorBody); ok {
		// Support messages name the request id, as GitHub's do.
		eb.Message = strings.ReplaceAll(eb.Message, requestIDPlaceholder, reqID)
		resp.body = eb
	}
	var body []byte
	if resp.body != nil {
		var err error
		body, err = json.Marshal(resp.body)
		if err != nil {
			resp = serverError(http.StatusInternalServerError)
			body, _ = json.Marshal(resp.body)
		}
	}
	h.Set("Server", "GitHub.com")
	if body != nil {
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	ok := resp.status >= 200 && resp.status < 300 || resp.status == http.StatusNotModified
	// Only successful answers are cacheable, and vary with the caller.
	switch {
	case ok && resp.search:
		h.Set("Cache-Control", "no-cache")
	case ok:
		h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
	}
	if ok {
		h.Add("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
	}
	switch {
	case resp.etag != "":
		h.Set("ETag", resp.etag)
	case ok && !resp.search && body != nil:
		h.Set("ETag", etagOf(body))
	}
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	if rc.rate.resource != "" {
		h.Set("X-RateLimit-Limit", strconv.Itoa(rc.rate.limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(rc.rate.remaining()))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(rc.rate.reset.Unix(), 10))
		h.Set("X-RateLimit-Used", strconv.Itoa(rc.rate.used))
		h.Set("X-RateLimit-Resource", rc.rate.resource)
	}
	h.Set("Access-Control-Expose-Headers", "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubdomains; preload")
	h.Set("X-Frame-Options", "deny")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-XSS-Protection", "0")
	h.Set("Referrer-Policy", "origin-when-cross-origin, strict-origin-when-cross-origin")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Add("Vary", "Accept-Encoding, Accept, X-Requested-With")
	h.Set("X-GitHub-Request-Id", reqID)
	w.WriteHeader(resp.status)
	if body != nil && rc.r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	s.log.setStatus(rec, resp.status, "")
}

// requestID imitates X-GitHub-Request-Id ("0685:0449:1C50991:3C001E6:62D634E3").
func (s *Server) requestID(now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%04X:%04X:%X:%X:%X", s.rng.IntN(0x10000), s.rng.IntN(0x10000),
		0x1000000+s.rng.IntN(0xF000000), 0x1000000+s.rng.IntN(0xF000000), now.Unix())
}
