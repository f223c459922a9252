package extract

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Keywords are words for a capped match query on the log message. Without a
// Japanese morphological analyser, Japanese words are approximated by runs
// of katakana (プリンター, タイムアウト) and of kanji (決済, 印刷); hiragana
// runs are mostly grammar and are skipped. Bytes already taken by an
// identifier or a time are separators, so ids and times never repeat here.

// stopWords are English words too common to select logs, plus ticket
// pleasantries and words a time expression leaves behind.
var stopWords = toSet(`a about above after again against all also am an and any are aren't as at be
because been before being below between both but by can can't cannot could couldn't did didn't do
does doesn't doing don't down during each even ever every few for from further get gets getting got
had hadn't has hasn't have haven't having he her here hers herself him himself his how i i'm i've if
in into is isn't it it's its itself just let's like me more most much must my myself no nor not now of
off on once only or other our ours ourselves out over own please same she should shouldn't so some
still such than that that's the their theirs them themselves then there there's these they they're
this those though through to too under until up us very was wasn't we we're were weren't what when
where which while who whom why will with won't would wouldn't you you're your yours yourself
hello dear thanks thank regards best team support customer customers issue issues problem problems
help urgent asap kindly able since around ago today yesterday tonight morning evening night
afternoon lunch dinner minutes minute hours hour days day time times again also one two three
restaurant store shop staff trace span request code status http https version app number`)

// stopWordsJa are kanji and katakana runs that say nothing about the fault.
var stopWordsJa = toSet(`確認 対応 連絡 現在 状態 発生 問題 場合 時間 以降 以上 以下 店舗 当店 弊社 御社
貴社 担当 様子 至急 大至急 何卒 本件 今回 前回 毎回 全部 全然 少々 先日 最近 今日 昨日 本日 今朝 使用 利用
客様 皆様 電話 問合 午前 午後 時頃 夕方 深夜 番号 注文番号 サポート スタッフ エラーコード コード
リクエスト ステータス ステータスコード バージョン トレース`)

// salient words name what is broken; they rank before words said as often.
var salient = toSet(`error errors fail failed failing failure timeout timed declined decline crash
crashed crashes freeze frozen stuck offline unavailable slow duplicate duplicated missing lost
disconnected disconnect connection network refused rejected denied invalid expired printer print
printing payment card order menu login sync tablet receipt refund
エラー タイムアウト 失敗 接続 通信 決済 印刷 注文 遅延 停止 不具合 障害 反映 同期 重複 フリーズ
ログイン 落 拒否 無効 期限切 二重 消失 オフライン`)

func toSet(words string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.Fields(words) {
		set[w] = true
	}
	return set
}

// keywords picks up to MaxKeywords salient words from the text fields.
func (e *Extractor) keywords(fs []*field) []string {
	type cand struct {
		word         string
		count, first int
	}
	var cands []*cand
	byWord := map[string]*cand{}
	add := func(w string) {
		if c, ok := byWord[w]; ok {
			c.count++
			return
		}
		c := &cand{word: w, count: 1, first: len(cands)}
		byWord[w] = c
		cands = append(cands, c)
	}
	for _, f := range fs {
		forEachWord(f, func(w string, class wordClass) {
			if len(w) > e.cfg.MaxKeywordBytes {
				return
			}
			switch class {
			case classASCII:
				w = strings.Trim(strings.TrimSuffix(w, "'s"), "-_'")
				if len(w) < 3 || stopWords[w] || strings.Trim(w, "0123456789-") == "" {
					return
				}
			default:
				if utf8.RuneCountInString(w) < 2 || stopWordsJa[w] {
					return
				}
			}
			add(w)
		})
	}
	score := func(c *cand) int {
		if salient[c.word] {
			return c.count + 2
		}
		return c.count
	}
	sort.SliceStable(cands, func(i, j int) bool {
		si, sj := score(cands[i]), score(cands[j])
		if si != sj {
			return si > sj
		}
		return cands[i].first < cands[j].first
	})
	var out []string
	for _, c := range cands {
		if len(out) == e.cfg.MaxKeywords {
			break
		}
		out = append(out, c.word)
	}
	return out
}

type wordClass uint8

const (
	classNone wordClass = iota
	classASCII
	classKatakana
	classHan
)

func classOf(r rune) wordClass {
	switch {
	case isASCIIAlnum(r) || r == '-' || r == '_' || r == '\'':
		return classASCII
	case r == 0x30fc || unicode.Is(unicode.Katakana, r):
		return classKatakana
	case unicode.Is(unicode.Han, r):
		return classHan
	}
	return classNone
}

// forEachWord calls fn for each run of one class in f.lower, treating
// claimed bytes as separators.
func forEachWord(f *field, fn func(string, wordClass)) {
	t := f.lower
	start, cur := 0, classNone
	flush := func(end int) {
		if cur != classNone && end > start {
			fn(t[start:end], cur)
		}
		cur = classNone
	}
	for i := 0; i < len(t); {
		r, w := utf8.DecodeRuneInString(t[i:])
		c := classOf(r)
		if f.claimed[i] {
			c = classNone
		}
		if c != cur {
			flush(i)
			start, cur = i, c
		}
		i += w
	}
	flush(len(t))
}
