package esdev

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Defaults for Options.
const (
	DefaultVersion          = "8.19.6"
	DefaultClusterName      = "esdev"
	DefaultMaxContentLength = 100 << 20 // http.max_content_length
	luceneVersion           = "9.12.2"
	shutdownGrace           = 5 * time.Second
)

// Options configures a Server. The zero value is ready to use.
type Options struct {
	// ClusterName is reported by GET / and GET /_cluster/health.
	ClusterName string
	// Version is reported as version.number by GET /; it must be 8.x for
	// go-elasticsearch v8 to accept the server.
	Version string
	// Now is the clock for date math ("now-1h"); time.Now when nil.
	Now func() time.Time
	// OnRequest, when set, is called with every request before it is
	// handled (faulted requests included); see RequestLog.
	OnRequest func(RecordedRequest)
	// FaultSeed seeds the random choice of fractional faults, so tests are
	// repeatable.
	FaultSeed uint64
	// MaxContentLength caps request bodies (413 beyond it).
	MaxContentLength int64
}

// RecordedRequest is a request as the server received it.
type RecordedRequest struct {
	// Endpoint is the API name ("search", "bulk", …; "unknown" when no route matched).
	Endpoint string
	Method   string
	Path     string
	Query    url.Values
	Header   http.Header
	Body     []byte
}

// RequestLog collects recorded requests; pass its Record method as
// Options.OnRequest.
type RequestLog struct {
	mu   sync.Mutex
	reqs []RecordedRequest
}

// Record appends a request.
func (l *RequestLog) Record(r RecordedRequest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r)
}

// Requests returns the recorded requests in arrival order.
func (l *RequestLog) Requests() []RecordedRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]RecordedRequest(nil), l.reqs...)
}

// Server is an in-memory, Elasticsearch-compatible HTTP server for tests
// and local demos. It implements http.Handler.
type Server struct {
	opts   Options
	mu     sync.RWMutex // guards the maps below; each index has its own lock
	idx    map[string]*index
	tmpls  map[string]*indexTemplate
	comps  map[string]*componentTemplate
	faults *faultState
	stats  statsState
}

