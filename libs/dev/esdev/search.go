package esdev

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// defaultTrackTotalHits is Elasticsearch's default accuracy for hits.total.
const defaultTrackTotalHits = 10000

// maxResultWindow is index.max_result_window's default.
const maxResultWindow = 10000

type searchRequest struct {
	query          query
	postFilter     query
	from, size     int
	sort           []sortSpec
	explicitSort   bool
	source         sourceFilter
	trackTotal     int // <0: do not track (omit hits.total)
	trackScores    bool
	aggs           []*aggSpec
	searchAfter    []any
	version        bool
	seqNoPrimary   bool
	minScore       *float64
	terminateAfter int
}

type sortSpec struct {
	field        string // a field, "_score" or "_doc"
	desc         bool
	unmappedType string
	missingFirst bool
	mode         string
	format       string
}

// sourceFilter is the _source option of a search or get.
type sourceFilter struct {
	disabled           bool
	includes, excludes []string
}

// searchBodyKeys are the search body keys Elasticsearch knows but this
// server does not implement; they get a clear 400 instead of "unknown key".
var unsupportedSearchKeys = map[string]bool{
	"highlight": true, "suggest": true, "rescore": true, "collapse": true, "pit": true,
	"slice": true, "script_fields": true, "docvalue_fields": true, "stored_fields": true,
	"fields": true, "runtime_mappings": true, "knn": true, "indices_boost": true,
	"profile": true, "explain": true, "rank": true, "retriever": true, "sub_searches": true,
	"point_in_time": true,
}

// parseSearchBody parses a search request body and then applies URL
// parameters, which take precedence as they do in Elasticsearch.
func parseSearchBody(body []byte, params url.Values, now time.Time) (*searchRequest, *esError) {
	req := &searchRequest{size: 10, trackTotal: defaultTrackTotalHits}
	p := &parseCtx{body: body, now: now}
	if len(bytes.TrimSpace(body)) > 0 {
		raw, err := decodeJSONObject(body)
		if err != nil {
			return nil, err
		}
		for _, k := range sortedKeys(raw) {
			v := raw[k]
			var perr *esError
			switch k {
			case "query":
				req.query, perr = parseQuery(v, p)
			case "post_filter":
				req.postFilter, perr = parseQuery(v, p)
			case "from":
				req.from, perr = intParam(k, v, p)
			case "size":
				req.size, perr = intParam(k, v, p)
			case "sort":
				req.sort, perr = parseSort(v, p)
				req.explicitSort = true
			case "_source":
				req.source, perr = parseSourceOption(v, p)
			case "track_total_hits":
				req.trackTotal, perr = parseTrackTotal(v)
			case "track_scores":
				req.trackScores = asBool(v, false)
			case "aggs", "aggregations":
				req.aggs, perr = parseAggs(v, p)
			case "search_after":
				list, ok := v.([]any)
				if !ok {
					perr = errParsing("[search_after] must be an array", p.pos(k))
				}
				req.searchAfter = list
			case "version":
				req.version = asBool(v, false)
			case "seq_no_primary_term":
				req.seqNoPrimary = asBool(v, false)
			case "min_score":
				f, err := toFloat(v)
				if err != nil {
					perr = errParsing("[min_score] must be a number", p.pos(k))
				}
				req.minScore = &f
			case "terminate_after":
				req.terminateAfter, perr = intParam(k, v, p)
			case "timeout", "stats", "ext", "_name":
				// Accepted and ignored: a dev server never times out.
			default:
				if unsupportedSearchKeys[k] {
					perr = errParsing(fmt.Sprintf("[%s] is not supported by esdev, the development Elasticsearch server", k), p.pos(k))
				} else {
					perr = errParsing(fmt.Sprintf("Unknown key for a %s in [%s].", tokenName(v), k), p.pos(k))
				}
			}
			if perr != nil {
				return nil, perr
			}
		}
	}
	if err := applySearchParams(req, params); err != nil {
		return nil, err
	}
	if req.from < 0 {
		return nil, errIllegalArgument("[from] parameter cannot be negative")
	}
	if req.size < 0 {
		return nil, errIllegalArgument("[size] parameter cannot be negative, found [" + strconv.Itoa(req.size) + "]")
	}
	if req.from+req.size > maxResultWindow {
		return nil, errIllegalArgument(fmt.Sprintf("Result window is too large, from + size must be less than or equal to: [%d] but was [%d]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.", maxResultWindow, req.from+req.size))
	}
	if req.searchAfter != nil && len(req.searchAfter) != len(req.effectiveSort()) {
		return nil, errIllegalArgument(fmt.Sprintf("search_after has %d value(s) but sort has %d.", len(req.searchAfter), len(req.effectiveSort())))
	}
	return req, nil
}

