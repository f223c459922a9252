package redact

import (
	"strings"
	"testing"
)

const z = "\u200b"

func TestMarkdown(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"team mention", "@org/team please look", "@" + z + "org/team please look"},
		{"user mention", "cc @taro-yamada, thanks", "cc @" + z + "taro-yamada, thanks"},
		{"backslash does not help", `\@user`, `\\@` + z + "user"},
		{"issue reference", "see #12 and owner/repo#3", "see #" + z + "12 and owner/repo#" + z + "3"},
		{"GH reference", "GH-123 and gh-7", "GH-" + z + "123 and gh-" + z + "7"},
		{"closes", "closes #2", "c" + z + "loses #" + z + "2"},
		{"Fixes cross-repo", "Fixes owner/repo#3", "F" + z + "ixes owner/repo#" + z + "3"},
		{"every closing keyword", "close closes closed fix fixes fixed resolve resolves resolved",
			"c" + z + "lose c" + z + "loses c" + z + "losed f" + z + "ix f" + z + "ixes f" + z + "ixed r" + z + "esolve r" + z + "esolves r" + z + "esolved"},
		{"keyword with colon and URL", "RESOLVED: https://github.com/o/r/issues/5",
			"R" + z + "ESOLVED: https://github.com/o/r/issues/" + z + "5"},
		{"pull and enterprise URLs", "https://ghe.example.com/o/r/pull/9 http://github.com/o/r/discussions/4",
			"https://ghe.example.com/o/r/pull/" + z + "9 http://github.com/o/r/discussions/" + z + "4"},
		{"keyword inside a word stays", "prefix suffixes unresolved", "prefix suffixes unresolved"},
		{"img tag", `<img src=x onerror=alert(1)>`, `&lt;img src=x onerror=alert(1)>`},
		{"details", "<details><summary>x</summary>hidden</details>", "&lt;details>&lt;summary>x&lt;/summary>hidden&lt;/details>"},
		{"markdown image", "![](http://x)", `!\[\](http://x)`},
		{"marker forgery", "<!-- triage:fingerprint=abc -->", "&lt;!-- triage:fingerprint=abc -->"},
		{"entity cannot make a mention", "&#64;org/team &#35;12 &lt;b>", "&amp;#" + z + "64;org/team &amp;#" + z + "35;12 &amp;lt;b>"},
		{"unclosed fence", "```\nrest of the body", "\\`\\`\\`\nrest of the body"},
		{"tilde fence", "~~~\nx", "\\~\\~\\~\nx"},
		{"reference definition hides a line", "[x]: http://evil\n[//]: # (hidden)", `\[x\]: http://evil` + "\n" + `\[//\]: #` + " (hidden)"},
		{"heading", "# Big\n  ## also\n> # quoted\n- # listed\nnot # one", "\\# Big\n  \\## also\n> \\# quoted\n- \\# listed\nnot # one"},
		{"setext heading and rule", "Title\n===\ntext\n---\n- item\n-- not a rule", "Title\n\\===\ntext\n\\---\n- item\n-- not a rule"},
		{"math", "$x^2$ and $$", `\$x^2\$ and \$\$`},
		{"line endings", "a\r\nb\rc", "a\nb\nc"},
		{"emphasis and lists stay", "- **bold** _it_\n1. item", "- **bold** _it_\n1. item"},
		{"japanese unchanged", "昨日の夜7時頃から決済ができません。\n至急ご確認をお願いします。", "昨日の夜7時頃から決済ができません。\n至急ご確認をお願いします。"},
		{"bare @ and #", "a @ b # c #x", "a @ b # c #x"},
		{"already neutralised", "@" + z + "user", "@" + z + "user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Markdown(tt.in)
			if got != tt.want {
				t.Errorf("Markdown(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			checkProse(t, tt.in, got, false)
			assertNoLeaks(t, redactor(t), got)
		})
	}
}

