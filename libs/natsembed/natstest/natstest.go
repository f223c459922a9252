// Package natstest starts real in-process NATS servers for tests, the way
// nats-server's own tests do: random port, temporary store, cleaned up.
package natstest

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/triage-pipeline/triage/libs/natsembed"
)

// RunJetStream starts a JetStream server on a random port with a store in
// t.TempDir(); it is shut down when the test ends.
func RunJetStream(tb testing.TB) *server.Server {
	tb.Helper()
	return RunJetStreamAt(tb, tb.TempDir())
}

// RunJetStreamAt starts a server on the given store, for restart tests.
func RunJetStreamAt(tb testing.TB, storeDir string) *server.Server {
	tb.Helper()
	srv, err := natsembed.Start(natsembed.Options{Port: -1, StoreDir: storeDir})
	if err != nil {
		tb.Fatalf("start nats: %v", err)
	}
	tb.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv
}
