package esdev

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// BM25 parameters, Lucene's defaults.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// query is a parsed query clause. Parsing is index-independent; eval runs it
// against one index (field types and statistics are per index, as they are
// per shard in Elasticsearch).
type query interface {
	eval(c *evalCtx) (*docSet, *esError)
}

// evalCtx is what a query needs to run against one index. The caller holds
// the index's read lock.
type evalCtx struct {
	ix  *index
	now time.Time
	// scoring is false in filter context, where scores are never read.
	scoring bool
}

// docSet is a query's result on one index: the matching live slots and how
// to score them.
type docSet struct {
	bits     *bitset
	score    func(slot uint32) float64 // nil: every match scores constant
	constant float64
}

func (d *docSet) scoreOf(slot uint32) float64 {
	if d.score != nil {
		return d.score(slot)
	}
	return d.constant
}

func emptySet() *docSet { return &docSet{bits: &bitset{}} }

func (c *evalCtx) liveClone() *bitset { return c.ix.live.clone() }

func (c *evalCtx) withScoring(s bool) *evalCtx {
	cc := *c
	cc.scoring = s
	return &cc
}

// fromSlots builds a live set from (possibly stale) slots.
func (c *evalCtx) fromSlots(slots []uint32) *bitset {
	b := newBitset(len(c.ix.docs))
	for _, s := range slots {
		if c.ix.live.has(s) {
			b.set(s)
		}
	}
	return b
}

// parseCtx carries the request body so errors can point at a line and column.
type parseCtx struct {
	body []byte
	now  time.Time
}

func (p *parseCtx) pos(key string) textPos { return posOf(p.body, key) }

// unsupportedQueries are real Elasticsearch queries this server refuses with
// a clear message instead of "unknown query".
var unsupportedQueries = map[string]bool{
	"query_string": true, "simple_query_string": true, "script": true, "script_score": true,
	"function_score": true, "fuzzy": true, "regexp": true, "nested": true, "has_child": true,
	"has_parent": true, "parent_id": true, "geo_distance": true, "geo_bounding_box": true,
	"geo_shape": true, "geo_polygon": true, "more_like_this": true, "span_term": true,
	"span_near": true, "span_or": true, "span_not": true, "span_first": true, "span_multi": true,
	"span_containing": true, "span_within": true, "field_masking_span": true, "intervals": true,
	"knn": true, "percolate": true, "wrapper": true, "pinned": true, "distance_feature": true,
	"rank_feature": true, "combined_fields": true, "match_bool_prefix": true,
	"match_phrase_prefix": true, "terms_set": true, "boosting": true, "semantic": true,
	"sparse_vector": true, "text_expansion": true, "shape": true, "type": true, "rule": true,
}

func parseQuery(v any, p *parseCtx) (query, *esError) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errParsing("[_na] query malformed, must start with start_object", textPos{})
	}
	if len(obj) == 0 {
		return matchAllQuery{boost: 1}, nil
	}
	if len(obj) > 1 {
		keys := sortedKeys(obj)
		return nil, errParsing(fmt.Sprintf("[%s] malformed query, expected [END_OBJECT] but found [FIELD_NAME]", keys[0]), p.pos(keys[1]))
	}
	for name, body := range obj {
		switch name {
		case "match_all":
			return parseMatchAll(body, p)
		case "match_none":
			return matchNoneQuery{}, nil
		case "term":
			return parseTerm(body, p)
		case "terms":
			return parseTerms(body, p)
		case "match":
			return parseMatch(body, p)
		case "match_phrase":
			return parseMatchPhrase(body, p)
		case "multi_match":
			return parseMultiMatch(body, p)
		case "range":
			return parseRange(body, p)
		case "exists":
			return parseExists(body, p)
		case "ids":
			return parseIDs(body, p)
		case "bool":
			return parseBool(body, p)
		case "constant_score":
			return parseConstantScore(body, p)
		case "dis_max":
			return parseDisMax(body, p)
		case "prefix", "wildcard":
			return parsePattern(name, body, p)
		}
		if unsupportedQueries[name] {
			return nil, errParsing(fmt.Sprintf("[%s] query is not supported by esdev, the development Elasticsearch server; use term, terms, match, match_phrase, multi_match, range, exists, ids or bool", name), p.pos(name))
		}
		return nil, errParsing(fmt.Sprintf("unknown query [%s]", name), p.pos(name))
	}
	return nil, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func asObject(qname string, v any, p *parseCtx) (map[string]any, *esError) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errParsing(fmt.Sprintf("[%s] query malformed, no start_object after query name", qname), p.pos(qname))
	}
	return obj, nil
}

func numberParam(qname, key string, v any, p *parseCtx) (float64, *esError) {
	f, err := toFloat(v)
	if err != nil {
		return 0, errParsing(fmt.Sprintf("[%s] failed to parse field [%s]: %v", qname, key, err), p.pos(key))
	}
	return f, nil
}

// singleField reads the {"field": value-or-object} shape shared by term,
// match, range and friends, returning the field and its body.
func singleField(qname string, v any, p *parseCtx) (string, any, float64, *esError) {
	obj, err := asObject(qname, v, p)
	if err != nil {
		return "", nil, 0, err
	}
	field, boost := "", 1.0
	var body any
	for k, val := range obj {
		switch k {
		case "boost":
			b, err := numberParam(qname, k, val, p)
			if err != nil {
				return "", nil, 0, err
			}
			boost = b
		case "_name":
		default:
			if field != "" {
				return "", nil, 0, errParsing(fmt.Sprintf("[%s] query doesn't support multiple fields, found [%s] and [%s]", qname, field, k), p.pos(k))
			}
			field, body = k, val
		}
	}
	if field == "" {
		return "", nil, 0, errParsing(fmt.Sprintf("[%s] query requires a field", qname), p.pos(qname))
	}
	return field, body, boost, nil
}

