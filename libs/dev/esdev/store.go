package esdev

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

const (
	nodeName    = "esdev-node-1"
	nodeID      = "ZXNkZXYtbm9kZS0wMDAwMQ"
	clusterUUID = "ZXNkZXYtY2x1c3Rlci0wMQ"
)

// index is one in-memory index. Documents live in slots; a slot is never
// reused, so an overwrite appends a new slot and retires the old one. This
// keeps postings append-only and lets readers use plain slices.
type index struct {
	mu           sync.RWMutex
	name         string
	uuid         string
	creationDate time.Time
	shards       int
	replicas     int
	settings     map[string]any // flattened "index.*" keys as given
	aliases      map[string]*alias
	mapping      *mapping

	docs      []*storedDoc // by slot; nil once deleted or overwritten
	ids       map[string]uint32
	live      *bitset
	liveCount int
	seqNo     int64
	fields    map[string]*fieldIndex
	// paths caches joined field paths (prefix → key → path); written
	// under mu by document parsing.
	paths map[string]map[string]string
}

type alias struct {
	raw    map[string]any
	filter query
}

type storedDoc struct {
	id      string
	source  json.RawMessage
	version int64
	seqNo   int64
}

type posting struct {
	slot uint32
	tf   uint32
}

// fieldIndex is the per-field data an index keeps for searching, sorting
// and aggregating.
type fieldIndex struct {
	kind fieldKind
	// keyword and boolean: term → slots (ascending; may include retired slots)
	terms map[string][]uint32
	// text: term → postings with term frequency, and token counts per slot
	postings map[string][]posting
	docLen   []uint32
	sumLen   int64
	// keyword: values per slot (for aggregations and sorting);
	// text: raw values per slot (to verify phrases).
	strVals [][]string
	// long, double, date, boolean: first value per slot (NaN when none) and
	// the full list for multi-valued slots.
	nums  []float64
	multi map[uint32][]float64
	// exists has every slot with at least one indexed value.
	exists   *bitset
	docCount int
}

func newFieldIndex(kind fieldKind) *fieldIndex {
	f := &fieldIndex{kind: kind, exists: &bitset{}}
	switch kind {
	case kindKeyword, kindFlattened:
		f.terms = map[string][]uint32{}
	case kindText:
		f.postings = map[string][]posting{}
	case kindBoolean:
		f.terms = map[string][]uint32{}
	}
	return f
}

func (f *fieldIndex) numValues(slot uint32) []float64 {
	if int(slot) >= len(f.nums) || math.IsNaN(f.nums[slot]) {
		return nil
	}
	if vs, ok := f.multi[slot]; ok {
		return vs
	}
	return f.nums[slot : slot+1]
}

func (f *fieldIndex) stringValues(slot uint32) []string {
	if int(slot) >= len(f.strVals) {
		return nil
	}
	return f.strVals[slot]
}

func (f *fieldIndex) addNums(slot uint32, vals []float64) {
	if len(vals) == 0 {
		return
	}
	for len(f.nums) <= int(slot) {
		f.nums = append(f.nums, math.NaN())
	}
	f.nums[slot] = vals[0]
	if len(vals) > 1 {
		if f.multi == nil {
			f.multi = map[uint32][]float64{}
		}
		f.multi[slot] = append([]float64(nil), vals...)
	}
}

func (f *fieldIndex) addStrings(slot uint32, vals []string) {
	for len(f.strVals) <= int(slot) {
		f.strVals = append(f.strVals, nil)
	}
	f.strVals[slot] = vals
}

func newIndex(name string, now time.Time) *index {
	return &index{
		name:         name,
		uuid:         newUUID(),
		creationDate: now,
		shards:       1,
		replicas:     1,
		settings:     map[string]any{},
		aliases:      map[string]*alias{},
		mapping:      newMapping(),
		ids:          map[string]uint32{},
		live:         &bitset{},
		fields:       map[string]*fieldIndex{},
	}
}

