package httpapi

import (
	"net/http"
	"sync"
)

// Code is a stable, machine-readable error code: clients branch on it, so a
// code is never renamed or given another meaning. Every code the services
// answer with is declared here, with its status, and listed in the README's
// table of error codes (a test holds both).
type Code string

// Error codes, in the order of the README's table.
const (
	CodeInternal         Code = "internal"
	CodeNotFound         Code = "not_found"
	CodeMethodNotAllowed Code = "method_not_allowed"
	CodeShuttingDown     Code = "shutting_down"

	CodeUnauthenticated Code = "unauthenticated"
	CodeForbidden       Code = "forbidden"
	CodeCSRFFailed      Code = "csrf_failed"

	CodeUnsupportedMediaType  Code = "unsupported_media_type"
	CodeBodyTooLarge          Code = "body_too_large"
	CodeUnreadableBody        Code = "unreadable_body"
	CodeInvalidEncoding       Code = "invalid_encoding"
	CodeInvalidJSON           Code = "invalid_json"
	CodeInvalidParameter      Code = "invalid_parameter"
	CodeInvalidTicket         Code = "invalid_ticket"
	CodeInvalidIdempotencyKey Code = "invalid_idempotency_key"
	CodeIdempotencyKeyReused  Code = "idempotency_key_reused"
	CodeStoreUnavailable      Code = "store_unavailable"

	CodeTicketNotFound   Code = "ticket_not_found"
	CodeTicketNotQueued  Code = "ticket_not_queued"
	CodeQueueLoading     Code = "loading"
	CodeIncidentNotFound Code = "incident_not_found"

	CodeInvalidRequest       Code = "invalid_request"
	CodeAlreadyClaimed       Code = "already_claimed"
	CodeNotOwner             Code = "not_owner"
	CodeInvalidTransition    Code = "invalid_transition"
	CodePreconditionFailed   Code = "precondition_failed"
	CodePreconditionRequired Code = "precondition_required"
	CodeTokenNotFound        Code = "token_not_found"
	CodeBadSignature         Code = "bad_signature"
	CodeNewerVersion         Code = "newer_version"
	CodeTicketBusy           Code = "ticket_busy"
)

// CodeInfo documents one error code.
type CodeInfo struct {
	Code    Code
	Status  int
	Meaning string
}