// tokenName names a JSON value the way Jackson's token names appear in
// Elasticsearch's "Unknown key" messages.
func tokenName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "START_OBJECT"
	case []any:
		return "START_ARRAY"
	case string:
		return "VALUE_STRING"
	case json.Number:
		return "VALUE_NUMBER"
	case bool:
		return "VALUE_BOOLEAN"
	}
	return "VALUE_NULL"
}

func decodeJSONObject(body []byte) (map[string]any, *esError) {
	raw, err := parseJSON(body)
	if err != nil {
		pos := textPos{line: 1, col: 1}
		if se, ok := err.(*jsonSyntaxError); ok {
			pos = textPos{line: se.line, col: se.col}
		}
		return nil, errXContent("failed to parse request body: "+syntaxMessage(err), pos)
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, errParsing("request body must be a JSON object", textPos{line: 1, col: 1})
	}
	return obj, nil
}

func intParam(key string, v any, p *parseCtx) (int, *esError) {
	f, err := toFloat(v)
	if err != nil || f != math.Trunc(f) {
		return 0, errXContent(fmt.Sprintf("[%s] failed to parse field [%s]", "search", key), p.pos(key))
	}
	return int(f), nil
}

func parseTrackTotal(v any) (int, *esError) {
	switch x := v.(type) {
	case bool:
		if x {
			return math.MaxInt32, nil
		}
		return -1, nil
	case string:
		if x == "true" {
			return math.MaxInt32, nil
		}
		if x == "false" {
			return -1, nil
		}
	}
	n, err := toFloat(v)
	if err != nil {
		return 0, errIllegalArgument(fmt.Sprintf("Failed to parse value [%v] for [track_total_hits]", v))
	}
	if n < 0 {
		return 0, errIllegalArgument("[track_total_hits] parameter must be positive or equals to -1, got " + strconv.Itoa(int(n)))
	}
	return int(n), nil
}

func parseSort(v any, p *parseCtx) ([]sortSpec, *esError) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	default:
		items = []any{x}
	}
	var out []sortSpec
	for _, it := range items {
		switch x := it.(type) {
		case string:
			out = append(out, sortSpec{field: x, desc: x == "_score"})
		case map[string]any:
			for field, spec := range x {
				s := sortSpec{field: field, desc: field == "_score"}
				switch sv := spec.(type) {
				case string:
					if err := s.setOrder(sv); err != nil {
						return nil, err
					}
				case map[string]any:
					for k, val := range sv {
						str := fmt.Sprint(val)
						switch k {
						case "order":
							if err := s.setOrder(str); err != nil {
								return nil, err
							}
						case "unmapped_type":
							s.unmappedType = str
						case "missing":
							switch str {
							case "_first":
								s.missingFirst = true
							case "_last":
							default:
								return nil, errParsing("[sort] missing values other than _first and _last are not supported by esdev", p.pos(k))
							}
						case "mode":
							s.mode = str
						case "format":
							s.format = str
						case "numeric_type":
						default:
							return nil, errParsing(fmt.Sprintf("[field_sort] unknown field [%s]", k), p.pos(k))
						}
					}
				default:
					return nil, errParsing("[sort] malformed sort", p.pos(field))
				}
				out = append(out, s)
			}
		default:
			return nil, errParsing("[sort] malformed sort", p.pos("sort"))
		}
	}
	return out, nil
}