// ---- match_all / match_none ----

type matchAllQuery struct{ boost float64 }

func parseMatchAll(v any, p *parseCtx) (query, *esError) {
	obj, err := asObject("match_all", v, p)
	if err != nil {
		return nil, err
	}
	q := matchAllQuery{boost: 1}
	for k, val := range obj {
		switch k {
		case "boost":
			b, err := numberParam("match_all", k, val, p)
			if err != nil {
				return nil, err
			}
			q.boost = b
		case "_name":
		default:
			return nil, errParsing(fmt.Sprintf("[match_all] query does not support [%s]", k), p.pos(k))
		}
	}
	return q, nil
}

func (q matchAllQuery) eval(c *evalCtx) (*docSet, *esError) {
	return &docSet{bits: c.liveClone(), constant: q.boost}, nil
}

type matchNoneQuery struct{}

func (matchNoneQuery) eval(*evalCtx) (*docSet, *esError) { return emptySet(), nil }

// ---- term / terms ----

type termQuery struct {
	field           string
	value           any
	boost           float64
	caseInsensitive bool
}

func parseTerm(v any, p *parseCtx) (query, *esError) {
	field, body, boost, err := singleField("term", v, p)
	if err != nil {
		return nil, err
	}
	q := termQuery{field: field, boost: boost}
	if obj, ok := body.(map[string]any); ok {
		for k, val := range obj {
			switch k {
			case "value":
				q.value = val
			case "boost":
				b, err := numberParam("term", k, val, p)
				if err != nil {
					return nil, err
				}
				q.boost = b
			case "case_insensitive":
				q.caseInsensitive = asBool(val, false)
			case "_name":
			default:
				return nil, errParsing(fmt.Sprintf("[term] query does not support [%s]", k), p.pos(k))
			}
		}
	} else if _, isList := body.([]any); isList {
		return nil, errParsing("[term] query does not support array of values", p.pos(field))
	} else {
		q.value = body
	}
	if q.value == nil {
		return nil, errIllegalArgument("value cannot be null")
	}
	return q, nil
}

func idf(docCount, df int) float64 {
	return math.Log(1 + (float64(docCount)-float64(df)+0.5)/(float64(df)+0.5))
}

func (q termQuery) eval(c *evalCtx) (*docSet, *esError) {
	switch q.field {
	case "_id":
		return idsQuery{values: []string{scalarString(q.value)}, boost: q.boost}.eval(c)
	case "_index":
		if wildcardMatch(scalarString(q.value), c.ix.name) {
			return matchAllQuery{boost: q.boost}.eval(c)
		}
		return emptySet(), nil
	}
	fm := c.ix.mapping.lookup(q.field)
	if fm == nil {
		return emptySet(), nil
	}
	f := c.ix.fields[q.field]
	switch fm.kind {
	case kindKeyword, kindFlattened:
		if f == nil {
			return emptySet(), nil
		}
		s := scalarString(q.value)
		if fm.lowercase {
			s = strings.ToLower(s)
		}
		var slots []uint32
		df := 0
		if q.caseInsensitive {
			for t, ps := range f.terms {
				if strings.EqualFold(t, s) {
					slots = append(slots, ps...)
					df += len(ps)
				}
			}
		} else {
			slots = f.terms[s]
			df = len(slots)
		}
		score := q.boost * idf(f.docCount, df) / (1 + bm25K1)
		return &docSet{bits: c.fromSlots(slots), constant: score}, nil
	case kindText:
		if f == nil {
			return emptySet(), nil
		}
		return textTermsSet(c, f, []string{scalarString(q.value)}, 1, q.boost), nil
	case kindLong, kindDouble, kindDate, kindBoolean:
		lo, hi, err := exactBounds(c, fm, q.value)
		if err != nil {
			return nil, err
		}
		return &docSet{bits: numericRange(c, f, lo, hi), constant: q.boost}, nil
	}
	return emptySet(), nil
}

// exactBounds converts a term value for a numeric, date or boolean field to
// an inclusive range (a date without time covers its whole day, as in ES).
func exactBounds(c *evalCtx, fm *fieldMapping, v any) (float64, float64, *esError) {
	switch fm.kind {
	case kindDate:
		s := scalarString(v)
		if n, ok := v.(json.Number); ok {
			f, _ := n.Float64()
			return f, f, nil
		}
		lo, err := parseDateMath(s, fm.format, time.UTC, c.now, false)
		if err != nil {
			return 0, 0, shardErr(c, "failed to create query: "+err.Error())
		}
		hi, _ := parseDateMath(s, fm.format, time.UTC, c.now, true)
		return float64(lo), float64(hi), nil
	case kindBoolean:
		switch scalarString(v) {
		case "true":
			return 1, 1, nil
		case "false":
			return 0, 0, nil
		}
		return 0, 0, shardErr(c, fmt.Sprintf("failed to create query: Can't parse boolean value [%v], expected [true] or [false]", v))
	default:
		f, err := toFloat(v)
		if err != nil {
			return 0, 0, shardErr(c, "failed to create query: "+err.Error())
		}
		return f, f, nil
	}
}

