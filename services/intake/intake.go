// Package intake accepts support tickets over HTTP and publishes each one to
// JetStream exactly once: it answers 202 only after the stream has stored
// the ticket, and an Idempotency-Key makes a retried submission return the
// same ticket.
package intake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/bus"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/extract"
	"github.com/triage-pipeline/triage/libs/httpapi"
	"github.com/triage-pipeline/triage/libs/logging"
	"github.com/triage-pipeline/triage/libs/service"
)

// Config configures intake.
type Config struct {
	service.Config `embed:""`
	HTTPAddr       string `name:"http-addr" env:"TRIAGE_INTAKE_HTTP_ADDR" default:"127.0.0.1:8080" help:"Listen address of the intake API."`
	MaxBodyBytes   int64  `name:"max-body-bytes" env:"TRIAGE_INTAKE_MAX_BODY_BYTES" default:"65536" help:"Largest accepted request body."`
}

// Validate checks intake's own settings.
func (c *Config) Validate() error {
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("--max-body-bytes must be at least 1024, got %d", c.MaxBodyBytes)
	}
	return nil
}

const source = "triage/intake"

// Service is a running intake.
type Service struct {
	*service.Base
	cfg Config
	// submissions and tickets are the streams holding a ticket's history.
	submissions jetstream.Stream
	tickets     jetstream.Stream
	now         func() time.Time
	metrics     *metrics
	auth        *auth.Store
}

type metrics struct {
	submitted *prometheus.CounterVec
	latency   prometheus.Histogram
}

// New connects intake and binds its listener.
func New(ctx context.Context, cfg Config, log *zap.Logger) (*Service, error) {
	base, err := service.Start(ctx, "intake", cfg.Config, cfg.HTTPAddr, log)
	if err != nil {
		return nil, err
	}
	s := &Service{Base: base, cfg: cfg, now: time.Now}
	if s.submissions, err = base.JS.Stream(ctx, bus.StreamSubmissions); err == nil {
		s.tickets, err = base.JS.Stream(ctx, bus.StreamTickets)
	}
	if err != nil {
		base.Close()
		return nil, fmt.Errorf("open ticket streams: %w", err)
	}
	s.metrics = &metrics{
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_intake_submissions_total",
			Help: "Ticket submissions by outcome (accepted, replayed, rejected, failed).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "triage_intake_accept_seconds",
			Help:    "Time from request to 202, including the JetStream store.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
	}
	base.Registry.MustRegister(s.metrics.submitted, s.metrics.latency)
	if s.auth, err = auth.Open(ctx, base.JS, cfg.Topology()); err != nil {
		base.Close()
		return nil, err
	}
	// Support staff, engineers and admins submit and follow tickets.
	base.Mux.Handle("/api/v1/tickets", httpapi.Methods(map[string]http.HandlerFunc{
		http.MethodPost: s.auth.Require(auth.RoleSupport, http.HandlerFunc(s.submit)).ServeHTTP}))
	base.Mux.Handle("/api/v1/tickets/{id}", httpapi.Methods(map[string]http.HandlerFunc{
		http.MethodGet: s.auth.Require(auth.RoleSupport, http.HandlerFunc(s.status)).ServeHTTP}))
	base.Mux.HandleFunc("/", httpapi.NotFound)
	return s, nil
}

// Run serves until ctx ends.
func (s *Service) Run(ctx context.Context) error { return s.Base.Run(ctx) }

// SubmitResponse is the 202 body.
type SubmitResponse struct {
	TicketID  string `json:"ticket_id"`
	StatusURL string `json:"status_url"`
	Status    string `json:"status"`
	// Replayed is true when an Idempotency-Key matched an earlier submission.
	Replayed bool `json:"replayed"`
}

// HeaderRequestHash carries a hash of the request on the submitted event, so
// a retry can be told apart from a different ticket reusing the key.
const HeaderRequestHash = "Triage-Request-Hash"

const maxIdempotencyKey = 255

// keyNamespace derives ticket ids from Idempotency-Keys (UUID v5).
var keyNamespace = uuid.MustParse("6f1c2b1e-8a53-4c8e-9a0e-5d3c1f7b2a90")

func (s *Service) submit(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	resp, err := s.accept(r)
	if err != nil {
		outcome := "rejected"
		var apiErr *httpapi.Error
		if !errors.As(err, &apiErr) {
			outcome = "failed"
			s.Log.Error("submission failed", zap.Error(err))
			// The store may or may not have the ticket (a timeout after it
			// stored it); only a retry with the same key is safe.
			w.Header().Set("Retry-After", "1")
			err = httpapi.Errorf(httpapi.CodeStoreUnavailable,
				"the ticket could not be confirmed as stored; retry with the same Idempotency-Key (without one, check the queue first to avoid a duplicate)")
		}
		s.metrics.submitted.WithLabelValues(outcome).Inc()
		httpapi.WriteError(w, r, err)
		return
	}
	outcome := "accepted"
	if resp.Replayed {
		outcome = "replayed"
		w.Header().Set("Idempotent-Replayed", "true")
	}
	s.metrics.submitted.WithLabelValues(outcome).Inc()
	s.metrics.latency.Observe(time.Since(start).Seconds())
	w.Header().Set("Location", resp.StatusURL)
	httpapi.WriteJSON(w, http.StatusAccepted, resp)
}

