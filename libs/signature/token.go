package signature

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Wildcard marks a masked, variable part of a template.
const Wildcard = "<*>"

// idLength is the number of hex characters kept from the template's SHA-256:
// 64 bits, so collisions stay negligible for any realistic number of templates.
const idLength = 16

// tokenKind tells how a token takes part in grouping.
type tokenKind uint8

const (
	// kindWord is text that may be constant or, with enough evidence, variable.
	kindWord tokenKind = iota
	// kindPunct is a delimiter split off a word ("=", ":", "(", ...).
	kindPunct
	// kindVar is a masked variable.
	kindVar
	// kindUnit is a unit right after a variable ("16.0 KB"); its value may
	// change inside one event, so it never separates groups.
	kindUnit
)

// token is one piece of a tokenised message.
type token struct {
	text  string
	kind  tokenKind
	space bool // whitespace came before it in the message
}

// Characters peeled off the ends of a whitespace-separated field before the
// field is judged, so "(5)" and "[client" keep their brackets as constants.
const (
	leadingPunct  = "([{\"'<:"
	trailingPunct = ")]}\"'>,;:.!?"
	// splitPunct separates the parts of a field; "=" and ":" split key=value
	// and host:port, brackets split call(arg).
	splitPunct = "=,:;()[]{}\"'|"
)

// isUnit reports a unit that may follow a number and vary with it (sizes,
// durations); it is kept in a template when constant and folded into the
// variable otherwise.
func isUnit(s string) bool {
	switch s {
	case "B", "KB", "MB", "GB", "TB", "kB", "KiB", "MiB", "GiB", "TiB",
		"ns", "us", "µs", "ms", "s", "sec", "secs", "seconds", "min", "mins", "minutes":
		return true
	}
	return false
}

// Template masks the variable parts of one message and returns its template.
// It keeps no state: the same message always gives the same template.
func Template(msg string) string {
	return render(tokenize(msg, nil))
}

// TemplateID derives a signature id from a template's text: the first 16 hex
// characters of its SHA-256, so equal templates get equal ids in every run.
func TemplateID(template string) string {
	sum := sha256.Sum256([]byte(template))
	return hex.EncodeToString(sum[:])[:idLength]
}

// render writes tokens back as text, keeping the message's spacing and
// writing one wildcard for a run of variables.
func render(toks []token) string {
	var b strings.Builder
	lastVar := false
	for i, t := range toks {
		isVar := t.kind == kindVar
		if isVar && lastVar {
			continue
		}
		if i > 0 && t.space {
			b.WriteByte(' ')
		}
		if isVar {
			b.WriteString(Wildcard)
		} else {
			b.WriteString(t.text)
		}
		lastVar = isVar
	}
	return b.String()
}

// tokenize splits msg into tokens, masking variables, and appends them to dst.
// Runs of variables collapse into one, so "a 1 2 3 b" and "a 1 b" match.
func tokenize(msg string, dst []token) []token {
	start := len(dst)
	space := false
	for len(msg) > 0 {
		r, size := utf8.DecodeRuneInString(msg)
		if unicode.IsSpace(r) {
			space = true
			msg = msg[size:]
			continue
		}
		end := strings.IndexFunc(msg, unicode.IsSpace)
		if end < 0 {
			end = len(msg)
		}
		dst = appendField(dst, msg[:end], space && len(dst) > start)
		space = false
		msg = msg[end:]
	}
	return markUnitsAndCollapse(dst, start)
}

// markUnitsAndCollapse turns a unit word after a variable into kindUnit and
// merges adjacent variables and comma-separated lists of variables
// ("[1,2,3]", "(3, 1)"), in place, for the tokens from start on, so lists of
// any length give one template.
func markUnitsAndCollapse(toks []token, start int) []token {
	out := toks[:start]
	for _, t := range toks[start:] {
		n := len(out) - start
		prevVar := n > 0 && out[len(out)-1].kind == kindVar
		if t.kind == kindVar && prevVar {
			continue
		}
		if t.kind == kindVar && n > 1 && out[len(out)-1].text == "," && out[len(out)-2].kind == kindVar {
			out = out[:len(out)-1]
			continue
		}
		if t.kind == kindWord && prevVar && isUnit(t.text) {
			t.kind = kindUnit
		}
		out = append(out, t)
	}
	return out
}

// appendField tokenises one whitespace-separated field.
func appendField(dst []token, field string, space bool) []token {
	i := 0
	for i < len(field) && strings.IndexByte(leadingPunct, field[i]) >= 0 {
		i++
	}
	j := len(field)
	for j > i && strings.IndexByte(trailingPunct, field[j-1]) >= 0 {
		j--
	}
	for k := 0; k < i; k++ {
		dst = append(dst, token{text: field[k : k+1], kind: kindPunct, space: space && k == 0})
	}
	coreSpace := space && i == 0
	if core := field[i:j]; core != "" {
		dst = appendCore(dst, core, coreSpace)
	}
	for k := j; k < len(field); k++ {
		dst = append(dst, token{text: field[k : k+1], kind: kindPunct, space: space && k == 0})
	}
	return dst
}

