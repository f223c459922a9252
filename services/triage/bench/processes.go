package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/services/triage/pipeline"
	"github.com/triage-pipeline/triage/services/triage/procs"
)

// services are started in this order and stopped in the reverse.
var services = []string{"intake", "queue", "enricher", "router", "bugfiler"}

// runProcesses runs each service as its own process of this binary, against
// an embedded NATS server and the development Elasticsearch in this process,
// so the kernel schedules the services apart, as in a deployment. Services
// log at warn, as the in-process run logs nothing.
func runProcesses(ctx context.Context, childEnv []string, run func(context.Context, target) (Result, error)) (res Result, err error) {
	srv, dir, stop, err := scratchNATS("triage-bench-procs-")
	if err != nil {
		return Result{}, err
	}
	defer stop()
	var pc pipeline.Config // the demo seed, as the in-process run reads it
	if err := config.Load("bench", &pc, nil); err != nil {
		return Result{}, err
	}
	es, err := pipeline.StartDemoES(ctx, "127.0.0.1:0", dir, pc.DemoSeed)
	if err != nil {
		return Result{}, err
	}
	defer es.Stop()
	exe, err := os.Executable()
	if err != nil {
		return Result{}, fmt.Errorf("find this binary: %w", err)
	}

	urls := map[string]string{}
	var started []*procs.Proc
	defer func() { err = errors.Join(err, stopAll(started)) }()
	for _, name := range services {
		args := []string{"--nats-url", srv.ClientURL(), "--log-level", "warn"}
		if name == "enricher" {
			args = append(args, "--es-addresses", es.URL, "--tenant-zones", es.ZonesFile)
		}
		p, url, err := startService(ctx, exe, name, args, childEnv)
		if err != nil {
			return Result{}, err
		}
		started = append(started, p)
		urls[name] = url
	}
	tickets, err := worldLoad(es.World, time.Now())
	if err != nil {
		return Result{}, err
	}
	return run(ctx, target{intakeURL: urls["intake"], queueURL: urls["queue"], es: es.Server, tickets: tickets})
}

// startService starts one service on a free port and waits until it is
// ready. The port is picked here (at warn level a service does not log its
// address), so another program can take it first: then it tries another.
func startService(ctx context.Context, exe, name string, args, env []string) (*procs.Proc, string, error) {
	for attempt := 1; ; attempt++ {
		addr, err := freeAddr()
		if err != nil {
			return nil, "", err
		}
		p, err := procs.Start(exe, name, append(args, "--http-addr", addr), env)
		if err != nil {
			return nil, "", err
		}
		url := "http://" + addr
		rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		err = p.WaitReady(rctx, url)
		cancel()
		if err == nil {
			return p, url, nil
		}
		p.Kill()
		if attempt == 3 || !strings.Contains(p.Logs(), "address already in use") {
			return nil, "", err
		}
	}
}

// freeAddr picks a free loopback port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick a port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// stopAll stops the services last-started first with SIGTERM, as an
// orchestrator would, and reports any that did not exit cleanly.
func stopAll(started []*procs.Proc) error {
	var errs []error
	for i := len(started) - 1; i >= 0; i-- {
		p := started[i]
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := p.Stop(ctx, syscall.SIGTERM); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.Name, err))
		}
		cancel()
		p.Kill()
	}
	return errors.Join(errs...)
}
