package extract

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFoldKeepsOffsets(t *testing.T) {
	cases := []struct {
		name, in, norm string
	}{
		{"full-width ASCII", "ＰＡＹ－１０４２（ａ）", "PAY-1042(a)"},
		{"ideographic space", "a\u3000b", "a b"},
		{"controls become spaces", "a\x00b\x1bc\x7fd", "a b c d"},
		{"tabs and newlines stay", "a\tb\nc\r", "a\tb\nc\r"},
		{"invalid bytes become spaces", "a\xffb\xfe", "a b "},
		{"long vowel between ASCII is a hyphen", "PAYー1042", "PAY-1042"},
		{"long vowel in katakana stays", "プリンター", "プリンター"},
		{"dashes and minus", "a\u2010b\u2013c\u2212d", "a-b-c-d"},
		{"wave dash", "19時〜20時", "19時~20時"},
		{"zero-width space", "usr-1\u200b04233", "usr-1 04233"},
		{"Japanese punctuation stays", "「ord_1」、。", "「ord_1」、。"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, cut := newField("description", tc.in, 1<<10, "")
			if cut {
				t.Fatal("cut a short field")
			}
			if f.norm != tc.norm {
				t.Fatalf("norm %q, want %q", f.norm, tc.norm)
			}
			if got := Fold(tc.in); got != tc.norm {
				t.Fatalf("Fold gives %q, want %q as the matchers see it", got, tc.norm)
			}
			if len(f.lower) != len(f.norm) || len(f.offs) != len(f.norm)+1 || int(f.offs[len(f.norm)]) != len(tc.in) {
				t.Fatalf("lengths: lower %d norm %d offs %d", len(f.lower), len(f.norm), len(f.offs))
			}
			// Each rune of norm maps back to exactly one original rune (or one
			// invalid byte), and the pieces tile the original.
			var rebuilt strings.Builder
			for i := 0; i < len(f.norm); {
				_, w := utf8.DecodeRuneInString(f.norm[i:])
				src := f.source(i, i+w)
				if n := utf8.RuneCountInString(src.Text); n != 1 {
					t.Fatalf("rune at %d maps to %q (%d runes)", i, src.Text, n)
				}
				rebuilt.WriteString(src.Text)
				i += w
			}
			if rebuilt.String() != tc.in {
				t.Fatalf("pieces rebuild %q, want %q", rebuilt.String(), tc.in)
			}
		})
	}
}

func TestFieldCapOnRuneBoundary(t *testing.T) {
	text := strings.Repeat("決", 10) // 30 bytes
	f, cut := newField("subject", text, 16, "")
	if !cut || f.orig != strings.Repeat("決", 5) {
		t.Fatalf("cut=%v orig %q, want 5 runes", cut, f.orig)
	}
}

func TestDetectLanguage(t *testing.T) {
	cases := []struct{ text, want string }{
		{"プリンターが動かない", "ja"},
		{"決済", "ja"},
		{"ひらがな", "ja"},
		{"Printer is down since 7pm", "en"},
		{"", "en"},
		{"ＡＢＣ１２３", "en"}, // full-width Latin is not Japanese
		{"Café crème", "en"},
		{"order ord_2611221053 の件", "ja"},
	}
	for _, tc := range cases {
		if got := DetectLanguage(tc.text); got != tc.want {
			t.Errorf("DetectLanguage(%q) = %s, want %s", tc.text, got, tc.want)
		}
	}
}

func TestChunksCoverTheField(t *testing.T) {
	text := strings.Repeat("word ", 1000) + strings.Repeat("x", 3000) + "。\n" + strings.Repeat("決済", 800)
	f, _ := newField("description", text, 64<<10, "")
	next := 0
	for _, c := range f.chunks() {
		if c[0] != next || c[1] <= c[0] || c[1]-c[0] > chunkBytes {
			t.Fatalf("chunk %v after %d", c, next)
		}
		if c[0] > 0 && f.lower[c[0]]&0xc0 == 0x80 {
			t.Fatalf("chunk %v starts inside a rune", c)
		}
		next = c[1]
	}
	if next != len(f.lower) {
		t.Fatalf("chunks end at %d of %d", next, len(f.lower))
	}
}
