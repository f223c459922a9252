package fakegithub_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// hookReceiver answers deliveries with the statuses it is given in turn
// (the last one repeats) and keeps what it received.
type hookReceiver struct {
	mu       sync.Mutex
	statuses []int
	got      []received
	block    chan struct{} // when set, every delivery waits for it to close
}

type received struct {
	header http.Header
	body   []byte
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	block := h.block
	h.got = append(h.got, received{header: r.Header.Clone(), body: body})
	status := h.statuses[0]
	if len(h.statuses) > 1 {
		h.statuses = h.statuses[1:]
	}
	h.mu.Unlock()
	if block != nil {
		<-block
	}
	w.WriteHeader(status)
}

func (h *hookReceiver) received() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.got...)
}

// startReceiver serves h until the test ends (after the fake has closed,
// since cleanups run in reverse).
func startReceiver(t *testing.T, h *hookReceiver) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func waitDeliveries(t *testing.T, s *fakegithub.Server, n int, done func(fakegithub.Delivery) bool) []fakegithub.Delivery {
	t.Helper()
	var ds []fakegithub.Delivery
	testkit.Eventually(t, 10*time.Second, func() error {
		ds = s.Deliveries()
		if len(ds) != n {
			return fmt.Errorf("%d deliveries, want %d", len(ds), n)
		}
		for _, d := range ds {
			if !done(d) {
				return fmt.Errorf("delivery %s not finished: %+v", d.GUID, d.Attempts)
			}
		}
		return nil
	})
	return ds
}

func TestWebhookOnStateChanges(t *testing.T) {
	rcv := &hookReceiver{statuses: []int{200}}
	url := startReceiver(t, rcv)
	const secret = "shh"
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, WebhookURL: url, WebhookSecret: secret, Seed: 5})
	a := newAPI(t, s)
	a.seed("o", "r", "flaky printer")
	a.want(200, "PATCH", "/repos/o/r/issues/1", `{"labels":["bug"],"title":"no state change, no delivery"}`, nil)
	a.want(200, "PATCH", "/repos/o/r/issues/1", `{"state":"closed"}`, nil)
	a.want(200, "PATCH", "/repos/o/r/issues/1", `{"state":"closed","state_reason":"not_planned"}`, nil)
	if err := s.ReopenIssue("o", "r", 1); err != nil {
		t.Fatal(err)
	}
	ds := waitDeliveries(t, s, 2, fakegithub.Delivery.Delivered)
	if ds[0].Action != "closed" || ds[1].Action != "reopened" || ds[0].Number != 1 || ds[0].Event != "issues" {
		t.Errorf("deliveries %+v", ds)
	}
	v := webhookContract(t)
	recorded := map[string]bool{ds[0].GUID: true, ds[1].GUID: true}
	// Deliveries run side by side, so they may arrive in either order.
	for i, r := range rcv.received() {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(r.body)
		if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); r.header.Get("X-Hub-Signature-256") != want {
			t.Errorf("delivery %d: signature %q, want %q", i, r.header.Get("X-Hub-Signature-256"), want)
		}
		if v != nil {
			if err := v.ValidateDelivery(r.header, r.body, secret); err != nil {
				t.Errorf("delivery %d: %v", i, err)
			}
		}
		if g := r.header.Get("X-GitHub-Delivery"); !recorded[g] {
			t.Errorf("delivery %d: X-GitHub-Delivery %q was not recorded (%v)", i, g, recorded)
		}
		delete(recorded, r.header.Get("X-GitHub-Delivery"))
	}
}

func TestWebhookRetriesAndRedelivery(t *testing.T) {
	rcv := &hookReceiver{statuses: []int{500, 502, 200}}
	url := startReceiver(t, rcv)
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, WebhookURL: url, WebhookSecret: "s",
		WebhookBackoff: 5 * time.Millisecond})
	a := newAPI(t, s)
	a.seed("o", "r", "retried")
	a.want(200, "PATCH", "/repos/o/r/issues/1", `{"state":"closed"}`, nil)
	ds := waitDeliveries(t, s, 1, fakegithub.Delivery.Delivered)
	if got := ds[0].Attempts; len(got) != 3 || got[0].Status != 500 || got[1].Status != 502 || got[2].Status != 200 {
		t.Errorf("attempts %+v", got)
	}

	rcv.mu.Lock()
	rcv.statuses = []int{202}
	rcv.mu.Unlock()
	d, err := s.Redeliver(t.Context(), ds[0].GUID)
	if err != nil || d.GUID != ds[0].GUID || !d.Redelivery || d.Status() != 202 || string(d.Payload) != string(ds[0].Payload) {
		t.Errorf("redelivery %+v %v", d, err)
	}
	got := rcv.received()
	if last := got[len(got)-1]; last.header.Get("X-GitHub-Delivery") != ds[0].GUID {
		t.Errorf("redelivered with X-GitHub-Delivery %q, want %q", last.header.Get("X-GitHub-Delivery"), ds[0].GUID)
	}
	if _, err := s.Redeliver(t.Context(), "no-such-guid"); !errors.Is(err, fakegithub.ErrNotFound) {
		t.Errorf("redeliver unknown: %v", err)
	}

	d, err = s.SendIssueEvent(t.Context(), "o", "r", 1, "closed")
	if err != nil || d.Status() != 202 || d.Redelivery || d.GUID == ds[0].GUID {
		t.Errorf("send now: %+v %v", d, err)
	}
	if v := webhookContract(t); v != nil {
		if err := v.ValidatePayload("issues", d.Payload); err != nil {
			t.Error(err)
		}
	}
}

