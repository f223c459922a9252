package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Dead-letter kinds.
const (
	// KindHandler: a handler gave up on the message (its error is the reason).
	KindHandler = "handler"
	// KindMaxDeliveries: the server ran out of deliveries with no handler
	// verdict (the worker crashed or hung each time).
	KindMaxDeliveries = "max_deliveries"
)

// DeadLetter is one entry of the dead-letter stream.
type DeadLetter struct {
	Seq        uint64    `json:"seq"`
	Kind       string    `json:"kind"`
	Stream     string    `json:"stream"`
	Consumer   string    `json:"consumer"`
	Subject    string    `json:"subject,omitempty"`
	StreamSeq  uint64    `json:"stream_seq"`
	Deliveries uint64    `json:"deliveries"`
	Reason     string    `json:"reason"`
	Time       time.Time `json:"time"`
	EventType  string    `json:"event_type,omitempty"`
	About      string    `json:"about,omitempty"`
}

type maxDeliveriesAdvisoryBody struct {
	Stream     string    `json:"stream"`
	Consumer   string    `json:"consumer"`
	StreamSeq  uint64    `json:"stream_seq"`
	Deliveries uint64    `json:"deliveries"`
	Timestamp  time.Time `json:"timestamp"`
}

func parseDeadLetter(m *jetstream.RawStreamMsg) (DeadLetter, error) {
	dl := DeadLetter{Seq: m.Sequence, Time: m.Time}
	if strings.HasPrefix(m.Subject, maxDeliveriesAdvisory+".") {
		var adv maxDeliveriesAdvisoryBody
		if err := json.Unmarshal(m.Data, &adv); err != nil {
			return dl, fmt.Errorf("dead letter %d: decode advisory: %w", m.Sequence, err)
		}
		dl.Kind = KindMaxDeliveries
		dl.Stream, dl.Consumer, dl.StreamSeq, dl.Deliveries = adv.Stream, adv.Consumer, adv.StreamSeq, adv.Deliveries
		dl.Reason = fmt.Sprintf("no handler acknowledged it in %d deliveries (worker crashed or timed out)", adv.Deliveries)
		if !adv.Timestamp.IsZero() {
			dl.Time = adv.Timestamp
		}
		return dl, nil
	}
	h := m.Header
	dl.Kind = KindHandler
	dl.Stream = h.Get(HeaderDLStream)
	dl.Consumer = h.Get(HeaderDLConsumer)
	dl.Subject = h.Get(HeaderDLSubject)
	dl.Reason = h.Get(HeaderDLReason)
	dl.EventType = h.Get(HeaderType)
	dl.About = h.Get(HeaderSubject)
	dl.StreamSeq, _ = strconv.ParseUint(h.Get(HeaderDLSeq), 10, 64)
	dl.Deliveries, _ = strconv.ParseUint(h.Get(HeaderDLDeliveries), 10, 64)
	if t, err := time.Parse(time.RFC3339Nano, h.Get(HeaderDLTime)); err == nil {
		dl.Time = t
	}
	return dl, nil
}

// ListDeadLetters returns every dead letter, oldest first.
func ListDeadLetters(ctx context.Context, js jetstream.JetStream) ([]DeadLetter, error) {
	stream, err := js.Stream(ctx, StreamDeadLetters)
	if err != nil {
		return nil, fmt.Errorf("open dead-letter stream: %w", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("dead-letter stream info: %w", err)
	}
	out := []DeadLetter{} // an empty list, not null, in JSON
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; {
		// Next message at or after seq: skips letters already replayed.
		m, err := stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(">"))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read dead letter at %d: %w", seq, err)
		}
		dl, err := parseDeadLetter(m)
		if err != nil {
			return nil, err
		}
		out = append(out, dl)
		seq = m.Sequence + 1
	}
	return out, nil
}

// ReplayDeadLetter puts the message back on its original subject, so its
// consumer handles it again, and removes the dead letter. It returns the
// replayed message's new sequence in its stream.
func ReplayDeadLetter(ctx context.Context, js jetstream.JetStream, seq uint64) (uint64, error) {
	dlStream, err := js.Stream(ctx, StreamDeadLetters)
	if err != nil {
		return 0, fmt.Errorf("open dead-letter stream: %w", err)
	}
	raw, err := dlStream.GetMsg(ctx, seq)
	if err != nil {
		return 0, fmt.Errorf("read dead letter %d: %w", seq, err)
	}
	dl, err := parseDeadLetter(raw)
	if err != nil {
		return 0, err
	}
	subject, data, header := dl.Subject, raw.Data, raw.Header
	if dl.Kind == KindMaxDeliveries {
		src, err := js.Stream(ctx, dl.Stream)
		if err != nil {
			return 0, fmt.Errorf("open stream %s: %w", dl.Stream, err)
		}
		orig, err := src.GetMsg(ctx, dl.StreamSeq)
		if err != nil {
			return 0, fmt.Errorf("read original message %s/%d: %w", dl.Stream, dl.StreamSeq, err)
		}
		subject, data, header = orig.Subject, orig.Data, orig.Header
	}
	m := nats.NewMsg(subject)
	m.Data = data
	for k, v := range header {
		// Nats-* headers are the server's (a direct get adds Nats-Stream,
		// Nats-Sequence, ...) or publish directives; they must not travel.
		if strings.HasPrefix(k, "Triage-DL-") || strings.HasPrefix(k, "Nats-") {
			continue
		}
		m.Header[k] = v
	}
	// A fresh message id, or the stream would drop it as a duplicate of the
	// original; the same replay retried is still stored once.
	origID := header.Get(HeaderDLMsgID)
	if origID == "" { // an original message, read back for a max-deliveries letter
		origID = header.Get(jetstream.MsgIDHeader)
	}
	m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s:replay:%d", origID, seq))
	ack, err := js.PublishMsg(ctx, m)
	if err != nil {
		return 0, fmt.Errorf("republish dead letter %d to %s: %w", seq, subject, err)
	}
	if err := dlStream.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return ack.Sequence, fmt.Errorf("replayed dead letter %d but could not remove it: %w", seq, err)
	}
	return ack.Sequence, nil
}