// Codes lists every error code with its HTTP status and meaning.
func Codes() []CodeInfo {
	return []CodeInfo{
		{CodeInternal, http.StatusInternalServerError, "an unexpected error; the request was not completed (the server logged the cause under the reference in the message); retry it"},
		{CodeNotFound, http.StatusNotFound, "no such route"},
		{CodeMethodNotAllowed, http.StatusMethodNotAllowed, "the route exists but not for this method; the Allow header lists those that do"},
		{CodeShuttingDown, http.StatusServiceUnavailable, "the service is stopping; retry (another replica, or this one once restarted, answers)"},

		{CodeUnauthenticated, http.StatusUnauthorized, "no valid credentials: send Authorization: Bearer <token> (or sign in); the message says if the token expired or was revoked"},
		{CodeForbidden, http.StatusForbidden, "signed in, but the role does not allow this"},
		{CodeCSRFFailed, http.StatusForbidden, "a state-changing request made with the session cookie lacks the page's CSRF token; reload the page"},

		{CodeUnsupportedMediaType, http.StatusUnsupportedMediaType, "the body is not JSON (send Content-Type: application/json)"},
		{CodeBodyTooLarge, http.StatusRequestEntityTooLarge, "the body is over the size limit"},
		{CodeUnreadableBody, http.StatusBadRequest, "the body could not be read (connection cut mid-body)"},
		{CodeInvalidEncoding, http.StatusBadRequest, "the body is not UTF-8"},
		{CodeInvalidJSON, http.StatusBadRequest, "the body is not one well-formed JSON object"},
		{CodeInvalidParameter, http.StatusBadRequest, "a query parameter has a bad value; fields names it"},
		{CodeInvalidTicket, http.StatusBadRequest, "the ticket has invalid or unknown fields; fields lists every one"},
		{CodeInvalidIdempotencyKey, http.StatusBadRequest, "the Idempotency-Key header is too long or not printable"},
		{CodeIdempotencyKeyReused, http.StatusUnprocessableEntity, "the Idempotency-Key was used before for a different ticket"},
		{CodeStoreUnavailable, http.StatusServiceUnavailable, "JetStream could not confirm the write; retry with the same Idempotency-Key (Retry-After says when)"},

		{CodeTicketNotFound, http.StatusNotFound, "no ticket has this id"},
		{CodeTicketNotQueued, http.StatusNotFound, "the ticket is not in a queue (yet); intake's status shows where it is"},
		{CodeQueueLoading, http.StatusServiceUnavailable, "the queue is still loading its view; retry in a moment"},
		{CodeIncidentNotFound, http.StatusNotFound, "no incident has this id"},

		{CodeInvalidRequest, http.StatusBadRequest, "the action's body has invalid fields (a comment too long, a reason missing); fields lists every one"},
		{CodeAlreadyClaimed, http.StatusConflict, "the ticket already has an owner, named in the message; ask them, or reassign it"},
		{CodeNotOwner, http.StatusConflict, "only the ticket's owner (or an admin) may do this; claim it first"},
		{CodeInvalidTransition, http.StatusConflict, "the ticket's status does not allow this; the message lists what it allows"},
		{CodePreconditionFailed, http.StatusPreconditionFailed, "If-Match names an older version: the ticket changed since you read it; read it again (the current ETag is sent)"},
		{CodePreconditionRequired, http.StatusPreconditionRequired, "a state-changing request needs If-Match with the ticket's ETag (or *)"},
		{CodeTokenNotFound, http.StatusNotFound, "no token has this id"},
		{CodeNewerVersion, http.StatusServiceUnavailable, "during a rolling upgrade, this replica is older than what wrote the ticket's history; retry (a newer replica answers)"},
		{CodeTicketBusy, http.StatusConflict, "the ticket kept changing while the action was checked against it; read it again and retry"},
		{CodeBadSignature, http.StatusUnauthorized, "a webhook delivery's X-Hub-Signature-256 is missing, not SHA-256, or does not match its body"},
	}
}

// FieldCode says what is wrong with one field of a request (FieldError).
type FieldCode string

// Field error codes.
const (
	FieldRequired          FieldCode = "required"
	FieldTooLong           FieldCode = "too_long"
	FieldTooMany           FieldCode = "too_many"
	FieldControlCharacters FieldCode = "control_characters"
	FieldInvalidFormat     FieldCode = "invalid_format"
	FieldInvalidTime       FieldCode = "invalid_time"
	FieldInFuture          FieldCode = "in_future"
	FieldInvalidValue      FieldCode = "invalid_value"
	FieldWrongType         FieldCode = "wrong_type"
	FieldUnknown           FieldCode = "unknown_field"
)

// FieldCodeInfo documents one field error code.
type FieldCodeInfo struct {
	Code    FieldCode
	Meaning string
}

// FieldCodes lists every field error code with its meaning.
func FieldCodes() []FieldCodeInfo {
	return []FieldCodeInfo{
		{FieldRequired, "the field is missing or blank"},
		{FieldTooLong, "the text is over the field's length limit"},
		{FieldTooMany, "the list has more entries than allowed"},
		{FieldControlCharacters, "the text holds control characters"},
		{FieldInvalidFormat, "the value does not have the required shape"},
		{FieldInvalidTime, "not an RFC 3339 time"},
		{FieldInFuture, "the time is ahead of the server's clock"},
		{FieldInvalidValue, "not one of the allowed values"},
		{FieldWrongType, "the JSON type is wrong (a number for a string, say)"},
		{FieldUnknown, "no such field (a typo such as tenantId)"},
	}
}

// statusOf maps each code to its status, built once from Codes.
var statusOf = sync.OnceValue(func() map[Code]int {
	m := map[Code]int{}
	for _, c := range Codes() {
		m[c.Code] = c.Status
	}
	return m
})

// Status is the HTTP status a code is answered with; 500 for a code that is
// not in Codes (a test keeps that from happening).
func (c Code) Status() int {
	if s, ok := statusOf()[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}