func (s *sortSpec) setOrder(o string) *esError {
	switch strings.ToLower(o) {
	case "asc":
		s.desc = false
	case "desc":
		s.desc = true
	default:
		return errIllegalArgument(fmt.Sprintf("Unknown SortOrder [%s]", o))
	}
	return nil
}

func parseSourceOption(v any, p *parseCtx) (sourceFilter, *esError) {
	switch x := v.(type) {
	case bool:
		return sourceFilter{disabled: !x}, nil
	case string:
		return sourceFilter{includes: []string{x}}, nil
	case []any:
		sf := sourceFilter{}
		for _, e := range x {
			sf.includes = append(sf.includes, fmt.Sprint(e))
		}
		return sf, nil
	case map[string]any:
		sf := sourceFilter{}
		for k, val := range x {
			var list []string
			switch l := val.(type) {
			case string:
				list = []string{l}
			case []any:
				for _, e := range l {
					list = append(list, fmt.Sprint(e))
				}
			}
			switch k {
			case "includes", "include":
				sf.includes = list
			case "excludes", "exclude":
				sf.excludes = list
			default:
				return sf, errParsing(fmt.Sprintf("Unknown key for a START_ARRAY in [%s].", k), p.pos(k))
			}
		}
		return sf, nil
	}
	return sourceFilter{}, errParsing("[_source] must be a boolean, a string, an array or an object", p.pos("_source"))
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func applySearchParams(req *searchRequest, params url.Values) *esError {
	for k, vals := range params {
		v := vals[len(vals)-1]
		switch k {
		case "size", "from", "terminate_after":
			n, err := strconv.Atoi(v)
			if err != nil {
				return &esError{status: 400, typ: "illegal_argument_exception",
					reason:   fmt.Sprintf("Failed to parse int parameter [%s] with value [%s]", k, v),
					causedBy: &esError{typ: "number_format_exception", reason: fmt.Sprintf("For input string: \"%s\"", v)}}
			}
			switch k {
			case "size":
				req.size = n
			case "from":
				req.from = n
			default:
				req.terminateAfter = n
			}
		case "sort":
			req.sort = nil
			req.explicitSort = true
			for _, part := range splitList(v) {
				s := sortSpec{field: part, desc: part == "_score"}
				if i := strings.LastIndexByte(part, ':'); i > 0 {
					s.field = part[:i]
					s.desc = s.field == "_score"
					if err := s.setOrder(part[i+1:]); err != nil {
						return err
					}
				}
				req.sort = append(req.sort, s)
			}
		case "_source":
			switch v {
			case "true":
				req.source = sourceFilter{}
			case "false":
				req.source = sourceFilter{disabled: true}
			default:
				req.source = sourceFilter{includes: splitList(v)}
			}
		case "_source_includes":
			req.source.disabled = false
			req.source.includes = splitList(v)
		case "_source_excludes":
			req.source.disabled = false
			req.source.excludes = splitList(v)
		case "track_total_hits":
			n, err := parseTrackTotal(v)
			if err != nil {
				return err
			}
			req.trackTotal = n
		case "track_scores":
			req.trackScores = v == "true" || v == ""
		case "version":
			req.version = v == "true" || v == ""
		case "seq_no_primary_term":
			req.seqNoPrimary = v == "true" || v == ""
		case "q":
			return errIllegalArgument("the [q] parameter (query_string syntax) is not supported by esdev; send a query in the body")
		case "scroll":
			return errIllegalArgument("scroll searches are not supported by esdev")
		}
	}
	return nil
}

func (r *searchRequest) effectiveSort() []sortSpec {
	if len(r.sort) == 0 {
		return []sortSpec{{field: "_score", desc: true}}
	}
	return r.sort
}

// needScores reports whether scores must be computed: for hits sorted by
// score, min_score, track_scores, or a top_hits aggregation sorted by score.
func (r *searchRequest) needScores() bool {
	if r.trackScores || r.minScore != nil || aggsNeedScores(r.aggs) {
		return true
	}
	if r.size+r.from == 0 {
		return false
	}
	return sortsByScore(r.effectiveSort())
}

func aggsNeedScores(specs []*aggSpec) bool {
	for _, a := range specs {
		if a.topHits != nil && a.topHits.needScores() {
			return true
		}
		if aggsNeedScores(a.subs) {
			return true
		}
	}
	return false
}

// searchTarget is one index a search runs on, with the filter of the alias
// that named it, if any.
type searchTarget struct {
	ix     *index
	filter query
}

// shardResult is the outcome of a search on one index.
type shardResult struct {
	target  searchTarget
	matched *docSet // query matches (aggregations run on these)
	hits    *bitset // after post_filter and min_score
	err     *esError
}

// hitRef is a candidate hit with its sort key.
type hitRef struct {
	shard int
	slot  uint32
	score float64
	keys  []sortKey
}

// sortKey is one sort value: a number, a string, or missing.
type sortKey struct {
	num     float64
	str     string
	isStr   bool
	missing bool
}

// sorter resolves sort fields on each shard and compares hits.
type sorter struct {
	specs  []sortSpec
	fields [][]*fieldIndex // [shard][spec]
	kinds  [][]fieldKind
	// errs holds, per shard, why its sort cannot run (unmapped or text field).
	errs []*esError
}

func newSorter(specs []sortSpec, shards []*shardResult) *sorter {
	s := &sorter{specs: specs, fields: make([][]*fieldIndex, len(shards)), kinds: make([][]fieldKind, len(shards)), errs: make([]*esError, len(shards))}
	for i, sh := range shards {
		s.fields[i] = make([]*fieldIndex, len(specs))
		s.kinds[i] = make([]fieldKind, len(specs))
		if sh.err != nil {
			continue
		}
		ix := sh.target.ix
		for j, spec := range specs {
			if spec.field == "_score" || spec.field == "_doc" {
				continue
			}
			fm := ix.mapping.lookup(spec.field)
			if fm == nil {
				if spec.unmappedType == "" {
					s.errs[i] = errShardFailure(ix.name, errQueryShard(fmt.Sprintf("No mapping found for [%s] in order to sort on", spec.field), ix.name, ix.uuid))
					continue
				}
				k, ok := kindOfType[spec.unmappedType]
				if !ok {
					s.errs[i] = errShardFailure(ix.name, errIllegalArgument(fmt.Sprintf("No mapper found for type [%s]", spec.unmappedType)))
				}
				s.kinds[i][j] = k
				continue
			}
			if fm.kind == kindText {
				s.errs[i] = errShardFailure(ix.name, errFielddata(spec.field))
				continue
			}
			s.kinds[i][j] = fm.kind
			s.fields[i][j] = ix.fields[spec.field]
		}
	}
	return s
}

func errFielddata(field string) *esError {
	return errIllegalArgument(fmt.Sprintf("Fielddata is disabled on [%s] in [_doc]. Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [%s] in order to load field data by uninverting the inverted index. Note that this can use significant memory.", field, field))
}

func (s *sorter) keys(shard int, slot uint32, score float64) []sortKey {
	out := make([]sortKey, len(s.specs))
	for j, spec := range s.specs {
		switch spec.field {
		case "_score":
			out[j] = sortKey{num: score}
			continue
		case "_doc":
			out[j] = sortKey{num: float64(shard)*(1<<32) + float64(slot)}
			continue
		}
		f := s.fields[shard][j]
		if f == nil {
			out[j] = sortKey{missing: true}
			continue
		}
		if s.kinds[shard][j] == kindKeyword || s.kinds[shard][j] == kindFlattened {
			vals := f.stringValues(slot)
			if len(vals) == 0 {
				out[j] = sortKey{missing: true, isStr: true}
				continue
			}
			v := vals[0] // values are kept sorted
			if spec.desc && spec.mode != "min" || spec.mode == "max" {
				v = vals[len(vals)-1]
			}
			out[j] = sortKey{str: v, isStr: true}
			continue
		}
		vals := f.numValues(slot)
		if len(vals) == 0 {
			out[j] = sortKey{missing: true}
			continue
		}
		out[j] = sortKey{num: pickNumber(vals, spec)}
	}
	return out
}

func pickNumber(vals []float64, spec sortSpec) float64 {
	mode := spec.mode
	if mode == "" {
		mode = "min"
		if spec.desc {
			mode = "max"
		}
	}
	switch mode {
	case "max":
		m := vals[0]
		for _, v := range vals {
			m = math.Max(m, v)
		}
		return m
	case "sum", "avg":
		sum := 0.0
		for _, v := range vals {
			sum += v
		}
		if mode == "avg" {
			return sum / float64(len(vals))
		}
		return sum
	case "median":
		c := append([]float64(nil), vals...)
		sort.Float64s(c)
		return c[len(c)/2]
	default:
		m := vals[0]
		for _, v := range vals {
			m = math.Min(m, v)
		}
		return m
	}
}

// less orders two hits: by the sort keys, then shard and slot (Lucene's
// tie-break by shard and document id).
func (s *sorter) less(a, b *hitRef) bool {
	for j, spec := range s.specs {
		if c := compareKeys(a.keys[j], b.keys[j], spec); c != 0 {
			return c < 0
		}
	}
	if a.shard != b.shard {
		return a.shard < b.shard
	}
	return a.slot < b.slot
}

func compareKeys(a, b sortKey, spec sortSpec) int {
	if a.missing || b.missing {
		switch {
		case a.missing && b.missing:
			return 0
		case a.missing:
			if spec.missingFirst {
				return -1
			}
			return 1
		default:
			if spec.missingFirst {
				return 1
			}
			return -1
		}
	}
	c := 0
	if a.isStr || b.isStr {
		c = strings.Compare(a.str, b.str)
	} else if a.num < b.num {
		c = -1
	} else if a.num > b.num {
		c = 1
	}
	if spec.desc {
		c = -c
	}
	return c
}

// hitHeap keeps the best n hits; the worst is at the top so it can be
// replaced cheaply.
type hitHeap struct {
	s    *sorter
	refs []*hitRef
}

func (h *hitHeap) Len() int           { return len(h.refs) }
func (h *hitHeap) Less(i, j int) bool { return h.s.less(h.refs[j], h.refs[i]) }
func (h *hitHeap) Swap(i, j int)      { h.refs[i], h.refs[j] = h.refs[j], h.refs[i] }
func (h *hitHeap) Push(x any)         { h.refs = append(h.refs, x.(*hitRef)) }
func (h *hitHeap) Pop() any {
	old := h.refs
	x := old[len(old)-1]
	h.refs = old[:len(old)-1]
	return x
}

func pushHit(h *hitHeap, ref *hitRef) { heap.Push(h, ref) }

// replaceTop swaps the worst kept hit for a better one.
func replaceTop(h *hitHeap, ref *hitRef) {
	h.refs[0] = ref
	heap.Fix(h, 0)
}

// popAll empties the heap into best-first order.
func popAll(h *hitHeap) []*hitRef {
	ordered := make([]*hitRef, h.Len())
	for i := len(ordered) - 1; i >= 0; i-- {
		ordered[i] = heap.Pop(h).(*hitRef)
	}
	return ordered
}

// sortValue renders a sort key as Elasticsearch does in hits[].sort.
func sortValue(k sortKey, spec sortSpec, kind fieldKind) any {
	if k.missing {
		switch kind {
		case kindLong, kindDate, kindBoolean:
			if spec.desc != spec.missingFirst {
				return int64(math.MinInt64)
			}
			return int64(math.MaxInt64)
		}
		return nil
	}
	if k.isStr {
		return k.str
	}
	switch kind {
	case kindDate:
		if spec.format != "" {
			if f, err := parseDateFormat(spec.format); err == nil {
				return f.format(int64(k.num), time.UTC)
			}
		}
		return int64(k.num)
	case kindLong, kindBoolean:
		return int64(k.num)
	}
	if spec.field == "_doc" {
		return int64(k.num)
	}
	return k.num
}

// searchAfterKeys converts search_after values to sort keys.
func searchAfterKeys(values []any, specs []sortSpec, kinds []fieldKind) []sortKey {
	out := make([]sortKey, len(values))
	for i, v := range values {
		if v == nil {
			out[i] = sortKey{missing: true}
			continue
		}
		if s, ok := v.(string); ok && (kinds[i] == kindKeyword || kinds[i] == kindFlattened) {
			out[i] = sortKey{str: s, isStr: true}
			continue
		}
		if s, ok := v.(string); ok && kinds[i] == kindDate {
			// A date sort value printed with a sort format comes back as text.
			f, _ := parseDateFormat(specs[i].format)
			if ms, err := f.parse(s, time.UTC, false); err == nil {
				out[i] = sortKey{num: float64(ms)}
				continue
			}
		}
		f, err := toFloat(v)
		if err != nil {
			out[i] = sortKey{str: scalarString(v), isStr: true}
			continue
		}
		if (kinds[i] == kindLong || kinds[i] == kindDate) && (f >= math.MaxInt64 || f <= math.MinInt64) {
			out[i] = sortKey{missing: true}
			continue
		}
		out[i] = sortKey{num: f}
	}
	return out
}

// hitJSON is one hit as Elasticsearch renders it.
type hitJSON struct {
	Index       string          `json:"_index"`
	ID          string          `json:"_id"`
	Version     *int64          `json:"_version,omitempty"`
	SeqNo       *int64          `json:"_seq_no,omitempty"`
	PrimaryTerm *int64          `json:"_primary_term,omitempty"`
	Score       *float64        `json:"_score"`
	Source      json.RawMessage `json:"_source,omitempty"`
	Sort        []any           `json:"sort,omitempty"`
}

type totalJSON struct {
	Value    int    `json:"value"`
	Relation string `json:"relation"`
}

type hitsJSON struct {
	Total    any       `json:"total,omitempty"`
	MaxScore *float64  `json:"max_score"`
	Hits     []hitJSON `json:"hits"`
}

type shardsJSON struct {
	Total      int   `json:"total"`
	Successful int   `json:"successful"`
	Skipped    int   `json:"skipped"`
	Failed     int   `json:"failed"`
	Failures   []any `json:"failures,omitempty"`
}

type searchResponseJSON struct {
	Took         int64          `json:"took"`
	TimedOut     bool           `json:"timed_out"`
	Shards       shardsJSON     `json:"_shards"`
	Hits         hitsJSON       `json:"hits"`
	Aggregations map[string]any `json:"aggregations,omitempty"`
	Status       int            `json:"status,omitempty"`
}

// searchOptions are URL options that shape the response.
type searchOptions struct {
	typedKeys      bool
	totalHitsAsInt bool
}

// runSearch executes a parsed search on its targets. Targets are read-locked
// for the duration.
func runSearch(targets []searchTarget, req *searchRequest, opts searchOptions, now time.Time) (*searchResponseJSON, *esError) {
	start := time.Now()
	for _, t := range targets {
		t.ix.mu.RLock()
		defer t.ix.mu.RUnlock()
	}
	scoring := req.needScores()
	shards := make([]*shardResult, len(targets))
	for i, t := range targets {
		shards[i] = evalShard(t, req, scoring, now)
	}
	specs := req.effectiveSort()
	srt := newSorter(specs, shards)

	resp := &searchResponseJSON{Hits: hitsJSON{Hits: []hitJSON{}}}
	totalShards := 0
	var firstErr *esError
	failed := 0
	for _, sh := range shards {
		totalShards += sh.target.ix.shards
	}
	for i, sh := range shards {
		err := sh.err
		if err == nil {
			err = srt.errs[i]
		}
		if err != nil {
			failed += sh.target.ix.shards
			if firstErr == nil {
				firstErr = err
			}
			resp.Shards.Failures = append(resp.Shards.Failures, map[string]any{
				"shard": 0, "index": sh.target.ix.name, "node": nodeID,
				"reason": json.RawMessage(shardCause(err).itemJSON()),
			})
			sh.err = err
		}
	}
	if failed > 0 && failed == totalShards {
		return nil, firstErr
	}
	resp.Shards.Total = totalShards
	resp.Shards.Successful = totalShards - failed
	resp.Shards.Failed = failed

	// Total hits and the top hits.
	total := 0
	want := req.from + req.size
	h := &hitHeap{s: srt}
	var maxScore *float64
	var afterKeys []sortKey
	for si, sh := range shards {
		if sh.err != nil {
			continue
		}
		if req.searchAfter != nil && afterKeys == nil {
			afterKeys = searchAfterKeys(req.searchAfter, specs, srt.kinds[si])
		}
		sh.hits.forEach(func(slot uint32) bool {
			score := 0.0
			if scoring {
				score = sh.matched.scoreOf(slot)
				if req.minScore != nil && score < *req.minScore {
					return true
				}
				if maxScore == nil || score > *maxScore {
					ms := score
					maxScore = &ms
				}
			}
			total++
			if want == 0 {
				return true
			}
			ref := &hitRef{shard: si, slot: slot, score: score, keys: srt.keys(si, slot, score)}
			if afterKeys != nil && !afterSearchAfter(ref.keys, afterKeys, specs) {
				return true
			}
			if h.Len() < want {
				pushHit(h, ref)
			} else if srt.less(ref, h.refs[0]) {
				replaceTop(h, ref)
			}
			return true
		})
	}
	ordered := popAll(h)
	if req.from < len(ordered) {
		ordered = ordered[req.from:]
	} else {
		ordered = nil
	}
	scoreShown := scoring && (!req.explicitSort || req.trackScores || sortsByScore(specs))
	for _, ref := range ordered {
		sh := shards[ref.shard]
		d := sh.target.ix.docs[ref.slot]
		hj := hitJSON{Index: sh.target.ix.name, ID: d.id}
		if scoreShown {
			s := ref.score
			hj.Score = &s
		}
		if !req.source.disabled {
			hj.Source = req.source.apply(d.source)
		}
		if req.version {
			v := d.version
			hj.Version = &v
		}
		if req.seqNoPrimary {
			sq, pt := d.seqNo, int64(1)
			hj.SeqNo, hj.PrimaryTerm = &sq, &pt
		}
		if req.explicitSort {
			for j, k := range ref.keys {
				hj.Sort = append(hj.Sort, sortValue(k, specs[j], srt.kinds[ref.shard][j]))
			}
		}
		resp.Hits.Hits = append(resp.Hits.Hits, hj)
	}
	if scoreShown && len(resp.Hits.Hits) > 0 {
		resp.Hits.MaxScore = maxScore
	}
	if req.trackTotal >= 0 {
		tj := totalJSON{Value: total, Relation: "eq"}
		if total > req.trackTotal {
			tj = totalJSON{Value: req.trackTotal, Relation: "gte"}
		}
		if opts.totalHitsAsInt {
			resp.Hits.Total = tj.Value
		} else {
			resp.Hits.Total = tj
		}
	}
	if len(req.aggs) > 0 && len(shards) > 0 {
		aggs, err := runAggs(req.aggs, shards, opts, now)
		if err != nil {
			return nil, err
		}
		resp.Aggregations = aggs
	}
	resp.Took = time.Since(start).Milliseconds()
	return resp, nil
}

func shardCause(e *esError) *esError {
	if e.rootCause != nil {
		return e.rootCause
	}
	return e
}

func sortsByScore(specs []sortSpec) bool {
	for _, s := range specs {
		if s.field == "_score" {
			return true
		}
	}
	return false
}

// afterSearchAfter reports whether keys sort strictly after the
// search_after values.
func afterSearchAfter(keys, after []sortKey, specs []sortSpec) bool {
	for j, spec := range specs {
		if c := compareKeys(keys[j], after[j], spec); c != 0 {
			return c > 0
		}
	}
	return false
}

func evalShard(t searchTarget, req *searchRequest, scoring bool, now time.Time) *shardResult {
	sh := &shardResult{target: t}
	c := &evalCtx{ix: t.ix, now: now, scoring: scoring}
	q := req.query
	if q == nil {
		q = matchAllQuery{boost: 1}
	}
	d, err := q.eval(c)
	if err != nil {
		sh.err = err
		return sh
	}
	if t.filter != nil {
		f, err := t.filter.eval(c.withScoring(false))
		if err != nil {
			sh.err = err
			return sh
		}
		bits := d.bits.clone()
		bits.and(f.bits)
		d = &docSet{bits: bits, score: d.score, constant: d.constant}
	}
	sh.matched = d
	sh.hits = d.bits
	if req.postFilter != nil {
		f, err := req.postFilter.eval(c.withScoring(false))
		if err != nil {
			sh.err = err
			return sh
		}
		bits := d.bits.clone()
		bits.and(f.bits)
		sh.hits = bits
	}
	if req.terminateAfter > 0 && sh.hits.count() > req.terminateAfter {
		kept := newBitset(len(t.ix.docs))
		n := 0
		sh.hits.forEach(func(s uint32) bool {
			kept.set(s)
			n++
			return n < req.terminateAfter
		})
		sh.hits = kept
	}
	return sh
}

func (sf sourceFilter) filterObject(prefix string, obj map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range obj {
		p := joinPath(prefix, k)
		if matchesAny(sf.excludes, p) {
			continue
		}
		full := len(sf.includes) == 0 || matchesAny(sf.includes, p)
		switch x := v.(type) {
		case map[string]any:
			if full && len(sf.excludes) == 0 {
				out[k] = x
				continue
			}
			if full || sf.mayIncludeBelow(p) {
				inner := sourceFilter{excludes: sf.excludes}
				if !full {
					inner.includes = sf.includes
				}
				sub := inner.filterObject(p, x)
				if len(sub) > 0 || full {
					out[k] = sub
				}
			}
		case []any:
			if !full && !sf.mayIncludeBelow(p) {
				continue
			}
			arr := []any{} // a kept empty array stays [], not null
			for _, e := range x {
				if m, ok := e.(map[string]any); ok {
					inner := sourceFilter{excludes: sf.excludes}
					if !full {
						inner.includes = sf.includes
					}
					if sub := inner.filterObject(p, m); len(sub) > 0 || full {
						arr = append(arr, sub)
					}
				} else if full {
					arr = append(arr, e)
				}
			}
			if len(arr) > 0 || (full && len(x) == 0) {
				out[k] = arr
			}
		default:
			if full {
				out[k] = v
			}
		}
	}
	return out
}

func matchesAny(patterns []string, p string) bool {
	for _, pat := range patterns {
		if wildcardMatch(pat, p) || isBelow(p, pat) {
			return true
		}
	}
	return false
}

// isBelow reports whether path is a field inside parent ("a.b" in "a"),
// without building parent+"." on a path walked for every field of every
// hit.
func isBelow(path, parent string) bool {
	return len(path) > len(parent) && path[len(parent)] == '.' && strings.HasPrefix(path, parent)
}

// mayIncludeBelow reports whether some include pattern could match a path
// below p.
func (sf sourceFilter) mayIncludeBelow(p string) bool {
	for _, pat := range sf.includes {
		if isBelow(pat, p) {
			return true
		}
		if i := strings.IndexByte(pat, '*'); i >= 0 {
			pre := pat[:i]
			if strings.HasPrefix(p, pre) || isBelow(pre, p) {
				return true
			}
		}
	}
	return false
}
