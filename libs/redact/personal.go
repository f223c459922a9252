package redact

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Personal data is found in two steps: a loose scan proposes candidates
// and Go code decides, because what separates a phone number from a
// timestamp, an order id or a version is context (the character before,
// digit counts, consistent separators) that a regular expression in RE2
// cannot look at. Both steps read digits in ASCII and full width (０-９),
// which Japanese customers type as often as ASCII.

// emailDomainRE is the part of an e-mail address after its @.
var emailDomainRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}\b`)

// appendEmails adds e-mail addresses (ASCII local part, so Japanese text
// right before one stays: 連絡先はtaro@example.jp).
func appendEmails(spans []span, s string) []span {
	for off := 0; ; {
		i := strings.IndexByte(s[off:], '@')
		if i < 0 {
			return spans
		}
		at := off + i
		off = at + 1
		start := at
		for start > 0 && isLocalPart(s[start-1]) {
			start--
		}
		if start == at {
			continue
		}
		if m := emailDomainRE.FindStringIndex(s[at+1:]); m != nil {
			spans = append(spans, span{start: start, end: at + 1 + m[1], kind: KindEmail})
			off = at + 1 + m[1]
		}
	}
}

func isLocalPart(c byte) bool {
	return isASCIIWord(rune(c)) || strings.IndexByte(".%+-", c) >= 0
}

// digitGroups is a run of digit groups and the separators between them,
// as nextDigitRun found it.
type digitGroups struct {
	start, end []int    // byte offsets of each group in the text
	digits     []string // each group's digits in ASCII
	seps       []string // seps[i] lies between group i and i+1
}

// groupDigits splits s[from:to], a candidate made of digit runs and
// separators, into groups.
func groupDigits(s string, from, to int) digitGroups {
	var g digitGroups
	var cur strings.Builder
	inGroup := false
	sepStart := from
	for i, c := range s[from:to] {
		i += from
		if d, ok := digitValue(c); ok {
			if !inGroup {
				if len(g.start) > 0 {
					g.seps = append(g.seps, s[sepStart:i])
				}
				g.start = append(g.start, i)
				cur.Reset()
				inGroup = true
			}
			cur.WriteByte(byte('0' + d))
			continue
		}
		if inGroup {
			g.end = append(g.end, i)
			g.digits = append(g.digits, cur.String())
			inGroup = false
			sepStart = i
		}
	}
	if inGroup {
		g.end = append(g.end, to)
		g.digits = append(g.digits, cur.String())
	}
	return g
}

// isPhoneSep: separators between the digit groups of a phone number:
// ASCII space, tab, dot, slash and hyphen, parentheses, their full-width
// forms, the dashes Japanese input methods produce, and the katakana
// long-vowel mark typed by mistake for a hyphen (090ー1234ー5678).
func isPhoneSep(c rune) bool {
	switch c {
	case ' ', '\t', '.', '-', '/', '(', ')', '\u2010', '\u2011', '\u2012', '\u2013', '\u2212', '\uFF0D', '\u30FC', '\uFF08', '\uFF09', '\u3000':
		return true
	}
	return false
}

func isCardSep(c rune) bool { return c == ' ' || c == '-' || c == '\uFF0D' }

// nextDigitRun finds, from pos, the next run of digit groups joined by at
// most maxSep separator runes each: what a phone or card number could be.
// A run is cheaper to find by hand than with a regular expression starting
// with a character class.
func nextDigitRun(s string, pos int, isSep func(rune) bool, maxSep int) (start, end int, ok bool) {
	start = -1
	for i := pos; i < len(s); i++ {
		c := s[i]
		if '0' <= c && c <= '9' || c == 0xEF && i+2 < len(s) && s[i+1] == 0xBC && 0x90 <= s[i+2] && s[i+2] <= 0x99 {
			start = i
			break
		}
	}
	if start < 0 {
		return 0, 0, false
	}
	end = start
	for {
		// Digits.
		for end < len(s) {
			c, n := utf8.DecodeRuneInString(s[end:])
			if _, ok := digitValue(c); !ok {
				break
			}
			end += n
		}
		// Separators, kept only if a digit follows.
		j, k := end, 0
		for j < len(s) && k < maxSep {
			c, n := utf8.DecodeRuneInString(s[j:])
			if !isSep(c) {
				break
			}
			j += n
			k++
		}
		if k == 0 || j == len(s) {
			return start, end, true
		}
		if c, _ := utf8.DecodeRuneInString(s[j:]); !isDigit(c) {
			return start, end, true
		}
		end = j
	}
}

// appendPhones adds phone numbers: international (+81 90-1234-5678,
// +1 (415) 555-0132), Japanese and European domestic numbers with a leading
// 0 (090-1234-5678, 03(1234)5678, 0120-123-456, 020 7946 0958,
// 06.12.34.56.78) and North American ones ((415) 555-0132, 415-555-0132).
// A candidate that fails every form is retried from its second group, so
// "id-12 090-1234-5678" still loses the phone number.
func appendPhones(spans []span, s string) []span {
	for pos := 0; pos < len(s); {
		start, end, ok := nextDigitRun(s, pos, isPhoneSep, 2)
		if !ok {
			break
		}
		g := groupDigits(s, start, end)
		if c, n := utf8.DecodeLastRuneInString(s[:start]); c == '+' || c == '＋' {
			start -= n
		}
		if from, to, ok := phoneIn(s, start, g); ok {
			spans = append(spans, span{start: from, end: to, kind: KindPhone})
			pos = to
			continue
		}
		pos = g.end[0]
	}
	return spans
}

// phoneIn returns the phone number at the start of candidate g, which
// begins at start (at its + sign, if any).
func phoneIn(s string, start int, g digitGroups) (from, to int, ok bool) {
	if !leftOK(s, start) {
		return 0, 0, false
	}
	if c, _ := utf8.DecodeRuneInString(s[start:]); c == '+' || c == '＋' {
		to = intlEnd(s, g)
		return start, to, to > 0
	}
	// An opening parenthesis just before the first group belongs to the
	// number when a closing one follows that group: (03)1234-5678.
	from = start
	if len(g.seps) > 0 && strings.ContainsAny(g.seps[0], ")）") {
		if c, n := utf8.DecodeLastRuneInString(s[:start]); c == '(' || c == '（' {
			from = start - n
			if !leftOK(s, from) {
				return 0, 0, false
			}
		}
	}
	if g.digits[0][0] == '0' {
		to = domesticEnd(s, g)
	} else {
		to = nanpEnd(s, g)
	}
	return from, to, to > 0
}

// intlEnd returns where a number written with its country code ends: the
// longest run of groups with 8–15 digits (E.164), so trailing numbers
// after a space stay.
func intlEnd(s string, g digitGroups) int {
	if g.digits[0][0] == '0' {
		return 0
	}
	best, n := 0, 0
	for k := range g.digits {
		if k > 0 {
			if _, _, ok := sepClass(g.seps[k-1]); !ok || strings.Contains(g.seps[k-1], "/") {
				break
			}
		}
		n += len(g.digits[k])
		if n > 15 {
			break
		}
		if n >= 8 && len(g.digits[k]) >= 2 && rightOK(s, g.end[k]) {
			best = g.end[k]
		}
	}
	return best
}

// domesticEnd returns where a national number with a trunk 0 ends:
// 9–12 digits, a second digit other than 0 (so zero-padded ids stay), one
// kind of separator throughout apart from parentheses, at least two groups
// unless it is a Japanese mobile number written without separators
// (09012345678).
func domesticEnd(s string, g digitGroups) int {
	all := g.digits[0]
	if len(all) > 1 && all[1] == '0' {
		return 0
	}
	if len(g.digits) == 1 {
		if len(all) == 11 && all[2] == '0' && strings.ContainsRune("5789", rune(all[1])) && rightOK(s, g.end[0]) {
			return g.end[0]
		}
		return 0
	}
	if len(all) < 2 || len(all) > 5 {
		return 0
	}
	best, n := 0, len(all)
	var kind rune
	for k := 1; k < len(g.digits); k++ {
		c, paren, ok := sepClass(g.seps[k-1])
		if !ok {
			break
		}
		if !paren {
			if kind == 0 {
				kind = c
			} else if c != kind {
				break
			}
		}
		d := g.digits[k]
		if len(d) > 8 {
			break
		}
		n += len(d)
		if n > 12 {
			break
		}
		if n >= 9 && len(d) >= 2 && rightOK(s, g.end[k]) {
			best = g.end[k]
		}
	}
	return best
}

// nanpEnd returns where a North American number ends: [1-]NXX-NXX-XXXX
// with hyphens or dots throughout, or (NXX) NXX-XXXX. Spaces alone are not
// enough ("512 256 1024" in a log line is three sizes).
func nanpEnd(s string, g digitGroups) int {
	o := 0
	if g.digits[0] == "1" && len(g.digits) >= 4 {
		o = 1
	}
	if len(g.digits) < o+3 {
		return 0
	}
	area, exch, line := g.digits[o], g.digits[o+1], g.digits[o+2]
	if len(area) != 3 || len(exch) != 3 || len(line) != 4 || area[0] < '2' || exch[0] < '2' {
		return 0
	}
	s1, s2 := g.seps[o], g.seps[o+1]
	c2, _, ok := sepClass(s2)
	if !ok {
		return 0
	}
	switch {
	case o == 0 && (s1 == ")" || s1 == ") "):
		if c2 != '-' && c2 != '.' && c2 != ' ' {
			return 0
		}
	case s1 == s2 && (s1 == "-" || s1 == "."):
		if o == 1 && g.seps[0] != s1 {
			return 0
		}
	default:
		return 0
	}
	if !rightOK(s, g.end[o+2]) {
		return 0
	}
	return g.end[o+2]
}

// sepClass reads a separator between digit groups: its character (dash
// look-alikes as '-', wide and tab spaces as ' '), or paren when it holds a
// parenthesis (then only spaces may surround it).
func sepClass(sep string) (c rune, paren bool, ok bool) {
	if strings.ContainsAny(sep, "()（）") {
		return 0, true, strings.Trim(sep, " ()（）\u3000") == ""
	}
	c, n := utf8.DecodeRuneInString(sep)
	if n != len(sep) {
		return 0, false, false
	}
	switch c {
	case '\u2010', '\u2011', '\u2012', '\u2013', '\u2212', '\uFF0D', '\u30FC':
		c = '-'
	case '\t', '\u3000':
		c = ' '
	}
	return c, false, true
}

// leftOK reports whether a number may start at i: not glued to a word, an
// id (ord_…, PAY-…), a decimal or a path.
func leftOK(s string, i int) bool {
	if i == 0 {
		return true
	}
	c, _ := utf8.DecodeLastRuneInString(s[:i])
	if isASCIIWord(c) || isWideDigit(c) {
		return false
	}
	return !strings.ContainsRune(".-/+\\", c)
}

// rightOK reports whether a number may end at i: not glued to a word, and
// not continued by a separator and more digits (a longer id, a date, a
// version, a time).
func rightOK(s string, i int) bool {
	if i == len(s) {
		return true
	}
	c, n := utf8.DecodeRuneInString(s[i:])
	if isASCIIWord(c) || isWideDigit(c) {
		return false
	}
	if strings.ContainsRune(".-/:", c) || c == '\u2212' || c == '\uFF0D' {
		next, _ := utf8.DecodeRuneInString(s[i+n:])
		if _, ok := digitValue(next); ok {
			return false
		}
	}
	return true
}

// appendCards adds payment card numbers: 13–19 digits, ungrouped or in
// groups of 3–6 after a first group of 4 with one kind of separator, whose
// first digit is one the card networks use (2–6: Mastercard, Amex, JCB,
// Diners, Visa, Discover, UnionPay) and which pass the Luhn check. The
// first-digit rule keeps millisecond timestamps (1733…) that happen to pass
// Luhn, as one in ten do.
func appendCards(spans []span, s string) []span {
	for pos := 0; pos < len(s); {
		start, end, ok := nextDigitRun(s, pos, isCardSep, 1)
		if !ok {
			break
		}
		g := groupDigits(s, start, end)
		if to := cardEnd(s, start, g); to > 0 {
			spans = append(spans, span{start: start, end: to, kind: KindCard})
			pos = to
			continue
		}
		pos = g.end[0]
	}
	return spans
}

func cardEnd(s string, start int, g digitGroups) int {
	if !leftOK(s, start) || g.digits[0][0] < '2' || g.digits[0][0] > '6' {
		return 0
	}
	first := g.digits[0]
	if len(first) >= 13 {
		if len(first) <= 19 && luhn(first) && rightOK(s, g.end[0]) {
			return g.end[0]
		}
		return 0
	}
	if len(first) != 4 {
		return 0
	}
	best := 0
	all := first
	for k := 1; k < len(g.digits); k++ {
		c, _, _ := sepClass(g.seps[k-1])
		c0, _, _ := sepClass(g.seps[0])
		if c != c0 || len(g.digits[k]) < 3 || len(g.digits[k]) > 6 {
			break
		}
		all += g.digits[k]
		if len(all) > 19 {
			break
		}
		if len(all) >= 13 && luhn(all) && rightOK(s, g.end[k]) {
			best = g.end[k]
		}
	}
	return best
}

// luhn reports whether the ASCII digits in d pass the Luhn check.
func luhn(d string) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

// appendIPs adds IPv4 and IPv6 addresses, except the loopback and
// unspecified ones, which identify nobody and help reading a log. Private
// addresses go: they map a customer's network. Candidates are maximal runs
// of the characters an address is made of, found by hand; netip decides for
// IPv6, so times (02:22:04) and MAC addresses stay.
func appendIPs(spans []span, s string) []span {
	inRun := func(c byte) bool { return isHex(c) || c == ':' || c == '.' }
	for i := 0; i < len(s); {
		if !inRun(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && inRun(s[j]) {
			j++
		}
		if end := ipv6End(s, i, j); end > 0 {
			spans = append(spans, span{start: i, end: end, kind: KindIP})
		} else {
			spans = appendIPv4s(spans, s, i, j)
		}
		i = j
	}
	return spans
}

// appendIPv4s adds the IPv4 addresses in the run s[i:j]: the parts between
// its colons made of digits and dots, so that 10.0.0.5:8080, addr:10.0.0.5
// and "from 10.0.0.5." all count.
func appendIPv4s(spans []span, s string, i, j int) []span {
	for a := i; a < j; {
		b := a
		for b < j && s[b] != ':' {
			b++
		}
		end := a + len(strings.TrimRight(s[a:b], "."))
		if end > a && strings.Trim(s[a:end], "0123456789.") == "" && ipv4LeftOK(s, a) && ipv4RightOK(s, end) {
			if addr, err := netip.ParseAddr(canonicalIP(s[a:end])); err == nil && addr.Is4() && !addr.IsLoopback() && !addr.IsUnspecified() {
				spans = append(spans, span{start: a, end: end, kind: KindIP})
			}
		}
		a = b + 1
	}
	return spans
}

// ipv6End returns where the IPv6 address in the run s[i:j] ends, less a
// colon or dots after it ("on 2001:db8::1: refused"), or 0.
func ipv6End(s string, i, j int) int {
	end := j
	for end > i && (s[end-1] == '.' || s[end-1] == ':' && !strings.HasSuffix(s[i:end], "::")) {
		end--
	}
	if strings.Count(s[i:end], ":") < 2 || !ipv6LeftOK(s, i) || end < len(s) && isASCIIWord(rune(s[end])) {
		return 0
	}
	a, err := netip.ParseAddr(s[i:end])
	if err != nil || !a.Is6() || a.IsLoopback() || a.IsUnspecified() {
		return 0
	}
	return end
}

// ipv6LeftOK: an address is not part of a longer dotted or
// colon-separated word (std::io).
func ipv6LeftOK(s string, i int) bool {
	if i == 0 {
		return true
	}
	c := rune(s[i-1])
	return !isASCIIWord(c) && c != '.' && c != ':'
}

// ipv4LeftOK: an address is not the end of a longer dotted word (v1.2.3.4,
// 10.1.2.3.4).
func ipv4LeftOK(s string, i int) bool {
	if i == 0 {
		return true
	}
	c := rune(s[i-1])
	return !isASCIIWord(c) && c != '.'
}

// ipv4RightOK: an address may be followed by a port (10.0.0.5:8080) but not
// by more of a dotted word.
func ipv4RightOK(s string, i int) bool {
	if i == len(s) {
		return true
	}
	if isASCIIWord(rune(s[i])) {
		return false
	}
	return s[i] != '.' || i+1 == len(s) || !isASCIIWord(rune(s[i+1]))
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c rune) bool {
	_, ok := digitValue(c)
	return ok
}

// canonicalIP writes an address one way: IPv4 without leading zeros, IPv6
// as netip prints it.
func canonicalIP(v string) string {
	if strings.Contains(v, ":") {
		if a, err := netip.ParseAddr(v); err == nil {
			return a.String()
		}
		return strings.ToLower(v)
	}
	parts := strings.Split(v, ".")
	for i, p := range parts {
		if n, err := strconv.Atoi(p); err == nil {
			parts[i] = strconv.Itoa(n)
		}
	}
	return strings.Join(parts, ".")
}

func digitValue(c rune) (int, bool) {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0'), true
	case '０' <= c && c <= '９':
		return int(c - '０'), true
	}
	return 0, false
}

func isWideDigit(c rune) bool { return '０' <= c && c <= '９' }

// isASCIIWord is Go's \b notion of a word character.
func isASCIIWord(c rune) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
