package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/httpapi"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

// testTokens holds a support token for each running test intake, by its
// URL, so do sends it.
var testTokens sync.Map

func startIntake(t *testing.T) *Service {
	t.Helper()
	srv := testkit.RunJetStream(t)
	var cfg Config
	if err := config.Load("intake", &cfg, []string{"--nats-url", srv.ClientURL(), "--http-addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	s, err := New(t.Context(), cfg, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	testkit.RunService(t, s)
	token, _, err := s.auth.Issue(t.Context(), "sato", auth.RoleSupport, time.Hour, "test")
	if err != nil {
		t.Fatal(err)
	}
	testTokens.Store(s.URL(), token)
	t.Cleanup(func() { testTokens.Delete(s.URL()) })
	return s
}

func tokenFor(s *Service) string {
	v, _ := testTokens.Load(s.URL())
	return v.(string)
}

type apiError struct {
	Error struct {
		Code    httpapi.Code `json:"code"`
		Message string       `json:"message"`
		Fields  []struct {
			Field string `json:"field"`
			Code  string `json:"code"`
		} `json:"fields"`
	} `json:"error"`
}

func do(t *testing.T, method, url, contentType, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	testTokens.Range(func(u, tok any) bool {
		if strings.HasPrefix(url, u.(string)) {
			req.Header.Set("Authorization", "Bearer "+tok.(string))
		}
		return true
	})
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

const validTicket = `{"subject":"決済エラー","description":"19:05頃からカード決済ができません","tenant_id":"rst-0042"}`

func TestBadInputs(t *testing.T) {
	s := startIntake(t)
	tickets := s.URL() + "/api/v1/tickets"
	for _, tc := range []struct {
		name, method, url, contentType, body string
		header                               map[string]string
		status                               int
		code                                 httpapi.Code
		fields                               []string
	}{
		{name: "not json content type", method: "POST", url: tickets, contentType: "text/plain", body: "hello", status: 415, code: "unsupported_media_type"},
		{name: "no content type", method: "POST", url: tickets, body: validTicket, status: 415, code: "unsupported_media_type"},
		{name: "malformed json", method: "POST", url: tickets, contentType: "application/json", body: `{"subject":`, status: 400, code: "invalid_json"},
		{name: "empty body", method: "POST", url: tickets, contentType: "application/json", body: ``, status: 400, code: "invalid_json"},
		{name: "two objects", method: "POST", url: tickets, contentType: "application/json", body: validTicket + validTicket, status: 400, code: "invalid_json"},
		{name: "missing required fields", method: "POST", url: tickets, contentType: "application/json", body: `{}`, status: 400, code: "invalid_ticket", fields: []string{"subject", "description", "tenant_id"}},
		{name: "unknown field", method: "POST", url: tickets, contentType: "application/json", body: `{"subject":"a","description":"b","tenantId":"rst-1"}`, status: 400, code: "invalid_ticket", fields: []string{"tenantId"}},
		{name: "wrong type", method: "POST", url: tickets, contentType: "application/json", body: `{"subject":1,"description":"b","tenant_id":"rst-1"}`, status: 400, code: "invalid_ticket", fields: []string{"subject"}},
		{name: "bad values", method: "POST", url: tickets, contentType: "application/json",
			body:   `{"subject":"a","description":"b","tenant_id":"rst 1","occurred_at":"yesterday 7pm","language":"fr","channel":"fax","identifiers":{"order_ids":["ok-1","bad id"]}}`,
			status: 400, code: "invalid_ticket", fields: []string{"tenant_id", "occurred_at", "channel", "language", "identifiers.order_ids[1]"}},
		{name: "occurred in the future", method: "POST", url: tickets, contentType: "application/json",
			body:   fmt.Sprintf(`{"subject":"a","description":"b","tenant_id":"rst-1","occurred_at":%q}`, time.Now().Add(48*time.Hour).Format(time.RFC3339)),
			status: 400, code: "invalid_ticket", fields: []string{"occurred_at"}},
		{name: "control characters in subject", method: "POST", url: tickets, contentType: "application/json", body: `{"subject":"a\u0007b","description":"b","tenant_id":"rst-1"}`, status: 400, code: "invalid_ticket", fields: []string{"subject"}},
		{name: "subject too long", method: "POST", url: tickets, contentType: "application/json", body: fmt.Sprintf(`{"subject":%q,"description":"b","tenant_id":"rst-1"}`, strings.Repeat("長", 301)), status: 400, code: "invalid_ticket", fields: []string{"subject"}},
		{name: "body too large", method: "POST", url: tickets, contentType: "application/json", body: fmt.Sprintf(`{"subject":"a","description":%q,"tenant_id":"rst-1"}`, strings.Repeat("x", 70000)), status: 413, code: "body_too_large"},
		{name: "bad idempotency key", method: "POST", url: tickets, contentType: "application/json", body: validTicket, header: map[string]string{"Idempotency-Key": strings.Repeat("k", 300)}, status: 400, code: "invalid_idempotency_key"},
		{name: "wrong method", method: "PUT", url: tickets, contentType: "application/json", body: validTicket, status: 405, code: "method_not_allowed"},
		{name: "unknown path", method: "GET", url: s.URL() + "/api/v1/nope", status: 404, code: "not_found"},
		{name: "unknown ticket", method: "GET", url: tickets + "/01a204ca-3fd2-7411-ab5a-e761a630259a", status: 404, code: "ticket_not_found"},
		{name: "malformed ticket id", method: "GET", url: tickets + "/not-an-id", status: 404, code: "ticket_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, tc.method, tc.url, tc.contentType, tc.body, tc.header)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.status, body)
			}
			var e apiError
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("error body is not JSON: %s", body)
			}
			if e.Error.Code != tc.code || e.Error.Message == "" {
				t.Fatalf("error %+v, want code %q with a message", e.Error, tc.code)
			}
			var fields []string
			for _, f := range e.Error.Fields {
				fields = append(fields, f.Field)
			}
			if strings.Join(fields, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("fields %v, want %v", fields, tc.fields)
			}
			if tc.status == 405 && resp.Header.Get("Allow") != "POST" {
				t.Fatalf("Allow header %q", resp.Header.Get("Allow"))
			}
		})
	}
}