func TestWebhookGivesUp(t *testing.T) {
	rcv := &hookReceiver{statuses: []int{503}}
	url := startReceiver(t, rcv)
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, WebhookURL: url, WebhookAttempts: 2, WebhookBackoff: time.Millisecond})
	a := newAPI(t, s)
	a.seed("o", "r", "never delivered")
	a.want(200, "PATCH", "/repos/o/r/issues/1", `{"state":"closed"}`, nil)
	ds := waitDeliveries(t, s, 1, func(d fakegithub.Delivery) bool { return len(d.Attempts) == 2 })
	if ds[0].Delivered() || ds[0].Status() != 503 {
		t.Errorf("delivery %+v", ds[0])
	}
	if ds[0].Header.Get("X-Hub-Signature-256") != "" {
		t.Error("signed without a secret")
	}
}

// TestWebhookNeverBlocksTheAPI: the answer to the close comes back while
// the receiver is still holding the delivery.
func TestWebhookNeverBlocksTheAPI(t *testing.T) {
	release := make(chan struct{})
	rcv := &hookReceiver{statuses: []int{200}, block: release}
	url := startReceiver(t, rcv)
	t.Cleanup(func() { close(release) }) // runs before the receiver closes
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}, WebhookURL: url})
	a := newAPI(t, s)
	a.seed("o", "r", "slow receiver")
	a.want(200, "PATCH", "/repos/o/r/issues/1", `{"state":"closed"}`, nil)
	testkit.Eventually(t, 10*time.Second, func() error {
		if len(rcv.received()) != 1 {
			return errors.New("the delivery has not reached the receiver")
		}
		return nil
	})
	if d := s.Deliveries(); len(d) != 1 || len(d[0].Attempts) != 0 {
		t.Errorf("the delivery finished while the receiver holds it: %+v", d)
	}
}

// TestCloseStopsRetries: a delivery waiting to retry ends with Close (the
// leak check in TestMain would see it otherwise).
func TestCloseStopsRetries(t *testing.T) {
	rcv := &hookReceiver{statuses: []int{500}}
	url := startReceiver(t, rcv)
	s, err := fakegithub.New(fakegithub.Options{Repos: []string{"o/r"}, WebhookURL: url, WebhookBackoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CloseIssue("o", "r", 0, ""); err == nil {
		t.Error("closed issue 0")
	}
	if _, err := s.CreateIssue("o", "r", "t", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseIssue("o", "r", 1, ""); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, func() error {
		if d := s.Deliveries(); len(d) != 1 || len(d[0].Attempts) != 1 {
			return errors.New("the first attempt has not been made")
		}
		return nil
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.ReopenIssue("o", "r", 1); err != nil {
		t.Fatal(err)
	}
	if d := s.Deliveries(); len(d) != 2 || len(d[1].Attempts) != 0 {
		t.Errorf("a delivery was attempted after Close: %+v", d)
	}
}

func TestNoWebhookConfigured(t *testing.T) {
	s := newServer(t, fakegithub.Options{Repos: []string{"o/r"}})
	if _, err := s.CreateIssue("o", "r", "t", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseIssue("o", "r", 1, ""); err != nil {
		t.Fatal(err)
	}
	if d := s.Deliveries(); len(d) != 0 {
		t.Errorf("deliveries without a webhook: %+v", d)
	}
	if _, err := s.SendIssueEvent(t.Context(), "o", "r", 1, "closed"); !errors.Is(err, fakegithub.ErrNoWebhook) {
		t.Errorf("send without a webhook: %v", err)
	}
	rcv := &hookReceiver{statuses: []int{204}}
	s.SetWebhook(startReceiver(t, rcv), "later")
	d, err := s.SendIssueEvent(t.Context(), "o", "r", 1, "closed")
	if err != nil || d.Status() != 204 {
		t.Errorf("after SetWebhook: %+v %v", d, err)
	}
	s.SetWebhook("http://127.0.0.1:1/unreachable", "")
	if _, err := s.SendIssueEvent(t.Context(), "o", "r", 1, "closed"); err == nil {
		t.Error("a delivery to nowhere reported no error")
	}
}
