package esdev

import "encoding/json"

// apply filters a stored source; without patterns the stored bytes are
// returned untouched, as Elasticsearch returns the source it was given.
func (sf sourceFilter) apply(raw json.RawMessage) json.RawMessage {
	if len(sf.includes) == 0 && len(sf.excludes) == 0 {
		return raw
	}
	if out, ok := sf.filterRaw(raw); ok {
		return out
	}
	doc, err := decodeSource(raw)
	if err != nil {
		return raw
	}
	out, _ := json.Marshal(sf.filterObject("", doc))
	return out
}

// filterRaw copies what the filter keeps from a stored source in one walk
// over its bytes, kept values as they were written (Elasticsearch re-writes
// them, the same JSON in another spelling); a search asking for a few
// fields of hundreds of logs would otherwise decode and encode each whole
// log.
// ok is false where it leaves the work to filterObject: arrays that must be
// filtered inside, and anything malformed.
func (sf sourceFilter) filterRaw(raw []byte) (out []byte, ok bool) {
	p := jsonParser{data: raw}
	p.skipSpace()
	if p.pos >= len(raw) || raw[p.pos] != '{' {
		return nil, false
	}
	out, _, ok = sf.filterRawObject(&p, "", make([]byte, 0, len(raw)))
	return out, ok
}

// filterRawObject appends the kept members of the object at p.pos to out
// and reports whether it kept any.
func (sf sourceFilter) filterRawObject(p *jsonParser, prefix string, out []byte) (_ []byte, kept, ok bool) {
	p.pos++ // {
	out = append(out, '{')
	for {
		p.skipSpace()
		if p.pos >= len(p.data) {
			return out, false, false
		}
		switch p.data[p.pos] {
		case '}':
			p.pos++
			return append(out, '}'), kept, true
		case ',':
			p.pos++
			continue
		case '"':
		default:
			return out, false, false
		}
		keyStart := p.pos
		key, err := p.key()
		if err != nil {
			return out, false, false
		}
		member := p.data[keyStart:p.pos]
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return out, false, false
		}
		p.pos++
		p.skipSpace()
		if p.pos >= len(p.data) {
			return out, false, false
		}
		path := joinPath(prefix, key)
		valStart := p.pos
		verbatim := func() bool {
			if !p.skipValue() {
				return false
			}
			if kept {
				out = append(out, ',')
			}
			out = append(append(append(out, member...), ':'), p.data[valStart:p.pos]...)
			kept = true
			return true
		}
		if matchesAny(sf.excludes, path) {
			if !p.skipValue() {
				return out, false, false
			}
			continue
		}
		full := len(sf.includes) == 0 || matchesAny(sf.includes, path)
		switch c := p.data[p.pos]; {
		case (c == '{' || c == '[') && full && len(sf.excludes) == 0:
			ok = verbatim()
		case c == '{' && (full || sf.mayIncludeBelow(path)):
			inner := sourceFilter{excludes: sf.excludes}
			if !full {
				inner.includes = sf.includes
			}
			mark := len(out)
			if kept {
				out = append(out, ',')
			}
			out = append(append(out, member...), ':')
			var sub bool
			if out, sub, ok = inner.filterRawObject(p, path, out); ok {
				if sub || full {
					kept = true
				} else {
					out = out[:mark]
				}
			}
		case c == '[' && (full || sf.mayIncludeBelow(path)):
			return out, false, false // objects inside are filtered one by one
		case full && c != '{' && c != '[':
			ok = verbatim()
		default:
			ok = p.skipValue()
		}
		if !ok {
			return out, false, false
		}
	}
}