// appendCore tokenises a field without its outer punctuation. A core that is
// variable as a whole (URL, path, MAC address, ...) or whose parts are all
// variable (an IP and port, a timestamp) becomes one variable.
func appendCore(dst []token, core string, space bool) []token {
	if wholeVariable(core) {
		return append(dst, token{text: Wildcard, kind: kindVar, space: space})
	}
	// The parts go into dst's spare capacity: kept, they are already in
	// place; replaced by one variable, they are overwritten.
	parts := splitCore(core, dst[len(dst):])
	allVar := true
	for _, p := range parts {
		if p.kind == kindWord {
			allVar = false
			break
		}
	}
	if allVar && len(parts) > 0 && hasKind(parts, kindVar) {
		return append(dst, token{text: Wildcard, kind: kindVar, space: space})
	}
	if len(parts) > 0 {
		parts[0].space = space
	}
	return append(dst, parts...)
}

func hasKind(toks []token, k tokenKind) bool {
	for _, t := range toks {
		if t.kind == k {
			return true
		}
	}
	return false
}

// splitCore splits a core at delimiters, runs of dots ("depth......0"), and
// where Japanese or Chinese text meets Latin text, which share no spaces.
func splitCore(core string, dst []token) []token {
	pieceStart := 0
	emitPiece := func(end int) {
		if end > pieceStart {
			p := core[pieceStart:end]
			kind := kindWord
			if pieceVariable(p) {
				kind = kindVar
			}
			dst = append(dst, token{text: p, kind: kind})
		}
	}
	prevWide := false
	for i := 0; i < len(core); {
		r, size := utf8.DecodeRuneInString(core[i:])
		switch {
		case r < utf8.RuneSelf && strings.IndexByte(splitPunct, byte(r)) >= 0:
			emitPiece(i)
			dst = append(dst, token{text: core[i : i+1], kind: kindPunct})
			pieceStart = i + 1
		case r == '.' && i+1 < len(core) && core[i+1] == '.':
			emitPiece(i)
			end := i
			for end < len(core) && core[end] == '.' {
				end++
			}
			dst = append(dst, token{text: core[i:end], kind: kindPunct})
			pieceStart = end
			i = end
			continue
		case r >= utf8.RuneSelf && (unicode.IsPunct(r) || unicode.IsSymbol(r)):
			emitPiece(i)
			dst = append(dst, token{text: core[i : i+size], kind: kindPunct})
			pieceStart = i + size
		default:
			wide := isWide(r)
			if i > pieceStart && wide != prevWide {
				emitPiece(i)
				pieceStart = i
			}
			prevWide = wide
		}
		i += size
	}
	emitPiece(len(core))
	return dst
}

// isWide reports whether r belongs to a script written without spaces.
func isWide(r rune) bool {
	return r >= 0x2E80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r) || r == 'ー')
}

// wholeVariable reports a field core that is a variable even though splitting
// it at ":" or "=" would leave word-like parts: URLs, absolute or relative
// paths, e-mail addresses and colon-separated hex (MAC addresses).
func wholeVariable(core string) bool {
	if strings.Contains(core, "://") {
		return true
	}
	if isPath(core) || isEmail(core) || isHexGroups(core) {
		return true
	}
	return false
}

// pieceVariable reports a part of a field that varies between occurrences of
// one event: anything with a digit (counts, ids, versions, durations, hex),
// except error codes, which name the failure; the demo world's device ids,
// whose hex may lack digits; long hex strings; paths and addresses.
func pieceVariable(p string) bool {
	if isErrorCode(p) {
		return false
	}
	for _, r := range p {
		if unicode.IsDigit(r) {
			return true
		}
	}
	return isDeviceID(p) || isLongHex(p) || wholeVariable(p)
}

// isPath reports a file-system path ("/var/log/1", "./run-2", "~/x9") with a
// digit in it. Paths without digits ("/api/orders") usually name what failed,
// so they stay constant unless a batch shows many of them in one place.
func isPath(s string) bool {
	for _, prefix := range []string{"/", "./", "../", "~/"} {
		if strings.HasPrefix(s, prefix) && len(s) > len(prefix) {
			return strings.ContainsAny(s, "0123456789")
		}
	}
	return false
}

// isEmail reports name@domain.tld; e-mail addresses are personal data and
// never part of an event's identity.
func isEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && strings.IndexByte(s[at+1:], '.') > 0 && !strings.HasSuffix(s, ".")
}

// isHexGroups reports at least three two-digit hex groups joined by ":" or
// "-", such as a MAC address, whose letters-only groups would otherwise pass
// for words.
func isHexGroups(s string) bool {
	if len(s) < 8 || (len(s)+1)%3 != 0 {
		return false
	}
	sep := s[2]
	if sep != ':' && sep != '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i%3 == 2 {
			if s[i] != sep {
				return false
			}
		} else if !isHexByte(s[i]) {
			return false
		}
	}
	return true
}

// isErrorCode reports an error code such as ORD-5002 or MENU-3003: an
// uppercase component prefix, a dash and four digits.
func isErrorCode(s string) bool {
	dash := strings.IndexByte(s, '-')
	if dash < 2 || dash > 8 || len(s)-dash-1 != 4 {
		return false
	}
	for i := 0; i < dash; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	for i := dash + 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isDeviceID reports the demo world's device ids, tab-1a2b3c and prn-9f00aa.
func isDeviceID(s string) bool {
	if len(s) != 10 || (!strings.HasPrefix(s, "tab-") && !strings.HasPrefix(s, "prn-")) {
		return false
	}
	for i := 4; i < len(s); i++ {
		if !isHexByte(s[i]) {
			return false
		}
	}
	return true
}

// isLongHex reports a hex string of at least eight characters (hashes, trace
// ids), which reads as a variable even when it happens to hold no digits.
func isLongHex(s string) bool {
	if len(s) < 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHexByte(s[i]) {
			return false
		}
	}
	return true
}

func isHexByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
