// Package pipeline runs the whole triage pipeline in one process: an
// embedded NATS server (JetStream on disk, synchronous writes) and every
// service, each on its own HTTP port. It backs `triage dev` (make run), the
// end-to-end tests and the benchmark.
package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/triage-pipeline/triage/libs/auth"
	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/demoworld"
	"github.com/triage-pipeline/triage/libs/dev/esdev"
	"github.com/triage-pipeline/triage/libs/dev/fakegithub"
	"github.com/triage-pipeline/triage/libs/dev/harness/demoeval"
	"github.com/triage-pipeline/triage/libs/dev/natsembed"
	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/bugfiler"
	"github.com/triage-pipeline/triage/services/enricher"
	"github.com/triage-pipeline/triage/services/intake"
	"github.com/triage-pipeline/triage/services/queue"
	"github.com/triage-pipeline/triage/services/router"
)

// Config configures the one-process pipeline. Service-specific settings
// come from each service's own flags' environment variables and defaults.
type Config struct {
	service.Config `embed:""`
	DataDir        string `name:"data-dir" env:"TRIAGE_DATA_DIR" default:"data" help:"Where JetStream keeps its files; tickets survive restarts on it."`
	Host           string `name:"host" env:"TRIAGE_HOST" default:"127.0.0.1" help:"Interface every server listens on."`
	NATSPort       int    `name:"nats-port" env:"TRIAGE_NATS_PORT" default:"4222" help:"Port of the embedded NATS server (-1 picks one)."`
	HTTPPort       int    `name:"http-port" env:"TRIAGE_HTTP_PORT" default:"8080" help:"First HTTP port: the front door (web UI and APIs) uses it; intake, queue, enricher, router, bugfiler and the fake GitHub the next six (0 picks free ports)."`
	DemoES         bool   `name:"demo-es" env:"TRIAGE_DEMO_ES" default:"true" negatable:"" help:"Without --es-addresses, run the Elasticsearch-compatible development server loaded with the demo world."`
	ESPort         int    `name:"es-port" env:"TRIAGE_ES_PORT" default:"9200" help:"Port of the development Elasticsearch server (0 picks one)."`
	DemoSeed       uint64 `name:"demo-seed" env:"TRIAGE_DEMO_SEED" default:"1" help:"Seed of the demo world (same seed, same logs and tickets)."`
	// SharedDemoES is a development Elasticsearch already serving the demo
	// world, shared by several pipelines (a test package's): the pipeline
	// uses it instead of starting its own, and leaves it running.
	SharedDemoES *DemoES `kong:"-"`
}

// Validate checks the pipeline's own settings.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("--data-dir is required")
	}
	if c.HTTPPort < 0 || c.HTTPPort > 65535-6 {
		return fmt.Errorf("--http-port must be 0 or a port up to %d, got %d", 65535-6, c.HTTPPort)
	}
	return nil
}

// Pipeline is a started pipeline.
type Pipeline struct {
	NATS     *server.Server
	Intake   *intake.Service
	Queue    *queue.Service
	Enricher *enricher.Service
	Router   *router.Service
	Bugfiler *bugfiler.Service
	DataDir  string
	// ES is the development Elasticsearch server, when the pipeline runs
	// one; World is the demo world loaded into it.
	ES    *esdev.Server
	ESURL string
	World *demoworld.World

	stopES func()
	// GitHub is the fake GitHub the bug filer files on, unless a real
	// repository and token are configured (TRIAGE_GITHUB_REPO, ..._TOKEN).
	GitHub *fakegithub.Server

	started []runner
	front   *frontDoor
	// Tokens were issued at start for this run: the admin's (printed by
	// make run), and the ones the demo tickets, tests and benchmark use.
	Tokens Tokens
	client *http.Client
}

// Tokens issued for one run of the pipeline.
type Tokens struct {
	Admin, Engineer, Support string
}

// WebURL is the front door: the web UI and every API.
func (p *Pipeline) WebURL() string { return p.front.URL() }

// Get sends a GET with a bearer token, for tests and the benchmark.
func (p *Pipeline) Get(url, token string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return p.client.Do(req)
}

// runner is what every service offers the pipeline.
type runner interface {
	Run(ctx context.Context) error
	Ready(ctx context.Context) error
	Close()
}

// WaitReady waits until every service is ready to work (connected, its
// consumers pulling, its view loaded), while Run runs; it returns the
// services' last complaint if ctx ends first.
func (p *Pipeline) WaitReady(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var errs []error
		for _, s := range p.started {
			if err := s.Ready(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pipeline not ready: %w", errors.Join(append(errs, ctx.Err())...))
		case <-tick.C:
		}
	}
}