func shardErr(c *evalCtx, reason string) *esError {
	return errShardFailure(c.ix.name, errQueryShard(reason, c.ix.name, c.ix.uuid))
}

// numericRange returns the live slots with a value in [lo, hi]. A linear scan
// over a column of floats is fast enough (well under a millisecond for 100k
// documents) and needs no index to keep up to date.
func numericRange(c *evalCtx, f *fieldIndex, lo, hi float64) *bitset {
	b := newBitset(len(c.ix.docs))
	if f == nil || f.nums == nil {
		return b
	}
	for i, v := range f.nums {
		if v >= lo && v <= hi {
			b.set(uint32(i))
		}
	}
	for slot, vs := range f.multi {
		for _, v := range vs[1:] {
			if v >= lo && v <= hi {
				b.set(slot)
				break
			}
		}
	}
	b.and(c.ix.live)
	return b
}

// textTermsSet scores a disjunction of analysed terms with BM25, keeping the
// slots that match at least minMatch distinct terms.
func textTermsSet(c *evalCtx, f *fieldIndex, terms []string, minMatch int, boost float64) *docSet {
	n := len(c.ix.docs)
	bits := newBitset(n)
	if len(terms) == 0 || minMatch > len(terms) {
		return &docSet{bits: bits}
	}
	avgdl := 1.0
	if f.docCount > 0 {
		avgdl = float64(f.sumLen) / float64(f.docCount)
	}
	var scores []float64
	if c.scoring {
		scores = make([]float64, n)
	}
	var counts []uint16
	if minMatch > 1 {
		counts = make([]uint16, n)
	}
	for _, t := range terms {
		ps := f.postings[t]
		w := idf(f.docCount, len(ps)) * boost
		for _, p := range ps {
			if !c.ix.live.has(p.slot) {
				continue
			}
			if counts != nil {
				counts[p.slot]++
				if int(counts[p.slot]) >= minMatch {
					bits.set(p.slot)
				}
			} else {
				bits.set(p.slot)
			}
			if scores != nil {
				tf := float64(p.tf)
				dl := float64(f.docLen[p.slot])
				scores[p.slot] += w * tf / (tf + bm25K1*(1-bm25B+bm25B*dl/avgdl))
			}
		}
	}
	ds := &docSet{bits: bits}
	if scores != nil {
		ds.score = func(s uint32) float64 { return scores[s] }
	}
	return ds
}

type termsQuery struct {
	field  string
	values []any
	boost  float64
}

func parseTerms(v any, p *parseCtx) (query, *esError) {
	obj, err := asObject("terms", v, p)
	if err != nil {
		return nil, err
	}
	q := termsQuery{boost: 1}
	for k, val := range obj {
		switch k {
		case "boost":
			b, err := numberParam("terms", k, val, p)
			if err != nil {
				return nil, err
			}
			q.boost = b
		case "_name":
		default:
			if q.field != "" {
				return nil, errParsing(fmt.Sprintf("[terms] query does not support multiple fields, found [%s] and [%s]", q.field, k), p.pos(k))
			}
			list, ok := val.([]any)
			if !ok {
				if _, isObj := val.(map[string]any); isObj {
					return nil, errParsing("[terms] query does not support terms lookup in esdev", p.pos(k))
				}
				return nil, errParsing(fmt.Sprintf("[terms] query does not support [%s]", k), p.pos(k))
			}
			q.field, q.values = k, list
		}
	}
	if q.field == "" {
		return nil, errParsing("[terms] query requires a field with an array of values", p.pos("terms"))
	}
	return q, nil
}

func (q termsQuery) eval(c *evalCtx) (*docSet, *esError) {
	bits := newBitset(len(c.ix.docs))
	inner := c.withScoring(false)
	for _, v := range q.values {
		d, err := termQuery{field: q.field, value: v, boost: 1}.eval(inner)
		if err != nil {
			return nil, err
		}
		bits.or(d.bits)
	}
	return &docSet{bits: bits, constant: q.boost}, nil
}

// ---- match / match_phrase / multi_match ----

type matchQuery struct {
	field     string
	text      any
	operator  string
	msm       string
	boost     float64
	zeroAll   bool
	lenient   bool
	phrase    bool
	slop      int
	queryName string
}

func parseMatch(v any, p *parseCtx) (query, *esError) {
	return parseMatchLike("match", v, p)
}

func parseMatchPhrase(v any, p *parseCtx) (query, *esError) {
	return parseMatchLike("match_phrase", v, p)
}

