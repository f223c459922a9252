package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/triage-pipeline/triage/libs/httpapi"
)

// frontDoor is the one address people use, as an ingress is in a
// deployment (deployments/kubernetes/triage.yaml): ticket submission and
// status go to intake, GitHub's webhooks to the bug filer, everything else
// (the web UI and the queue API) to the queue. One origin lets the pages
// post to intake with the session cookie and no CORS.
type frontDoor struct {
	ln     net.Listener
	routes []route
	grace  time.Duration
}

type route struct {
	prefix string
	target func() string // the service's URL, known once it has started
}

func listenFrontDoor(addr string, grace time.Duration) (*frontDoor, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("front door: listen on %s (set --http-port): %w", addr, err)
	}
	return &frontDoor{ln: ln, grace: grace}, nil
}

// URL is where people open the web UI.
func (f *frontDoor) URL() string { return "http://" + f.ln.Addr().String() }

func (f *frontDoor) handler() http.Handler {
	proxies := make([]*httputil.ReverseProxy, len(f.routes))
	for i, rt := range f.routes {
		proxies[i] = &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				u, _ := url.Parse(rt.target())
				r.SetURL(u)
				r.SetXForwarded()
				r.Out.Host = r.In.Host
			},
			FlushInterval: -1, // live pages' event streams pass at once
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i, rt := range f.routes {
			if r.URL.Path == rt.prefix || strings.HasPrefix(r.URL.Path, rt.prefix+"/") || rt.prefix == "/" {
				proxies[i].ServeHTTP(w, r)
				return
			}
		}
		httpapi.NotFound(w, r)
	})
}

// Run serves until ctx ends.
func (f *frontDoor) Run(ctx context.Context) error {
	srv := &http.Server{Handler: f.handler(), ReadHeaderTimeout: 5 * time.Second}
	return httpapi.Serve(ctx, srv, f.ln, f.grace)
}

// Ready: the front door is ready once it listens.
func (f *frontDoor) Ready(context.Context) error {
	if len(f.routes) == 0 {
		return errors.New("front door has no routes")
	}
	return nil
}

// Close releases the listener of a front door that will not Run.
func (f *frontDoor) Close() { _ = f.ln.Close() }