// newID returns a random 20-character URL-safe id, the shape of the ids
// Elasticsearch generates for documents without one.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newUUID returns a random 22-character URL-safe id, the shape of index
// UUIDs.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// applySettings reads number_of_shards/number_of_replicas from index
// settings given in any of Elasticsearch's spellings.
func (ix *index) applySettings(raw map[string]any) *esError {
	flat := map[string]any{}
	flattenSettings("", raw, flat)
	for k, v := range flat {
		if !strings.HasPrefix(k, "index.") {
			k = "index." + k
		}
		ix.settings[k] = v
		switch k {
		case "index.number_of_shards", "index.number_of_replicas":
			n, err := strconv.Atoi(fmt.Sprint(v))
			if err != nil || n < 0 || (k == "index.number_of_shards" && n < 1) {
				return errIllegalArgument(fmt.Sprintf("Failed to parse value [%v] for setting [%s]", v, k))
			}
			if k == "index.number_of_shards" {
				ix.shards = n
			} else {
				ix.replicas = n
			}
		}
	}
	return nil
}

func flattenSettings(prefix string, raw map[string]any, out map[string]any) {
	for k, v := range raw {
		key := joinPath(prefix, k)
		if m, ok := v.(map[string]any); ok && !strings.HasPrefix(key, "index.analysis") && key != "analysis" {
			flattenSettings(key, m, out)
			continue
		}
		out[key] = v
	}
}

// leaf is a value of a document field, converted for its mapping.
type leaf struct {
	fm   *fieldMapping
	path string
	strs []string
	nums []float64
}

// docParser walks a source document against the mapping, collecting the
// values to index and the dynamic mappings to add. Nothing is changed until
// the whole document has parsed, so a bad document leaves no trace.
type docParser struct {
	ix      *index
	id      string
	pending map[string]*fieldMapping
	scratch *mapping
	// leaves in first-seen order; documents have a few dozen fields, so a
	// linear search beats a map and saves allocations on bulk loads.
	leaves []leaf
}

func (p *docParser) lookup(path string) *fieldMapping {
	if fm := p.pending[path]; fm != nil {
		return fm
	}
	return p.ix.mapping.lookup(path)
}

func (p *docParser) parseObject(prefix string, obj map[string]any) *esError {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "" || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") || strings.Contains(k, "..") {
			return errDocumentParsing(fmt.Sprintf("field name cannot contain only whitespace or dots: ['%s']", k))
		}
		if prefix == "" && (k == "_id" || k == "_index" || k == "_source" || k == "_seq_no" || k == "_version") {
			return errDocumentParsing(fmt.Sprintf("[1:2] Field [%s] is a metadata field and cannot be added inside a document. Use the index API request parameters.", k))
		}
		if err := p.parseValue(p.ix.path(prefix, k), obj[k]); err != nil {
			return err
		}
	}
	return nil
}

func (p *docParser) parseValue(path string, v any) *esError {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		for _, e := range x {
			if err := p.parseValue(path, e); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		fm := p.lookup(path)
		if fm == nil {
			fm2, err := p.dynamicField(path, x)
			if err != nil || fm2 == nil {
				return err
			}
			fm = fm2
		}
		switch fm.kind {
		case kindObject:
			return p.parseObject(path, x)
		case kindFlattened:
			return p.flattened(fm, path, "", x)
		case kindStoredOnly:
			return nil
		}
		return errDocumentParsing(fmt.Sprintf("[1:2] failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '%v'", path, fm.typ, p.id, previewJSON(x)))
	}
	fm := p.lookup(path)
	if fm == nil {
		var err *esError
		fm, err = p.dynamicField(path, v)
		if err != nil || fm == nil {
			return err
		}
	}
	if fm.kind == kindObject {
		return errDocumentParsing(fmt.Sprintf("[1:2] object mapping for [%s] tried to parse field [%s] as object, but found a concrete value", path, path))
	}
	if err := p.addLeaf(fm, path, v); err != nil {
		return err
	}
	for _, target := range fm.copyTo {
		tfm := p.lookup(target)
		if tfm == nil {
			var err *esError
			if tfm, err = p.dynamicField(target, v); err != nil || tfm == nil {
				return err
			}
		}
		if err := p.addLeaf(tfm, target, v); err != nil {
			return err
		}
	}
	return nil
}

func (p *docParser) flattened(root *fieldMapping, path, rel string, v any) *esError {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if err := p.flattened(root, path, joinPath(rel, k), e); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := p.flattened(root, path, rel, e); err != nil {
				return err
			}
		}
	case nil:
	default:
		s := scalarString(x)
		kw := &fieldMapping{path: path, typ: "keyword", kind: kindKeyword, index: true, ignoreAbove: root.ignoreAbove}
		l := p.leafFor(kw, path)
		l.strs = append(l.strs, s)
		if rel != "" {
			sub := &fieldMapping{path: path + "." + rel, typ: "keyword", kind: kindKeyword, index: true}
			l := p.leafFor(sub, sub.path)
			l.strs = append(l.strs, s)
		}
	}
	return nil
}