// New returns an empty server.
func New(opts Options) *Server {
	if opts.ClusterName == "" {
		opts.ClusterName = DefaultClusterName
	}
	if opts.Version == "" {
		opts.Version = DefaultVersion
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxContentLength <= 0 {
		opts.MaxContentLength = DefaultMaxContentLength
	}
	return &Server{
		opts:   opts,
		idx:    map[string]*index{},
		tmpls:  map[string]*indexTemplate{},
		comps:  map[string]*componentTemplate{},
		faults: newFaultState(opts.FaultSeed),
	}
}

// Start serves on addr (for example "127.0.0.1:0") in the background and
// returns the base URL. The server stops gracefully when ctx ends or stop is
// called; stop waits until it has.
func (s *Server) Start(ctx context.Context, addr string) (baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("esdev: listen on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// ListenAndServe serves on addr until ctx ends, then shuts down gracefully.
// This is what a command-line entry point calls.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("esdev: listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx ends, then shuts down gracefully (in-flight
// requests get a few seconds to finish). It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("esdev: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err := hs.Shutdown(shutdownCtx)
	if err != nil {
		// Connections still open after the grace period (including dialled
		// ones that never sent a request) are cut, so nothing outlives Serve.
		_ = hs.Close()
	}
	if serveErr := <-errc; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	if err != nil {
		return fmt.Errorf("esdev: shutdown: %w", err)
	}
	return nil
}

// route is a matched request: the API name and the handler.
type route struct {
	endpoint string
	handle   func(w http.ResponseWriter, r *http.Request, rc *reqCtx)
	allowed  []string // methods, for 405 answers
	params   []string // accepted URL parameters beyond the common ones
}

// reqCtx is what handlers need from a request.
type reqCtx struct {
	segs   []string // unescaped path segments
	params url.Values
	body   []byte
	now    time.Time
}

// commonParams are accepted by every endpoint.
var commonParams = []string{"pretty", "human", "error_trace", "filter_path", "source", "source_content_type"}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	segs, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		s.writeError(w, r, errIllegalArgument("invalid path: "+err.Error()))
		return
	}
	rt, rerr := s.match(r.Method, segs)
	endpoint := "unknown"
	if rt != nil {
		endpoint = rt.endpoint
	}
	body, berr := s.readBody(r)
	s.stats.count(endpoint)
	if s.opts.OnRequest != nil {
		s.opts.OnRequest(RecordedRequest{
			Endpoint: endpoint, Method: r.Method, Path: r.URL.Path,
			Query: r.URL.Query(), Header: r.Header.Clone(), Body: body,
		})
	}
	if !strings.HasPrefix(endpoint, "dev.") && s.applyFault(w, r, endpoint) {
		return
	}
	if berr != nil {
		s.writeError(w, r, berr)
		return
	}
	if rerr != nil {
		s.writeError(w, r, rerr)
		return
	}
	if len(body) > 0 {
		if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	params := r.URL.Query()
	if err := checkParams(r.URL.Path, params, rt.params); err != nil {
		s.writeError(w, r, err)
		return
	}
	rt.handle(w, r, &reqCtx{segs: segs, params: params, body: body, now: s.opts.Now()})
}

func splitPath(escaped string) ([]string, error) {
	var segs []string
	for _, raw := range strings.Split(strings.Trim(escaped, "/"), "/") {
		if raw == "" {
			continue
		}
		seg, err := url.PathUnescape(raw)
		if err != nil {
			return nil, fmt.Errorf("unescape %q: %w", raw, err)
		}
		segs = append(segs, seg)
	}
	return segs, nil
}

func (s *Server) readBody(r *http.Request) ([]byte, *esError) {
	if r.Body == nil {
		return nil, nil
	}
	var rd io.Reader = http.MaxBytesReader(nil, r.Body, s.opts.MaxContentLength)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		gz, err := gzip.NewReader(rd)
		if err != nil {
			return nil, errIllegalArgument("request body is not valid gzip: " + err.Error())
		}
		defer gz.Close()
		rd = io.LimitReader(gz, s.opts.MaxContentLength+1)
	}
	body, err := io.ReadAll(rd)
	if err != nil || int64(len(body)) > s.opts.MaxContentLength {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || int64(len(body)) > s.opts.MaxContentLength {
			return nil, &esError{status: http.StatusRequestEntityTooLarge, plain: fmt.Sprintf("Request Entity Too Large: the content length exceeds %d bytes", s.opts.MaxContentLength)}
		}
		return nil, errIllegalArgument("failed to read request body: " + err.Error())
	}
	return body, nil
}

// checkContentType accepts the media types Elasticsearch accepts for JSON
// and NDJSON bodies, including the versioned types go-elasticsearch's typed
// API sends.
func checkContentType(ct string) *esError {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return errMediaType(ct)
	}
	switch mt {
	case "application/json", "application/x-ndjson":
		return nil
	case "application/vnd.elasticsearch+json", "application/vnd.elasticsearch+x-ndjson":
		if v := params["compatible-with"]; v != "" && v != "7" && v != "8" {
			return &esError{status: http.StatusBadRequest, typ: "media_type_header_exception",
				reason: "Invalid media-type value on headers [Content-Type]",
				causedBy: &esError{typ: "status_exception",
					reason: fmt.Sprintf("A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version and the compatible versions must match. Accept=null, Content-Type=%s", ct)}}
		}
		return nil
	}
	return errMediaType(ct)
}

func checkParams(path string, params url.Values, allowed []string) *esError {
	for k := range params {
		ok := false
		for _, a := range commonParams {
			if a == k {
				ok = true
			}
		}
		for _, a := range allowed {
			if a == k {
				ok = true
			}
		}
		if !ok {
			return errUnsupportedParam(path, k)
		}
	}
	return nil
}

// responseType is the Content-Type of a response: the versioned
// Elasticsearch media type when the client asked for it, else JSON.
func responseType(r *http.Request) string {
	for _, h := range []string{r.Header.Get("Accept"), r.Header.Get("Content-Type")} {
		mt, params, err := mime.ParseMediaType(h)
		if err == nil && strings.HasPrefix(mt, "application/vnd.elasticsearch+") {
			if v := params["compatible-with"]; v != "" {
				return "application/vnd.elasticsearch+json;compatible-with=" + v
			}
		}
	}
	return "application/json"
}

