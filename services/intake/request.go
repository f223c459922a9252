package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
)

// SubmitRequest is the body of POST /api/v1/tickets.
type SubmitRequest struct {
	Subject     string             `json:"subject"`
	Description string             `json:"description"`
	TenantID    string             `json:"tenant_id"`
	Reporter    string             `json:"reporter,omitempty"`
	OccurredAt  string             `json:"occurred_at,omitempty"`
	Identifiers events.Identifiers `json:"identifiers"`
	Channel     string             `json:"channel,omitempty"`
	Language    string             `json:"language,omitempty"`

	// occurredAt is OccurredAt as validate parsed it.
	occurredAt time.Time
	// submittedBy is the person whose token sent it.
	submittedBy string
}

// Limits on a submission; the body limit itself is configuration.
const (
	maxSubject     = 300
	maxDescription = 20000
	maxReporter    = 200
	maxIDsPerKind  = 50
	maxIDLength    = 128
	// An occurred_at this far ahead of the server clock is a typo, not skew.
	maxFutureSkew = 10 * time.Minute
)

var (
	tenantIDPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	identifierPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/#-]*$`)
	channels          = []string{"web", "email", "phone", "chat", "api", "cli"}
)

// decodeSubmit reads and validates a submission, returning every problem at
// once so the caller can fix them in one go.
func decodeSubmit(r *http.Request, maxBody int64, now time.Time) (SubmitRequest, error) {
	var req SubmitRequest
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		return req, httpapi.Errorf(httpapi.CodeUnsupportedMediaType,
			"Content-Type must be application/json, got %q", ct)
	}
	if r.ContentLength > maxBody {
		return req, tooLarge(maxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return req, tooLarge(maxBody)
		}
		return req, httpapi.Errorf(httpapi.CodeUnreadableBody, "could not read the request body: %v", err)
	}
	if !utf8.Valid(body) {
		return req, httpapi.Errorf(httpapi.CodeInvalidEncoding, "the body must be UTF-8 encoded JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, jsonError(err)
	}
	if dec.More() {
		return req, httpapi.Errorf(httpapi.CodeInvalidJSON, "the body must hold exactly one JSON object")
	}
	if fields := req.validate(now); len(fields) > 0 {
		e := httpapi.Errorf(httpapi.CodeInvalidTicket, "the ticket has %d invalid field(s); see fields", len(fields))
		e.Fields = fields
		return req, e
	}
	return req, nil
}

func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

func tooLarge(limit int64) error {
	return httpapi.Errorf(httpapi.CodeBodyTooLarge,
		"the body is larger than %d bytes; shorten the description or attach logs by id instead", limit)
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return httpapi.Errorf(httpapi.CodeInvalidJSON, "malformed JSON at byte %d: %v", syn.Offset, err)
	case errors.As(err, &typ):
		e := httpapi.Errorf(httpapi.CodeInvalidTicket, "field %q must be a %s", typ.Field, typ.Type.String())
		e.Fields = []httpapi.FieldError{{Field: typ.Field, Code: httpapi.FieldWrongType, Message: fmt.Sprintf("must be a %s, got a JSON %s", jsonKind(typ.Type.String()), typ.Value)}}
		return e
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		e := httpapi.Errorf(httpapi.CodeInvalidTicket, "unknown field %q", name)
		e.Fields = []httpapi.FieldError{{Field: name, Code: httpapi.FieldUnknown, Message: "not a ticket field; see the API documentation for field names"}}
		return e
	case errors.Is(err, io.EOF):
		return httpapi.Errorf(httpapi.CodeInvalidJSON, "the body is empty; send a JSON ticket")
	default:
		return httpapi.Errorf(httpapi.CodeInvalidJSON, "malformed JSON: %v", err)
	}
}

func jsonKind(goType string) string {
	switch {
	case goType == "string":
		return "string"
	case strings.HasPrefix(goType, "[]"):
		return "list"
	default:
		return "object"
	}
}

