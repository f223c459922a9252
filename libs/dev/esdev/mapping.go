package esdev

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// fieldKind is how the server indexes and queries a field type.
type fieldKind uint8

const (
	kindObject     fieldKind = iota
	kindKeyword              // keyword, wildcard, constant_keyword, ip, version
	kindText                 // text, match_only_text
	kindLong                 // long, integer, short, byte, unsigned_long
	kindDouble               // double, float, half_float, scaled_float
	kindDate                 // date, date_nanos
	kindBoolean              // boolean
	kindFlattened            // flattened: leaves indexed as keywords
	kindStoredOnly           // accepted in mappings, kept in _source, not searchable here
)

// kindOfType maps an Elasticsearch field type to how it is handled here.
// Types outside this table are refused with mapper_parsing_exception.
var kindOfType = map[string]fieldKind{
	"object": kindObject, "keyword": kindKeyword, "wildcard": kindKeyword,
	"constant_keyword": kindKeyword, "ip": kindKeyword, "version": kindKeyword,
	"text": kindText, "match_only_text": kindText,
	"long": kindLong, "integer": kindLong, "short": kindLong, "byte": kindLong, "unsigned_long": kindLong,
	"double": kindDouble, "float": kindDouble, "half_float": kindDouble, "scaled_float": kindDouble,
	"date": kindDate, "date_nanos": kindDate, "boolean": kindBoolean, "flattened": kindFlattened,
	"geo_point": kindStoredOnly, "geo_shape": kindStoredOnly, "nested": kindStoredOnly,
	"binary": kindStoredOnly, "alias": kindStoredOnly, "dense_vector": kindStoredOnly,
}

// fieldMapping is one node of an index mapping: a leaf field, a multi-field
// or an object.
type fieldMapping struct {
	path string
	typ  string
	kind fieldKind
	// params keeps the declared parameters (without properties/fields) so
	// GET _mapping returns what was declared.
	params      map[string]any
	format      *dateFormat
	ignoreAbove int
	index       bool
	lowercase   bool // normalizer: lowercase
	copyTo      []string
	dynamic     string // objects: "", "true", "false", "strict"
	fields      map[string]*fieldMapping
	properties  map[string]*fieldMapping
}

func (f *fieldMapping) isObject() bool { return f.kind == kindObject }

// mapping is an index's mapping: a tree of fields plus a flat lookup by
// full path (multi-fields included, e.g. "service.name.keyword").
type mapping struct {
	root             *fieldMapping
	flat             map[string]*fieldMapping
	dateDetection    bool
	numericDetection bool
	dynamicTemplates []dynamicTemplate
	meta             any
	source           any
}

type dynamicTemplate struct {
	name             string
	matchMappingType string
	match, unmatch   string
	pathMatch        string
	pathUnmatch      string
	mapping          map[string]any
	raw              map[string]any
}

func newMapping() *mapping {
	return &mapping{
		root:          &fieldMapping{kind: kindObject, typ: "object", properties: map[string]*fieldMapping{}, dynamic: "true"},
		flat:          map[string]*fieldMapping{},
		dateDetection: true,
	}
}

// parseMapping builds a mapping from the body of "mappings".
func parseMapping(raw map[string]any) (*mapping, error) {
	m := newMapping()
	for k, v := range raw {
		switch k {
		case "properties":
			props, ok := v.(map[string]any)
			if !ok {
				return nil, errMapperParsing("[properties] must be an object")
			}
			if err := m.addProperties(m.root, "", props); err != nil {
				return nil, err
			}
		case "dynamic":
			m.root.dynamic = fmt.Sprint(v)
		case "date_detection":
			m.dateDetection = asBool(v, true)
		case "numeric_detection":
			m.numericDetection = asBool(v, false)
		case "dynamic_templates":
			list, ok := v.([]any)
			if !ok {
				return nil, errMapperParsing("[dynamic_templates] must be an array")
			}
			for _, item := range list {
				obj, ok := item.(map[string]any)
				if !ok || len(obj) != 1 {
					return nil, errMapperParsing("a dynamic template must be an object with one named template")
				}
				for name, body := range obj {
					dt, err := parseDynamicTemplate(name, body)
					if err != nil {
						return nil, err
					}
					m.dynamicTemplates = append(m.dynamicTemplates, dt)
				}
			}
		case "_meta":
			m.meta = v
		case "_source":
			m.source = v
		case "_routing", "_field_names", "dynamic_date_formats":
			// Accepted for compatibility; they change nothing here.
		default:
			return nil, errMapperParsing(fmt.Sprintf("Root mapping definition has unsupported parameters:  [%s : %v]", k, v))
		}
	}
	return m, nil
}

