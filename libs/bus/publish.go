package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// CloudEvents attribute headers (NATS protocol binding, binary mode).
const (
	HeaderSpecVersion = "ce-specversion"
	HeaderType        = "ce-type"
	HeaderID          = "ce-id"
	HeaderSource      = "ce-source"
	HeaderTime        = "ce-time"
	HeaderSubject     = "ce-subject"
	HeaderContentType = "Content-Type"
)

// Event is one message to publish.
type Event struct {
	Subject string
	Type    string
	// ID is the event id, also the Nats-Msg-Id: publishing the same ID twice
	// inside the stream's duplicate window stores it once.
	ID string
	// Source names the publishing service, e.g. "triage/intake".
	Source string
	// About is the ticket id or bug fingerprint.
	About string
	Time  time.Time
	Data  any
	// Header holds extra headers, beside the CloudEvents ones.
	Header nats.Header
}

// Msg encodes the event with its headers.
func (e Event) Msg() (*nats.Msg, error) {
	body, err := json.Marshal(e.Data)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", e.Type, err)
	}
	m := nats.NewMsg(e.Subject)
	m.Data = body
	m.Header.Set(HeaderSpecVersion, "1.0")
	m.Header.Set(HeaderType, e.Type)
	m.Header.Set(HeaderID, e.ID)
	m.Header.Set(HeaderSource, e.Source)
	m.Header.Set(HeaderTime, e.Time.UTC().Format(time.RFC3339Nano))
	if e.About != "" {
		m.Header.Set(HeaderSubject, e.About)
	}
	m.Header.Set(HeaderContentType, "application/json")
	for k, v := range e.Header {
		m.Header[k] = v
	}
	m.Header.Set(jetstream.MsgIDHeader, e.ID)
	return m, nil
}

// Publish stores the event in JetStream and returns once the stream has it.
// A subject with a wildcard token is refused: events are published on
// literal subjects, and a "*" taken from a request would read as every
// ticket to a consumer that filters on it.
func Publish(ctx context.Context, js jetstream.JetStream, e Event, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	for _, tok := range strings.Split(e.Subject, ".") {
		if tok == "" || tok == "*" || tok == ">" {
			return nil, fmt.Errorf("publish %s: not a literal subject", e.Subject)
		}
	}
	m, err := e.Msg()
	if err != nil {
		return nil, err
	}
	ack, err := js.PublishMsg(ctx, m, opts...)
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", e.Subject, err)
	}
	return ack, nil
}

// IsWrongLastSequence reports a failed compare-and-set publish (the subject
// already had a message): the stream-level twin of KV's "key exists".
func IsWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}

// IsConflict reports a compare-and-set that lost: a KV Create on a key that
// exists, or an Update (or publish) whose expected revision was not the
// last one. The caller reads again and retries.
func IsConflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyExists) || IsWrongLastSequence(err)
}
