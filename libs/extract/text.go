package extract

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// field is one piece of ticket text prepared for matching.
type field struct {
	name  string
	index int    // position in an identifiers list
	orig  string // the original text, capped
	// norm is orig folded rune by rune (see foldRune); lower is norm with
	// ASCII letters lower-cased, byte for byte the same length, so offsets
	// agree between them.
	norm, lower string
	// offs[i] is the offset in orig of the rune that produced norm[i];
	// offs[len(norm)] is len(orig). Folding maps one rune to one rune, so a
	// span [s,e) of norm is [offs[s], offs[e]) of orig.
	offs []int32
	// claimed marks bytes of norm already explained by an identifier or a
	// time, so a later, weaker pattern cannot reuse them.
	claimed []bool
	// hint is the kind the form's field gives a bare UUID or hex value.
	hint Kind
	// cuts caches chunks().
	cuts [][2]int
}

// newField caps text at maxBytes (on a rune boundary) and folds it.
func newField(name, text string, maxBytes int, hint Kind) (*field, bool) {
	cut := false
	if len(text) > maxBytes {
		n := maxBytes
		for n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		text, cut = text[:n], true
	}
	norm := make([]byte, 0, len(text))
	offs := make([]int32, 0, len(text)+1)
	for i := 0; i < len(text); {
		r, w := utf8.DecodeRuneInString(text[i:])
		r = foldRune(text, i, r, w)
		n := len(norm)
		norm = utf8.AppendRune(norm, r)
		for range len(norm) - n {
			offs = append(offs, int32(i))
		}
		i += w
	}
	offs = append(offs, int32(len(text)))
	lower := make([]byte, len(norm))
	for i, b := range norm {
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		lower[i] = b
	}
	return &field{
		name:    name,
		orig:    text,
		norm:    string(norm),
		lower:   string(lower),
		offs:    offs,
		claimed: make([]bool, len(norm)),
		hint:    hint,
	}, cut
}

// source maps a span of norm back to the original field.
func (f *field) source(start, end int) Source {
	s, e := int(f.offs[start]), int(f.offs[end])
	return Source{Field: f.name, Index: f.index, Start: s, End: e, Text: f.orig[s:e]}
}

// free reports whether no byte of [start,end) is claimed.
func (f *field) free(start, end int) bool {
	for i := start; i < end; i++ {
		if f.claimed[i] {
			return false
		}
	}
	return true
}

// claim marks [start,end) as explained; it fails when any byte already is.
func (f *field) claim(start, end int) bool {
	if !f.free(start, end) {
		return false
	}
	for i := start; i < end; i++ {
		f.claimed[i] = true
	}
	return true
}

// Fold applies the folding the extractors match on (full-width ASCII, odd
// spaces and hyphens, control characters) so that other matchers, such as
// the router's keywords, read text the same way.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(foldRune(s, i, r, w))
		i += w
	}
	return b.String()
}

// foldRune is the small NFKC-like folding the matchers rely on. Every case
// maps one rune to one rune.
func foldRune(s string, i int, r rune, w int) rune {
	switch {
	case r == utf8.RuneError && w == 1:
		return ' ' // invalid byte
	case r == '\t' || r == '\n' || r == '\r':
		return r
	case r < 0x20 || r == 0x7f || (0x80 <= r && r <= 0x9f):
		return ' ' // control characters separate words, never join them
	case r == 0x3000 || r == 0xa0:
		return ' ' // ideographic and no-break space
	case r == 0x200b || r == 0x200c || r == 0x200d || r == 0x2060 || r == 0xfeff:
		return ' ' // zero-width characters
	case r == 0x30fc: // ー between ASCII letters or digits is a hyphen typed in kana mode
		prev, _ := utf8.DecodeLastRuneInString(s[:i])
		next, _ := utf8.DecodeRuneInString(s[i+w:])
		if isASCIIAlnum(foldSimple(prev)) && isASCIIAlnum(foldSimple(next)) {
			return '-'
		}
		return r
	}
	return foldSimple(r)
}

// foldSimple folds a rune without looking at its neighbours.
func foldSimple(r rune) rune {
	switch {
	case 0xff01 <= r && r <= 0xff5e:
		return r - 0xfee0 // full-width ASCII
	case r == 0x2010 || r == 0x2011 || r == 0x2012 || r == 0x2013 || r == 0x2212:
		return '-' // hyphens, en dash, minus sign
	case r == 0x301c:
		return '~' // wave dash, as in 19時〜20時
	case r == 0x2019:
		return '\'' // typographic apostrophe, as in 7 o’clock
	}
	return r
}

func isASCIIAlnum(r rune) bool {
	return ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
}

// isWordByte is RE2's \w: what an ASCII word boundary looks at.
func isWordByte(b byte) bool {
	return ('0' <= b && b <= '9') || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') || b == '_'
}

// boundedAt reports whether s[start:end] is not glued to ASCII word bytes on
// either side (for patterns RE2's \b cannot express, like "a.m." or "11/21").
func boundedAt(s string, start, end int, extra string) bool {
	glued := func(b byte) bool {
		if isWordByte(b) {
			return true
		}
		for i := 0; i < len(extra); i++ {
			if b == extra[i] {
				return true
			}
		}
		return false
	}
	if start > 0 && glued(s[start-1]) {
		return false
	}
	if end < len(s) && glued(s[end]) {
		return false
	}
	return true
}

// DetectLanguage returns "ja" when text holds kana or kanji, else "en". It
// reads at most the first 64 KiB.
func DetectLanguage(text string) string {
	if len(text) > 64<<10 {
		text = text[:64<<10]
	}
	for _, r := range text {
		if isJapanese(r) {
			return "ja"
		}
	}
	return "en"
}

func detectFields(fs []*field) string {
	for _, f := range fs {
		if DetectLanguage(f.orig) == "ja" {
			return "ja"
		}
	}
	return "en"
}

func isJapanese(r rune) bool {
	return r >= 0x3000 && (unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) ||
		unicode.Is(unicode.Han, r) || r == 0x30fc)
}