func (s *Service) accept(r *http.Request) (SubmitResponse, error) {
	key := r.Header.Get("Idempotency-Key")
	if key != "" && (len(key) > maxIdempotencyKey || !utf8.ValidString(key) || hasControl(key, false)) {
		return SubmitResponse{}, httpapi.Errorf(httpapi.CodeInvalidIdempotencyKey,
			"Idempotency-Key must be 1-%d printable characters (a UUID is a good choice)", maxIdempotencyKey)
	}
	now := s.now().UTC()
	req, err := decodeSubmit(r, s.cfg.MaxBodyBytes, now)
	if err != nil {
		return SubmitResponse{}, err
	}
	p, _ := auth.From(r.Context())
	req.submittedBy = p.Name
	ctx := r.Context()
	if key == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return SubmitResponse{}, fmt.Errorf("ticket id: %w", err)
		}
		httpapi.SetTicketID(ctx, id.String())
		evt := events.TicketSubmitted{SchemaVersion: events.SchemaVersion, Ticket: req.ticket(id.String(), now)}
		if _, err := s.publish(ctx, evt, nil); err != nil {
			return SubmitResponse{}, err
		}
		s.Log.Info("ticket accepted", logging.TicketID(evt.Ticket.ID), zap.String("tenant_id", evt.Ticket.TenantID))
		return response(evt.Ticket.ID, false), nil
	}
	return s.acceptOnce(ctx, key, req, now)
}

// acceptOnce stores a keyed submission at most once, for good. The ticket id
// is derived from tenant and key, and the event is published only if the
// ticket's subject is still empty (expected last subject sequence 0): the
// same compare-and-set KV Create uses, done on the ticket's own subject so
// accepting a ticket costs one durable write. Unlike Nats-Msg-Id, it does
// not expire after the duplicate window.
func (s *Service) acceptOnce(ctx context.Context, key string, req SubmitRequest, now time.Time) (SubmitResponse, error) {
	id := uuid.NewSHA1(keyNamespace, []byte(req.TenantID+"\x00"+key)).String()
	httpapi.SetTicketID(ctx, id) // an unexpected error from here on is logged with it
	reqHash, err := requestHash(req)
	if err != nil {
		return SubmitResponse{}, err
	}
	evt := events.TicketSubmitted{SchemaVersion: events.SchemaVersion, Ticket: req.ticket(id, now)}
	ack, err := s.publish(ctx, evt, nats.Header{HeaderRequestHash: []string{reqHash}}, jetstream.WithExpectLastSequencePerSubject(0))
	switch {
	case err == nil && !ack.Duplicate:
		s.Log.Info("ticket accepted", logging.TicketID(id), zap.String("tenant_id", req.TenantID))
		return response(id, false), nil
	case err == nil || bus.IsWrongLastSequence(err):
		// Stored before, by an earlier try of this key (or, within the
		// duplicate window, caught by its message id).
	default:
		return SubmitResponse{}, err
	}
	prev, err := s.submissions.GetLastMsgForSubject(ctx, events.TicketSubject(events.SubjectSubmitted, id))
	if err != nil {
		return SubmitResponse{}, fmt.Errorf("read earlier submission of ticket %s: %w", id, err)
	}
	if prev.Header.Get(HeaderRequestHash) != reqHash {
		return SubmitResponse{}, httpapi.Errorf(httpapi.CodeIdempotencyKeyReused,
			"this Idempotency-Key was used for a different ticket (%s); use a new key for a new ticket", id)
	}
	s.Log.Info("idempotent retry answered", logging.TicketID(id))
	return response(id, true), nil
}

func (s *Service) publish(ctx context.Context, evt events.TicketSubmitted, header nats.Header, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	ack, err := bus.Publish(ctx, s.JS, bus.Event{
		Subject: events.TicketSubject(events.SubjectSubmitted, evt.Ticket.ID),
		Type:    events.TypeTicketSubmitted,
		ID:      "submitted:" + evt.Ticket.ID,
		Source:  source,
		About:   evt.Ticket.ID,
		Time:    evt.Ticket.SubmittedAt,
		Data:    evt,
		Header:  header,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("store ticket %s: %w", evt.Ticket.ID, err)
	}
	return ack, nil
}

func response(id string, replayed bool) SubmitResponse {
	return SubmitResponse{TicketID: id, StatusURL: "/api/v1/tickets/" + id, Status: "submitted", Replayed: replayed}
}

func (req SubmitRequest) ticket(id string, now time.Time) events.Ticket {
	t := events.Ticket{
		ID: id, Subject: req.Subject, Description: req.Description, TenantID: req.TenantID,
		Reporter: req.Reporter, Identifiers: req.Identifiers, Channel: req.Channel,
		Language: req.Language, SubmittedAt: now, SubmittedBy: req.submittedBy,
	}
	if t.Channel == "" {
		t.Channel = "api"
	}
	if !req.occurredAt.IsZero() {
		at := req.occurredAt
		t.OccurredAt = &at
	}
	if t.Language == "" {
		t.Language = extract.DetectLanguage(req.Subject + "\n" + req.Description)
		t.LanguageDetected = true
	}
	return t
}

func requestHash(req SubmitRequest) (string, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("hash request: %w", err)
	}
	return hashHex(b), nil
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

var ticketIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
