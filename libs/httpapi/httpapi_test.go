package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// An unexpected error is logged with its cause and ticket, and the client
// sees only a reference to that log line.
func TestUnexpectedErrorIsLoggedNotShown(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tickets/{id}", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, errors.New("kv read: secret connection detail"))
	})
	mux.HandleFunc("POST /tickets", func(w http.ResponseWriter, r *http.Request) {
		SetTicketID(r.Context(), "t-42")
		WriteError(w, r, errors.New("publish failed"))
	})
	mux.HandleFunc("GET /expected", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, Errorf(CodeTicketNotFound, "no ticket"))
	})
	h := WithLog(zap.New(core), mux)
	for _, tc := range []struct {
		method, path, ticket string
		status               int
		logged               bool
	}{
		{http.MethodGet, "/tickets/t-7", "t-7", 500, true},
		{http.MethodPost, "/tickets", "t-42", 500, true},
		{http.MethodGet, "/expected", "", 404, false},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			before := logs.Len()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			var body struct{ Error Error }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			ref := rec.Header().Get("X-Request-Id")
			if !tc.logged {
				if logs.Len() != before {
					t.Fatalf("an expected error was logged: %v", logs.All()[before:])
				}
				return
			}
			if body.Error.Code != CodeInternal || strings.Contains(rec.Body.String(), "failed") || strings.Contains(rec.Body.String(), "secret") {
				t.Fatalf("500 body %s shows the cause or lacks the code", rec.Body)
			}
			if ref == "" || !strings.Contains(body.Error.Message, ref) {
				t.Fatalf("message %q does not name the reference %q", body.Error.Message, ref)
			}
			entries := logs.All()[before:]
			if len(entries) != 1 {
				t.Fatalf("%d log lines, want 1", len(entries))
			}
			f := entries[0].ContextMap()
			if f["ticket_id"] != tc.ticket || f["request_id"] != ref || f["error"] == nil {
				t.Fatalf("log fields %v lack ticket %s, reference or cause", f, tc.ticket)
			}
		})
	}
}

// A long poll ends at once when the server stops, with a complete answer,
// and Serve returns cleanly well within its grace.
func TestShutdownEndsLongPolls(t *testing.T) {
	entered := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-Stopping(r.Context()):
			ShuttingDown(w, r)
		case <-time.After(time.Minute):
			w.WriteHeader(http.StatusOK)
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, srv, ln, time.Minute) }()
	type answer struct {
		status int
		err    error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/poll")
		if err != nil {
			got <- answer{err: err}
			return
		}
		resp.Body.Close()
		got <- answer{status: resp.StatusCode}
	}()
	<-entered
	cancel()
	a := <-got
	if a.err != nil || a.status != http.StatusServiceUnavailable {
		t.Fatalf("long poll at shutdown: status %d, %v; want a 503 answer", a.status, a.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