func parseMatchLike(qname string, v any, p *parseCtx) (query, *esError) {
	field, body, boost, err := singleField(qname, v, p)
	if err != nil {
		return nil, err
	}
	q := matchQuery{field: field, boost: boost, operator: "or", phrase: qname == "match_phrase", queryName: qname}
	if obj, ok := body.(map[string]any); ok {
		for k, val := range obj {
			switch k {
			case "query":
				q.text = val
			case "boost":
				b, err := numberParam(qname, k, val, p)
				if err != nil {
					return nil, err
				}
				q.boost = b
			case "operator":
				q.operator = strings.ToLower(fmt.Sprint(val))
				if q.operator != "or" && q.operator != "and" {
					return nil, errIllegalArgument(fmt.Sprintf("No enum constant org.elasticsearch.index.query.Operator.%s", strings.ToUpper(q.operator)))
				}
			case "minimum_should_match":
				q.msm = scalarString(val)
			case "zero_terms_query":
				q.zeroAll = strings.ToLower(fmt.Sprint(val)) == "all"
			case "lenient":
				q.lenient = asBool(val, false)
			case "slop":
				n, err := numberParam(qname, k, val, p)
				if err != nil {
					return nil, err
				}
				q.slop = int(n)
			case "analyzer":
				if val != "standard" && val != "default" {
					return nil, errParsing(fmt.Sprintf("[%s] analyzer [%v] not found; esdev only has the standard analyzer", qname, val), p.pos(k))
				}
			case "_name", "auto_generate_synonyms_phrase_query":
			case "fuzziness", "prefix_length", "max_expansions", "fuzzy_transpositions", "fuzzy_rewrite", "cutoff_frequency":
				return nil, errParsing(fmt.Sprintf("[%s] parameter [%s] is not supported by esdev, the development Elasticsearch server", qname, k), p.pos(k))
			default:
				return nil, errParsing(fmt.Sprintf("[%s] query does not support [%s]", qname, k), p.pos(k))
			}
		}
	} else {
		q.text = body
	}
	if q.text == nil {
		return nil, errIllegalArgument(fmt.Sprintf("[%s] requires query value", qname))
	}
	if !q.phrase && q.slop != 0 {
		return nil, errParsing("[match] query does not support [slop]", p.pos("slop"))
	}
	return q, nil
}

func (q matchQuery) eval(c *evalCtx) (*docSet, *esError) {
	fm := c.ix.mapping.lookup(q.field)
	if fm == nil {
		return emptySet(), nil
	}
	switch fm.kind {
	case kindText:
		f := c.ix.fields[q.field]
		terms := analyzeText(scalarString(q.text))
		if len(terms) == 0 {
			if q.zeroAll {
				return matchAllQuery{boost: q.boost}.eval(c)
			}
			return emptySet(), nil
		}
		if f == nil {
			return emptySet(), nil
		}
		if q.phrase && len(terms) > 1 {
			return phraseSet(c, f, terms, q.slop, q.boost), nil
		}
		uniq := dedupe(terms)
		required := 1
		if q.operator == "and" {
			required = len(uniq)
		}
		if q.msm != "" {
			required = minShouldMatch(q.msm, len(uniq))
			if required < 1 {
				required = 1
			}
		}
		return textTermsSet(c, f, uniq, required, q.boost), nil
	case kindKeyword, kindFlattened, kindLong, kindDouble, kindDate, kindBoolean:
		d, err := termQuery{field: q.field, value: q.text, boost: q.boost}.eval(c)
		if err != nil && q.lenient {
			return emptySet(), nil
		}
		return d, err
	}
	return emptySet(), nil
}