type accepted struct {
	TicketID  string `json:"ticket_id"`
	StatusURL string `json:"status_url"`
	Replayed  bool   `json:"replayed"`
}

func TestIdempotencyKey(t *testing.T) {
	s := startIntake(t)
	tickets := s.URL() + "/api/v1/tickets"
	key := map[string]string{"Idempotency-Key": "retry-me-1"}

	// Ten concurrent retries of one submission create one ticket.
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := do(t, "POST", tickets, "application/json", validTicket, key)
			if resp.StatusCode != http.StatusAccepted {
				t.Errorf("status %d: %s", resp.StatusCode, body)
				return
			}
			var a accepted
			_ = json.Unmarshal(body, &a)
			ids[i] = a.TicketID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("retries gave different tickets: %v", ids)
		}
	}
	resp, body := do(t, "POST", tickets, "application/json", validTicket, key)
	var a accepted
	_ = json.Unmarshal(body, &a)
	if resp.StatusCode != 202 || a.TicketID != ids[0] || !a.Replayed || resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("later retry: %d %s", resp.StatusCode, body)
	}

	// The same key with another ticket is a client bug, not a retry.
	resp, body = do(t, "POST", tickets, "application/json", `{"subject":"other","description":"x","tenant_id":"rst-0042"}`, key)
	var e apiError
	_ = json.Unmarshal(body, &e)
	if resp.StatusCode != http.StatusUnprocessableEntity || e.Error.Code != httpapi.CodeIdempotencyKeyReused {
		t.Fatalf("reused key: %d %s", resp.StatusCode, body)
	}

	// Without a key each submission is a new ticket.
	_, b1 := do(t, "POST", tickets, "application/json", validTicket, nil)
	_, b2 := do(t, "POST", tickets, "application/json", validTicket, nil)
	var a1, a2 accepted
	_ = json.Unmarshal(b1, &a1)
	_ = json.Unmarshal(b2, &a2)
	if a1.TicketID == "" || a1.TicketID == a2.TicketID || a1.TicketID == ids[0] {
		t.Fatalf("keyless submissions: %s %s", b1, b2)
	}

	// The status URL answers at once: 202 means stored.
	resp, body = do(t, "GET", s.URL()+a1.StatusURL, "", "", nil)
	var st Status
	_ = json.Unmarshal(body, &st)
	if resp.StatusCode != 200 || st.Stage != "submitted" || st.TicketID != a1.TicketID || st.TenantID != "rst-0042" || st.Subject != "決済エラー" {
		t.Fatalf("status: %d %s", resp.StatusCode, body)
	}
}