// startService loads a service's configuration (its defaults and
// environment), lets set adjust it, builds the service, and records it for
// Run and closeAll.
func startService[C any, S runner](ctx context.Context, p *Pipeline, log *zap.Logger, name string,
	set func(*C) error, newService func(context.Context, C, *zap.Logger) (S, error)) (S, error) {
	var cfg C
	var none S
	if err := config.Load(name, &cfg, nil); err != nil {
		return none, err
	}
	if err := set(&cfg); err != nil {
		return none, err
	}
	// What set changed (the shared part, say) must pass the checks that
	// flags and environment pass.
	if err := config.Validate(&cfg); err != nil {
		return none, fmt.Errorf("%s: %w", name, err)
	}
	s, err := newService(ctx, cfg, log)
	if err != nil {
		return none, err
	}
	p.started = append(p.started, s)
	return s, nil
}

// Start launches NATS and the services; Run then runs them.
func Start(ctx context.Context, cfg Config, log *zap.Logger) (p *Pipeline, err error) {
	store := filepath.Join(cfg.DataDir, "jetstream")
	if err := os.MkdirAll(store, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	srv, err := natsembed.Start(natsembed.Options{Host: cfg.Host, Port: cfg.NATSPort, StoreDir: store})
	if err != nil {
		return nil, err
	}
	p = &Pipeline{NATS: srv, DataDir: cfg.DataDir, client: &http.Client{Timeout: time.Minute}}
	defer func() {
		if err != nil {
			p.closeAll()
		}
	}()
	common := cfg.Config
	common.NATSURL = srv.ClientURL()
	addr := func(offset int) string {
		port := 0
		if cfg.HTTPPort != 0 {
			port = cfg.HTTPPort + offset
		}
		return net.JoinHostPort(cfg.Host, strconv.Itoa(port))
	}

	if p.front, err = listenFrontDoor(addr(0), cfg.ShutdownGrace); err != nil {
		return p, err
	}
	p.started = append(p.started, p.front)
	if p.Intake, err = startService(ctx, p, log, "intake", func(c *intake.Config) error {
		c.Config, c.HTTPAddr = common, addr(1)
		return nil
	}, intake.New); err != nil {
		return p, err
	}
	if p.Queue, err = startService(ctx, p, log, "queue", func(c *queue.Config) error {
		c.Config, c.HTTPAddr = common, addr(2)
		if c.PublicURL == "" {
			c.PublicURL = p.front.URL()
		}
		return nil
	}, queue.New); err != nil {
		return p, err
	}
	if p.Enricher, err = startService(ctx, p, log, "enricher", func(c *enricher.Config) error {
		c.Config, c.HTTPAddr = common, addr(3)
		if !c.ES.Enabled() && cfg.DemoES {
			return p.startDemoES(ctx, cfg, c)
		}
		return nil
	}, enricher.New); err != nil {
		return p, err
	}
	if p.Router, err = startService(ctx, p, log, "router", func(c *router.Config) error {
		c.Config, c.HTTPAddr = common, addr(4)
		return nil
	}, router.New); err != nil {
		return p, err
	}
	if p.Bugfiler, err = startService(ctx, p, log, "bugfiler", func(c *bugfiler.Config) error {
		c.Config, c.HTTPAddr = common, addr(5)
		if c.GitHub.Repo == "" && c.GitHub.Token == "" && c.GitHub.AppID == 0 {
			return p.startFakeGitHub(c, addr(6))
		}
		return nil
	}, bugfiler.New); err != nil {
		return p, err
	}
	p.front.routes = []route{
		{"/api/v1/tickets", p.Intake.URL},
		{"/webhooks", p.Bugfiler.URL},
		{"/", p.Queue.URL},
	}
	if err := p.issueTokens(ctx); err != nil {
		return p, err
	}
	return p, nil
}

// startDemoES runs the development Elasticsearch with the demo world and
// points the enricher at it.
func (p *Pipeline) startDemoES(ctx context.Context, cfg Config, ec *enricher.Config) error {
	d := cfg.SharedDemoES
	if d == nil {
		var err error
		if d, err = StartDemoES(ctx, net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.ESPort)), cfg.DataDir, cfg.DemoSeed); err != nil {
			return err
		}
		p.stopES = d.Stop
	}
	p.ES, p.ESURL, p.World = d.Server, d.URL, d.World
	ec.ES.Addresses, ec.TenantZones = []string{d.URL}, d.ZonesFile
	return nil
}

// DemoWorldEnd is where a demo world served at now ends: the end of the
// current hour, so today's tickets find today's logs and the same hour
// builds the same world.
func DemoWorldEnd(now time.Time) time.Time { return now.UTC().Truncate(time.Hour).Add(time.Hour) }

// DemoES is the development Elasticsearch server loaded with a demo world.
type DemoES struct {
	*demoeval.Started
	// ZonesFile maps the world's tenants to their time zones, for the
	// enricher's --tenant-zones.
	ZonesFile string
}

