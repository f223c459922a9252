package testkit

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/triage-pipeline/triage/libs/dev/natsembed"
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

// RunJetStreamCluster starts a JetStream cluster of n servers on random
// ports (the way nats-server's tests do) and waits until it has a
// JetStream leader; they are shut down when the test ends. Clients may
// connect to any of them.
func RunJetStreamCluster(tb testing.TB, n int) []*server.Server {
	tb.Helper()
	ports := make([]int, n)
	var routes []string
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", ports[i]))
	}
	servers := make([]*server.Server, n)
	for i := range servers {
		srv, err := natsembed.Start(natsembed.Options{Port: -1, StoreDir: tb.TempDir(), ServerName: fmt.Sprintf("n%d", i),
			Cluster: "triage-test", ClusterPort: ports[i], Routes: routes})
		if err != nil {
			tb.Fatalf("start nats server %d of the cluster: %v", i, err)
		}
		servers[i] = srv
		tb.Cleanup(func() {
			srv.Shutdown()
			srv.WaitForShutdown()
		})
	}
	Eventually(tb, 30*time.Second, func() error {
		for _, s := range servers {
			if s.JetStreamIsLeader() {
				if peers := s.JetStreamClusterPeers(); len(peers) < n {
					return fmt.Errorf("%d of %d JetStream peers", len(peers), n)
				}
				return nil
			}
		}
		return fmt.Errorf("no JetStream leader elected yet")
	})
	return servers
}
