package redact

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// zwsp, the zero-width space, is what stops GitHub from turning "@name"
// into a mention and "#12" into an issue link: its filters run on the
// rendered text, where a backslash escape has already disappeared, but a
// zero-width space is still there and is not a word character. Readers do
// not see it.
const zwsp = "\u200b"

// closingKeywordRE matches GitHub's closing keywords in every tense, at a
// place where one of "clo", "fix", "res" starts a word. Each loses its
// meaning with a zero-width space after its first letter, whatever follows
// it (#N, owner/repo#N, an issue URL, a markdown link).
var closingKeywordRE = regexp.MustCompile(`^(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\b`)

// issueURLRE matches, from its "://", an issue, pull request or discussion
// URL on any host (GitHub Enterprise too), which GitHub renders as
// owner/repo#N and records as a cross-reference in the target's timeline.
var issueURLRE = regexp.MustCompile(`^://[^\s/]+/[^\s/]+/[^\s/]+/(?:issues|pull|pulls|discussions)/[0-9]`)

// lineBreakRE is a line break with the blanks around it, for Inline.
var lineBreakRE = regexp.MustCompile(`[ \t]*(?:\r\n|[\r\n\v\f\x{85}\x{2028}\x{2029}])[\t\n\v\f\r \x{85}\x{2028}\x{2029}]*`)

// CodeBlock puts s, typically log lines, into a fenced code block: GitHub
// shows it verbatim, with no mention, reference, HTML or markdown. The
// fence is one backtick longer than the longest run of backticks in s (and
// at least three), so no line of s can close it. Line endings become "\n"
// (CommonMark also ends lines at a lone "\r"), invalid UTF-8 becomes
// U+FFFD, and every "<!--" gets a zero-width space after "<!" so the text
// cannot contain anything the bugfiler would take for its hidden marker
// when it scans a raw body. The result ends with a newline; place it at the
// start of a line, outside any list or quote.
func CodeBlock(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = normaliseNewlines(s)
	s = strings.ReplaceAll(s, "<!--", "<!"+zwsp+"--")
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	var b strings.Builder
	b.Grow(len(s) + 2*len(fence) + 3)
	b.WriteString(fence)
	b.WriteByte('\n')
	b.WriteString(s)
	if s != "" && !strings.HasSuffix(s, "\n") {
		b.WriteByte('\n')
	}
	b.WriteString(fence)
	b.WriteByte('\n')
	return b.String()
}