// dynamicField returns the mapping to use for a new field, or nil when the
// governing dynamic setting says to ignore it.
func (p *docParser) dynamicField(path string, v any) (*fieldMapping, *esError) {
	parent := ""
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent = path[:i]
	}
	switch p.ix.mapping.dynamicSetting(parent) {
	case "false", "runtime":
		return nil, nil
	case "strict":
		within := parent
		if within == "" {
			within = "_doc"
		}
		return nil, &esError{
			status: http.StatusBadRequest, typ: "strict_dynamic_mapping_exception",
			reason: fmt.Sprintf("[1:2] mapping set to strict, dynamic introduction of [%s] within [%s] is not allowed", path[strings.LastIndexByte(path, '.')+1:], within),
		}
	}
	// Parents of a dotted key need object mappings too.
	if parent != "" && p.lookup(parent) == nil {
		if _, err := p.dynamicField(parent, map[string]any{}); err != nil {
			return nil, err
		}
	}
	if pfm := p.lookup(parent); parent != "" && pfm != nil && !pfm.isObject() {
		if pfm.kind == kindFlattened || pfm.kind == kindStoredOnly {
			return nil, nil
		}
		return nil, errDocumentParsing(fmt.Sprintf("[1:2] Could not dynamically add mapping for field [%s]. Existing mapping for [%s] must be of type object but found [%s].", path, parent, pfm.typ))
	}
	def := p.ix.mapping.dynamicDefinition(path, v)
	if p.scratch == nil {
		p.scratch = newMapping()
	}
	fm, err := p.scratch.buildField(path, def)
	if err != nil {
		var ee *esError
		if e, ok := err.(*esError); ok {
			ee = e
		} else {
			ee = errMapperParsing(err.Error())
		}
		return nil, ee
	}
	if p.pending == nil {
		p.pending = map[string]*fieldMapping{}
	}
	p.pending[path] = fm
	for _, sub := range fm.fields {
		p.pending[sub.path] = sub
	}
	return fm, nil
}

func (p *docParser) leafFor(fm *fieldMapping, path string) *leaf {
	for i := range p.leaves {
		if p.leaves[i].path == path {
			return &p.leaves[i]
		}
	}
	if p.leaves == nil {
		p.leaves = make([]leaf, 0, 16)
	}
	p.leaves = append(p.leaves, leaf{fm: fm, path: path})
	return &p.leaves[len(p.leaves)-1]
}

// addLeaf converts a JSON scalar for fm (and its multi-fields).
func (p *docParser) addLeaf(fm *fieldMapping, path string, v any) *esError {
	l := p.leafFor(fm, path)
	if err := convertValue(fm, v, l); err != nil {
		preview := scalarString(v)
		return errDocumentParsing(fmt.Sprintf("[1:2] failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '%s'", path, fm.typ, p.id, preview)).withCause(err)
	}
	for _, sub := range fm.fields {
		if err := p.addLeaf(sub, sub.path, v); err != nil {
			return err
		}
	}
	return nil
}

func (e *esError) withCause(c *esError) *esError {
	e.causedBy = c
	return e
}

func previewJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// convertValue converts one JSON scalar to the field's indexed form, with
// Elasticsearch's default coercion (numbers in strings, strings for numbers
// in keyword fields).
func convertValue(fm *fieldMapping, v any, l *leaf) *esError {
	switch fm.kind {
	case kindKeyword, kindText:
		s := scalarString(v)
		if fm.lowercase {
			s = strings.ToLower(s)
		}
		l.strs = append(l.strs, s)
	case kindLong, kindDouble:
		f, err := toFloat(v)
		if err != nil {
			return errIllegalArgument(err.Error())
		}
		if fm.kind == kindLong {
			if f > math.MaxInt64 || f < math.MinInt64 {
				return errIllegalArgument(fmt.Sprintf("Value [%v] is out of range for a long", v))
			}
			f = math.Trunc(f)
		}
		l.nums = append(l.nums, f)
	case kindDate:
		var ms int64
		switch x := v.(type) {
		case json.Number:
			f, err := x.Float64()
			if err != nil {
				return errIllegalArgument(err.Error())
			}
			ms = int64(f)
		case string:
			var err error
			ms, err = fm.format.parse(x, time.UTC, false)
			if err != nil {
				return errIllegalArgument(err.Error())
			}
		default:
			return errIllegalArgument(fmt.Sprintf("failed to parse date field [%v]", v))
		}
		l.nums = append(l.nums, float64(ms))
	case kindBoolean:
		var b bool
		switch x := v.(type) {
		case bool:
			b = x
		case string:
			switch x {
			case "true":
				b = true
			case "false", "":
			default:
				return errIllegalArgument(fmt.Sprintf("Failed to parse value [%s] as only [true] or [false] are allowed.", x))
			}
		default:
			return errIllegalArgument(fmt.Sprintf("Failed to parse value [%v] as only [true] or [false] are allowed.", v))
		}
		if b {
			l.nums = append(l.nums, 1)
		} else {
			l.nums = append(l.nums, 0)
		}
	}
	return nil
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Float64()
	case float64:
		return x, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, fmt.Errorf("For input string: \"%s\"", x)
		}
		return f, nil
	case bool:
		return 0, fmt.Errorf("Current token (VALUE_%s) not numeric, can not use numeric value accessors", strings.ToUpper(strconv.FormatBool(x)))
	}
	return 0, fmt.Errorf("cannot convert [%v] to a number", v)
}

// writeResult is the outcome of a document write, as bulk items and the
// index API report it.
type writeResult struct {
	id      string
	version int64
	seqNo   int64
	result  string // created, updated, deleted, not_found, noop
	status  int
}

// decodeSource parses a document source; it must be a JSON object.
func decodeSource(src []byte) (map[string]any, *esError) {
	return decodeSourceKeys(src, nil)
}

// decodeSourceKeys is decodeSource sharing field names through keys (see
// parseJSONKeys).
func decodeSourceKeys(src []byte, keys map[string]string) (map[string]any, *esError) {
	v, err := parseJSONKeys(src, keys)
	if err != nil {
		return nil, errDocumentParsing(syntaxPrefix(err) + "failed to parse: " + syntaxMessage(err)).
			withCause(&esError{typ: "json_parse_exception", reason: syntaxMessage(err)})
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errDocumentParsing("[1:1] failed to parse: the document must be a JSON object")
	}
	return doc, nil
}

// syntaxPrefix is the "[line:col] " of a JSON syntax error.
func syntaxPrefix(err error) string {
	if se, ok := err.(*jsonSyntaxError); ok {
		return fmt.Sprintf("[%d:%d] ", se.line, se.col)
	}
	return ""
}

func syntaxMessage(err error) string {
	if se, ok := err.(*jsonSyntaxError); ok {
		return se.msg
	}
	return err.Error()
}

// put writes a document (op "index" or "create"). The caller holds ix.mu.
func (ix *index) put(id string, src []byte, doc map[string]any, create bool) (writeResult, *esError) {
	oldSlot, exists := ix.ids[id]
	if exists && create {
		return writeResult{}, errVersionConflict(ix, id, ix.docs[oldSlot].version)
	}
	p := &docParser{ix: ix, id: id}
	if err := p.parseObject("", doc); err != nil {
		return writeResult{}, err
	}
	// Commit dynamic mappings, parents before children.
	paths := make([]string, 0, len(p.pending))
	for path := range p.pending {
		paths = append(paths, path)
	}
	sort.Slice(paths, func(i, j int) bool {
		return strings.Count(paths[i], ".") < strings.Count(paths[j], ".") ||
			(strings.Count(paths[i], ".") == strings.Count(paths[j], ".") && paths[i] < paths[j])
	})
	for _, path := range paths {
		if isMultiField(p.pending, path) {
			continue // inserted with its parent field
		}
		if err := ix.mapping.insert(p.pending[path]); err != nil {
			return writeResult{}, err
		}
	}

	slot := uint32(len(ix.docs))
	version := int64(1)
	result, status := "created", http.StatusCreated
	if exists {
		version = ix.docs[oldSlot].version + 1
		ix.retire(oldSlot)
		result, status = "updated", http.StatusOK
	}
	ix.seqNo++
	ix.docs = append(ix.docs, &storedDoc{id: id, source: src, version: version, seqNo: ix.seqNo - 1})
	ix.ids[id] = slot
	ix.live.set(slot)
	ix.liveCount++
	for i := range p.leaves {
		ix.indexLeaf(slot, &p.leaves[i])
	}
	return writeResult{id: id, version: version, seqNo: ix.seqNo - 1, result: result, status: status}, nil
}

