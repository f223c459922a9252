package redact

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

var proseSeeds = []string{
	"@org/team closes #2",
	"Fixes owner/repo#3 and GH-12, see https://github.com/o/r/issues/5",
	"<img src=x onerror=alert(1)> ![](http://x) <!-- triage:fingerprint=abc -->",
	"```\nunclosed\n~~~",
	"&#64;user &#35;1 \\@user \\#1 @\u200buser",
	"# heading\n> quote\n- [x]: http://evil",
	"昨日の夜7時頃から決済ができません。＠山田 ＃１",
	"a ``` b `````````` c",
	"\r\n\r\u2028\x00\xff",
	"@",
	"#",
	"fix#1 close@x RESOLVES:#9",
}

// FuzzCodeBlock: whatever the text, CodeBlock's output is one fenced code
// block holding exactly that text (after the documented line-ending, UTF-8
// and marker changes).
func FuzzCodeBlock(f *testing.F) {
	for _, s := range proseSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkCodeBlock(t, s, CodeBlock(s))
	})
}

// FuzzProse: whatever the text, Inline and Markdown output can neither
// mention, reference, close, embed HTML or an image, nor open a code span.
func FuzzProse(f *testing.F) {
	for _, s := range proseSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkProse(t, s, Inline(s), true)
		checkProse(t, s, Markdown(s), false)
	})
}

// FuzzRedact: Redact is idempotent on any text, its counts match the
// placeholders it added, and gitleaks finds nothing in its output.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"password=hunter2 taro@example.com 090-1234-5678",
		"4111 1111 1111 1111 203.0.113.42 [2001:db8::1]:80 Sakura Dining",
		"Authorization: Bearer abcdefghijklmnop " + fakeToken("gh"+"p_", 36),
		"token=[secret:generic-api-key] [email:3f2a9c01]x@y.co",
		"2026-12-07T19:05:12.345+09:00 ord_2611211905 rst-0042 HTTP 503 4.2.1",
		"さくら食堂090-1234-5678です",
	} {
		f.Add(s)
	}
	r := redactor(f)
	f.Fuzz(func(t *testing.T, s string) {
		once, c := r.Redact(s)
		assertIdempotent(t, r, once)
		before := len(placeholderShape.FindAllString(s, -1))
		if added := len(placeholderShape.FindAllString(once, -1)) - before; c.Total() < added {
			t.Errorf("Redact(%q) = %q: counts %+v, but %d placeholders added", s, once, c, added)
		}
		assertNoLeaks(t, r, once)
	})
}

// checkCodeBlock parses out as CommonMark would: an opening fence of n ≥ 3
// backticks alone on its line, content lines none of which can close it
// (up to three spaces, at least n backticks, then only blanks), and a
// closing fence of the same length as the last line.
func checkCodeBlock(t *testing.T, in, out string) {
	t.Helper()
	want := strings.ToValidUTF8(in, "\uFFFD")
	want = strings.ReplaceAll(strings.ReplaceAll(want, "\r\n", "\n"), "\r", "\n")
	want = strings.ReplaceAll(want, "<!--", "<!"+z+"--")
	if want != "" && !strings.HasSuffix(want, "\n") {
		want += "\n"
	}
	if !strings.HasSuffix(out, "\n") || strings.Contains(out, "\r") {
		t.Fatalf("CodeBlock(%q) = %q: want one block ending in a newline", in, out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 2 {
		t.Fatalf("CodeBlock(%q) = %q: no closing fence", in, out)
	}
	open, close := lines[0], lines[len(lines)-1]
	n := len(open)
	if n < 3 || strings.Trim(open, "`") != "" || close != open {
		t.Fatalf("CodeBlock(%q) = %q: fences %q and %q", in, out, open, close)
	}
	content := lines[1 : len(lines)-1]
	for i, l := range content {
		ind := len(l) - len(strings.TrimLeft(l, " "))
		rest := strings.TrimLeft(l, " ")
		k := len(rest) - len(strings.TrimLeft(rest, "`"))
		if ind <= 3 && k >= n && strings.Trim(rest[k:], " \t") == "" {
			t.Fatalf("CodeBlock(%q) = %q: content line %d closes the fence", in, out, i+1)
		}
	}
	got := strings.Join(content, "\n")
	if len(content) > 0 {
		got += "\n"
	}
	if got != want {
		t.Fatalf("CodeBlock(%q): content %q, want %q", in, got, want)
	}
	if n <= longestRun(got, '`') {
		t.Fatalf("CodeBlock(%q) = %q: fence %d not longer than a run inside", in, out, n)
	}
	if strings.Contains(out, "<!--") {
		t.Fatalf("CodeBlock(%q) = %q holds an HTML comment opening", in, out)
	}
}

var (
	keywordCheck  = regexp.MustCompile(`(?i)\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\b`)
	ghRefCheck    = regexp.MustCompile(`(?i)gh-[0-9]`)
	issueURLCheck = regexp.MustCompile(`(?i)https?://[^\s/]+/[^\s/]+/[^\s/]+/(?:issues|pull|pulls|discussions)/[0-9]`)
)

// checkProse checks what Inline (oneLine) and Markdown promise of out.
func checkProse(t *testing.T, in, out string, oneLine bool) {
	t.Helper()
	fail := func(why string) {
		t.Helper()
		t.Fatalf("from %q got %q: %s", in, out, why)
	}
	if !utf8.ValidString(out) {
		fail("invalid UTF-8")
	}
	if strings.Contains(out, "<") {
		fail("raw < (HTML, comment or autolink)")
	}
	for i := 0; i < len(out); i++ {
		switch out[i] {
		case '@':
			if next, _ := utf8.DecodeRuneInString(out[i+1:]); next == '_' || unicode.IsLetter(next) || unicode.IsDigit(next) {
				fail("bare @ before a word character")
			}
		case '#':
			if next, _ := utf8.DecodeRuneInString(out[i+1:]); unicode.IsDigit(next) {
				fail("# before a digit")
			}
		case '&':
			if !strings.HasPrefix(out[i:], "&amp;") && !strings.HasPrefix(out[i:], "&lt;") {
				fail("& that is not an entity of ours")
			}
		case '`', '[', '~', '$':
			if !escaped(out, i) {
				fail("unescaped " + string(out[i]))
			}
		}
	}
	if keywordCheck.MatchString(out) {
		fail("closing keyword")
	}
	if ghRefCheck.MatchString(out) || issueURLCheck.MatchString(out) {
		fail("issue reference")
	}
	if oneLine && strings.ContainsAny(out, "\n\r\v\f\u0085\u2028\u2029") {
		fail("line break in Inline output")
	}
}

// escaped reports whether out[i] follows an odd number of backslashes.
func escaped(out string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && out[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}