// Inline makes s safe inside a line of markdown prose (a title, a table
// cell, a value after a label): line breaks and the blanks around them
// become one space, the text is trimmed, markdown and HTML characters are
// escaped (< and & as entities, so no tag, comment or entity survives), a
// leading list, heading or quote marker is escaped, and mentions, issue
// references and closing keywords are neutralised as in Markdown.
func Inline(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = lineBreakRE.ReplaceAllString(s, " ")
	s = strings.Trim(s, " \t")
	s = neutraliseRefs(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	// A marker at the start would make a list, heading, quote or setext
	// underline wherever the caller puts the text at the start of a line.
	if s != "" && strings.IndexByte("-+=#", s[0]) >= 0 {
		b.WriteByte('\\')
	}
	digitsFirst := len(s) - len(strings.TrimLeft(s, "0123456789"))
	for i, c := range s {
		switch c {
		case '\\', '`', '*', '_', '[', ']', '|', '~', '>', '$':
			b.WriteByte('\\')
			b.WriteRune(c)
		case '.', ')':
			// "1. " or "1) " at the start is an ordered list.
			if i == digitsFirst && i > 0 {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
		default:
			writeCommon(&b, s, i, c)
		}
	}
	return b.String()
}

// Markdown makes multi-line prose from a customer or an engineer safe to
// put into an issue body while keeping its line breaks, paragraphs, lists
// and emphasis: nothing in it can mention anyone (@user, @org/team), link
// an issue (#12, GH-12, owner/repo#12, an issue URL), close one ("fixes
// #12" and every other closing keyword), embed HTML, an image or a link
// with a misleading text ([ and ] are escaped, so bare URLs stay links and
// reference definitions cannot hide a line), open a code fence or span that
// would swallow the rest of the body (backticks and tildes are escaped),
// render math ($), or make a heading or a horizontal rule. "<" and "&" become entities, so the
// raw text holds no "<!--" either. Japanese text passes unchanged. Escapes
// the writer typed are shown as typed. Put the result in a block of its own,
// with blank lines around it. It does not remove secrets: Redact first.
func Markdown(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = normaliseNewlines(s)
	s = neutraliseRefs(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	lineStart := true
	for i, c := range s {
		marker := false
		switch c {
		case '\\', '`', '~', '[', ']', '$':
			b.WriteByte('\\')
			b.WriteRune(c)
		case '#', '=', '-':
			// "# x" is a heading; a line of = or - under text makes that
			// text one (and a line of - is a rule).
			if lineStart && (c == '#' || onlyRune(s[i:], c)) {
				b.WriteByte('\\')
				marker = true
			}
			writeCommon(&b, s, i, c)
		default:
			writeCommon(&b, s, i, c)
		}
		// A heading can also start inside a quote or a list item.
		if c == '\n' {
			lineStart = true
		} else if marker || !strings.ContainsRune(" \t>-*+.)0123456789", c) {
			lineStart = false
		}
	}
	return b.String()
}

// writeCommon writes c, the rune at s[i], with the treatment Inline and
// Markdown share: entities for < and &, and a zero-width space after an @
// that is followed by anything visible and after a # followed by a digit.
func writeCommon(b *strings.Builder, s string, i int, c rune) {
	switch c {
	case '<':
		b.WriteString("&lt;")
	case '&':
		b.WriteString("&amp;")
	case '@':
		b.WriteRune(c)
		next, _ := utf8.DecodeRuneInString(s[i+1:])
		if i+1 < len(s) && !unicode.IsSpace(next) && next != '\u200b' {
			b.WriteString(zwsp)
		}
	case '#':
		b.WriteRune(c)
		if next, _ := utf8.DecodeRuneInString(s[i+1:]); unicode.IsDigit(next) {
			b.WriteString(zwsp)
		}
	default:
		b.WriteRune(c)
	}
}

// neutraliseRefs puts a zero-width space inside every closing keyword
// (after its first letter), after "GH-" before a digit, and before the
// number of an issue, pull request or discussion URL. The # and @ forms are
// handled rune by rune in writeCommon. Like the secret rules, it looks for
// literal words first: Go's regexp would otherwise try every byte.
func neutraliseRefs(s string) string {
	lower := asciiLower(s)
	var at []int
	each := func(word string, fn func(i int)) {
		for off := 0; ; {
			i := strings.Index(lower[off:], word)
			if i < 0 {
				return
			}
			fn(off + i)
			off += i + len(word)
		}
	}
	for _, w := range []string{"clo", "fix", "res"} {
		each(w, func(i int) {
			if (i == 0 || !isASCIIWord(rune(s[i-1]))) && closingKeywordRE.MatchString(lower[i:]) {
				at = append(at, i+1)
			}
		})
	}
	each("gh-", func(i int) {
		if i+3 < len(s) && '0' <= s[i+3] && s[i+3] <= '9' {
			at = append(at, i+3)
		}
	})
	each("://", func(i int) {
		if m := issueURLRE.FindStringIndex(lower[i:]); m != nil && (strings.HasSuffix(lower[:i], "http") || strings.HasSuffix(lower[:i], "https")) {
			at = append(at, i+m[1]-1)
		}
	})
	if len(at) == 0 {
		return s
	}
	slices.Sort(at)
	at = slices.Compact(at)
	var b strings.Builder
	b.Grow(len(s) + len(at)*len(zwsp))
	last := 0
	for _, i := range at {
		b.WriteString(s[last:i])
		b.WriteString(zwsp)
		last = i
	}
	b.WriteString(s[last:])
	return b.String()
}

// onlyRune reports whether the line that starts s holds nothing but c and
// blanks.
func onlyRune(s string, c rune) bool {
	line, _, _ := strings.Cut(s, "\n")
	return strings.Trim(line, string(c)+" \t") == ""
}

func normaliseNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// Plain makes s safe as a plain-text field GitHub still scans for
// mentions and references, such as an issue's title: one line, trimmed,
// with mentions, issue references and closing keywords neutralised, and
// nothing escaped (a title is not markdown; escapes would show).
func Plain(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Trim(lineBreakRE.ReplaceAllString(s, " "), " \t")
	s = neutraliseRefs(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i, c := range s {
		switch c {
		case '@', '#':
			writeCommon(&b, s, i, c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
