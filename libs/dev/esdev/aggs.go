package esdev

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxBuckets is search.max_buckets' default.
const maxBuckets = 65536

// aggSpec is one parsed aggregation with its sub-aggregations.
type aggSpec struct {
	name string
	typ  string
	meta any
	subs []*aggSpec

	field   string
	missing any
	format  string

	// terms
	size        int
	minDocCount int
	order       []aggOrder
	include     func(string) bool
	exclude     func(string) bool

	// date_histogram
	fixedInterval int64 // milliseconds
	calendarUnit  byte  // m h d w M q y
	timeZone      *time.Location
	offset        int64
	extendedMin   any
	extendedMax   any
	keyed         bool

	// filter / filters
	filter      query
	filters     []namedFilter
	otherBucket string

	// top_hits
	topHits *searchRequest
}

type aggOrder struct {
	key  string // _count, _key, or a sub-aggregation (name or name.metric)
	desc bool
}

type namedFilter struct {
	name  string
	query query
}

// implementedAggs lists what this server computes; other Elasticsearch
// aggregations are refused with a parsing_exception.
var implementedAggs = map[string]bool{
	"terms": true, "min": true, "max": true, "avg": true, "sum": true, "stats": true,
	"value_count": true, "cardinality": true, "date_histogram": true, "top_hits": true,
	"filter": true, "filters": true,
}

var knownAggs = map[string]bool{
	"histogram": true, "range": true, "date_range": true, "composite": true, "percentiles": true,
	"percentile_ranks": true, "extended_stats": true, "significant_terms": true, "rare_terms": true,
	"multi_terms": true, "nested": true, "reverse_nested": true, "global": true, "missing": true,
	"auto_date_histogram": true, "geo_bounds": true, "geohash_grid": true, "scripted_metric": true,
	"top_metrics": true, "weighted_avg": true, "median_absolute_deviation": true, "sampler": true,
	"diversified_sampler": true, "adjacency_matrix": true, "bucket_script": true,
	"bucket_selector": true, "bucket_sort": true, "avg_bucket": true, "max_bucket": true,
	"min_bucket": true, "sum_bucket": true, "stats_bucket": true, "derivative": true,
	"cumulative_sum": true, "moving_fn": true, "serial_diff": true, "string_stats": true,
	"boxplot": true, "rate": true, "t_test": true, "variable_width_histogram": true,
	"ip_range": true, "frequent_item_sets": true, "categorize_text": true, "time_series": true,
}

// metricAggs cannot have sub-aggregations.
var metricAggs = map[string]bool{
	"min": true, "max": true, "avg": true, "sum": true, "stats": true,
	"value_count": true, "cardinality": true, "top_hits": true,
}