// writeJSON writes v as a response, honouring pretty and filter_path.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, r, &esError{status: 500, typ: "exception", reason: "failed to render response: " + err.Error()})
		return
	}
	q := r.URL.Query()
	if fp := q.Get("filter_path"); fp != "" {
		b = applyFilterPath(b, fp)
	}
	if _, ok := q["pretty"]; ok && q.Get("pretty") != "false" {
		var out bytes.Buffer
		if json.Indent(&out, b, "", "  ") == nil {
			out.WriteByte('\n')
			b = out.Bytes()
		}
	}
	w.Header().Set("Content-Type", responseType(r))
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *esError) {
	b, _ := e.MarshalJSON()
	w.Header().Set("Content-Type", responseType(r))
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(e.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

// writeStatus answers a HEAD-style request with only a status.
func (s *Server) writeStatus(w http.ResponseWriter, r *http.Request, status int) {
	w.Header().Set("Content-Type", responseType(r))
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

// applyFilterPath keeps only the parts of a JSON response named by a
// filter_path list ("took,hits.hits._id", "items.*.error", "**.status",
// "-hits.hits._source").
func applyFilterPath(b []byte, spec string) []byte {
	v, err := parseJSON(b)
	if err != nil {
		return b
	}
	var includes, excludes [][]string
	for _, p := range strings.Split(spec, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.HasPrefix(p, "-") {
			excludes = append(excludes, strings.Split(p[1:], "."))
		} else {
			includes = append(includes, strings.Split(p, "."))
		}
	}
	if len(includes) > 0 {
		kept, ok := filterInclude(v, includes)
		if !ok {
			kept = map[string]any{}
		}
		v = kept
	}
	for _, ex := range excludes {
		v = filterExclude(v, ex)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return b
	}
	return out
}

func filterInclude(v any, pats [][]string) (any, bool) {
	for _, p := range pats {
		if len(p) == 0 {
			return v, true
		}
	}
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, child := range x {
			var next [][]string
			for _, p := range pats {
				if p[0] == "**" {
					next = append(next, p) // ** may match more levels
					if len(p) > 1 && wildcardMatch(p[1], k) {
						next = append(next, p[2:])
					}
					continue
				}
				if wildcardMatch(p[0], k) {
					next = append(next, p[1:])
				}
			}
			if len(next) == 0 {
				continue
			}
			if kept, ok := filterInclude(child, next); ok {
				out[k] = kept
			}
		}
		return out, len(out) > 0
	case []any:
		var out []any
		for _, e := range x {
			if kept, ok := filterInclude(e, pats); ok {
				out = append(out, kept)
			}
		}
		return out, len(out) > 0
	}
	return nil, false
}

func filterExclude(v any, pat []string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if !wildcardMatch(pat[0], k) {
				continue
			}
			if len(pat) == 1 {
				delete(x, k)
			} else {
				x[k] = filterExclude(child, pat[1:])
			}
		}
	case []any:
		for i, e := range x {
			x[i] = filterExclude(e, pat)
		}
	}
	return v
}

