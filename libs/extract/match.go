package extract

import (
	"regexp"
	"sort"
	"strings"
)

// chunkBytes bounds the text one regular expression runs over at a time. Go's
// regexp uses its fast backtracker only on short inputs (its visited bitmap
// is capped at 256 Kbit) and falls back to the much slower NFA on longer
// ones; cutting a field at line breaks, sentence ends or spaces into chunks
// of about this size keeps 64 KiB of hostile text under a few tens of
// milliseconds. A match across a cut is lost, which only happens inside a
// line longer than chunkBytes.
const chunkBytes = 1024

// pattern is a regular expression with a cheap guard: when the text holds
// none of need, the expression cannot match and is not run.
type pattern struct {
	re   *regexp.Regexp
	need []string
	// guard, when set, replaces need.
	guard func(string) bool
}

func pat(expr string, need ...string) pattern {
	return pattern{re: regexp.MustCompile(expr), need: need}
}

func (p pattern) possible(t string) bool {
	if p.guard != nil {
		return p.guard(t)
	}
	if len(p.need) == 0 {
		return true
	}
	for _, n := range p.need {
		if strings.Contains(t, n) {
			return true
		}
	}
	return false
}

// each calls fn with the submatch indexes (into f.lower) of every match, in
// order.
func (p pattern) each(f *field, fn func(m []int)) {
	if !p.possible(f.lower) {
		return
	}
	for _, c := range f.chunks() {
		for _, m := range p.re.FindAllStringSubmatchIndex(f.lower[c[0]:c[1]], -1) {
			for i := range m {
				if m[i] >= 0 {
					m[i] += c[0]
				}
			}
			fn(m)
		}
	}
}

// chunks cuts f.lower into pieces of at most about chunkBytes, preferring a
// cut after a line break, then after 。 or ". ", then after a space, and
// only then on a rune boundary.
func (f *field) chunks() [][2]int {
	if f.cuts != nil {
		return f.cuts
	}
	t := f.lower
	for start := 0; start < len(t); {
		end := start + chunkBytes
		if end >= len(t) {
			f.cuts = append(f.cuts, [2]int{start, len(t)})
			break
		}
		window := t[start:end]
		cut := -1
		for _, sep := range []string{"\n", "。", ". ", " "} {
			if i := strings.LastIndex(window, sep); i > 0 {
				cut = start + i + len(sep)
				break
			}
		}
		if cut < 0 {
			cut = end
			for cut > start && t[cut]&0xc0 == 0x80 {
				cut--
			}
		}
		f.cuts = append(f.cuts, [2]int{start, cut})
		start = cut
	}
	if f.cuts == nil {
		f.cuts = [][2]int{}
	}
	return f.cuts
}

// hasHexRun reports a run of at least n hex digits: the guard for UUIDs and
// hex ids.
func hasHexRun(n int) func(string) bool {
	return func(t string) bool {
		run := 0
		for i := 0; i < len(t); i++ {
			if isDigit(t[i]) || ('a' <= t[i] && t[i] <= 'f') {
				if run++; run >= n {
					return true
				}
			} else {
				run = 0
			}
		}
		return false
	}
}

// hasDigitRun reports a run of at least n ASCII digits.
func hasDigitRun(n int) func(string) bool {
	return func(t string) bool {
		run := 0
		for i := 0; i < len(t); i++ {
			if isDigit(t[i]) {
				if run++; run >= n {
					return true
				}
			} else {
				run = 0
			}
		}
		return false
	}
}

func guarded(expr string, guard func(string) bool) pattern {
	return pattern{re: regexp.MustCompile(expr), guard: guard}
}

// literalSet finds fixed words: faster than one large RE2 alternation, which
// walks every byte through every alternative.
type literalSet struct {
	words []string
	// wordBounded demands ASCII word boundaries around a match, as \b does.
	wordBounded bool
}

func newLiteralSet(words []string, wordBounded bool) literalSet {
	ws := append([]string(nil), words...)
	sortLongestFirst(ws)
	return literalSet{words: ws, wordBounded: wordBounded}
}

// find returns the leftmost, then longest, non-overlapping matches in t.
func (ls literalSet) find(t string) [][2]int {
	var all [][2]int
	for _, w := range ls.words {
		for from := 0; from < len(t); {
			i := strings.Index(t[from:], w)
			if i < 0 {
				break
			}
			s, e := from+i, from+i+len(w)
			if !ls.wordBounded || boundedAt(t, s, e, "") {
				all = append(all, [2]int{s, e})
			}
			from = s + 1
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i][0] != all[j][0] {
			return all[i][0] < all[j][0]
		}
		return all[i][1] > all[j][1]
	})
	out := all[:0]
	end := 0
	for _, m := range all {
		if m[0] >= end {
			out = append(out, m)
			end = m[1]
		}
	}
	return out
}