func parseAggs(v any, p *parseCtx) ([]*aggSpec, *esError) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errParsing("Unexpected token in [aggs], expected an object", p.pos("aggs"))
	}
	var out []*aggSpec
	for _, name := range sortedKeys(obj) {
		body, ok := obj[name].(map[string]any)
		if !ok {
			return nil, errParsing(fmt.Sprintf("Aggregation definition for [%s starts with a [%s], expected a [START_OBJECT].", name, tokenName(obj[name])), p.pos(name))
		}
		a := &aggSpec{name: name}
		var typeBody any
		for _, k := range sortedKeys(body) {
			val := body[k]
			switch k {
			case "aggs", "aggregations":
				subs, err := parseAggs(val, p)
				if err != nil {
					return nil, err
				}
				a.subs = subs
			case "meta":
				a.meta = val
			default:
				if a.typ != "" {
					return nil, errParsing(fmt.Sprintf("Found two aggregation type definitions in [%s]: [%s] and [%s]", name, a.typ, k), p.pos(k))
				}
				a.typ, typeBody = k, val
			}
		}
		if a.typ == "" {
			return nil, errParsing(fmt.Sprintf("Missing definition for aggregation [%s]", name), p.pos(name))
		}
		if !implementedAggs[a.typ] {
			if knownAggs[a.typ] {
				return nil, errParsing(fmt.Sprintf("aggregation [%s] of type [%s] is not supported by esdev, the development Elasticsearch server", name, a.typ), p.pos(a.typ))
			}
			return nil, errParsing(fmt.Sprintf("Unknown aggregation type [%s]", a.typ), p.pos(a.typ))
		}
		if metricAggs[a.typ] && len(a.subs) > 0 {
			return nil, &esError{status: 400, typ: "aggregation_initialization_exception",
				reason: fmt.Sprintf("Aggregator [%s] of type [%s] cannot accept sub-aggregations", name, a.typ)}
		}
		if err := a.parseBody(typeBody, p); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (a *aggSpec) unknownField(k string, p *parseCtx) *esError {
	return errXContent(fmt.Sprintf("[%s] unknown field [%s]", a.typ, k), p.pos(k))
}

func (a *aggSpec) parseBody(v any, p *parseCtx) *esError {
	switch a.typ {
	case "filter":
		q, err := parseQuery(v, p)
		if err != nil {
			return err
		}
		a.filter = q
		return nil
	}
	body, ok := v.(map[string]any)
	if !ok {
		return errParsing(fmt.Sprintf("[%s] aggregation [%s] must be an object", a.typ, a.name), p.pos(a.name))
	}
	switch a.typ {
	case "filters":
		return a.parseFilters(body, p)
	case "top_hits":
		return a.parseTopHits(body, p)
	}
	a.size = 10
	a.minDocCount = 1
	if a.typ == "date_histogram" {
		a.minDocCount = 0
	}
	for _, k := range sortedKeys(body) {
		val := body[k]
		switch k {
		case "field":
			a.field = fmt.Sprint(val)
			continue
		case "missing":
			a.missing = val
			continue
		case "format":
			a.format = fmt.Sprint(val)
			continue
		case "script":
			return errParsing(fmt.Sprintf("[%s] scripts are not supported by esdev", a.typ), p.pos(k))
		}
		switch a.typ {
		case "terms":
			if err := a.parseTermsParam(k, val, p); err != nil {
				return err
			}
		case "date_histogram":
			if err := a.parseDateHistogramParam(k, val, p); err != nil {
				return err
			}
		case "cardinality":
			if k != "precision_threshold" && k != "execution_hint" {
				return a.unknownField(k, p)
			}
		default:
			return a.unknownField(k, p)
		}
	}
	if a.field == "" {
		return errIllegalArgument("Required one of fields [field, script], but none were specified.")
	}
	if a.typ == "date_histogram" && a.fixedInterval == 0 && a.calendarUnit == 0 {
		return errIllegalArgument("Invalid interval specified, must be non-null and non-empty")
	}
	if a.order == nil {
		if a.typ == "date_histogram" {
			a.order = []aggOrder{{key: "_key"}}
		} else {
			a.order = []aggOrder{{key: "_count", desc: true}, {key: "_key"}}
		}
	}
	return nil
}

func (a *aggSpec) parseOrder(val any, p *parseCtx) *esError {
	var items []any
	switch x := val.(type) {
	case []any:
		items = x
	case map[string]any:
		items = []any{x}
	default:
		return errParsing(fmt.Sprintf("[%s] order must be an object or an array", a.typ), p.pos("order"))
	}
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return errParsing(fmt.Sprintf("[%s] order must be an object", a.typ), p.pos("order"))
		}
		for k, dir := range m {
			d := strings.ToLower(fmt.Sprint(dir))
			if d != "asc" && d != "desc" {
				return errParsing(fmt.Sprintf("Unknown order direction [%v]", dir), p.pos("order"))
			}
			a.order = append(a.order, aggOrder{key: k, desc: d == "desc"})
		}
	}
	if a.typ == "terms" && (a.order[len(a.order)-1].key != "_key") {
		a.order = append(a.order, aggOrder{key: "_key"})
	}
	return nil
}

func (a *aggSpec) parseTermsParam(k string, val any, p *parseCtx) *esError {
	switch k {
	case "size", "min_doc_count":
		f, err := toFloat(val)
		if err != nil {
			return errXContent(fmt.Sprintf("[terms] failed to parse field [%s]", k), p.pos(k))
		}
		if k == "size" {
			if f <= 0 {
				return errIllegalArgument(fmt.Sprintf("[size] must be greater than 0. Found [%d] in [%s]", int(f), a.name))
			}
			a.size = int(f)
		} else {
			a.minDocCount = int(f)
		}
	case "order":
		return a.parseOrder(val, p)
	case "include", "exclude":
		fn, err := termFilter(val)
		if err != nil {
			return errParsing(fmt.Sprintf("[terms] failed to parse field [%s]: %v", k, err), p.pos(k))
		}
		if k == "include" {
			a.include = fn
		} else {
			a.exclude = fn
		}
	case "shard_size", "show_term_doc_count_error", "execution_hint", "collect_mode", "shard_min_doc_count", "value_type":
	default:
		return a.unknownField(k, p)
	}
	return nil
}

// termFilter builds a terms include/exclude: a regular expression or an
// exact list.
func termFilter(v any) (func(string) bool, error) {
	switch x := v.(type) {
	case string:
		re, err := regexp.Compile("^(?:" + x + ")$")
		if err != nil {
			return nil, err
		}
		return re.MatchString, nil
	case []any:
		set := map[string]bool{}
		for _, e := range x {
			set[scalarString(e)] = true
		}
		return func(s string) bool { return set[s] }, nil
	}
	return nil, fmt.Errorf("partitioned include/exclude is not supported by esdev")
}