// The same key keeps answering with the same ticket after the stream's
// duplicate window has passed: the compare-and-set, not Nats-Msg-Id, holds.
func TestIdempotencyOutlivesDuplicateWindow(t *testing.T) {
	s := startIntake(t)
	key := map[string]string{"Idempotency-Key": "old-key"}
	_, body := do(t, "POST", s.URL()+"/api/v1/tickets", "application/json", validTicket, key)
	var first accepted
	_ = json.Unmarshal(body, &first)
	// Shrink the window to its minimum and wait it out.
	ctx := context.Background()
	cfg := s.cfg.Topology().SubmissionsStream()
	cfg.Duplicates = 100 * time.Millisecond
	if _, err := s.JS.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	// The window is over once a message id published now is forgotten.
	probe := func() error {
		m := nats.NewMsg("tickets.submitted.window-probe")
		m.Header.Set(jetstream.MsgIDHeader, "window-probe")
		ack, err := s.JS.PublishMsg(ctx, m)
		if err != nil {
			return err
		}
		if ack.Duplicate {
			return errors.New("the duplicate window still remembers the probe")
		}
		return nil
	}
	if err := probe(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, probe)
	resp, body := do(t, "POST", s.URL()+"/api/v1/tickets", "application/json", validTicket, key)
	var again accepted
	_ = json.Unmarshal(body, &again)
	if resp.StatusCode != 202 || again.TicketID != first.TicketID || !again.Replayed {
		t.Fatalf("retry after the window: %d %s (first %s)", resp.StatusCode, body, first.TicketID)
	}
	info, err := s.submissions.Info(ctx, jetstream.WithSubjectFilter("tickets.submitted.*"))
	if err != nil {
		t.Fatal(err)
	}
	if n := info.State.Subjects["tickets.submitted."+first.TicketID]; n != 1 {
		t.Fatalf("ticket stored %d times, want 1", n)
	}
}

// The time a ticket names reaches the event as sent, blanks and zone aside.
func TestOccurredAtReachesTheTicket(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	want := time.Date(2026, 11, 21, 10, 5, 0, 0, time.UTC)
	for _, sent := range []string{"2026-11-21T19:05:00+09:00", "  2026-11-21T19:05:00+09:00\n", "2026-11-21T10:05:00Z"} {
		req := SubmitRequest{Subject: "s", Description: "d", TenantID: "rst-1", OccurredAt: sent}
		if fe := req.validate(now); len(fe) != 0 {
			t.Fatalf("%q: %+v", sent, fe)
		}
		got := req.ticket("id", now).OccurredAt
		if got == nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%q: occurred_at %v, want %v", sent, got, want)
		}
	}
}

// Submitting and following tickets needs a token; the ticket records whose.
func TestSubmissionNeedsAToken(t *testing.T) {
	s := startIntake(t)
	ctx := t.Context()
	revoked, rec, err := s.auth.Issue(ctx, "gone", auth.RoleSupport, time.Hour, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.auth.Revoke(ctx, rec.ID, "test"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, auth string
		status     int
	}{
		{"none", "", 401}, {"not bearer", "Basic eDp5", 401}, {"unknown", "Bearer trg_abc_def", 401}, {"revoked", "Bearer " + revoked, 401},
	} {
		req, _ := http.NewRequest("POST", s.URL()+"/api/v1/tickets", strings.NewReader(validTicket))
		req.Header.Set("Content-Type", "application/json")
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}
	c := NewClient(s.URL(), ClientOptions{Retries: -1, Token: tokenFor(s)})
	got, err := c.Submit(ctx, SubmitRequest{Subject: "s", Description: "d", TenantID: "rst-0001"}, "who-key")
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.submissions.GetLastMsgForSubject(ctx, "tickets.submitted."+got.TicketID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m.Data), `"submitted_by":"sato"`) {
		t.Fatalf("the ticket does not say who submitted it: %s", m.Data)
	}
}