func parseDynamicTemplate(name string, body any) (dynamicTemplate, error) {
	obj, ok := body.(map[string]any)
	if !ok {
		return dynamicTemplate{}, errMapperParsing(fmt.Sprintf("dynamic template [%s] must be an object", name))
	}
	dt := dynamicTemplate{name: name, raw: obj}
	for k, v := range obj {
		s, _ := v.(string)
		switch k {
		case "match_mapping_type":
			dt.matchMappingType = s
		case "match":
			dt.match = s
		case "unmatch":
			dt.unmatch = s
		case "path_match":
			dt.pathMatch = s
		case "path_unmatch":
			dt.pathUnmatch = s
		case "mapping":
			mm, ok := v.(map[string]any)
			if !ok {
				return dt, errMapperParsing(fmt.Sprintf("dynamic template [%s]: [mapping] must be an object", name))
			}
			dt.mapping = mm
		default:
			return dt, errMapperParsing(fmt.Sprintf("dynamic template [%s]: parameter [%s] is not supported by esdev", name, k))
		}
	}
	if dt.mapping == nil {
		return dt, errMapperParsing(fmt.Sprintf("dynamic template [%s] has no [mapping]", name))
	}
	return dt, nil
}

func asBool(v any, def bool) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true"
	}
	return def
}

// addProperties adds declared properties under parent. Dotted names are
// expanded into objects, as Elasticsearch does.
func (m *mapping) addProperties(parent *fieldMapping, prefix string, props map[string]any) error {
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		def, ok := props[name].(map[string]any)
		if !ok {
			return errMapperParsing(fmt.Sprintf("Expected map for property [fields] on field [%s] but got a class java.lang.String", name))
		}
		segs := strings.Split(name, ".")
		node := parent
		p := prefix
		for _, seg := range segs[:len(segs)-1] {
			p = joinPath(p, seg)
			child := node.properties[seg]
			if child == nil {
				child = &fieldMapping{path: p, typ: "object", kind: kindObject, properties: map[string]*fieldMapping{}, index: true}
				node.properties[seg] = child
				m.flat[p] = child
			}
			if !child.isObject() {
				return errMapperParsing(fmt.Sprintf("can't merge a non object mapping [%s] with an object mapping", p))
			}
			node = child
		}
		leaf := segs[len(segs)-1]
		full := joinPath(p, leaf)
		fm, err := m.buildField(full, def)
		if err != nil {
			return err
		}
		if existing := node.properties[leaf]; existing != nil && existing.isObject() && fm.isObject() {
			// Merge object properties declared twice (a.b and a: {b}).
			for k, v := range fm.properties {
				existing.properties[k] = v
			}
			continue
		}
		node.properties[leaf] = fm
	}
	return nil
}

