package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/demoworld"
	"github.com/triage-pipeline/triage/libs/dev/harness/pipeline"
	"github.com/triage-pipeline/triage/libs/dev/harness/procs"
)

// processes says how the --processes mode runs things.
type processes struct {
	services procs.Command
	// dev runs NATS and the development Elasticsearch (`triage natsd`,
	// `triage esdev`); nil runs them in this process.
	dev  procs.Command
	seed uint64 // the demo world's
	// world is the demo world built for the load, which the next run
	// reuses if it ends at the same hour.
	world *demoworld.World
}

// run runs each service as its own process, and with p.dev NATS and the
// development Elasticsearch too, so the kernel schedules them apart, as in a
// deployment, and each one's CPU time can be read. Services log at warn, as
// the in-process run logs nothing. The load stays in this process.
func (p *processes) run(ctx context.Context, run func(context.Context, target) (Result, error)) (res Result, err error) {
	dir, err := os.MkdirTemp("", "triage-bench-procs-")
	if err != nil {
		return Result{}, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	var (
		started []*procs.Proc
		inHere  []func() // stops what runs in this process, after the processes
	)
	defer func() {
		err = errors.Join(err, stopAll(started))
		for i := len(inHere) - 1; i >= 0; i-- {
			inHere[i]()
		}
	}()
	var (
		natsURL, esURL, zonesFile string
		world                     *demoworld.World
		others                    []part // what runs besides our services
	)
	if p.dev != nil {
		nats, url, err := startNATSD(ctx, p.dev, dir)
		if err != nil {
			return Result{}, err
		}
		started, natsURL = append(started, nats), url
		es, url, end, err := startESDev(ctx, p.dev, p.seed)
		if err != nil {
			return Result{}, err
		}
		started, esURL = append(started, es), url
		// The same seed and end build the same world the esdev process
		// loaded, so the tickets offered match its logs.
		if p.world == nil || !p.world.Config.End.Equal(end) {
			p.world = demoworld.Generate(demoworld.Config{Seed: p.seed, End: end})
		}
		world = p.world
		if zonesFile, err = writeZones(dir, world); err != nil {
			return Result{}, err
		}
		others = []part{processPart("NATS", false, nats), processPart("development Elasticsearch", false, es), selfPart("load generator (this process)")}
	} else {
		srv, _, stop, err := scratchNATS("triage-bench-procs-")
		if err != nil {
			return Result{}, err
		}
		inHere = append(inHere, stop)
		es, err := pipeline.StartDemoES(ctx, "127.0.0.1:0", dir, p.seed)
		if err != nil {
			return Result{}, err
		}
		inHere = append(inHere, es.Stop)
		natsURL, esURL, zonesFile, world = srv.ClientURL(), es.URL, es.ZonesFile, es.World
		others = []part{selfPart("this process: NATS, esdev, load")}
	}
	gh, ghFlags, ghEnv, ghSecret, err := procs.FakeGitHub()
	if err != nil {
		return Result{}, err
	}
	inHere = append(inHere, func() { _ = gh.Close() })
	urls := map[string]string{}
	services := map[string]*procs.Proc{}
	for _, name := range procs.Services {
		args := []string{"--nats-url", natsURL, "--log-level", "warn"}
		var env []string
		switch name {
		case "enricher":
			args = append(args, "--es-addresses", esURL, "--tenant-zones", zonesFile)
		case "bugfiler":
			args, env = append(args, ghFlags...), ghEnv
		}
		sp, url, err := startService(ctx, p.services, name, args, env)
		if err != nil {
			return Result{}, err
		}
		started = append(started, sp)
		urls[name], services[name] = url, sp
	}
	gh.SetWebhook(urls["bugfiler"]+"/webhooks/github", ghSecret)
	tickets, err := worldLoad(world, time.Now())
	if err != nil {
		return Result{}, err
	}
	token, err := issueToken(ctx, natsURL)
	if err != nil {
		return Result{}, err
	}
	var parts []part
	for _, name := range []string{"intake", "enricher", "router", "queue", "bugfiler"} {
		parts = append(parts, processPart(name, true, services[name]))
	}
	cpu := measure(append(parts, others...))
	res, err = run(ctx, target{intakeURL: urls["intake"], queueURL: urls["queue"], natsURL: natsURL, esURL: esURL, token: token, tickets: tickets})
	res.cpu = cpu()
	return res, err
}

// writeZones writes the world's tenant time zones into dir, for the
// enricher's --tenant-zones.
func writeZones(dir string, w *demoworld.World) (string, error) {
	b, err := json.Marshal(w.TenantZones())
	if err != nil {
		return "", fmt.Errorf("tenant zones: %w", err)
	}
	path := filepath.Join(dir, "tenant-zones.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("write tenant zones: %w", err)
	}
	return path, nil
}

// startNATSD runs `triage natsd` on a free port, storing under dir, and
// returns it with its client URL, which it logs once it accepts
// connections.
func startNATSD(ctx context.Context, dev procs.Command, dir string) (*procs.Proc, string, error) {
	p, err := procs.Start(dev, "natsd", []string{"--port", "0", "--store-dir", filepath.Join(dir, "jetstream")}, nil)
	if err != nil {
		return nil, "", err
	}
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	url, err := p.URL(rctx)
	if err != nil {
		p.Kill()
		return nil, "", err
	}
	return p, url, nil
}

// esdevPatience is how long the development Elasticsearch may take to load
// the demo world (about 8 s on an idle 2-core machine) and answer.
const esdevPatience = 2 * time.Minute

// startESDev runs `triage esdev` with the demo world for seed and returns
// it with its URL and the end of the world it loaded. That process builds
// its world to end at the end of the hour it starts in: if the hour turned
// while it started, the world's end is not known, and it starts again.
func startESDev(ctx context.Context, dev procs.Command, seed uint64) (*procs.Proc, string, time.Time, error) {
	for attempt := 1; ; attempt++ {
		end := pipeline.DemoWorldEnd(time.Now())
		p, url, err := startOnFreePort(ctx, dev, "esdev", []string{"--seed", strconv.FormatUint(seed, 10)}, "--addr", "/_dev/stats", esdevGC(), esdevPatience)
		if err != nil {
			return nil, "", time.Time{}, err
		}
		if pipeline.DemoWorldEnd(time.Now()).Equal(end) {
			return p, url, end, nil
		}
		if err := stopAll([]*procs.Proc{p}); err != nil {
			return nil, "", time.Time{}, fmt.Errorf("development elasticsearch, stopped to start again as the hour turned: %w", err)
		}
		if attempt == 2 {
			return nil, "", time.Time{}, errors.New("development elasticsearch: the hour turned twice while it loaded the demo world")
		}
	}
}

// esdevGC is the development Elasticsearch's environment: the GOGC that
// `triage dev` and the in-process benchmark run it with (it keeps the demo
// world's documents in its heap), unless GOGC is set here, which it then
// inherits.
func esdevGC() []string {
	if os.Getenv("GOGC") != "" {
		return nil
	}
	return []string{"GOGC=" + strconv.Itoa(pipeline.OneProcessGCPercent)}
}

// startService starts one service on a free port and waits until it is
// ready.
func startService(ctx context.Context, command procs.Command, name string, args, env []string) (*procs.Proc, string, error) {
	return startOnFreePort(ctx, command, name, args, "--http-addr", "/readyz", env, 60*time.Second)
}

// startOnFreePort starts name listening on a free port given with addrFlag
// and waits until its readyPath answers 200. The port is picked here (at
// warn level a service does not log its address; esdev does not log), so
// another program can take it first: then it tries another.
func startOnFreePort(ctx context.Context, command procs.Command, name string, args []string, addrFlag, readyPath string, env []string, patience time.Duration) (*procs.Proc, string, error) {
	for attempt := 1; ; attempt++ {
		addr, err := freeAddr()
		if err != nil {
			return nil, "", err
		}
		p, err := procs.Start(command, name, append(args, addrFlag, addr), env)
		if err != nil {
			return nil, "", err
		}
		url := "http://" + addr
		rctx, cancel := context.WithTimeout(ctx, patience)
		err = p.WaitOK(rctx, url+readyPath)
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

// stopAll stops the processes last-started first with SIGTERM, as an
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