// match finds the route for a method and path, or the error Elasticsearch
// gives when there is none.
func (s *Server) match(method string, segs []string) (*route, *esError) {
	type entry struct {
		methods []string
		rt      route
	}
	var candidates []entry
	add := func(endpoint string, methods []string, h func(http.ResponseWriter, *http.Request, *reqCtx), params ...string) {
		candidates = append(candidates, entry{methods: methods, rt: route{endpoint: endpoint, handle: h, allowed: methods, params: params}})
	}
	get, post, put, head, del := "GET", "POST", "PUT", "HEAD", "DELETE"
	n := len(segs)
	first := ""
	if n > 0 {
		first = segs[0]
	}
	switch {
	case n == 0:
		add("info", []string{get}, s.handleInfo)
		add("ping", []string{head}, s.handleInfo)
	case first == "_dev" && n == 2 && segs[1] == "faults":
		add("dev.faults", []string{get, post, put, del}, func(w http.ResponseWriter, r *http.Request, rc *reqCtx) { s.handleDevFaults(w, r, rc.body) })
	case first == "_dev" && n == 2 && segs[1] == "stats":
		add("dev.stats", []string{get, del}, s.handleDevStats)
	case first == "_bulk" && n == 1:
		add("bulk", []string{post, put}, s.handleBulk, bulkParams...)
	case first == "_search" && n == 1:
		add("search", []string{get, post}, s.handleSearch, searchParams...)
	case first == "_msearch" && n == 1:
		add("msearch", []string{get, post}, s.handleMsearch, msearchParams...)
	case first == "_count" && n == 1:
		add("count", []string{get, post}, s.handleCount, countParams...)
	case first == "_refresh" && n == 1:
		add("indices.refresh", []string{get, post}, s.handleRefresh, "allow_no_indices", "expand_wildcards", "ignore_unavailable")
	case first == "_mapping" && n == 1:
		add("indices.get_mapping", []string{get}, s.handleGetMapping, "allow_no_indices", "expand_wildcards", "ignore_unavailable", "local", "master_timeout")
	case first == "_cluster" && n >= 2 && n <= 3 && segs[1] == "health":
		add("cluster.health", []string{get}, s.handleHealth, "expand_wildcards", "level", "local", "master_timeout", "timeout", "wait_for_active_shards", "wait_for_events", "wait_for_no_initializing_shards", "wait_for_no_relocating_shards", "wait_for_nodes", "wait_for_status")
	case first == "_index_template" && n == 1:
		add("indices.get_index_template", []string{get}, s.handleGetIndexTemplate, "flat_settings", "include_defaults", "local", "master_timeout")
	case first == "_index_template" && n == 2:
		add("indices.get_index_template", []string{get}, s.handleGetIndexTemplate, "flat_settings", "include_defaults", "local", "master_timeout")
		add("indices.put_index_template", []string{put, post}, s.handlePutIndexTemplate, "cause", "create", "master_timeout")
		add("indices.delete_index_template", []string{del}, s.handleDeleteIndexTemplate, "master_timeout", "timeout")
		add("indices.exists_index_template", []string{head}, s.handleGetIndexTemplate, "local", "master_timeout", "flat_settings")
	case first == "_component_template" && (n == 1 || n == 2):
		add("cluster.get_component_template", []string{get}, s.handleGetComponentTemplate, "flat_settings", "include_defaults", "local", "master_timeout")
		if n == 2 {
			add("cluster.put_component_template", []string{put, post}, s.handlePutComponentTemplate, "create", "master_timeout", "cause")
			add("cluster.delete_component_template", []string{del}, s.handleDeleteComponentTemplate, "master_timeout", "timeout")
			add("cluster.exists_component_template", []string{head}, s.handleGetComponentTemplate, "local", "master_timeout")
		}
	case strings.HasPrefix(first, "_"):
		// Elasticsearch APIs this server does not implement.
	case n == 1:
		add("indices.create", []string{put}, s.handleCreateIndex, "master_timeout", "timeout", "wait_for_active_shards")
		add("indices.exists", []string{head}, s.handleIndexExists, "allow_no_indices", "expand_wildcards", "flat_settings", "ignore_unavailable", "include_defaults", "local")
		add("indices.delete", []string{del}, s.handleDeleteIndex, "allow_no_indices", "expand_wildcards", "ignore_unavailable", "master_timeout", "timeout")
		add("indices.get", []string{get}, s.handleGetIndex, "allow_no_indices", "expand_wildcards", "features", "flat_settings", "ignore_unavailable", "include_defaults", "local", "master_timeout")
	case n == 2:
		switch segs[1] {
		case "_bulk":
			add("bulk", []string{post, put}, s.handleBulk, bulkParams...)
		case "_search":
			add("search", []string{get, post}, s.handleSearch, searchParams...)
		case "_msearch":
			add("msearch", []string{get, post}, s.handleMsearch, msearchParams...)
		case "_count":
			add("count", []string{get, post}, s.handleCount, countParams...)
		case "_refresh":
			add("indices.refresh", []string{get, post}, s.handleRefresh, "allow_no_indices", "expand_wildcards", "ignore_unavailable")
		case "_mapping":
			add("indices.get_mapping", []string{get}, s.handleGetMapping, "allow_no_indices", "expand_wildcards", "ignore_unavailable", "local", "master_timeout")
			add("indices.put_mapping", []string{put, post}, s.handlePutMapping, "allow_no_indices", "expand_wildcards", "ignore_unavailable", "master_timeout", "timeout", "write_index_only")
		case "_doc":
			add("index", []string{post}, s.handleIndexDoc, indexParams...)
		}
	case n == 3:
		switch segs[1] {
		case "_doc":
			add("index", []string{put, post}, s.handleIndexDoc, indexParams...)
			add("get", []string{get}, s.handleGetDoc, getParams...)
			add("exists", []string{head}, s.handleGetDoc, getParams...)
			add("delete", []string{del}, s.handleDeleteDoc, "if_primary_term", "if_seq_no", "refresh", "routing", "timeout", "version", "version_type", "wait_for_active_shards")
		case "_create":
			add("create", []string{put, post}, s.handleIndexDoc, indexParams...)
		case "_update":
			add("update", []string{post}, s.handleUpdateDoc, "_source", "_source_excludes", "_source_includes", "if_primary_term", "if_seq_no", "lang", "refresh", "require_alias", "retry_on_conflict", "routing", "timeout", "wait_for_active_shards")
		case "_source":
			add("get_source", []string{get}, s.handleGetSource, getParams...)
		}
	}
	var allowed []string
	for _, c := range candidates {
		for _, m := range c.methods {
			allowed = append(allowed, m)
			if m == method {
				rt := c.rt
				return &rt, nil
			}
		}
	}
	uri := "/" + strings.Join(segs, "/")
	if len(allowed) > 0 {
		sort.Strings(allowed)
		return nil, errMethodNotAllowed(method, uri, allowed)
	}
	return nil, errNoHandler(method, uri)
}

