// Package httpapi holds the HTTP conventions every service shares: JSON
// bodies, errors with a status, a stable code (codes.go) and a message that
// says what to fix, method dispatch that answers 405 in the same shape,
// request-scoped logging of unexpected errors, and a server that shuts down
// gracefully, ending long polls and event streams at once.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/logging"
)

// FieldError names one bad field of a request body.
type FieldError struct {
	Field   string    `json:"field"`
	Code    FieldCode `json:"code"`
	Message string    `json:"message"`
}

// Error is an API error: status, a stable machine-readable code, a message
// for people, and per-field details for validation failures.
type Error struct {
	Status  int          `json:"-"`
	Code    Code         `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Errorf builds an Error with the status of its code.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Status: code.Status(), Code: code, Message: fmt.Sprintf(format, args...)}
}

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// WriteError writes err as {"error":{...}}. An error that is not an *Error
// is unexpected: it is logged with its cause, the request and the ticket it
// was about, and the client gets a 500 that names the log's reference but
// not the cause.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var apiErr *Error
	if !errors.As(err, &apiErr) {
		info := requestInfo(r.Context())
		info.log.Error("request failed", append(info.fields(r), zap.Error(err))...)
		apiErr = Errorf(CodeInternal, "internal error (reference %s); the request was not completed, retry it", info.id)
	}
	WriteJSON(w, apiErr.Status, map[string]*Error{"error": apiErr})
}

// Methods dispatches on the request method and answers 405 with an Allow
// header and a JSON body for the rest.
func Methods(handlers map[string]http.HandlerFunc) http.Handler {
	allowed := make([]string, 0, len(handlers))
	for m := range handlers {
		allowed = append(allowed, m)
	}
	sort.Strings(allowed)
	allow := strings.Join(allowed, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := handlers[r.Method]
		if !ok && r.Method == http.MethodHead {
			h, ok = handlers[http.MethodGet]
		}
		if !ok {
			w.Header().Set("Allow", allow)
			WriteError(w, r, Errorf(CodeMethodNotAllowed, "%s is not allowed on %s; use %s", r.Method, r.URL.Path, allow))
			return
		}
		h(w, r)
	})
}

// NotFound answers 404 in the API's shape.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, r, Errorf(CodeNotFound, "no such resource: %s", r.URL.Path))
}

type infoKey struct{}

// reqInfo is what an unexpected error's log line says about its request.
type reqInfo struct {
	log      *zap.Logger
	id       string
	ticketID string
}

func (i *reqInfo) fields(r *http.Request) []zap.Field {
	f := []zap.Field{zap.String("request_id", i.id), zap.String("method", r.Method), zap.String("path", r.URL.Path)}
	id := i.ticketID
	if id == "" {
		id = r.PathValue("id")
	}
	if id != "" {
		f = append(f, logging.TicketID(id))
	}
	return f
}

func requestInfo(ctx context.Context) *reqInfo {
	if i, ok := ctx.Value(infoKey{}).(*reqInfo); ok {
		return i
	}
	return &reqInfo{log: zap.NewNop(), id: "-"}
}

// WithLog gives every request a reference (X-Request-Id) and a logger, so
// that WriteError can log an unexpected error with its cause.
func WithLog(log *zap.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		info := &reqInfo{log: log, id: hex.EncodeToString(b[:])}
		w.Header().Set("X-Request-Id", info.id)
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
	})
}

// SetTicketID names the ticket a request is about, for the log line of an
// unexpected error (routes with an {id} path value need not call it).
func SetTicketID(ctx context.Context, id string) {
	if i, ok := ctx.Value(infoKey{}).(*reqInfo); ok {
		i.ticketID = id
	}
}

type stoppingKey struct{}

// Stopping is closed when the server that serves the request starts to
// shut down: long polls and event streams select on it and end at once,
// with a complete answer, instead of holding the shutdown up.
func Stopping(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(stoppingKey{}).(chan struct{})
	return ch // nil outside Serve: never ready
}

// ShuttingDown is the answer a long poll gives when the server stops.
func ShuttingDown(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "1")
	w.Header().Set("Connection", "close")
	WriteError(w, r, Errorf(CodeShuttingDown, "the service is stopping; retry"))
}

// Serve runs srv on ln until ctx is cancelled; then it tells long-lived
// requests to end (Stopping), stops accepting, and waits up to grace for
// in-flight requests.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	stopping := make(chan struct{})
	base := srv.BaseContext
	srv.BaseContext = func(l net.Listener) context.Context {
		bctx := context.Background()
		if base != nil {
			bctx = base(l)
		}
		return context.WithValue(bctx, stoppingKey{}, stopping)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	close(stopping)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("http shutdown on %s: %w", ln.Addr(), err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server on %s: %w", ln.Addr(), err)
	}
	return nil
}

// UntilStopping returns a copy of ctx that also ends when the server starts
// to shut down, for the waits of long polls.
func UntilStopping(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stopping := Stopping(ctx)
	if stopping == nil {
		return ctx, cancel
	}
	go func() {
		select {
		case <-stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// IsStopping reports whether the server serving ctx's request is shutting
// down.
func IsStopping(ctx context.Context) bool {
	select {
	case <-Stopping(ctx):
		return true
	default:
		return false
	}
}
