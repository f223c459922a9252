package demoworld

import (
	"fmt"
	"time"
)

// TimestampLayout is how ECS timestamps are written: RFC 3339, UTC, always
// three fractional digits (time.RFC3339Nano would drop trailing zeros).
const TimestampLayout = "2006-01-02T15:04:05.000Z07:00"

// IndexPrefix starts every daily log index name; IndexPattern matches them all.
const (
	IndexPrefix  = "logs-pos-"
	IndexPattern = "logs-*"
)

// Log levels used in log.level.
const (
	LevelDebug = "debug"
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
	LevelFatal = "fatal"
)

// Service names of the demo product, plus the optional Loghub-fed one.
const (
	ServiceOrderAPI       = "order-api"
	ServicePaymentGateway = "payment-gateway"
	ServicePrinterBridge  = "printer-bridge"
	ServiceMenuSync       = "menu-sync"
	ServiceAuth           = "auth"
	ServiceLegacyBatch    = "legacy-batch"
)

// ECSTime is an instant written as ECS expects: UTC, RFC 3339 with
// milliseconds. It embeds time.Time so callers compare and format it directly.
type ECSTime struct{ time.Time }

// MarshalJSON writes the instant in UTC with exactly three fractional digits.
func (t ECSTime) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimestampLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimestampLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts any RFC 3339 instant.
func (t *ECSTime) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("ecs timestamp %s: not a JSON string", b)
	}
	parsed, err := time.Parse(time.RFC3339Nano, string(b[1:len(b)-1]))
	if err != nil {
		return fmt.Errorf("ecs timestamp: %w", err)
	}
	t.Time = parsed.UTC()
	return nil
}

// Log is one ECS application log document. Field paths mirror the ECS names
// (l.HTTP.Response.StatusCode is http.response.status_code); empty parts are
// left out of the JSON.
type Log struct {
	Timestamp ECSTime    `json:"@timestamp"`
	Message   string     `json:"message"`
	Log       LogFields  `json:"log"`
	Service   Service    `json:"service"`
	Trace     Trace      `json:"trace,omitzero"`
	User      User       `json:"user,omitzero"`
	Error     ErrorInfo  `json:"error,omitzero"`
	HTTP      HTTP       `json:"http,omitzero"`
	Labels    Labels     `json:"labels,omitzero"`
	Event     EventField `json:"event"`
}

// LogFields is the ECS log.* field set.
type LogFields struct {
	Level string `json:"level"`
}

// Service is the ECS service.* field set.
type Service struct {
	Name string `json:"name"`
}

// Trace is the ECS trace.* field set (a W3C trace id).
type Trace struct {
	ID string `json:"id,omitempty"`
}

// User is the ECS user.* field set.
type User struct {
	ID string `json:"id,omitempty"`
}

// ErrorInfo is the ECS error.* field set.
type ErrorInfo struct {
	Type    string `json:"type,omitempty"`
	Message string `json:"message,omitempty"`
	Code    string `json:"code,omitempty"`
}

// HTTP is the ECS http.* field set.
type HTTP struct {
	Request  HTTPRequest  `json:"request,omitzero"`
	Response HTTPResponse `json:"response,omitzero"`
}

// HTTPRequest is http.request.*.
type HTTPRequest struct {
	ID string `json:"id,omitempty"`
}

// HTTPResponse is http.response.*.
type HTTPResponse struct {
	StatusCode int `json:"status_code,omitempty"`
}

// Labels are the demo world's custom keyword labels (ECS labels.*).
type Labels struct {
	TenantID   string `json:"tenant_id,omitempty"`
	OrderID    string `json:"order_id,omitempty"`
	DeviceID   string `json:"device_id,omitempty"`
	AppVersion string `json:"app_version,omitempty"`
}

// EventField is the ECS event.* field set. ID doubles as the document _id.
type EventField struct {
	ID      string `json:"id"`
	Dataset string `json:"dataset,omitempty"`
}

// ID returns the document id (event.id): stable for a seed.
func (l *Log) ID() string { return l.Event.ID }

// Index returns the daily index the log belongs to, from its UTC date.
func (l *Log) Index() string { return IndexFor(l.Timestamp.Time) }

// IndexFor names the daily index holding logs of instant t.
func IndexFor(t time.Time) string {
	return IndexPrefix + t.UTC().Format("2006.01.02")
}
