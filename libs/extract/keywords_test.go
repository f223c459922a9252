package extract

import (
	"slices"
	"strings"
	"testing"
)

func TestKeywords(t *testing.T) {
	cases := []struct {
		name      string
		in        Input
		want, not []string
	}{
		{
			name: "english: salient words, no stop words, no ids or times",
			in: Input{Subject: "Kitchen printer not printing",
				Description: "Hi team, since 7pm yesterday the kitchen printer prn-9f00aa stopped printing orders. " +
					"Error code PRN-2001. Please help, the printer shows a timeout."},
			want: []string{"printer", "kitchen", "timeout", "printing"},
			not:  []string{"the", "please", "help", "prn-9f00aa", "prn-2001", "7pm", "yesterday", "since"},
		},
		{
			name: "japanese: katakana and kanji runs",
			in:   Input{Description: "昨日の夜7時頃から決済端末でタイムアウトが発生し、お会計ができません。ご確認をお願いします。"},
			want: []string{"タイムアウト", "決済端末", "会計"},
			not:  []string{"発生", "確認", "昨日", "夜"},
		},
		{
			name: "query syntax is not copied",
			in:   Input{Description: `tenant:* OR 1=1 {"query":{"match_all":{}}}`},
			want: []string{"tenant", "query", "match_all"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.SubmittedAt = morning
			kws := Extract(tc.in).Keywords
			for _, w := range tc.want {
				if !slices.Contains(kws, w) {
					t.Errorf("missing keyword %q in %q", w, kws)
				}
			}
			for _, w := range tc.not {
				if slices.Contains(kws, w) {
					t.Errorf("unwanted keyword %q in %q", w, kws)
				}
			}
			for _, k := range kws {
				if strings.ContainsAny(k, `*{}:"=() `) {
					t.Errorf("keyword %q carries query syntax", k)
				}
			}
		})
	}
}

func TestKeywordsCapped(t *testing.T) {
	var words []string
	for i := range 40 {
		words = append(words, "word"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	words = append(words, strings.Repeat("z", 100)) // too long for a keyword
	res := Extract(Input{Description: strings.Join(words, " ") + " timeout timeout", SubmittedAt: morning})
	if len(res.Keywords) != 12 {
		t.Fatalf("%d keywords, want 12: %q", len(res.Keywords), res.Keywords)
	}
	if res.Keywords[0] != "timeout" {
		t.Errorf("first keyword %q, want the repeated salient timeout", res.Keywords[0])
	}
	for _, k := range res.Keywords {
		if len(k) > 64 {
			t.Errorf("keyword of %d bytes", len(k))
		}
	}
}