// StartDemoES serves a demo world ending now, so tickets written today find
// today's logs, on addr; the tenant zones file is written into dir.
func StartDemoES(ctx context.Context, addr, dir string, seed uint64) (*DemoES, error) {
	started, err := demoeval.Start(context.WithoutCancel(ctx), demoworld.Config{Seed: seed, End: DemoWorldEnd(time.Now())}, addr)
	if err != nil {
		return nil, fmt.Errorf("%w (set --es-port)", err)
	}
	d := &DemoES{Started: started}
	stop := d.Stop
	b, err := json.Marshal(d.World.TenantZones())
	if err != nil {
		stop()
		return nil, fmt.Errorf("tenant zones: %w", err)
	}
	d.ZonesFile = filepath.Join(dir, "tenant-zones.json")
	if err := os.WriteFile(d.ZonesFile, b, 0o600); err != nil {
		stop()
		return nil, fmt.Errorf("write tenant zones: %w", err)
	}
	return d, nil
}

// closeAll releases what Start opened when Start fails half way.
func (p *Pipeline) closeAll() {
	for _, c := range p.started {
		c.Close()
	}
	if p.stopES != nil {
		p.stopES()
	}
	if p.GitHub != nil {
		_ = p.GitHub.Close()
	}
	p.NATS.Shutdown()
	p.NATS.WaitForShutdown()
}

// FakeGitHubRepo is where the one-process run files bugs on the fake
// GitHub.
const FakeGitHubRepo = "triage-demo/pos"

// startFakeGitHub serves the fake GitHub and points the bug filer at it;
// its webhook reaches the filer through the front door, as GitHub's would.
func (p *Pipeline) startFakeGitHub(c *bugfiler.Config, addr string) error {
	var secret [16]byte
	_, _ = rand.Read(secret[:])
	hook := hex.EncodeToString(secret[:])
	gh, err := fakegithub.New(fakegithub.Options{Repos: []string{FakeGitHubRepo}, WebhookURL: p.front.URL() + "/webhooks/github", WebhookSecret: hook})
	if err != nil {
		return err
	}
	u, err := gh.Start(addr)
	if err != nil {
		return fmt.Errorf("fake github: %w (set --http-port)", err)
	}
	p.GitHub = gh
	c.GitHub.URL, c.GitHub.Repo, c.GitHub.Token, c.GitHub.WebhookSecret = u+"/", FakeGitHubRepo, fakegithub.DefaultToken, hook
	return nil
}

// issueTokens makes this run's tokens: one per role, for a day (a run
// issues new ones; old ones lapse by themselves).
func (p *Pipeline) issueTokens(ctx context.Context) error {
	store, err := auth.Open(ctx, p.Intake.JS, p.Intake.Topology())
	if err != nil {
		return err
	}
	for _, t := range []struct {
		name string
		role auth.Role
		dst  *string
	}{
		{"admin", auth.RoleAdmin, &p.Tokens.Admin},
		{"engineer (make run)", auth.RoleEngineer, &p.Tokens.Engineer},
		{"support (make run)", auth.RoleSupport, &p.Tokens.Support},
	} {
		if *t.dst, _, err = store.Issue(ctx, t.name, t.role, 24*time.Hour, "make run"); err != nil {
			return fmt.Errorf("issue the %s token: %w", t.role, err)
		}
	}
	return nil
}

// URLs names each service's base URL: the web UI first, then the rest in
// start order.
func (p *Pipeline) URLs() [][2]string {
	urls := [][2]string{
		{"web", p.WebURL()},
		{"intake", p.Intake.URL()}, {"queue", p.Queue.URL()}, {"enricher", p.Enricher.URL()},
		{"router", p.Router.URL()}, {"bugfiler", p.Bugfiler.URL()},
		{"nats", p.NATS.ClientURL()},
	}
	if p.ESURL != "" {
		urls = append(urls, [2]string{"elasticsearch", p.ESURL})
	}
	if p.GitHub != nil {
		urls = append(urls, [2]string{"github (fake)", p.GitHub.URL() + "/_fake/"})
	}
	return urls
}

// Run runs every service until ctx ends, lets each finish its in-flight
// work, then stops NATS.
func (p *Pipeline) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, r := range p.started {
		g.Go(func() error { return r.Run(gctx) })
	}
	err := g.Wait()
	p.NATS.Shutdown()
	p.NATS.WaitForShutdown()
	if p.stopES != nil {
		p.stopES()
	}
	if p.GitHub != nil {
		_ = p.GitHub.Close()
	}
	return err
}

// OneProcessGCPercent is the GOGC that `triage dev` and `triage bench` run
// with unless GOGC is set: the development Elasticsearch keeps the demo
// world's documents in the same heap, and at the default of 100 every
// collection re-marks them; 400 measured 8–15% more tickets/s and a lower
// intake p99 at 500 tickets/s on 2 cores, for a larger heap.
const OneProcessGCPercent = 400

// TuneGC applies OneProcessGCPercent unless the operator set GOGC.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(OneProcessGCPercent)
	}
}