func TestInline(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Kitchen printer not printing", "Kitchen printer not printing"},
		{"newlines collapse", "first line\r\n\n  second\tline \u2028third ", "first line second\tline third"},
		{"mention and keyword", "@org/team fixes #4", "@" + z + "org/team f" + z + "ixes #" + z + "4"},
		{"markdown characters", "a*b_c `d` [e](f) |g| ~h~ <i> & $j$ \\k", `a\*b\_c \` + "`" + `d\` + "`" + ` \[e\](f) \|g\| \~h\~ &lt;i\> &amp; \$j\$ \\k`},
		{"leading list marker", "- item", `\- item`},
		{"leading heading", "#1 problem", `\#` + z + "1 problem"},
		{"leading ordered list", "1. first", `1\. first`},
		{"leading quote", "> quoted", `\> quoted`},
		{"image", "![x](http://x)", `!\[x\](http://x)`},
		{"marker", "<!-- triage:fingerprint=abc -->", `&lt;!-- triage:fingerprint=abc --\>`},
		{"japanese unchanged", "決済ができない（PAY-1042）", "決済ができない（PAY-1042）"},
		{"placeholder", "user [email:3f2a9c01] called", `user \[email:3f2a9c01\] called`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Inline(tt.in)
			if got != tt.want {
				t.Errorf("Inline(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			checkProse(t, tt.in, got, true)
			assertNoLeaks(t, redactor(t), got)
		})
	}
}

func TestCodeBlock(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		fence int
	}{
		{"log lines", "2026-12-07T19:05:12Z ERROR @org/team closes #2\n<img src=x>", 3},
		{"run of 3", "a ``` b\n```\nescape attempt", 4},
		{"run of 10", "``````````\n" + strings.Repeat("`", 10) + " x", 11},
		{"marker", "<!-- triage:fingerprint=abc -->", 3},
		{"empty", "", 3},
		{"trailing newline", "x\n", 3},
		{"crlf", "a\r\nb\r", 3},
		{"japanese", "決済エラー PAY-1042", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CodeBlock(tt.in)
			checkCodeBlock(t, tt.in, got)
			assertNoLeaks(t, redactor(t), got)
			if fence := len(got) - len(strings.TrimLeft(got, "`")); fence != tt.fence {
				t.Errorf("CodeBlock(%q) = %q: fence %d, want %d", tt.in, got, fence, tt.fence)
			}
		})
	}
	if got := CodeBlock("<!-- triage:fingerprint=abc -->"); strings.Contains(got, "<!--") {
		t.Errorf("CodeBlock keeps a marker: %q", got)
	}
}

// TestPipeline is what the bugfiler does: redact, then place the text.
func TestPipeline(t *testing.T) {
	r := redactor(t)
	note := "@org/team closes #2: card 4111 1111 1111 1111, Authorization: Bearer " + fakeToken("b", 40) +
		"\n<!-- triage:fingerprint=abc --> mail taro@example.com"
	red, c := r.Redact(note)
	if c.Card != 1 || c.Secret != 1 || c.Email != 1 {
		t.Errorf("Redact counts %+v", c)
	}
	for _, out := range []string{Markdown(red), Inline(red), CodeBlock(red)} {
		assertNoLeaks(t, r, out)
		if strings.Contains(out, "4111") || strings.Contains(out, "taro@") || strings.Contains(out, "<!--") {
			t.Errorf("leak in %q", out)
		}
	}
	checkProse(t, red, Markdown(red), false)
	checkProse(t, red, Inline(red), true)
	checkCodeBlock(t, red, CodeBlock(red))
}

func TestPlain(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"[payment] declined for @octocat", "[payment] declined for @\u200boctocat"},
		{"fixes #12\nand <b>x</b>", "f\u200bixes #\u200b12 and <b>x</b>"},
		{"決済エラー PAY-1042", "決済エラー PAY-1042"},
	} {
		if got := Plain(tc.in); got != tc.want {
			t.Errorf("Plain(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
