package esdev

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The standard analyzer of Elasticsearch is Lucene's StandardTokenizer (word
// boundaries from Unicode UAX #29) followed by a lower-case filter. The
// tokenizer below implements the subset of UAX #29 that decides tokens for
// the text this product sees (Latin, digits, identifiers, Japanese):
//
//   - letters and digits join into one token, also across '_' (so
//     "ord_2611221053" stays whole) and across '.', ':' or '\'' between
//     letters ("e.g", "can't") or '.', ',' between digits ("4.12.3");
//   - '-', '/', '@', whitespace and other punctuation break tokens, so
//     "rst-0042" becomes "rst" and "0042";
//   - every Han ideograph and every hiragana is a token of its own, while a
//     run of katakana stays one token ("プリンター"), exactly as Lucene's
//     IDEOGRAPHIC, HIRAGANA and KATAKANA token types do.
//
// Emoji and dictionary-based South-East Asian segmentation are not modelled.

// maxTokenLength is the standard tokenizer's default max_token_length:
// longer runs are split at this many characters.
const maxTokenLength = 255

type wordClass uint8

const (
	wcOther wordClass = iota
	wcLetter
	wcNumeric
	wcKatakana
	wcHan
	wcHiragana
	wcExtendNumLet // '_' and other connector punctuation
	wcMidLetter    // ':' and similar: join letters only
	wcMidNum       // ',' ';': join digits only
	wcMidNumLet    // '.' and similar: join letters or digits
	wcSingleQuote  // '\'': joins letters and digits
	wcExtend       // combining marks and format characters: stick to the previous character
)

// asciiClass is built once; it is an immutable table.
var asciiClass = func() [128]wordClass {
	var t [128]wordClass
	for c := 'a'; c <= 'z'; c++ {
		t[c] = wcLetter
		t[c-'a'+'A'] = wcLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = wcNumeric
	}
	t['_'] = wcExtendNumLet
	t[':'] = wcMidLetter
	t[','] = wcMidNum
	t[';'] = wcMidNum
	t['.'] = wcMidNumLet
	t['\''] = wcSingleQuote
	return t
}()

func classify(r rune) wordClass {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	switch r {
	case 0x00B7, 0x0387, 0x05F4, 0x2027, 0xFE13, 0xFE55, 0xFF1A:
		return wcMidLetter
	case 0x037E, 0x0589, 0x060C, 0x060D, 0x066C, 0x07F8, 0x2044, 0xFE10, 0xFE14, 0xFE50, 0xFE54, 0xFF0C, 0xFF1B:
		return wcMidNum
	case 0x2018, 0x2019, 0x2024, 0xFE52, 0xFF07, 0xFF0E:
		return wcMidNumLet
	case 0x30FC, 0xFF70, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x309B, 0x309C, 0x30A0:
		// Prolonged sound mark and kana iteration marks belong to katakana words.
		return wcKatakana
	case 0x200C, 0x200D:
		return wcExtend
	case 0x200B:
		return wcOther
	}
	switch {
	case unicode.Is(unicode.Katakana, r):
		return wcKatakana
	case unicode.Is(unicode.Hiragana, r):
		return wcHiragana
	case unicode.Is(unicode.Han, r):
		return wcHan
	case unicode.IsLetter(r):
		return wcLetter
	case unicode.IsDigit(r):
		return wcNumeric
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc, unicode.Cf):
		return wcExtend
	case unicode.Is(unicode.Pc, r):
		return wcExtendNumLet
	}
	return wcOther
}

// tokenize splits text into standard-analyzer tokens (lower-cased) and calls
// emit with each token and its position.
func tokenize(text string, emit func(token string, pos int)) {
	type unit struct {
		start, end int // byte offsets in text
		class      wordClass
	}
	// Work on a small slice of classified runes; extend/format characters
	// are folded into the preceding unit (UAX #29 rule WB4).
	units := make([]unit, 0, min(len(text), 64))
	for i, r := range text {
		c := classify(r)
		size := utf8.RuneLen(r)
		if size < 0 {
			size = 1
		}
		if c == wcExtend && len(units) > 0 && units[len(units)-1].class != wcOther {
			units[len(units)-1].end = i + size
			continue
		}
		units = append(units, unit{start: i, end: i + size, class: c})
	}
	pos := 0
	out := func(from, to int) {
		tok := text[units[from].start:units[to-1].end]
		for utf8.RuneCountInString(tok) > maxTokenLength {
			cut := 0
			for n := 0; n < maxTokenLength; n++ {
				_, s := utf8.DecodeRuneInString(tok[cut:])
				cut += s
			}
			emit(strings.ToLower(tok[:cut]), pos)
			pos++
			tok = tok[cut:]
		}
		emit(strings.ToLower(tok), pos)
		pos++
	}
	isWordPart := func(c wordClass) bool {
		return c == wcLetter || c == wcNumeric || c == wcExtendNumLet
	}
	for i := 0; i < len(units); {
		switch units[i].class {
		case wcHan, wcHiragana:
			out(i, i+1)
			i++
		case wcKatakana:
			j := i + 1
			for j < len(units) && (units[j].class == wcKatakana || units[j].class == wcExtendNumLet) {
				j++
			}
			out(i, j)
			i = j
		case wcLetter, wcNumeric, wcExtendNumLet:
			j := i + 1
			hasAlnum := units[i].class != wcExtendNumLet
			last := units[i].class
			for j < len(units) {
				next := units[j].class
				if isWordPart(next) {
					hasAlnum = hasAlnum || next != wcExtendNumLet
					last = next
					j++
					continue
				}
				if j+1 < len(units) {
					after := units[j+1].class
					if last == wcLetter && after == wcLetter &&
						(next == wcMidLetter || next == wcMidNumLet || next == wcSingleQuote) {
						j += 2
						continue
					}
					if last == wcNumeric && after == wcNumeric &&
						(next == wcMidNum || next == wcMidNumLet || next == wcSingleQuote) {
						j += 2
						continue
					}
				}
				break
			}
			if hasAlnum {
				out(i, j)
			}
			i = j
		default:
			i++
		}
	}
}

// analyzeText returns the standard-analyzer tokens of text.
func analyzeText(text string) []string {
	var toks []string
	tokenize(text, func(t string, _ int) { toks = append(toks, t) })
	return toks
}