func dedupe(terms []string) []string {
	seen := make(map[string]bool, len(terms))
	out := terms[:0:0]
	for _, t := range terms {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// phraseSet finds slots whose text has the terms in order (within slop) and
// scores them as the sum of the terms' BM25 scores.
func phraseSet(c *evalCtx, f *fieldIndex, terms []string, slop int, boost float64) *docSet {
	candidates := textTermsSet(c, f, dedupe(terms), len(dedupe(terms)), boost)
	bits := newBitset(len(c.ix.docs))
	candidates.bits.forEach(func(slot uint32) bool {
		for _, text := range f.stringValues(slot) {
			if containsPhrase(text, terms, slop) {
				bits.set(slot)
				break
			}
		}
		return true
	})
	return &docSet{bits: bits, score: candidates.score}
}

func containsPhrase(text string, terms []string, slop int) bool {
	positions := map[string][]int{}
	tokenize(text, func(tok string, pos int) { positions[tok] = append(positions[tok], pos) })
	for _, start := range positions[terms[0]] {
		prev, used := start, 0
		ok := true
		for i := 1; i < len(terms); i++ {
			found := false
			for _, p := range positions[terms[i]] {
				gap := p - (prev + 1)
				if p > prev && gap >= 0 && used+gap <= slop {
					used += gap
					prev = p
					found = true
					break
				}
			}
			if !found {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// minShouldMatch resolves a minimum_should_match spec (3, -1, "75%", "-25%",
// "3<90%", "2<-25% 9<-3") against the number of optional clauses.
func minShouldMatch(spec string, optional int) int {
	spec = strings.TrimSpace(spec)
	if strings.Contains(spec, "<") {
		result := optional
		for _, part := range strings.Fields(spec) {
			i := strings.IndexByte(part, '<')
			if i < 0 {
				continue
			}
			upTo, err := strconv.Atoi(part[:i])
			if err != nil {
				continue
			}
			if optional > upTo {
				result = minShouldMatch(part[i+1:], optional)
			}
		}
		return result
	}
	var result int
	if strings.HasSuffix(spec, "%") {
		pct, err := strconv.ParseFloat(strings.TrimSuffix(spec, "%"), 64)
		if err != nil {
			return 0
		}
		calc := int(float64(optional) * math.Abs(pct) / 100)
		if pct < 0 {
			result = optional - calc
		} else {
			result = calc
		}
	} else {
		n, err := strconv.Atoi(spec)
		if err != nil {
			return 0
		}
		if n < 0 {
			result = optional + n
		} else {
			result = n
		}
	}
	if result < 0 {
		result = 0
	}
	return result
}

type multiMatchQuery struct {
	text       any
	fields     []string
	typ        string
	operator   string
	msm        string
	tieBreaker float64
	boost      float64
	slop       int
	lenient    bool
	zeroAll    bool
}

func parseMultiMatch(v any, p *parseCtx) (query, *esError) {
	obj, err := asObject("multi_match", v, p)
	if err != nil {
		return nil, err
	}
	q := multiMatchQuery{typ: "best_fields", operator: "or", boost: 1}
	for k, val := range obj {
		switch k {
		case "query":
			q.text = val
		case "fields":
			switch fs := val.(type) {
			case []any:
				for _, f := range fs {
					q.fields = append(q.fields, fmt.Sprint(f))
				}
			case string:
				q.fields = []string{fs}
			default:
				return nil, errParsing("[multi_match] query does not support [fields] of this type", p.pos(k))
			}
		case "type":
			q.typ = strings.ToLower(fmt.Sprint(val))
			switch q.typ {
			case "best_fields", "most_fields", "phrase":
			case "cross_fields", "phrase_prefix", "bool_prefix":
				return nil, errParsing(fmt.Sprintf("[multi_match] type [%s] is not supported by esdev; use best_fields, most_fields or phrase", q.typ), p.pos(k))
			default:
				return nil, errParsing(fmt.Sprintf("[multi_match] query does not support type %s", q.typ), p.pos(k))
			}
		case "operator":
			q.operator = strings.ToLower(fmt.Sprint(val))
		case "minimum_should_match":
			q.msm = scalarString(val)
		case "tie_breaker":
			f, err := numberParam("multi_match", k, val, p)
			if err != nil {
				return nil, err
			}
			q.tieBreaker = f
		case "boost":
			f, err := numberParam("multi_match", k, val, p)
			if err != nil {
				return nil, err
			}
			q.boost = f
		case "slop":
			f, err := numberParam("multi_match", k, val, p)
			if err != nil {
				return nil, err
			}
			q.slop = int(f)
		case "lenient":
			q.lenient = asBool(val, false)
		case "zero_terms_query":
			q.zeroAll = strings.ToLower(fmt.Sprint(val)) == "all"
		case "analyzer":
			if val != "standard" && val != "default" {
				return nil, errParsing(fmt.Sprintf("[multi_match] analyzer [%v] not found; esdev only has the standard analyzer", val), p.pos(k))
			}
		case "_name", "auto_generate_synonyms_phrase_query":
		default:
			return nil, errParsing(fmt.Sprintf("[multi_match] query does not support [%s]", k), p.pos(k))
		}
	}
	if q.text == nil {
		return nil, errParsing("No text specified for multi_match query", p.pos("multi_match"))
	}
	return q, nil
}

// expandFields resolves field names and patterns ("labels.*", "message^2")
// against the index mapping.
func expandFields(ix *index, specs []string) ([]string, []float64, bool) {
	lenient := false
	if len(specs) == 0 {
		specs = []string{"*"}
	}
	var names []string
	var boosts []float64
	for _, spec := range specs {
		boost := 1.0
		if i := strings.LastIndexByte(spec, '^'); i >= 0 {
			if b, err := strconv.ParseFloat(spec[i+1:], 64); err == nil {
				boost = b
			}
			spec = spec[:i]
		}
		if !strings.Contains(spec, "*") {
			names = append(names, spec)
			boosts = append(boosts, boost)
			continue
		}
		lenient = true
		paths := make([]string, 0)
		for path, fm := range ix.mapping.flat {
			if fm.kind == kindObject || fm.kind == kindStoredOnly {
				continue
			}
			if spec == "*" && fm.kind != kindText && fm.kind != kindKeyword {
				continue
			}
			if wildcardMatch(spec, path) {
				paths = append(paths, path)
			}
		}
		sort.Strings(paths)
		for _, path := range paths {
			names = append(names, path)
			boosts = append(boosts, boost)
		}
	}
	return names, boosts, lenient
}

func (q multiMatchQuery) eval(c *evalCtx) (*docSet, *esError) {
	names, boosts, lenient := expandFields(c.ix, q.fields)
	var subs []query
	for i, name := range names {
		subs = append(subs, matchQuery{
			field: name, text: q.text, operator: q.operator, msm: q.msm,
			boost: boosts[i], phrase: q.typ == "phrase", slop: q.slop,
			lenient: q.lenient || lenient, zeroAll: q.zeroAll,
		})
	}
	if q.typ == "most_fields" {
		return boolQuery{should: subs, boost: q.boost}.eval(c)
	}
	return disMaxQuery{queries: subs, tieBreaker: q.tieBreaker, boost: q.boost}.eval(c)
}

// ---- range ----

type rangeQuery struct {
	field                string
	from, to             any
	includeLo, includeHi bool
	format               string
	timeZone             string
	boost                float64
	loRoundUp, hiRoundUp bool
}

func parseRange(v any, p *parseCtx) (query, *esError) {
	field, body, boost, err := singleField("range", v, p)
	if err != nil {
		return nil, err
	}
	obj, ok := body.(map[string]any)
	if !ok {
		return nil, errParsing("[range] query malformed, no start_object after field name", p.pos(field))
	}
	q := rangeQuery{field: field, boost: boost, includeLo: true, includeHi: true}
	for k, val := range obj {
		switch k {
		case "gt":
			q.from, q.includeLo = val, false
		case "gte":
			q.from, q.includeLo = val, true
		case "lt":
			q.to, q.includeHi = val, false
		case "lte":
			q.to, q.includeHi = val, true
		case "from":
			q.from = val
		case "to":
			q.to = val
		case "include_lower":
			q.includeLo = asBool(val, true)
		case "include_upper":
			q.includeHi = asBool(val, true)
		case "format":
			q.format = fmt.Sprint(val)
			if _, err := parseDateFormat(q.format); err != nil {
				return nil, errParsing(fmt.Sprintf("[range] failed to parse field [format]: %v", err), p.pos(k))
			}
		case "time_zone":
			q.timeZone = fmt.Sprint(val)
			if _, err := parseTimeZone(q.timeZone); err != nil {
				return nil, errParsing(fmt.Sprintf("[range] failed to parse field [time_zone]: %v", err), p.pos(k))
			}
		case "boost":
			b, err := numberParam("range", k, val, p)
			if err != nil {
				return nil, err
			}
			q.boost = b
		case "relation":
			if r := strings.ToUpper(fmt.Sprint(val)); r != "INTERSECTS" && r != "WITHIN" && r != "CONTAINS" {
				return nil, errParsing(fmt.Sprintf("[range] query does not support relation [%v]", val), p.pos(k))
			}
		case "_name":
		default:
			return nil, errParsing(fmt.Sprintf("[range] query does not support [%s]", k), p.pos(k))
		}
	}
	// Elasticsearch rounds up the parsed bound of gt and lte (so "lte":
	// "2026-11-22" includes the whole day) and rounds down gte and lt.
	q.loRoundUp = !q.includeLo
	q.hiRoundUp = q.includeHi
	return q, nil
}

func (q rangeQuery) eval(c *evalCtx) (*docSet, *esError) {
	fm := c.ix.mapping.lookup(q.field)
	if fm == nil {
		return emptySet(), nil
	}
	f := c.ix.fields[q.field]
	switch fm.kind {
	case kindLong, kindDouble, kindDate, kindBoolean:
		lo, hi := math.Inf(-1), math.Inf(1)
		bound := func(v any, roundUp bool) (float64, *esError) {
			if fm.kind != kindDate {
				if fm.kind == kindBoolean {
					l, _, err := exactBounds(c, fm, v)
					return l, err
				}
				x, err := toFloat(v)
				if err != nil {
					return 0, shardErr(c, "failed to create query: "+err.Error())
				}
				return x, nil
			}
			if n, ok := v.(json.Number); ok && q.format == "" {
				x, _ := n.Float64()
				return x, nil
			}
			format := fm.format
			if q.format != "" {
				format, _ = parseDateFormat(q.format)
			}
			loc, _ := parseTimeZone(q.timeZone)
			ms, err := parseDateMath(scalarString(v), format, loc, c.now, roundUp)
			if err != nil {
				return 0, shardErr(c, "failed to create query: "+err.Error())
			}
			return float64(ms), nil
		}
		if q.from != nil {
			x, err := bound(q.from, q.loRoundUp)
			if err != nil {
				return nil, err
			}
			lo = x
			if !q.includeLo {
				lo = math.Nextafter(x, math.Inf(1))
				if fm.kind != kindDouble {
					lo = math.Floor(x) + 1
				}
			}
		}
		if q.to != nil {
			x, err := bound(q.to, q.hiRoundUp)
			if err != nil {
				return nil, err
			}
			hi = x
			if !q.includeHi {
				hi = math.Nextafter(x, math.Inf(-1))
				if fm.kind != kindDouble {
					hi = math.Ceil(x) - 1
				}
			}
		}
		return &docSet{bits: numericRange(c, f, lo, hi), constant: q.boost}, nil
	case kindKeyword, kindText, kindFlattened:
		if f == nil {
			return emptySet(), nil
		}
		inRange := func(t string) bool {
			if q.from != nil {
				s := scalarString(q.from)
				if t < s || (!q.includeLo && t == s) {
					return false
				}
			}
			if q.to != nil {
				s := scalarString(q.to)
				if t > s || (!q.includeHi && t == s) {
					return false
				}
			}
			return true
		}
		bits := newBitset(len(c.ix.docs))
		for t, slots := range f.terms {
			if inRange(t) {
				for _, s := range slots {
					bits.set(s)
				}
			}
		}
		for t, ps := range f.postings {
			if inRange(t) {
				for _, p := range ps {
					bits.set(p.slot)
				}
			}
		}
		bits.and(c.ix.live)
		return &docSet{bits: bits, constant: q.boost}, nil
	}
	return emptySet(), nil
}

// ---- exists / ids / prefix / wildcard ----

type existsQuery struct {
	field string
	boost float64
}

func parseExists(v any, p *parseCtx) (query, *esError) {
	obj, err := asObject("exists", v, p)
	if err != nil {
		return nil, err
	}
	q := existsQuery{boost: 1}
	for k, val := range obj {
		switch k {
		case "field":
			q.field = fmt.Sprint(val)
		case "boost":
			b, err := numberParam("exists", k, val, p)
			if err != nil {
				return nil, err
			}
			q.boost = b
		case "_name":
		default:
			return nil, errParsing(fmt.Sprintf("[exists] query does not support [%s]", k), p.pos(k))
		}
	}
	if q.field == "" {
		return nil, errParsing("[exists] must be provided with a [field]", p.pos("exists"))
	}
	return q, nil
}

func (q existsQuery) eval(c *evalCtx) (*docSet, *esError) {
	bits := newBitset(len(c.ix.docs))
	for path, f := range c.ix.fields {
		if path == q.field || strings.HasPrefix(path, q.field+".") ||
			(strings.Contains(q.field, "*") && wildcardMatch(q.field, path)) {
			bits.or(f.exists)
		}
	}
	bits.and(c.ix.live)
	return &docSet{bits: bits, constant: q.boost}, nil
}

type idsQuery struct {
	values []string
	boost  float64
}

func parseIDs(v any, p *parseCtx) (query, *esError) {
	obj, err := asObject("ids", v, p)
	if err != nil {
		return nil, err
	}
	q := idsQuery{boost: 1}
	for k, val := range obj {
		switch k {
		case "values":
			list, ok := val.([]any)
			if !ok {
				return nil, errParsing("[ids] query malformed, values must be an array", p.pos(k))
			}
			for _, id := range list {
				q.values = append(q.values, scalarString(id))
			}
		case "boost":
			b, err := numberParam("ids", k, val, p)
			if err != nil {
				return nil, err
			}
			q.boost = b
		case "_name":
		default:
			return nil, errParsing(fmt.Sprintf("[ids] query does not support [%s]", k), p.pos(k))
		}
	}
	return q, nil
}

func (q idsQuery) eval(c *evalCtx) (*docSet, *esError) {
	bits := newBitset(len(c.ix.docs))
	for _, id := range q.values {
		if slot, ok := c.ix.ids[id]; ok && c.ix.live.has(slot) {
			bits.set(slot)
		}
	}
	return &docSet{bits: bits, constant: q.boost}, nil
}

type patternQuery struct {
	kind            string // prefix or wildcard
	field           string
	value           string
	boost           float64
	caseInsensitive bool
}

func parsePattern(qname string, v any, p *parseCtx) (query, *esError) {
	field, body, boost, err := singleField(qname, v, p)
	if err != nil {
		return nil, err
	}
	q := patternQuery{kind: qname, field: field, boost: boost}
	if obj, ok := body.(map[string]any); ok {
		for k, val := range obj {
			switch k {
			case "value", "wildcard":
				q.value = scalarString(val)
			case "boost":
				b, err := numberParam(qname, k, val, p)
				if err != nil {
					return nil, err
				}
				q.boost = b
			case "case_insensitive":
				q.caseInsensitive = asBool(val, false)
			case "rewrite", "_name":
			default:
				return nil, errParsing(fmt.Sprintf("[%s] query does not support [%s]", qname, k), p.pos(k))
			}
		}
	} else {
		q.value = scalarString(body)
	}
	return q, nil
}

func (q patternQuery) matches(t string) bool {
	v := q.value
	if q.caseInsensitive {
		t, v = strings.ToLower(t), strings.ToLower(v)
	}
	if q.kind == "prefix" {
		return strings.HasPrefix(t, v)
	}
	return wildcardGlob(v, t)
}

// wildcardGlob matches '*' (any run) and '?' (one character).
func wildcardGlob(pattern, s string) bool {
	pr, sr := []rune(pattern), []rune(s)
	var match func(i, j int) bool
	memo := map[[2]int]bool{}
	match = func(i, j int) bool {
		if i == len(pr) {
			return j == len(sr)
		}
		key := [2]int{i, j}
		if v, ok := memo[key]; ok {
			return v
		}
		var res bool
		switch pr[i] {
		case '*':
			res = match(i+1, j) || (j < len(sr) && match(i, j+1))
		case '?':
			res = j < len(sr) && match(i+1, j+1)
		default:
			res = j < len(sr) && pr[i] == sr[j] && match(i+1, j+1)
		}
		memo[key] = res
		return res
	}
	return match(0, 0)
}

func (q patternQuery) eval(c *evalCtx) (*docSet, *esError) {
	f := c.ix.fields[q.field]
	if f == nil {
		return emptySet(), nil
	}
	bits := newBitset(len(c.ix.docs))
	for t, slots := range f.terms {
		if q.matches(t) {
			for _, s := range slots {
				bits.set(s)
			}
		}
	}
	for t, ps := range f.postings {
		if q.matches(t) {
			for _, p := range ps {
				bits.set(p.slot)
			}
		}
	}
	bits.and(c.ix.live)
	return &docSet{bits: bits, constant: q.boost}, nil
}

// ---- bool / constant_score / dis_max ----

type boolQuery struct {
	must, filter, should, mustNot []query
	msm                           string
	boost                         float64
}

func parseClauses(qname, key string, v any, p *parseCtx) ([]query, *esError) {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case map[string]any:
		items = []any{x}
	default:
		return nil, errParsing(fmt.Sprintf("[%s] query does not support [%s]", qname, key), p.pos(key))
	}
	out := make([]query, 0, len(items))
	for _, it := range items {
		q, err := parseQuery(it, p)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

func parseBool(v any, p *parseCtx) (query, *esError) {
	obj, err := asObject("bool", v, p)
	if err != nil {
		return nil, err
	}
	q := boolQuery{boost: 1}
	for k, val := range obj {
		var err *esError
		switch k {
		case "must":
			q.must, err = parseClauses("bool", k, val, p)
		case "filter":
			q.filter, err = parseClauses("bool", k, val, p)
		case "should":
			q.should, err = parseClauses("bool", k, val, p)
		case "must_not", "mustNot":
			q.mustNot, err = parseClauses("bool", k, val, p)
		case "minimum_should_match":
			q.msm = scalarString(val)
		case "boost":
			q.boost, err = numberParam("bool", k, val, p)
		case "adjust_pure_negative", "_name":
		default:
			return nil, errParsing(fmt.Sprintf("[bool] query does not support [%s]", k), p.pos(k))
		}
		if err != nil {
			return nil, err
		}
	}
	return q, nil
}

func (q boolQuery) eval(c *evalCtx) (*docSet, *esError) {
	if len(q.must)+len(q.filter)+len(q.should)+len(q.mustNot) == 0 {
		return matchAllQuery{boost: q.boost}.eval(c)
	}
	var bits *bitset
	var scorers []*docSet
	for _, sub := range q.must {
		d, err := sub.eval(c)
		if err != nil {
			return nil, err
		}
		if bits == nil {
			bits = d.bits.clone()
		} else {
			bits.and(d.bits)
		}
		scorers = append(scorers, d)
	}
	filterCtx := c.withScoring(false)
	for _, sub := range q.filter {
		d, err := sub.eval(filterCtx)
		if err != nil {
			return nil, err
		}
		if bits == nil {
			bits = d.bits.clone()
		} else {
			bits.and(d.bits)
		}
	}
	var shoulds []*docSet
	for _, sub := range q.should {
		d, err := sub.eval(c)
		if err != nil {
			return nil, err
		}
		shoulds = append(shoulds, d)
	}
	required := 0
	if q.msm != "" {
		required = minShouldMatch(q.msm, len(shoulds))
	} else if bits == nil && len(shoulds) > 0 {
		required = 1
	}
	if bits == nil {
		if len(shoulds) > 0 {
			bits = newBitset(len(c.ix.docs))
			for _, d := range shoulds {
				bits.or(d.bits)
			}
		} else {
			// Only must_not clauses: everything else matches.
			bits = c.liveClone()
		}
	}
	if required > len(shoulds) {
		return emptySet(), nil
	}
	if required == 1 && len(q.must)+len(q.filter) > 0 {
		union := newBitset(len(c.ix.docs))
		for _, d := range shoulds {
			union.or(d.bits)
		}
		bits.and(union)
	} else if required > 1 {
		kept := newBitset(len(c.ix.docs))
		bits.forEach(func(s uint32) bool {
			n := 0
			for _, d := range shoulds {
				if d.bits.has(s) {
					n++
				}
			}
			if n >= required {
				kept.set(s)
			}
			return true
		})
		bits = kept
	}
	for _, sub := range q.mustNot {
		d, err := sub.eval(filterCtx)
		if err != nil {
			return nil, err
		}
		bits.andNot(d.bits)
	}
	ds := &docSet{bits: bits}
	if c.scoring {
		boost := q.boost
		ds.score = func(s uint32) float64 {
			total := 0.0
			for _, d := range scorers {
				total += d.scoreOf(s)
			}
			for _, d := range shoulds {
				if d.bits.has(s) {
					total += d.scoreOf(s)
				}
			}
			return total * boost
		}
	}
	return ds, nil
}

type constantScoreQuery struct {
	filter query
	boost  float64
}

func parseConstantScore(v any, p *parseCtx) (query, *esError) {
	obj, err := asObject("constant_score", v, p)
	if err != nil {
		return nil, err
	}
	q := constantScoreQuery{boost: 1}
	for k, val := range obj {
		switch k {
		case "filter":
			f, err := parseQuery(val, p)
			if err != nil {
				return nil, err
			}
			q.filter = f
		case "boost":
			b, err := numberParam("constant_score", k, val, p)
			if err != nil {
				return nil, err
			}
			q.boost = b
		case "_name":
		default:
			return nil, errParsing(fmt.Sprintf("[constant_score] query does not support [%s]", k), p.pos(k))
		}
	}
	if q.filter == nil {
		return nil, errParsing("[constant_score] requires a 'filter' element", p.pos("constant_score"))
	}
	return q, nil
}

func (q constantScoreQuery) eval(c *evalCtx) (*docSet, *esError) {
	d, err := q.filter.eval(c.withScoring(false))
	if err != nil {
		return nil, err
	}
	return &docSet{bits: d.bits, constant: q.boost}, nil
}

type disMaxQuery struct {
	queries    []query
	tieBreaker float64
	boost      float64
}

func parseDisMax(v any, p *parseCtx) (query, *esError) {
	obj, err := asObject("dis_max", v, p)
	if err != nil {
		return nil, err
	}
	q := disMaxQuery{boost: 1}
	for k, val := range obj {
		var err *esError
		switch k {
		case "queries":
			q.queries, err = parseClauses("dis_max", k, val, p)
		case "tie_breaker":
			q.tieBreaker, err = numberParam("dis_max", k, val, p)
		case "boost":
			q.boost, err = numberParam("dis_max", k, val, p)
		case "_name":
		default:
			return nil, errParsing(fmt.Sprintf("[dis_max] query does not support [%s]", k), p.pos(k))
		}
		if err != nil {
			return nil, err
		}
	}
	return q, nil
}

func (q disMaxQuery) eval(c *evalCtx) (*docSet, *esError) {
	bits := newBitset(len(c.ix.docs))
	var subs []*docSet
	for _, sub := range q.queries {
		d, err := sub.eval(c)
		if err != nil {
			return nil, err
		}
		bits.or(d.bits)
		subs = append(subs, d)
	}
	ds := &docSet{bits: bits}
	if c.scoring {
		ds.score = func(s uint32) float64 {
			best, sum := 0.0, 0.0
			for _, d := range subs {
				if d.bits.has(s) {
					v := d.scoreOf(s)
					sum += v
					if v > best {
						best = v
					}
				}
			}
			return (best + q.tieBreaker*(sum-best)) * q.boost
		}
	}
	return ds, nil
}
