package esdev

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func boolParam(params map[string][]string, name string) bool {
	v, ok := params[name]
	return ok && (v[len(v)-1] == "true" || v[len(v)-1] == "")
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	expr := ""
	if len(rc.segs) == 2 {
		expr = rc.segs[0]
	}
	req, err := parseSearchBody(rc.body, rc.params, rc.now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	targets, err := s.resolveTargets(expr, searchResolveOpts(rc.params))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	opts := searchOptions{typedKeys: boolParam(rc.params, "typed_keys"), totalHitsAsInt: boolParam(rc.params, "rest_total_hits_as_int")}
	resp, err := runSearch(targets, req, opts, rc.now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, resp)
}

// msearchItem is one header/body pair of a multi search.
type msearchItem struct {
	expr   string
	opts   resolveOpts
	body   []byte
	parsed *searchRequest
	err    *esError
}

func parseMsearch(body []byte, defaultExpr string, params map[string][]string, now time.Time) ([]msearchItem, *esError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errActionRequestValidation("no requests added")
	}
	if body[len(body)-1] != '\n' {
		return nil, errIllegalArgument("The msearch request must be terminated by a newline [\\n]")
	}
	lines := bytes.Split(body[:len(body)-1], []byte{'\n'})
	var items []msearchItem
	for i := 0; i < len(lines); i++ {
		hdr := bytes.TrimSpace(lines[i])
		if len(hdr) == 0 && len(items) == 0 {
			continue
		}
		item := msearchItem{expr: defaultExpr, opts: searchResolveOpts(params)}
		if len(hdr) > 0 {
			h, err := decodeJSONObject(hdr)
			if err != nil {
				return nil, err
			}
			for k, v := range h {
				switch k {
				case "index", "indices":
					switch x := v.(type) {
					case string:
						item.expr = x
					case []any:
						var names []string
						for _, n := range x {
							names = append(names, fmt.Sprint(n))
						}
						item.expr = strings.Join(names, ",")
					}
				case "ignore_unavailable":
					item.opts.ignoreUnavailable = asBool(v, false)
				case "allow_no_indices":
					item.opts.allowNoIndices = asBool(v, true)
				case "expand_wildcards", "search_type", "preference", "routing", "request_cache",
					"ccs_minimize_roundtrips", "allow_partial_search_results", "ignore_throttled":
				default:
					return nil, errIllegalArgument(fmt.Sprintf("key [%s] is not supported in the metadata section", k))
				}
			}
		}
		i++
		if i >= len(lines) {
			return nil, errIllegalArgument("The msearch request must be terminated by a newline [\\n]")
		}
		item.body = bytes.TrimSpace(lines[i])
		// typed_keys and friends come from the msearch URL, not per item.
		item.parsed, item.err = parseSearchBody(item.body, nil, now)
		items = append(items, item)
	}
	if len(items) == 0 {
		return nil, errActionRequestValidation("no requests added")
	}
	return items, nil
}

func (s *Server) handleMsearch(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	start := time.Now()
	expr := ""
	if len(rc.segs) == 2 {
		expr = rc.segs[0]
	}
	items, err := parseMsearch(rc.body, expr, rc.params, rc.now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	opts := searchOptions{typedKeys: boolParam(rc.params, "typed_keys"), totalHitsAsInt: boolParam(rc.params, "rest_total_hits_as_int")}
	responses := make([]any, 0, len(items))
	for _, it := range items {
		if it.err != nil {
			responses = append(responses, it.err)
			continue
		}
		targets, err := s.resolveTargets(it.expr, it.opts)
		if err != nil {
			responses = append(responses, err)
			continue
		}
		resp, err := runSearch(targets, it.parsed, opts, rc.now)
		if err != nil {
			responses = append(responses, err)
			continue
		}
		resp.Status = http.StatusOK
		responses = append(responses, resp)
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"took": time.Since(start).Milliseconds(), "responses": responses})
}

func (s *Server) handleCount(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	expr := ""
	if len(rc.segs) == 2 {
		expr = rc.segs[0]
	}
	// Counting needs no scores and no hits.
	req := &searchRequest{trackTotal: 1 << 30, sort: []sortSpec{{field: "_doc"}}}
	if len(bytes.TrimSpace(rc.body)) > 0 {
		raw, err := decodeJSONObject(rc.body)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p := &parseCtx{body: rc.body, now: rc.now}
		for k, v := range raw {
			if k != "query" {
				s.writeError(w, r, errParsing(fmt.Sprintf("request does not support [%s]", k), p.pos(k)))
				return
			}
			q, err := parseQuery(v, p)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			req.query = q
		}
	}
	if rc.params.Get("q") != "" {
		s.writeError(w, r, errIllegalArgument("the [q] parameter (query_string syntax) is not supported by esdev; send a query in the body"))
		return
	}
	if v := rc.params.Get("min_score"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			s.writeError(w, r, errIllegalArgument(fmt.Sprintf("Failed to parse float parameter [min_score] with value [%s]", v)))
			return
		}
		req.minScore = &f
	}
	if v := rc.params.Get("terminate_after"); v != "" {
		n, _ := strconv.Atoi(v)
		req.terminateAfter = n
	}
	targets, err := s.resolveTargets(expr, searchResolveOpts(rc.params))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp, err := runSearch(targets, req, searchOptions{}, rc.now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	total := 0
	if t, ok := resp.Hits.Total.(totalJSON); ok {
		total = t.Value
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"count": total, "_shards": resp.Shards})
}