// buildField parses one field definition and registers it (and its
// multi-fields and children) in the flat lookup.
func (m *mapping) buildField(full string, def map[string]any) (*fieldMapping, error) {
	typ, _ := def["type"].(string)
	if typ == "" {
		typ = "object"
	}
	kind, ok := kindOfType[typ]
	if !ok {
		return nil, errMapperParsing(fmt.Sprintf("No handler for type [%s] declared on field [%s]", typ, full))
	}
	fm := &fieldMapping{path: full, typ: typ, kind: kind, params: map[string]any{}, index: true}
	for k, v := range def {
		switch k {
		case "type":
		case "properties":
			if kind != kindObject {
				if typ == "nested" {
					continue
				}
				return nil, errMapperParsing(fmt.Sprintf("Mapping definition for [%s] has unsupported parameters:  [properties : %v]", full, v))
			}
		case "fields":
		case "format":
			s, _ := v.(string)
			f, err := parseDateFormat(s)
			if err != nil {
				return nil, errMapperParsing(fmt.Sprintf("Error parsing [format] on field [%s]: %v", full, err))
			}
			fm.format = f
			fm.params[k] = v
		case "ignore_above":
			n, _ := toFloat(v)
			fm.ignoreAbove = int(n)
			fm.params[k] = v
		case "index":
			fm.index = asBool(v, true)
			fm.params[k] = v
		case "normalizer":
			if v != "lowercase" {
				return nil, errMapperParsing(fmt.Sprintf("normalizer [%v] not found for field [%s]", v, full))
			}
			fm.lowercase = true
			fm.params[k] = v
		case "analyzer", "search_analyzer":
			if v != "standard" && v != "default" {
				return nil, errMapperParsing(fmt.Sprintf("analyzer [%v] on field [%s]: esdev supports only the standard analyzer", v, full))
			}
			fm.params[k] = v
		case "copy_to":
			switch c := v.(type) {
			case string:
				fm.copyTo = []string{c}
			case []any:
				for _, x := range c {
					fm.copyTo = append(fm.copyTo, fmt.Sprint(x))
				}
			}
			fm.params[k] = v
		case "dynamic":
			fm.dynamic = fmt.Sprint(v)
			fm.params[k] = v
		default:
			fm.params[k] = v
		}
	}
	if kind == kindDate && fm.format == nil {
		fm.format, _ = parseDateFormat(defaultDateFormat)
	}
	m.flat[full] = fm
	if kind == kindObject {
		fm.properties = map[string]*fieldMapping{}
		if props, ok := def["properties"].(map[string]any); ok {
			if err := m.addProperties(fm, full, props); err != nil {
				return nil, err
			}
		}
	}
	if fields, ok := def["fields"].(map[string]any); ok {
		fm.fields = map[string]*fieldMapping{}
		for name, sub := range fields {
			subDef, ok := sub.(map[string]any)
			if !ok {
				return nil, errMapperParsing(fmt.Sprintf("multi-field [%s.%s] must be an object", full, name))
			}
			sf, err := m.buildField(full+"."+name, subDef)
			if err != nil {
				return nil, err
			}
			fm.fields[name] = sf
		}
	}
	return fm, nil
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// lookup finds the mapping of a full field path. Paths below a flattened
// field resolve to a keyword view of that field.
func (m *mapping) lookup(p string) *fieldMapping {
	if fm := m.flat[p]; fm != nil {
		return fm
	}
	for i := strings.LastIndexByte(p, '.'); i > 0; i = strings.LastIndexByte(p[:i], '.') {
		if fm := m.flat[p[:i]]; fm != nil && fm.kind == kindFlattened {
			return &fieldMapping{path: p, typ: "keyword", kind: kindKeyword, index: true}
		}
	}
	return nil
}

// dynamicSetting returns the dynamic setting that governs new fields under
// the object at objPath (inherited from the closest ancestor that sets it).
func (m *mapping) dynamicSetting(objPath string) string {
	for p := objPath; p != ""; {
		if fm := m.flat[p]; fm != nil && fm.dynamic != "" {
			return fm.dynamic
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	if m.root.dynamic == "" {
		return "true"
	}
	return m.root.dynamic
}

// dynamicDefinition returns the mapping Elasticsearch would add for a new
// field at fullPath whose JSON value is v.
func (m *mapping) dynamicDefinition(fullPath string, v any) map[string]any {
	matchType := "object"
	switch x := v.(type) {
	case json.Number:
		matchType = "long"
		if strings.ContainsAny(x.String(), ".eE") {
			matchType = "double"
		}
	case bool:
		matchType = "boolean"
	case string:
		matchType = "string"
		if m.dateDetection && looksLikeDate(x) {
			matchType = "date"
		} else if m.numericDetection {
			if _, err := json.Number(x).Float64(); err == nil {
				matchType = "double"
				if !strings.ContainsAny(x, ".eE") {
					matchType = "long"
				}
			}
		}
	}
	name := fullPath[strings.LastIndexByte(fullPath, '.')+1:]
	for _, dt := range m.dynamicTemplates {
		if !dt.matches(fullPath, name, matchType) {
			continue
		}
		def := substituteTemplate(dt.mapping, name, matchType)
		if _, ok := def["type"]; !ok && matchType != "object" {
			def["type"] = defaultDynamicType(matchType)
		}
		if matchType == "object" && def["type"] != nil && def["type"] != "object" && def["type"] != "flattened" && def["type"] != "nested" {
			continue
		}
		return def
	}
	switch matchType {
	case "object":
		return map[string]any{"type": "object"}
	case "string":
		return map[string]any{
			"type":   "text",
			"fields": map[string]any{"keyword": map[string]any{"type": "keyword", "ignore_above": json.Number("256")}},
		}
	default:
		return map[string]any{"type": defaultDynamicType(matchType)}
	}
}

func defaultDynamicType(matchType string) string {
	switch matchType {
	case "double":
		return "float"
	case "string":
		return "text"
	}
	return matchType
}

func (dt dynamicTemplate) matches(fullPath, name, matchType string) bool {
	if dt.matchMappingType != "" && dt.matchMappingType != "*" && dt.matchMappingType != matchType {
		return false
	}
	if dt.matchMappingType == "*" && matchType == "object" {
		// "*" is meant for concrete values; objects get their own mapping.
		if t, _ := dt.mapping["type"].(string); t != "object" && t != "flattened" && t != "{dynamic_type}" {
			return false
		}
	}
	if dt.match != "" && !wildcardMatch(dt.match, name) {
		return false
	}
	if dt.unmatch != "" && wildcardMatch(dt.unmatch, name) {
		return false
	}
	if dt.pathMatch != "" && !wildcardMatch(dt.pathMatch, fullPath) {
		return false
	}
	if dt.pathUnmatch != "" && wildcardMatch(dt.pathUnmatch, fullPath) {
		return false
	}
	return true
}

func substituteTemplate(def map[string]any, name, matchType string) map[string]any {
	out := make(map[string]any, len(def))
	for k, v := range def {
		switch x := v.(type) {
		case string:
			x = strings.ReplaceAll(x, "{name}", name)
			x = strings.ReplaceAll(x, "{dynamic_type}", defaultDynamicType(matchType))
			out[k] = x
		case map[string]any:
			out[k] = substituteTemplate(x, name, matchType)
		default:
			out[k] = v
		}
	}
	return out
}

// looksLikeDate is date detection with the default dynamic_date_formats:
// strict_date_optional_time with at least a full date (yyyy-MM-dd).
func looksLikeDate(s string) bool {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	_, err := isoLayout{}.parse(s, nil, false)
	return err == nil
}

// wildcardMatch matches Elasticsearch simple patterns: '*' is any run of
// characters (across '/' and '.' too); without a '*' the name must be equal.
func wildcardMatch(pattern, s string) bool {
	if strings.IndexByte(pattern, '*') < 0 {
		return pattern == s // most patterns are plain names: no split
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return true
}

// ensureObjects creates dynamic object mappings for every parent of fullPath.
func (m *mapping) ensureObjects(fullPath string) error {
	node := m.root
	p := ""
	segs := strings.Split(fullPath, ".")
	for _, seg := range segs[:len(segs)-1] {
		p = joinPath(p, seg)
		child := node.properties[seg]
		if child == nil {
			child = &fieldMapping{path: p, typ: "object", kind: kindObject, properties: map[string]*fieldMapping{}, index: true}
			node.properties[seg] = child
			m.flat[p] = child
		}
		if !child.isObject() {
			return errDocumentParsing(fmt.Sprintf("Could not dynamically add mapping for field [%s]. Existing mapping for [%s] must be of type object but found [%s].", fullPath, p, child.typ))
		}
		node = child
	}
	return nil
}

// render returns the mapping as Elasticsearch prints it in GET _mapping.
func (m *mapping) render() map[string]any {
	out := map[string]any{}
	if m.root.dynamic != "" && m.root.dynamic != "true" {
		out["dynamic"] = m.root.dynamic
	}
	if !m.dateDetection {
		out["date_detection"] = false
	}
	if m.numericDetection {
		out["numeric_detection"] = true
	}
	if len(m.dynamicTemplates) > 0 {
		var dts []any
		for _, dt := range m.dynamicTemplates {
			dts = append(dts, map[string]any{dt.name: dt.raw})
		}
		out["dynamic_templates"] = dts
	}
	if m.meta != nil {
		out["_meta"] = m.meta
	}
	if m.source != nil {
		out["_source"] = m.source
	}
	if len(m.root.properties) > 0 {
		out["properties"] = renderProperties(m.root.properties)
	}
	return out
}

func renderProperties(props map[string]*fieldMapping) map[string]any {
	out := make(map[string]any, len(props))
	for name, fm := range props {
		def := map[string]any{}
		for k, v := range fm.params {
			def[k] = v
		}
		if fm.isObject() {
			if fm.dynamic != "" {
				def["dynamic"] = fm.dynamic
			}
			if len(fm.properties) > 0 {
				def["properties"] = renderProperties(fm.properties)
			}
		} else {
			def["type"] = fm.typ
		}
		if len(fm.fields) > 0 {
			def["fields"] = renderProperties(fm.fields)
		}
		out[name] = def
	}
	return out
}

// mergeJSON deep-merges src into dst (maps merge, everything else replaces);
// index templates and component templates compose mappings this way.
func mergeJSON(dst, src map[string]any) map[string]any {
	if dst == nil {
		dst = map[string]any{}
	}
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = mergeJSON(cloneJSON(dm), sm)
				continue
			}
			dst[k] = cloneJSON(sm)
			continue
		}
		if sl, ok := v.([]any); ok && k == "dynamic_templates" {
			if dl, ok := dst[k].([]any); ok {
				dst[k] = append(append([]any{}, dl...), sl...)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

func cloneJSON(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sm, ok := v.(map[string]any); ok {
			out[k] = cloneJSON(sm)
		} else {
			out[k] = v
		}
	}
	return out
}
