package bench

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/bus"
)

// issueToken issues an engineer's token for the load on the NATS server at
// natsURL, as `triage tokens issue` would: intake's submit asks for support
// staff or more, and the queue API shows the enrichment the benchmark times
// to engineers only. Verifying it on every request is part of what the
// services cost.
func issueToken(ctx context.Context, natsURL string) (string, error) {
	nc, err := nats.Connect(natsURL, nats.Name("triage-bench"))
	if err != nil {
		return "", fmt.Errorf("benchmark token: connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return "", fmt.Errorf("benchmark token: jetstream: %w", err)
	}
	store, err := auth.Open(ctx, js, bus.DefaultTopology())
	if err != nil {
		return "", fmt.Errorf("benchmark token: %w", err)
	}
	text, _, err := store.Issue(ctx, "benchmark load", auth.RoleEngineer, 24*time.Hour, "triage bench")
	if err != nil {
		return "", fmt.Errorf("benchmark token: %w", err)
	}
	return text, nil
}

// bearer sends a token with every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}