func (req *SubmitRequest) validate(now time.Time) []httpapi.FieldError {
	var fe []httpapi.FieldError
	add := func(field string, code httpapi.FieldCode, msg string, args ...any) {
		fe = append(fe, httpapi.FieldError{Field: field, Code: code, Message: fmt.Sprintf(msg, args...)})
	}
	req.Subject = strings.TrimSpace(req.Subject)
	req.Description = strings.TrimSpace(req.Description)
	req.TenantID = strings.TrimSpace(req.TenantID)
	req.Reporter = strings.TrimSpace(req.Reporter)
	req.Channel = strings.ToLower(strings.TrimSpace(req.Channel))
	req.Language = strings.ToLower(strings.TrimSpace(req.Language))
	req.OccurredAt = strings.TrimSpace(req.OccurredAt)

	text := func(field, v string, max int, multiline bool) {
		switch {
		case utf8.RuneCountInString(v) > max:
			add(field, httpapi.FieldTooLong, "at most %d characters, got %d", max, utf8.RuneCountInString(v))
		case hasControl(v, multiline):
			add(field, httpapi.FieldControlCharacters, "contains control characters; send plain text")
		}
	}
	if req.Subject == "" {
		add("subject", httpapi.FieldRequired, "is required: a one-line summary of the problem")
	} else {
		text("subject", req.Subject, maxSubject, false)
	}
	if req.Description == "" {
		add("description", httpapi.FieldRequired, "is required: what the customer saw, when, and what they were doing")
	} else {
		text("description", req.Description, maxDescription, true)
	}
	switch {
	case req.TenantID == "":
		add("tenant_id", httpapi.FieldRequired, "is required: the customer's tenant (restaurant) id, e.g. rst-0042")
	case !tenantIDPattern.MatchString(req.TenantID):
		add("tenant_id", httpapi.FieldInvalidFormat, "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	text("reporter", req.Reporter, maxReporter, false)
	if req.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339, req.OccurredAt)
		switch {
		case err != nil:
			add("occurred_at", httpapi.FieldInvalidTime, "must be an RFC 3339 time such as 2026-11-21T19:05:00+09:00")
		case t.After(now.Add(maxFutureSkew)):
			add("occurred_at", httpapi.FieldInFuture, "is in the future (%s); check the date and time zone", t.Format(time.RFC3339))
		default:
			req.occurredAt = t.UTC()
		}
	}
	if req.Channel != "" && !slices.Contains(channels, req.Channel) {
		add("channel", httpapi.FieldInvalidValue, "must be one of %s", strings.Join(channels, ", "))
	}
	if req.Language != "" && req.Language != "ja" && req.Language != "en" {
		add("language", httpapi.FieldInvalidValue, "must be \"ja\" or \"en\", or left out to detect it")
	}
	for _, ids := range []struct {
		field string
		list  *[]string
	}{
		{"identifiers.request_ids", &req.Identifiers.RequestIDs},
		{"identifiers.order_ids", &req.Identifiers.OrderIDs},
		{"identifiers.user_ids", &req.Identifiers.UserIDs},
		{"identifiers.trace_ids", &req.Identifiers.TraceIDs},
		{"identifiers.device_ids", &req.Identifiers.DeviceIDs},
	} {
		if len(*ids.list) > maxIDsPerKind {
			add(ids.field, httpapi.FieldTooMany, "at most %d ids, got %d", maxIDsPerKind, len(*ids.list))
			continue
		}
		for i, id := range *ids.list {
			id = strings.TrimSpace(id)
			(*ids.list)[i] = id
			if id == "" || len(id) > maxIDLength || !identifierPattern.MatchString(id) {
				add(fmt.Sprintf("%s[%d]", ids.field, i), "invalid_format",
					"must be 1-%d characters of letters, digits and . _ : / # -", maxIDLength)
			}
		}
	}
	return fe
}

func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t' || r == '\r') {
			continue
		}
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}
