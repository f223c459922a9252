package intake

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
)

func TestClientSubmit(t *testing.T) {
	s := startIntake(t)
	c := NewClient(s.URL(), ClientOptions{Retries: -1, Token: tokenFor(s)})
	ctx := context.Background()
	ticket := SubmitRequest{Subject: "Printer offline", Description: "The kitchen printer stopped at 19:05.", TenantID: "rst-0007",
		Identifiers: events.Identifiers{OrderIDs: []string{"ord_0000000042"}}}

	first, err := c.Submit(ctx, ticket, "")
	if err != nil {
		t.Fatal(err)
	}
	if first.TicketID == "" || first.Replayed || first.StatusURL != s.URL()+"/api/v1/tickets/"+first.TicketID {
		t.Fatalf("first submission: %+v", first)
	}
	// The same ticket again (no key given: the content is the key) is the
	// same ticket, reported as a replay.
	again, err := c.Submit(ctx, ticket, "")
	if err != nil || again.TicketID != first.TicketID || !again.Replayed {
		t.Fatalf("resubmission: %+v, %v", again, err)
	}
	// Different content makes a different ticket.
	other := ticket
	other.Description += " Still offline."
	if got, err := c.Submit(ctx, other, ""); err != nil || got.TicketID == first.TicketID {
		t.Fatalf("different ticket: %+v, %v", got, err)
	}

	tests := []struct {
		name      string
		req       SubmitRequest
		key       string
		status    int
		code      httpapi.Code
		badField  string
		isRefusal bool
	}{
		{name: "missing fields", req: SubmitRequest{Subject: "x"}, status: 400, code: httpapi.CodeInvalidTicket, badField: "tenant_id", isRefusal: true},
		{name: "key reused for another ticket", req: other, key: "shared-key", status: 422, code: httpapi.CodeIdempotencyKeyReused, isRefusal: true},
	}
	if _, err := c.Submit(ctx, ticket, "shared-key"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Submit(ctx, tc.req, tc.key)
			var apiErr *httpapi.Error
			if !errors.As(err, &apiErr) || apiErr.Status != tc.status || apiErr.Code != tc.code {
				t.Fatalf("got %v, want %d %s", err, tc.status, tc.code)
			}
			if IsRefusal(err) != tc.isRefusal {
				t.Errorf("IsRefusal = %v", !tc.isRefusal)
			}
			if tc.badField != "" && !hasField(apiErr.Fields, tc.badField) {
				t.Errorf("fields %+v do not name %s", apiErr.Fields, tc.badField)
			}
		})
	}
}

func hasField(fields []httpapi.FieldError, name string) bool {
	for _, f := range fields {
		if f.Field == name {
			return true
		}
	}
	return false
}

// A 503 from intake (its store could not confirm the write) is retried with
// the same key, and the ticket is stored once.
func TestClientRetriesUnavailable(t *testing.T) {
	s := startIntake(t)
	target, _ := url.Parse(s.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var calls atomic.Int32
	var failAll atomic.Bool
	var mu sync.Mutex
	var keys [3]string
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if n <= 3 {
			mu.Lock()
			keys[n-1] = r.Header.Get("Idempotency-Key")
			mu.Unlock()
		}
		if n <= 2 || failAll.Load() {
			w.Header().Set("Retry-After", "0")
			httpapi.WriteError(w, r, httpapi.Errorf(httpapi.CodeStoreUnavailable, "try again"))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	c := NewClient(front.URL, ClientOptions{Retries: 3, Token: tokenFor(s)})
	got, err := c.Submit(context.Background(), SubmitRequest{Subject: "s", Description: "d", TenantID: "rst-0001"}, "retry-key")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls.Load() != 3 || keys[0] != "retry-key" || keys[1] != keys[0] || keys[2] != keys[0] {
		t.Fatalf("calls %d with keys %q", calls.Load(), keys)
	}
	if got.Replayed {
		t.Errorf("the first stored attempt is not a replay: %+v", got)
	}

	// Out of retries, the last answer is what the caller sees.
	failAll.Store(true)
	_, err = c.Submit(context.Background(), SubmitRequest{Subject: "s2", Description: "d", TenantID: "rst-0001"}, "")
	var apiErr *httpapi.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable || IsRefusal(err) {
		t.Fatalf("after the retries: %v", err)
	}
}
