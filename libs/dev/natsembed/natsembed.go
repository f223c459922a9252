// Package natsembed runs a NATS server with JetStream inside the process, for
// the one-command local run and for tests.
package natsembed

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options for an embedded server.
type Options struct {
	Host string
	// Port -1 picks a free port.
	Port int
	// StoreDir holds JetStream's files; tickets survive a restart on it.
	StoreDir string
	// ServerName stays fixed across restarts so JetStream finds its data.
	ServerName string
	// Cluster, ClusterPort and Routes join the server to a cluster (tests
	// of replicated streams); empty Cluster runs it alone.
	Cluster     string
	ClusterPort int
	Routes      []string
}

// Start runs the server and waits until it accepts connections. JetStream
// syncs every write to disk before acknowledging it (sync_interval: always):
// with the default two-minute interval, acknowledged tickets can be lost on
// power loss (DESIGN.md, "Reliability").
func Start(o Options) (*server.Server, error) {
	if o.StoreDir == "" {
		return nil, errors.New("embedded nats: a store directory is required")
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.ServerName == "" {
		o.ServerName = "triage-dev"
	}
	opts := &server.Options{
		ServerName:         o.ServerName,
		Host:               o.Host,
		Port:               o.Port,
		JetStream:          true,
		StoreDir:           o.StoreDir,
		SyncAlways:         true,
		NoSigs:             true,
		NoLog:              true,
		MaxPayload:         2 << 20,
		JetStreamMaxMemory: 256 << 20,
	}
	if o.Cluster != "" {
		opts.Cluster = server.ClusterOpts{Name: o.Cluster, Host: o.Host, Port: o.ClusterPort}
		opts.Routes = server.RoutesFromStr(strings.Join(o.Routes, ","))
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(15 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded nats on %s:%d did not become ready in 15s (port in use?)", o.Host, o.Port)
	}
	return srv, nil
}
