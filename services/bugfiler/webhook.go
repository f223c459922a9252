package bugfiler

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/google/go-github/v60/github"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
)

// maxWebhookBody caps a delivery's body: issues events are a few KiB.
const maxWebhookBody = 1 << 20

func (s *Service) routes() {
	s.Mux.Handle("/webhooks/github", httpapi.Methods(map[string]http.HandlerFunc{http.MethodPost: s.webhook}))
	s.Mux.HandleFunc("/", httpapi.NotFound)
}

// markerPattern finds the fingerprint in an issue's body.
var markerPattern = regexp.MustCompile(`<!-- triage:fingerprint=([a-z0-9][a-z0-9_-]{2,63}) -->`)

// webhook receives GitHub's issues events: a signature that does not match
// (or only a SHA-1 one) changes nothing and gets 401; a repeated delivery
// or another repository's event is acknowledged and ignored; a closed or
// reopened issue of ours tells the queue, which marks every linked ticket.
func (s *Service) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		s.metrics.webhooks.WithLabelValues("too_large").Inc()
		httpapi.WriteError(w, r, httpapi.Errorf(httpapi.CodeBodyTooLarge, "a webhook delivery is at most %d bytes", maxWebhookBody))
		return
	}
	if err := verify(s.cfg.GitHub.WebhookSecret, r.Header.Get("X-Hub-Signature-256"), body); err != nil {
		s.metrics.webhooks.WithLabelValues("bad_signature").Inc()
		s.Log.Warn("webhook refused", zap.Error(err), zap.String("delivery", r.Header.Get("X-GitHub-Delivery")))
		httpapi.WriteError(w, r, httpapi.Errorf(httpapi.CodeBadSignature, "%v", err))
		return
	}
	delivery := r.Header.Get("X-GitHub-Delivery")
	if delivery == "" || len(delivery) > 100 || strings.ContainsAny(delivery, " .*>") {
		httpapi.WriteError(w, r, httpapi.Errorf(httpapi.CodeInvalidRequest, "X-GitHub-Delivery is missing or malformed"))
		return
	}
	outcome, err := s.handleDelivery(r, r.Header.Get("X-GitHub-Event"), delivery, body)
	if err != nil {
		httpapi.WriteError(w, r, err)
		return
	}
	s.metrics.webhooks.WithLabelValues(outcome).Inc()
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"outcome": outcome})
}

// verify checks X-Hub-Signature-256 in constant time; SHA-1 signatures
// are not accepted (go-github's helper would).
func verify(secret, header string, body []byte) error {
	if secret == "" {
		return errors.New("no webhook secret is configured, so no delivery can be trusted")
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return errors.New("X-Hub-Signature-256 (sha256=...) is missing")
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return errors.New("X-Hub-Signature-256 is not hex")
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return errors.New("X-Hub-Signature-256 does not match the body")
	}
	return nil
}

// handleDelivery acts on one verified delivery, once.
func (s *Service) handleDelivery(r *http.Request, event, delivery string, body []byte) (string, error) {
	ctx := r.Context()
	if event != "issues" {
		return "ignored_event", nil
	}
	var ev github.IssuesEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return "", httpapi.Errorf(httpapi.CodeInvalidJSON, "the issues event is not JSON: %v", err)
	}
	action := ev.GetAction()
	if action != "closed" && action != "reopened" {
		return "ignored_action", nil
	}
	m := markerPattern.FindStringSubmatch(ev.GetIssue().GetBody())
	if m == nil {
		return "not_ours", nil
	}
	fp := m[1]
	rs := records{s.bugs}
	rec, _, err := rs.get(ctx, fp)
	if err != nil {
		return "", err
	}
	full := ev.GetRepo().GetFullName()
	if rec == nil || !strings.EqualFold(full, rec.Owner+"/"+rec.Repo) || rec.IssueNumber != ev.GetIssue().GetNumber() {
		return "other_repository", nil
	}
	// Each delivery once: GitHub may send one again, and so may a person
	// pressing "redeliver". The delivery is recorded after its effects,
	// which are idempotent, so a crash in between means a retry redoes
	// them rather than losing them.
	if _, err := s.deliveries.Get(ctx, delivery); err == nil {
		return "duplicate", nil
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", fmt.Errorf("look up delivery %s: %w", delivery, err)
	}
	typ, subject, state := events.TypeBugClosed, events.SubjectClosed, stateClosed
	if action == "reopened" {
		typ, subject, state = events.TypeBugReopened, events.SubjectReopened, stateOpen
	}
	var waiting []string
	if err := rs.settle(ctx, fp, func(r *bugRecord) {
		r.State = state
		if state == stateClosed {
			// Confirmed before the fix while waiting for the next comment:
			// they belong to the fixed issue.
			waiting = r.ticketIDs(r.Pending)
			r.movePending(waiting)
			r.Flushing, r.FlushAttempts = nil, 0
		}
	}); err != nil {
		return "", err
	}
	if rec, _, err = rs.get(ctx, fp); err != nil {
		return "", err
	}
	if err := s.publishFiled(ctx, rec, waiting); err != nil { // linked first, then fixed
		return "", err
	}
	st := events.BugState{SchemaVersion: events.SchemaVersion, Fingerprint: fp, TicketIDs: rec.ticketIDs(rec.Tickets),
		IssueNumber: rec.IssueNumber, IssueURL: rec.IssueURL, Repository: full, At: s.now().UTC(), By: ev.GetSender().GetLogin()}
	if _, err := s.publish(ctx, subject, typ, fp, "webhook:"+delivery, st); err != nil {
		return "", err
	}
	if _, err := s.deliveries.Create(ctx, delivery, []byte(action)); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return "", fmt.Errorf("record delivery %s: %w", delivery, err)
	}
	s.Log.Info("issue "+action+" on GitHub", zap.String("fingerprint", fp), zap.Int("issue", rec.IssueNumber), zap.Int("tickets", len(st.TicketIDs)))
	return action, nil
}
