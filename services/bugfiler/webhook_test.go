package bugfiler

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
	"github.com/triage-pipeline/triage/libs/events"
)

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// GitHub's webhook: a valid delivery closes the loop once; a bad, missing,
// SHA-1-only or tampered signature changes nothing (401); a replayed
// delivery and another repository's event are acknowledged and ignored.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, unpaced)
	st := e.watchStates()
	s := e.filer(fast)
	e.confirm("payment-hook", "t-hook", "rst-7")
	r := e.filedTickets("payment-hook", 1, 30*time.Second)

	// The fake sends a real, signed delivery when a developer closes it.
	if err := e.gh.CloseIssue("acme", "pos", r.IssueNumber, "completed"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 20*time.Second, func() error {
		if n, tickets := st.count(events.TypeBugClosed); n != 1 || !tickets["t-hook"] {
			return fmt.Errorf("%d closed events", n)
		}
		return nil
	})
	if rec := e.record("payment-hook"); rec.State != stateClosed {
		t.Fatalf("record state %s after the close", rec.State)
	}
	d := e.gh.Deliveries()
	valid := d[len(d)-1]
	payload := valid.Payload
	other := bytes.ReplaceAll(payload, []byte(`"full_name":"acme/pos"`), []byte(`"full_name":"acme/other"`))
	tampered := bytes.Replace(payload, []byte(`"closed"`), []byte(`"reopened"`), 1)
	sha1sig := func(b []byte) string {
		m := hmac.New(sha1.New, []byte(hookSecret))
		m.Write(b)
		return "sha1=" + hex.EncodeToString(m.Sum(nil))
	}
	for _, tc := range []struct {
		name, delivery, sig256, sig1 string
		body                         []byte
		status                       int
		outcome                      string
	}{
		{"replayed delivery", valid.GUID, sign(hookSecret, payload), "", payload, 200, "duplicate"},
		{"wrong secret", "d-1", sign("not-the-secret", payload), "", payload, 401, ""},
		{"no signature", "d-2", "", "", payload, 401, ""},
		{"SHA-1 only", "d-3", "", sha1sig(payload), payload, 401, ""},
		{"tampered body", "d-4", sign(hookSecret, payload), "", tampered, 401, ""},
		{"other repository", "d-5", sign(hookSecret, other), "", other, 200, "other_repository"},
		{"reopened", "d-6", sign(hookSecret, tampered), "", tampered, 200, "reopened"},
		{"reopened again (same delivery)", "d-6", sign(hookSecret, tampered), "", tampered, 200, "duplicate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", s.URL()+"/webhooks/github", bytes.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-GitHub-Event", "issues")
			req.Header.Set("X-GitHub-Delivery", tc.delivery)
			if tc.sig256 != "" {
				req.Header.Set("X-Hub-Signature-256", tc.sig256)
			}
			if tc.sig1 != "" {
				req.Header.Set("X-Hub-Signature", tc.sig1)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || (tc.outcome != "" && !strings.Contains(string(b), `"`+tc.outcome+`"`)) {
				t.Fatalf("%d %s, want %d %s", resp.StatusCode, b, tc.status, tc.outcome)
			}
		})
	}
	if n, _ := st.count(events.TypeBugClosed); n != 1 {
		t.Errorf("%d closed events after the refused and repeated deliveries, want 1", n)
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		if n, _ := st.count(events.TypeBugReopened); n != 1 {
			return fmt.Errorf("%d reopened events, want 1", n)
		}
		return nil
	})
	// An oversized body is refused before anything is read into memory.
	big := bytes.Repeat([]byte("x"), maxWebhookBody+10)
	req, _ := http.NewRequest("POST", s.URL()+"/webhooks/github", bytes.NewReader(big))
	req.Header.Set("X-Hub-Signature-256", sign(hookSecret, big))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized delivery: %d", resp.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()
}
