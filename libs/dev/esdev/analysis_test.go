package esdev

import (
	"reflect"
	"testing"
)

func TestTokenize(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"Payment declined: upstream returned HTTP 503", []string{"payment", "declined", "upstream", "returned", "http", "503"}},
		{"tenant rst-0042 user usr-104233", []string{"tenant", "rst", "0042", "user", "usr", "104233"}},
		{"order ord_2611221053 failed", []string{"order", "ord_2611221053", "failed"}},
		{"app v4.12.3 on tab-1a2b3c", []string{"app", "v4.12.3", "on", "tab", "1a2b3c"}},
		{"error ORD-5002 (PAY-1042)", []string{"error", "ord", "5002", "pay", "1042"}},
		{"trace 4bf92f3577b34da6a3ce929d0e0e4736", []string{"trace", "4bf92f3577b34da6a3ce929d0e0e4736"}},
		{"req 3f2a9c1e-7b4d-4e8a-9c2f-1d2e3f4a5b6c", []string{"req", "3f2a9c1e", "7b4d", "4e8a", "9c2f", "1d2e3f4a5b6c"}},
		{"can't e.g. 1,000.50 12:30", []string{"can't", "e.g", "1,000.50", "12", "30"}},
		{"mail ops@example.com GET /v1/orders", []string{"mail", "ops", "example.com", "get", "v1", "orders"}},
		// Han and hiragana: one token per character; katakana runs stay whole.
		{"キッチンプリンターが復旧しました", []string{"キッチンプリンター", "が", "復", "旧", "し", "ま", "し", "た"}},
		{"注文の送信に失敗しました ORD-5002", []string{"注", "文", "の", "送", "信", "に", "失", "敗", "し", "ま", "し", "た", "ord", "5002"}},
		{"503エラー", []string{"503", "エラー"}},
		{"ＡＢＣ１２３", []string{"ａｂｃ１２３"}},
		{"___ -- !!", nil},
		{"", nil},
	}
	for _, c := range cases {
		if got := analyzeText(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("analyzeText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTokenizePositions(t *testing.T) {
	var pos []int
	tokenize("a b, c", func(_ string, p int) { pos = append(pos, p) })
	if !reflect.DeepEqual(pos, []int{0, 1, 2}) {
		t.Errorf("positions = %v, want [0 1 2]", pos)
	}
}

func TestContainsPhrase(t *testing.T) {
	cases := []struct {
		text  string
		terms []string
		slop  int
		want  bool
	}{
		{"payment declined by upstream", []string{"payment", "declined"}, 0, true},
		{"declined payment", []string{"payment", "declined"}, 0, false},
		{"payment was declined", []string{"payment", "declined"}, 0, false},
		{"payment was declined", []string{"payment", "declined"}, 1, true},
		{"プリンターが動かない", []string{"動", "か", "な", "い"}, 0, true},
	}
	for _, c := range cases {
		if got := containsPhrase(c.text, c.terms, c.slop); got != c.want {
			t.Errorf("containsPhrase(%q, %q, %d) = %v, want %v", c.text, c.terms, c.slop, got, c.want)
		}
	}
}