func (a *aggSpec) parseDateHistogramParam(k string, val any, p *parseCtx) *esError {
	switch k {
	case "fixed_interval":
		ms, err := parseFixedInterval(fmt.Sprint(val))
		if err != nil {
			return errIllegalArgument(err.Error())
		}
		a.fixedInterval = ms
	case "calendar_interval":
		u, err := parseCalendarInterval(fmt.Sprint(val))
		if err != nil {
			return errIllegalArgument(err.Error())
		}
		a.calendarUnit = u
	case "time_zone":
		loc, err := parseTimeZone(fmt.Sprint(val))
		if err != nil {
			return errIllegalArgument(err.Error())
		}
		a.timeZone = loc
	case "offset":
		s := fmt.Sprint(val)
		neg := strings.HasPrefix(s, "-")
		ms, err := parseFixedInterval(strings.TrimLeft(s, "+-"))
		if err != nil {
			return errIllegalArgument(err.Error())
		}
		if neg {
			ms = -ms
		}
		a.offset = ms
	case "min_doc_count":
		f, err := toFloat(val)
		if err != nil {
			return errXContent("[date_histogram] failed to parse field [min_doc_count]", p.pos(k))
		}
		a.minDocCount = int(f)
	case "extended_bounds":
		m, ok := val.(map[string]any)
		if !ok {
			return errXContent("[date_histogram] failed to parse field [extended_bounds]", p.pos(k))
		}
		a.extendedMin, a.extendedMax = m["min"], m["max"]
	case "keyed":
		a.keyed = asBool(val, false)
	case "order":
		return a.parseOrder(val, p)
	case "interval":
		return errXContent("[date_histogram] unknown field [interval]; use fixed_interval or calendar_interval", p.pos(k))
	default:
		return a.unknownField(k, p)
	}
	return nil
}

func parseFixedInterval(s string) (int64, error) {
	units := []struct {
		suffix string
		ms     int64
	}{{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}}
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			n, err := strconv.ParseInt(strings.TrimSuffix(s, u.suffix), 10, 64)
			if err == nil && n > 0 {
				return n * u.ms, nil
			}
			break
		}
	}
	return 0, fmt.Errorf("failed to parse setting [date_histogram.fixedInterval] with value [%s] as a time value: unit is missing or unrecognized", s)
}

func parseCalendarInterval(s string) (byte, error) {
	switch s {
	case "minute", "1m":
		return 'm', nil
	case "hour", "1h":
		return 'h', nil
	case "day", "1d":
		return 'd', nil
	case "week", "1w":
		return 'w', nil
	case "month", "1M":
		return 'M', nil
	case "quarter", "1q":
		return 'q', nil
	case "year", "1y":
		return 'y', nil
	}
	return 0, fmt.Errorf("The supplied interval [%s] could not be parsed as a calendar interval.", s)
}

func (a *aggSpec) parseFilters(body map[string]any, p *parseCtx) *esError {
	for k, val := range body {
		switch k {
		case "filters":
			switch fs := val.(type) {
			case map[string]any:
				a.keyed = true
				for _, name := range sortedKeys(fs) {
					q, err := parseQuery(fs[name], p)
					if err != nil {
						return err
					}
					a.filters = append(a.filters, namedFilter{name: name, query: q})
				}
			case []any:
				for _, f := range fs {
					q, err := parseQuery(f, p)
					if err != nil {
						return err
					}
					a.filters = append(a.filters, namedFilter{query: q})
				}
			default:
				return errParsing("[filters] must be an object or an array", p.pos(k))
			}
		case "other_bucket":
			if asBool(val, false) && a.otherBucket == "" {
				a.otherBucket = "_other_"
			}
		case "other_bucket_key":
			a.otherBucket = fmt.Sprint(val)
		case "keyed":
		default:
			return a.unknownField(k, p)
		}
	}
	return nil
}

func (a *aggSpec) parseTopHits(body map[string]any, p *parseCtx) *esError {
	r := &searchRequest{size: 3}
	for k, val := range body {
		var err *esError
		switch k {
		case "size":
			r.size, err = intParam(k, val, p)
		case "from":
			r.from, err = intParam(k, val, p)
		case "sort":
			r.sort, err = parseSort(val, p)
			r.explicitSort = true
		case "_source":
			r.source, err = parseSourceOption(val, p)
		case "track_scores":
			r.trackScores = asBool(val, false)
		case "version":
			r.version = asBool(val, false)
		case "seq_no_primary_term":
			r.seqNoPrimary = asBool(val, false)
		default:
			return a.unknownField(k, p)
		}
		if err != nil {
			return err
		}
	}
	if r.from+r.size > 100 {
		return errIllegalArgument(fmt.Sprintf("Top hits result window is too large, the top hits aggregator [%s]'s from + size must be less than or equal to: [100] but was [%d]. This limit can be set by changing the [index.max_inner_result_window] index level setting.", a.name, r.from+r.size))
	}
	a.topHits = r
	return nil
}

