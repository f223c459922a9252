package router

import (
	"context"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// reloader keeps the classifier the router decides with, and swaps in a
// new one when the rules or model file changes (checked every
// Config.ReloadEvery) or on SIGHUP. A file that does not load is refused:
// the error (with its line) is logged and counted, and the last good
// classifier stays.
type reloader struct {
	cfg Config
	log *zap.Logger
	cur atomic.Pointer[Classifier]

	mu sync.Mutex
	// seen are the files' stamps at the last attempt, good or bad, so a
	// bad file is reported once, not at every check.
	seen string

	reloads   *prometheus.CounterVec
	decisions *prometheus.CounterVec
}

func newReloader(cfg Config, cl *Classifier, log *zap.Logger, reg prometheus.Registerer) *reloader {
	r := &reloader{
		cfg: cfg, log: log,
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_router_reloads_total",
			Help: "Reloads of the routing rules and model files, by result (applied or refused).",
		}, []string{"result"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_router_decisions_total",
			Help: "Tickets routed, by queue and whether they need triage.",
		}, []string{"queue", "needs_triage"}),
	}
	reg.MustRegister(r.reloads, r.decisions)
	r.cur.Store(cl)
	r.seen = r.stamp()
	return r
}

func (r *reloader) current() *Classifier { return r.cur.Load() }

// stamp identifies the files' versions by modification time and size.
func (r *reloader) stamp() string {
	var s string
	for _, path := range []string{r.cfg.RulesFile, r.cfg.ModelFile} {
		if path == "" {
			continue
		}
		fi, err := os.Stat(path)
		if err != nil {
			s += path + ":missing;"
			continue
		}
		s += path + ":" + fi.ModTime().UTC().Format(time.RFC3339Nano) + ":" + strconv.FormatInt(fi.Size(), 10) + ";"
	}
	return s
}

// reload loads both files and swaps the classifier if they are good.
func (r *reloader) reload(why string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = r.stamp()
	cl, err := r.cfg.load()
	if err != nil {
		r.reloads.WithLabelValues("refused").Inc()
		r.log.Error("routing rules or model refused; keeping the last good ones", zap.String("why", why), zap.Error(err),
			zap.String("kept_rules_version", r.current().Rules().Version))
		return err
	}
	r.cur.Store(cl)
	r.reloads.WithLabelValues("applied").Inc()
	r.log.Info("routing rules and model reloaded", zap.String("why", why), zap.String("rules_version", cl.Rules().Version),
		zap.Int("model_examples", cl.Model().Trained.Examples), zap.Float64("needs_triage_below", cl.Threshold()))
	return nil
}

// changed reports whether a file changed since the last attempt.
func (r *reloader) changed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stamp() != r.seen
}

// watch reloads on SIGHUP and when a file changes, until ctx ends.
func (r *reloader) watch(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	if r.cfg.ReloadEvery > 0 && (r.cfg.RulesFile != "" || r.cfg.ModelFile != "") {
		t := time.NewTicker(r.cfg.ReloadEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			_ = r.reload("SIGHUP") // logged and counted; the last good rules stay
		case <-tick:
			if r.changed() {
				_ = r.reload("file changed")
			}
		}
	}
}