var (
	searchParams = []string{"_source", "_source_excludes", "_source_includes", "allow_no_indices",
		"allow_partial_search_results", "analyze_wildcard", "analyzer", "batched_reduce_size",
		"ccs_minimize_roundtrips", "default_operator", "df", "docvalue_fields", "expand_wildcards",
		"explain", "force_synthetic_source", "from", "ignore_throttled", "ignore_unavailable",
		"include_named_queries_score", "lenient", "max_concurrent_shard_requests",
		"min_compatible_shard_node", "pre_filter_shard_size", "preference", "q", "request_cache",
		"rest_total_hits_as_int", "routing", "scroll", "search_type", "seq_no_primary_term", "size",
		"sort", "stats", "stored_fields", "suggest_field", "suggest_mode", "suggest_size",
		"suggest_text", "terminate_after", "timeout", "track_scores", "track_total_hits",
		"typed_keys", "version"}
	msearchParams = []string{"allow_no_indices", "ccs_minimize_roundtrips", "expand_wildcards",
		"ignore_throttled", "ignore_unavailable", "include_named_queries_score", "index",
		"max_concurrent_searches", "max_concurrent_shard_requests", "pre_filter_shard_size",
		"rest_total_hits_as_int", "routing", "search_type", "typed_keys"}
	bulkParams = []string{"_source", "_source_excludes", "_source_includes", "include_source_on_error",
		"list_executed_pipelines", "pipeline", "refresh", "require_alias", "require_data_stream",
		"routing", "timeout", "wait_for_active_shards"}
	countParams = []string{"allow_no_indices", "analyze_wildcard", "analyzer", "default_operator", "df",
		"expand_wildcards", "ignore_throttled", "ignore_unavailable", "lenient", "min_score",
		"preference", "q", "routing", "terminate_after"}
	indexParams = []string{"if_primary_term", "if_seq_no", "op_type", "pipeline", "refresh",
		"require_alias", "require_data_stream", "routing", "timeout", "version", "version_type",
		"wait_for_active_shards"}
	getParams = []string{"_source", "_source_excludes", "_source_includes", "force_synthetic_source",
		"preference", "realtime", "refresh", "routing", "stored_fields", "version", "version_type"}
)