// docRef is a matched document: a shard (index) and a slot in it.
type docRef struct {
	shard int
	slot  uint32
}

// aggCtx runs aggregations over the query's matches.
type aggCtx struct {
	shards []*shardResult
	opts   searchOptions
	now    time.Time
}

// runAggs computes the top-level aggregations over every shard's matches.
func runAggs(specs []*aggSpec, shards []*shardResult, opts searchOptions, now time.Time) (map[string]any, *esError) {
	ac := &aggCtx{shards: shards, opts: opts, now: now}
	var docs []docRef
	for si, sh := range shards {
		if sh.err != nil {
			continue
		}
		sh.matched.bits.forEach(func(s uint32) bool {
			docs = append(docs, docRef{shard: si, slot: s})
			return true
		})
	}
	return ac.computeAll(specs, docs)
}

func (ac *aggCtx) computeAll(specs []*aggSpec, docs []docRef) (map[string]any, *esError) {
	out := make(map[string]any, len(specs))
	for _, a := range specs {
		res, prefix, err := ac.compute(a, docs)
		if err != nil {
			return nil, err
		}
		if a.meta != nil {
			res["meta"] = a.meta
		}
		key := a.name
		if ac.opts.typedKeys {
			key = prefix + "#" + a.name
		}
		out[key] = res
	}
	return out, nil
}

// fieldOn resolves an aggregation field on one shard.
func (ac *aggCtx) fieldOn(shard int, field string) (*fieldMapping, *fieldIndex) {
	ix := ac.shards[shard].target.ix
	fm := ix.mapping.lookup(field)
	if fm == nil {
		return nil, nil
	}
	return fm, ix.fields[field]
}

// fieldKindOf returns the kind and mapping of a field on the first shard
// that maps it.
func (ac *aggCtx) fieldKindOf(field string) (*fieldMapping, bool) {
	for si, sh := range ac.shards {
		if sh.err != nil {
			continue
		}
		if fm, _ := ac.fieldOn(si, field); fm != nil {
			return fm, true
		}
	}
	return nil, false
}

func (ac *aggCtx) compute(a *aggSpec, docs []docRef) (map[string]any, string, *esError) {
	switch a.typ {
	case "terms":
		return ac.terms(a, docs)
	case "min", "max", "avg", "sum", "stats":
		return ac.numericMetric(a, docs)
	case "value_count", "cardinality":
		return ac.countMetric(a, docs)
	case "date_histogram":
		return ac.dateHistogram(a, docs)
	case "top_hits":
		return ac.topHits(a, docs)
	case "filter":
		return ac.filterAgg(a, docs)
	case "filters":
		return ac.filtersAgg(a, docs)
	}
	return nil, "", errParsing("Unknown aggregation type ["+a.typ+"]", textPos{})
}

func (ac *aggCtx) shardFailure(shard int, cause *esError) *esError {
	return errShardFailure(ac.shards[shard].target.ix.name, cause)
}

// bucket accumulates documents for a bucketing aggregation.
type bucket struct {
	strKey string
	numKey float64
	docs   []docRef
	count  int
	result map[string]any // sub-aggregation results
}

func (ac *aggCtx) fillSubs(a *aggSpec, b *bucket, out map[string]any) *esError {
	if len(a.subs) == 0 {
		return nil
	}
	subs, err := ac.computeAll(a.subs, b.docs)
	if err != nil {
		return err
	}
	for k, v := range subs {
		out[k] = v
	}
	b.result = subs
	return nil
}