func isMultiField(pending map[string]*fieldMapping, path string) bool {
	i := strings.LastIndexByte(path, '.')
	if i < 0 {
		return false
	}
	parent := pending[path[:i]]
	if parent == nil {
		return false
	}
	_, ok := parent.fields[path[i+1:]]
	return ok
}

// insert places a new field mapping into the tree and the flat lookup.
func (m *mapping) insert(fm *fieldMapping) *esError {
	if err := m.ensureObjects(fm.path); err != nil {
		if e, ok := err.(*esError); ok {
			return e
		}
		return errMapperParsing(err.Error())
	}
	parent := m.root
	if i := strings.LastIndexByte(fm.path, '.'); i >= 0 {
		parent = m.flat[fm.path[:i]]
	}
	name := fm.path[strings.LastIndexByte(fm.path, '.')+1:]
	if existing := parent.properties[name]; existing != nil {
		return nil
	}
	parent.properties[name] = fm
	m.flat[fm.path] = fm
	var addSubs func(f *fieldMapping)
	addSubs = func(f *fieldMapping) {
		for _, sub := range f.fields {
			m.flat[sub.path] = sub
			addSubs(sub)
		}
		for _, child := range f.properties {
			m.flat[child.path] = child
			addSubs(child)
		}
	}
	addSubs(fm)
	return nil
}

// retire takes a slot out of search results (delete or overwrite).
func (ix *index) retire(slot uint32) {
	if ix.live.has(slot) {
		ix.live.clear(slot)
		ix.liveCount--
	}
	ix.docs[slot] = nil
}

// path joins an object path and a key, reusing the strings of earlier
// documents (most documents of an index share their field names).
func (ix *index) path(prefix, key string) string {
	if ix.paths == nil {
		ix.paths = map[string]map[string]string{}
	}
	byKey := ix.paths[prefix]
	if byKey == nil {
		byKey = map[string]string{}
		ix.paths[prefix] = byKey
	}
	p, ok := byKey[key]
	if !ok {
		p = joinPath(prefix, key)
		if len(byKey) < 10000 { // keep the cache bounded against odd data
			byKey[key] = p
		}
	}
	return p
}

func (ix *index) field(path string, kind fieldKind) *fieldIndex {
	f := ix.fields[path]
	if f == nil {
		f = newFieldIndex(kind)
		ix.fields[path] = f
	}
	return f
}

func (ix *index) indexLeaf(slot uint32, l *leaf) {
	fm := l.fm
	switch fm.kind {
	case kindKeyword, kindFlattened:
		f := ix.field(l.path, kindKeyword)
		var kept []string
		for _, s := range l.strs {
			if fm.ignoreAbove > 0 && utf8.RuneCountInString(s) > fm.ignoreAbove {
				continue
			}
			kept = append(kept, s)
		}
		if len(kept) == 0 {
			return
		}
		if len(kept) > 1 {
			sort.Strings(kept)
		}
		for i, s := range kept {
			if i > 0 && kept[i-1] == s {
				continue // a slot is listed once per term
			}
			f.terms[s] = append(f.terms[s], slot)
		}
		f.addStrings(slot, kept)
		f.exists.set(slot)
		f.docCount++
	case kindText:
		if len(l.strs) == 0 {
			return
		}
		f := ix.field(l.path, kindText)
		// Term frequencies: a short list beats a map for log-line sized text.
		type termFreq struct {
			term string
			n    uint32
		}
		tf := make([]termFreq, 0, 16)
		n := 0
		for _, s := range l.strs {
			tokenize(s, func(tok string, _ int) {
				n++
				for i := range tf {
					if tf[i].term == tok {
						tf[i].n++
						return
					}
				}
				tf = append(tf, termFreq{tok, 1})
			})
		}
		for _, t := range tf {
			f.postings[t.term] = append(f.postings[t.term], posting{slot: slot, tf: t.n})
		}
		for len(f.docLen) <= int(slot) {
			f.docLen = append(f.docLen, 0)
		}
		f.docLen[slot] = uint32(n)
		f.sumLen += int64(n)
		f.addStrings(slot, l.strs)
		f.exists.set(slot)
		f.docCount++
	case kindLong, kindDouble, kindDate:
		if len(l.nums) == 0 {
			return
		}
		f := ix.field(l.path, fm.kind)
		f.addNums(slot, l.nums)
		f.exists.set(slot)
		f.docCount++
	case kindBoolean:
		if len(l.nums) == 0 {
			return
		}
		f := ix.field(l.path, kindBoolean)
		f.addNums(slot, l.nums)
		for _, v := range l.nums {
			t := "false"
			if v == 1 {
				t = "true"
			}
			if ts := f.terms[t]; len(ts) == 0 || ts[len(ts)-1] != slot {
				f.terms[t] = append(ts, slot)
			}
		}
		f.exists.set(slot)
		f.docCount++
	}
}