func (ac *aggCtx) terms(a *aggSpec, docs []docRef) (map[string]any, string, *esError) {
	fm, mapped := ac.fieldKindOf(a.field)
	empty := map[string]any{"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": []any{}}
	if !mapped && a.missing == nil {
		return empty, "umterms", nil
	}
	kind := kindKeyword
	if mapped {
		kind = fm.kind
	}
	prefix := "sterms"
	switch kind {
	case kindText:
		return nil, "", ac.shardFailure(0, errFielddata(a.field))
	case kindLong, kindDate, kindBoolean:
		prefix = "lterms"
	case kindDouble:
		prefix = "dterms"
	case kindObject, kindStoredOnly:
		return nil, "", ac.shardFailure(0, errIllegalArgument(fmt.Sprintf("Field [%s] of type [%s] is not supported for aggregation [terms]", a.field, fm.typ)))
	}
	numeric := prefix != "sterms"
	buckets := map[string]*bucket{}
	get := func(key string, num float64) *bucket {
		b := buckets[key]
		if b == nil {
			b = &bucket{strKey: key, numKey: num}
			buckets[key] = b
		}
		return b
	}
	for _, d := range docs {
		fmd, f := ac.fieldOn(d.shard, a.field)
		var keys []string
		var nums []float64
		if f != nil && fmd != nil {
			if numeric {
				nums = f.numValues(d.slot)
			} else {
				keys = f.stringValues(d.slot)
			}
		}
		if len(keys) == 0 && len(nums) == 0 && a.missing != nil {
			if numeric {
				x, err := toFloat(a.missing)
				if err == nil {
					nums = []float64{x}
				}
			} else {
				keys = []string{scalarString(a.missing)}
			}
		}
		for _, k := range keys {
			if (a.include != nil && !a.include(k)) || (a.exclude != nil && a.exclude(k)) {
				continue
			}
			b := get(k, 0)
			b.count++
			b.docs = append(b.docs, d)
		}
		seen := map[float64]bool{}
		for _, n := range nums {
			if seen[n] {
				continue
			}
			seen[n] = true
			k := strconv.FormatFloat(n, 'g', -1, 64)
			if (a.include != nil && !a.include(k)) || (a.exclude != nil && a.exclude(k)) {
				continue
			}
			b := get(k, n)
			b.count++
			b.docs = append(b.docs, d)
		}
	}
	list := make([]*bucket, 0, len(buckets))
	total := 0
	for _, b := range buckets {
		total += b.count
		if b.count >= a.minDocCount {
			list = append(list, b)
		}
	}
	// Sub-aggregations are needed before sorting when the order uses them.
	needSubsFirst := false
	for _, o := range a.order {
		if o.key != "_count" && o.key != "_key" {
			needSubsFirst = true
		}
	}
	if needSubsFirst {
		for _, b := range list {
			if err := ac.fillSubs(a, b, map[string]any{}); err != nil {
				return nil, "", err
			}
		}
	}
	var sortErr *esError
	sort.SliceStable(list, func(i, j int) bool {
		for _, o := range a.order {
			c := 0
			switch o.key {
			case "_count":
				c = list[i].count - list[j].count
			case "_key", "_term":
				if numeric {
					c = cmpFloat(list[i].numKey, list[j].numKey)
				} else {
					c = strings.Compare(list[i].strKey, list[j].strKey)
				}
			default:
				vi, err1 := orderValue(list[i].result, o.key)
				vj, err2 := orderValue(list[j].result, o.key)
				if err1 != nil || err2 != nil {
					sortErr = errIllegalArgument(fmt.Sprintf("Invalid aggregation order path [%s]. The provided aggregation [%s] either does not exist, or is a pipeline aggregation and cannot be used to sort the buckets.", o.key, o.key))
				}
				c = cmpFloat(vi, vj)
			}
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	if sortErr != nil {
		return nil, "", ac.shardFailure(0, sortErr)
	}
	if len(list) > a.size {
		list = list[:a.size]
	}
	shown := 0
	out := make([]any, 0, len(list))
	for _, b := range list {
		shown += b.count
		bj := map[string]any{"doc_count": b.count}
		switch kind {
		case kindDate:
			bj["key"] = int64(b.numKey)
			bj["key_as_string"] = ac.formatDate(fm, a.format, nil, int64(b.numKey))
		case kindBoolean:
			bj["key"] = int64(b.numKey)
			bj["key_as_string"] = strconv.FormatBool(b.numKey == 1)
		case kindLong:
			bj["key"] = int64(b.numKey)
		case kindDouble:
			bj["key"] = b.numKey
		default:
			bj["key"] = b.strKey
		}
		if b.result != nil {
			for k, v := range b.result {
				bj[k] = v
			}
		} else if err := ac.fillSubs(a, b, bj); err != nil {
			return nil, "", err
		}
		out = append(out, bj)
	}
	empty["buckets"] = out
	empty["sum_other_doc_count"] = total - shown
	return empty, prefix, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// orderValue reads a single-value metric of a sub-aggregation for ordering
// ("max_ts", "stats_agg.avg").
func orderValue(subs map[string]any, path string) (float64, error) {
	name, metric := path, "value"
	if i := strings.IndexByte(path, '.'); i >= 0 {
		name, metric = path[:i], path[i+1:]
	}
	for k, v := range subs {
		if k == name || strings.HasSuffix(k, "#"+name) {
			m, ok := v.(map[string]any)
			if !ok {
				break
			}
			if metric == "value" {
				if _, has := m["value"]; !has {
					if dc, ok := m["doc_count"]; ok {
						return toFloat(dc)
					}
				}
			}
			switch x := m[metric].(type) {
			case nil:
				return math.Inf(-1), nil
			case float64:
				return x, nil
			case int:
				return float64(x), nil
			case int64:
				return float64(x), nil
			}
		}
	}
	return 0, fmt.Errorf("no aggregation [%s]", name)
}

// formatDate prints a date for key_as_string/value_as_string using the
// aggregation's format, else the field's.
func (ac *aggCtx) formatDate(fm *fieldMapping, format string, loc *time.Location, ms int64) string {
	f := fm.format
	if format != "" {
		if pf, err := parseDateFormat(format); err == nil {
			f = pf
		}
	}
	if f == nil {
		f, _ = parseDateFormat(defaultDateFormat)
	}
	return f.format(ms, loc)
}

// numericValues gathers the values of a numeric, date or boolean field.
func (ac *aggCtx) numericValues(a *aggSpec, docs []docRef) ([]float64, *fieldMapping, *esError) {
	fm, mapped := ac.fieldKindOf(a.field)
	if mapped {
		switch fm.kind {
		case kindText:
			return nil, nil, ac.shardFailure(0, errFielddata(a.field))
		case kindKeyword, kindFlattened, kindObject, kindStoredOnly:
			return nil, nil, ac.shardFailure(0, errIllegalArgument(fmt.Sprintf("Field [%s] of type [%s] is not supported for aggregation [%s]", a.field, fm.typ, a.typ)))
		}
	}
	var missing *float64
	if a.missing != nil {
		if mapped && fm.kind == kindDate {
			ms, err := parseDateMath(scalarString(a.missing), fm.format, time.UTC, ac.now, false)
			if err == nil {
				v := float64(ms)
				missing = &v
			}
		} else if x, err := toFloat(a.missing); err == nil {
			missing = &x
		}
	}
	var vals []float64
	for _, d := range docs {
		_, f := ac.fieldOn(d.shard, a.field)
		var vs []float64
		if f != nil {
			vs = f.numValues(d.slot)
		}
		if len(vs) == 0 && missing != nil {
			vs = []float64{*missing}
		}
		vals = append(vals, vs...)
	}
	return vals, fm, nil
}

func (ac *aggCtx) numericMetric(a *aggSpec, docs []docRef) (map[string]any, string, *esError) {
	vals, fm, err := ac.numericValues(a, docs)
	if err != nil {
		return nil, "", err
	}
	isDate := fm != nil && fm.kind == kindDate
	count := len(vals)
	sum, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		sum += v
		lo = math.Min(lo, v)
		hi = math.Max(hi, v)
	}
	value := func(v float64, ok bool) map[string]any {
		out := map[string]any{"value": nil}
		if ok {
			out["value"] = v
			if isDate {
				out["value_as_string"] = ac.formatDate(fm, a.format, nil, int64(v))
			}
		}
		return out
	}
	switch a.typ {
	case "min":
		return value(lo, count > 0), "min", nil
	case "max":
		return value(hi, count > 0), "max", nil
	case "avg":
		return value(sum/float64(count), count > 0), "avg", nil
	case "sum":
		return map[string]any{"value": sum}, "sum", nil
	}
	out := map[string]any{"count": count, "min": nil, "max": nil, "avg": nil, "sum": sum}
	if count > 0 {
		out["min"], out["max"], out["avg"] = lo, hi, sum/float64(count)
		if isDate {
			out["min_as_string"] = ac.formatDate(fm, a.format, nil, int64(lo))
			out["max_as_string"] = ac.formatDate(fm, a.format, nil, int64(hi))
		}
	}
	return out, "stats", nil
}

func (ac *aggCtx) countMetric(a *aggSpec, docs []docRef) (map[string]any, string, *esError) {
	fm, mapped := ac.fieldKindOf(a.field)
	if mapped && fm.kind == kindText {
		return nil, "", ac.shardFailure(0, errFielddata(a.field))
	}
	count := 0
	distinct := map[string]bool{}
	for _, d := range docs {
		_, f := ac.fieldOn(d.shard, a.field)
		if f == nil {
			if a.missing != nil {
				count++
				distinct[scalarString(a.missing)] = true
			}
			continue
		}
		if strs := f.stringValues(d.slot); len(strs) > 0 && f.kind != kindBoolean {
			count += len(strs)
			for _, s := range strs {
				distinct[s] = true
			}
			continue
		}
		nums := f.numValues(d.slot)
		count += len(nums)
		for _, n := range nums {
			distinct[strconv.FormatFloat(n, 'g', -1, 64)] = true
		}
		if len(nums) == 0 && a.missing != nil {
			count++
			distinct[scalarString(a.missing)] = true
		}
	}
	if a.typ == "cardinality" {
		return map[string]any{"value": len(distinct)}, "cardinality", nil
	}
	return map[string]any{"value": count}, "value_count", nil
}

func (ac *aggCtx) dateHistogram(a *aggSpec, docs []docRef) (map[string]any, string, *esError) {
	fm, mapped := ac.fieldKindOf(a.field)
	if mapped && fm.kind != kindDate && fm.kind != kindLong && fm.kind != kindDouble {
		return nil, "", ac.shardFailure(0, errIllegalArgument(fmt.Sprintf("Field [%s] of type [%s] is not supported for aggregation [date_histogram]", a.field, fm.typ)))
	}
	if !mapped {
		fm = &fieldMapping{kind: kindDate}
		fm.format, _ = parseDateFormat(defaultDateFormat)
	}
	loc := a.timeZone
	if loc == nil {
		loc = time.UTC
	}
	buckets := map[int64]*bucket{}
	for _, d := range docs {
		_, f := ac.fieldOn(d.shard, a.field)
		var vs []float64
		if f != nil {
			vs = f.numValues(d.slot)
		}
		seen := map[int64]bool{}
		for _, v := range vs {
			k := a.roundKey(int64(v), loc)
			if seen[k] {
				continue
			}
			seen[k] = true
			b := buckets[k]
			if b == nil {
				b = &bucket{numKey: float64(k)}
				buckets[k] = b
			}
			b.count++
			b.docs = append(b.docs, d)
		}
	}
	keys := make([]int64, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	if a.minDocCount == 0 {
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		if len(keys) > 0 {
			lo, hi = keys[0], keys[len(keys)-1]
		}
		bound := func(v any, roundUp bool) (int64, bool) {
			if v == nil {
				return 0, false
			}
			if n, err := toFloat(v); err == nil {
				if _, isStr := v.(string); !isStr {
					return int64(n), true
				}
			}
			ms, err := parseDateMath(scalarString(v), fm.format, loc, ac.now, roundUp)
			return ms, err == nil
		}
		if ms, ok := bound(a.extendedMin, false); ok && a.roundKey(ms, loc) < lo {
			lo = a.roundKey(ms, loc)
		}
		if ms, ok := bound(a.extendedMax, true); ok && a.roundKey(ms, loc) > hi {
			hi = a.roundKey(ms, loc)
		}
		if lo <= hi {
			filled := keys[:0:0]
			for k := lo; k <= hi; k = a.nextKey(k, loc) {
				filled = append(filled, k)
				if buckets[k] == nil {
					buckets[k] = &bucket{numKey: float64(k)}
				}
				if len(filled) > maxBuckets {
					return nil, "", &esError{status: 400, typ: "too_many_buckets_exception",
						reason: fmt.Sprintf("Trying to create too many buckets. Must be less than or equal to: [%d] but this number of buckets was exceeded. This limit can be set by changing the [search.max_buckets] cluster level setting.", maxBuckets),
						extra:  []kv{{"max_buckets", maxBuckets}}}
				}
			}
			keys = filled
		}
	}
	list := make([]*bucket, 0, len(keys))
	for _, k := range keys {
		if b := buckets[k]; b.count >= a.minDocCount {
			list = append(list, b)
		}
	}
	for _, o := range a.order {
		if o.key == "_count" {
			sort.SliceStable(list, func(i, j int) bool {
				if o.desc {
					return list[i].count > list[j].count
				}
				return list[i].count < list[j].count
			})
		} else if o.key == "_key" && o.desc {
			sort.SliceStable(list, func(i, j int) bool { return list[i].numKey > list[j].numKey })
		}
		break
	}
	var out []any
	keyed := map[string]any{}
	for _, b := range list {
		k := int64(b.numKey)
		ks := ac.formatDate(fm, a.format, loc, k)
		bj := map[string]any{"key_as_string": ks, "key": k, "doc_count": b.count}
		if err := ac.fillSubs(a, b, bj); err != nil {
			return nil, "", err
		}
		if a.keyed {
			keyed[ks] = bj
		} else {
			out = append(out, bj)
		}
	}
	if a.keyed {
		return map[string]any{"buckets": keyed}, "date_histogram", nil
	}
	if out == nil {
		out = []any{}
	}
	return map[string]any{"buckets": out}, "date_histogram", nil
}

// roundKey returns the start of the bucket holding ms: fixed intervals are
// counted from the epoch in local time, calendar intervals start at the
// unit's start in the time zone.
func (a *aggSpec) roundKey(ms int64, loc *time.Location) int64 {
	ms -= a.offset
	if a.fixedInterval > 0 {
		_, off := time.UnixMilli(ms).In(loc).Zone()
		local := ms + int64(off)*1000
		k := floorDiv(local, a.fixedInterval) * a.fixedInterval
		return k - int64(off)*1000 + a.offset
	}
	t := time.UnixMilli(ms).In(loc)
	var r time.Time
	if a.calendarUnit == 'q' {
		y, m, _ := t.Date()
		r = time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, loc)
	} else {
		r, _ = roundDown(t, a.calendarUnit)
	}
	return r.UnixMilli() + a.offset
}

func (a *aggSpec) nextKey(k int64, loc *time.Location) int64 {
	if a.fixedInterval > 0 {
		return k + a.fixedInterval
	}
	t := time.UnixMilli(k - a.offset).In(loc)
	switch a.calendarUnit {
	case 'm':
		t = t.Add(time.Minute)
	case 'h':
		t = t.Add(time.Hour)
	case 'd':
		t = t.AddDate(0, 0, 1)
	case 'w':
		t = t.AddDate(0, 0, 7)
	case 'M':
		t = t.AddDate(0, 1, 0)
	case 'q':
		t = t.AddDate(0, 3, 0)
	case 'y':
		t = t.AddDate(1, 0, 0)
	}
	return a.roundKey(t.UnixMilli()+a.offset, loc)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func (ac *aggCtx) topHits(a *aggSpec, docs []docRef) (map[string]any, string, *esError) {
	r := a.topHits
	specs := r.effectiveSort()
	srt := newSorter(specs, ac.shards)
	for i, sh := range ac.shards {
		if sh.err == nil && srt.errs[i] != nil {
			return nil, "", srt.errs[i]
		}
	}
	scoring := r.needScores()
	want := r.from + r.size
	h := &hitHeap{s: srt}
	var maxScore *float64
	for _, d := range docs {
		score := 0.0
		if scoring {
			score = ac.shards[d.shard].matched.scoreOf(d.slot)
			if maxScore == nil || score > *maxScore {
				s := score
				maxScore = &s
			}
		}
		if want == 0 {
			continue
		}
		ref := &hitRef{shard: d.shard, slot: d.slot, score: score, keys: srt.keys(d.shard, d.slot, score)}
		if h.Len() < want {
			pushHit(h, ref)
		} else if srt.less(ref, h.refs[0]) {
			replaceTop(h, ref)
		}
	}
	ordered := popAll(h)
	if r.from < len(ordered) {
		ordered = ordered[r.from:]
	} else {
		ordered = nil
	}
	hits := []hitJSON{}
	for _, ref := range ordered {
		ix := ac.shards[ref.shard].target.ix
		doc := ix.docs[ref.slot]
		hj := hitJSON{Index: ix.name, ID: doc.id}
		if scoring {
			s := ref.score
			hj.Score = &s
		}
		if !r.source.disabled {
			hj.Source = r.source.apply(doc.source)
		}
		if r.version {
			v := doc.version
			hj.Version = &v
		}
		if r.explicitSort {
			for j, k := range ref.keys {
				hj.Sort = append(hj.Sort, sortValue(k, specs[j], srt.kinds[ref.shard][j]))
			}
		}
		hits = append(hits, hj)
	}
	hj := hitsJSON{Total: totalJSON{Value: len(docs), Relation: "eq"}, Hits: hits}
	if scoring {
		hj.MaxScore = maxScore
	}
	if ac.opts.totalHitsAsInt {
		hj.Total = len(docs)
	}
	return map[string]any{"hits": hj}, "top_hits", nil
}

func (ac *aggCtx) filterAgg(a *aggSpec, docs []docRef) (map[string]any, string, *esError) {
	kept, err := ac.filterDocs(a.filter, docs)
	if err != nil {
		return nil, "", err
	}
	out := map[string]any{"doc_count": len(kept)}
	if err := ac.fillSubs(a, &bucket{docs: kept}, out); err != nil {
		return nil, "", err
	}
	return out, "filter", nil
}

// filterDocs keeps the documents that match q.
func (ac *aggCtx) filterDocs(q query, docs []docRef) ([]docRef, *esError) {
	sets := make([]*bitset, len(ac.shards))
	var kept []docRef
	for _, d := range docs {
		if sets[d.shard] == nil {
			c := &evalCtx{ix: ac.shards[d.shard].target.ix, now: ac.now}
			ds, err := q.eval(c)
			if err != nil {
				return nil, err
			}
			sets[d.shard] = ds.bits
		}
		if sets[d.shard].has(d.slot) {
			kept = append(kept, d)
		}
	}
	return kept, nil
}

func (ac *aggCtx) filtersAgg(a *aggSpec, docs []docRef) (map[string]any, string, *esError) {
	keyed := map[string]any{}
	var list []any
	matchedAny := map[docRef]bool{}
	for _, nf := range a.filters {
		kept, err := ac.filterDocs(nf.query, docs)
		if err != nil {
			return nil, "", err
		}
		for _, d := range kept {
			matchedAny[d] = true
		}
		bj := map[string]any{"doc_count": len(kept)}
		if err := ac.fillSubs(a, &bucket{docs: kept}, bj); err != nil {
			return nil, "", err
		}
		if a.keyed {
			keyed[nf.name] = bj
		} else {
			list = append(list, bj)
		}
	}
	if a.otherBucket != "" {
		var other []docRef
		for _, d := range docs {
			if !matchedAny[d] {
				other = append(other, d)
			}
		}
		bj := map[string]any{"doc_count": len(other)}
		if err := ac.fillSubs(a, &bucket{docs: other}, bj); err != nil {
			return nil, "", err
		}
		if a.keyed {
			keyed[a.otherBucket] = bj
		} else {
			list = append(list, bj)
		}
	}
	if a.keyed {
		return map[string]any{"buckets": keyed}, "filters", nil
	}
	return map[string]any{"buckets": list}, "filters", nil
}