// delete removes a document. The caller holds ix.mu.
func (ix *index) delete(id string) writeResult {
	slot, ok := ix.ids[id]
	ix.seqNo++
	if !ok {
		return writeResult{id: id, version: 1, seqNo: ix.seqNo - 1, result: "not_found", status: http.StatusNotFound}
	}
	version := ix.docs[slot].version + 1
	ix.retire(slot)
	delete(ix.ids, id)
	return writeResult{id: id, version: version, seqNo: ix.seqNo - 1, result: "deleted", status: http.StatusOK}
}

// update applies a partial document ("doc", "doc_as_upsert", "upsert").
// The caller holds ix.mu.
func (ix *index) update(id string, body map[string]any) (writeResult, *esError) {
	for k := range body {
		switch k {
		case "doc", "doc_as_upsert", "upsert", "detect_noop", "_source":
		case "script", "scripted_upsert":
			return writeResult{}, errIllegalArgument("esdev does not run scripts; use a partial [doc] update")
		default:
			return writeResult{}, errXContent(fmt.Sprintf("[UpdateRequest] unknown field [%s]", k), textPos{})
		}
	}
	partial, isObject := body["doc"].(map[string]any)
	if body["doc"] != nil && !isObject {
		return writeResult{}, errParsing("[doc] must be an object", textPos{})
	}
	slot, exists := ix.ids[id]
	if !exists {
		var src map[string]any
		switch {
		case asBool(body["doc_as_upsert"], false) && partial != nil:
			src = partial
		case body["upsert"] != nil:
			if src, isObject = body["upsert"].(map[string]any); !isObject {
				return writeResult{}, errParsing("[upsert] must be an object", textPos{})
			}
		default:
			return writeResult{}, errDocumentMissing(ix, id)
		}
		raw, _ := json.Marshal(src)
		return ix.put(id, raw, src, false)
	}
	if partial == nil {
		return writeResult{}, errActionRequestValidation("script or doc is missing")
	}
	current, err := decodeSource(ix.docs[slot].source)
	if err != nil {
		return writeResult{}, err
	}
	merged := mergeDoc(cloneAny(current).(map[string]any), partial)
	if asBool(body["detect_noop"], true) && reflect.DeepEqual(merged, current) {
		d := ix.docs[slot]
		return writeResult{id: id, version: d.version, seqNo: d.seqNo, result: "noop", status: http.StatusOK}, nil
	}
	raw, _ := json.Marshal(merged)
	return ix.put(id, raw, merged, false)
}

func mergeDoc(dst, src map[string]any) map[string]any {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = mergeDoc(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

func cloneAny(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneAny(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneAny(e)
		}
		return out
	}
	return v
}

// validateIndexName applies Elasticsearch's rules for new index names.
func validateIndexName(name string) *esError {
	switch {
	case name == "":
		return errInvalidIndexName(name, "must not be empty")
	case name != strings.ToLower(name):
		return errInvalidIndexName(name, "must be lowercase")
	case strings.ContainsAny(name, `\/*?"<>| ,#:`):
		return errInvalidIndexName(name, `must not contain the following characters [ , ", *, \, <, |, ,, >, /, ?]`)
	case strings.HasPrefix(name, "_") || strings.HasPrefix(name, "-") || strings.HasPrefix(name, "+"):
		return errInvalidIndexName(name, "must not start with '_', '-', or '+'")
	case name == "." || name == "..":
		return errInvalidIndexName(name, "must not be '.' or '..'")
	case len(name) > 255:
		return errInvalidIndexName(name, "index name is too long, (256 > 255)")
	}
	return nil
}
