package extract

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// How a time is found: patterns below produce tokens (a date, a part of the
// day, a clock time, a complete instant, a duration ago, "just now"); tokens
// joined only by particles or little words ("昨日の夜7時", "Nov 21 at 7pm")
// merge into one group; two groups joined by "〜", "から", "to" form a range;
// a group followed by "から"/"以降" or after "since" runs up to submission.
// Each group then resolves to a window against SubmittedAt in the tenant's
// zone, and the most precise one (the first among equals) becomes
// Result.Window.

type partOfDay uint8

const (
	partNone partOfDay = iota
	partMorning
	partLunch
	partAfternoon
	partEvening
	partNight
	partPastNight
	partLateNight
)

var partNames = [...]string{"", "morning", "lunch", "afternoon", "evening", "night", "night", "late night"}

const (
	meridiemNone = iota
	meridiemAM
	meridiemPM
)

// dateSpec is a calendar day: relative to submission, or absolute with an
// optional year.
type dateSpec struct {
	relative         bool
	offset           int // days, for relative
	year, month, day int // year 0 when not written
}

// clockSpec is a time of day as written.
type clockSpec struct {
	hour, minute int
	hasMinute    bool
	meridiem     int
	// h24 is set when the writing rules out a 12-hour reading: zero-padded
	// (07:30), 0 or 13 and over.
	h24 bool
	// block is 19時台: the whole hour.
	block bool
}

// timeGroup is one mention: merged tokens, or one standalone token.
type timeGroup struct {
	start, end int // in field.lower
	date       *dateSpec
	part       partOfDay
	clock      *clockSpec
	instant    *time.Time // complete date-time with an offset
	ago        time.Duration
	agoUnit    Precision // minute, hour or day
	recent     bool
}

func (g *timeGroup) standalone() bool { return g.instant != nil || g.ago > 0 || g.recent }

// merge adds b's parts to g when no slot is taken twice.
func (g *timeGroup) merge(b timeGroup) bool {
	if g.standalone() || b.standalone() ||
		(g.date != nil && b.date != nil) || (g.part != partNone && b.part != partNone) ||
		(g.clock != nil && b.clock != nil) {
		return false
	}
	if b.date != nil {
		g.date = b.date
	}
	if b.part != partNone {
		g.part = b.part
	}
	if b.clock != nil {
		g.clock = b.clock
	}
	g.end = b.end
	return true
}

// approxSuffix is "about" after a time; it widens nothing, but belongs to
// the evidence an engineer reads.
const approxSuffix = `(?:\s*(?:頃|ごろ|くらい|ぐらい|前後|過ぎ|すぎ))?`

var (
	isoRe = guarded(`([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})(?:(?:t|\s+)([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,][0-9]{1,9})?)?(?:\s*(z|[+-][0-9]{2}:?[0-9]{2}))?)?`,
		hasDigitRun(4))
	jaDateRe    = pat(`(?:([0-9]{4})年\s*)?([0-9]{1,2})月\s*([0-9]{1,2})日`, "月")
	slashDateRe = pat(`([0-9]{1,2})/([0-9]{1,2})`, "/")
	enDateRe    = guarded(`\b([a-z]{3,9})\.?\s+([0-9]{1,2})(?:st|nd|rd|th)?\b(?:,?\s+([0-9]{4})\b)?`, hasDigitRun(1))
	enDate2Re   = guarded(`\b([0-9]{1,2})(?:st|nd|rd|th)?\s+([a-z]{3,9})\b\.?(?:,?\s+([0-9]{4})\b)?`, hasDigitRun(1))
	clockJaRe   = pat(`(?:(午前|午後)\s*)?([0-9]{1,2})時(?:\s*(?:([0-9]{1,2})分|(半)))?(台)?`+approxSuffix, "時")
	clockColRe  = pat(`(?:(午前|午後)\s*)?([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?(?:\s*(am|pm|a\.m\.?|p\.m\.?))?`+approxSuffix, ":")
	clockAmPmRe = pat(`\b([0-9]{1,2})\s*(am|pm|a\.m\.?|p\.m\.?)`, "am", "pm", "a.m", "p.m")
	oclockRe    = pat(`\b([0-9]{1,2})\s*o'?clock\b`, "clock")
	noonRe      = pat(`正午|真夜中|\b(?:noon|midday|midnight)\b`, "正午", "真夜中", "noon", "midday", "midnight")
	agoJaRe     = pat(`([0-9]{1,3}|十数|数)\s*(分|時間|日)(半)?\s*(?:ほど|程|くらい|ぐらい|位)?\s*前`, "前")
	agoEnRe     = pat(`\b(half an hour|an hour and a half|(?:[0-9]{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|fifteen|twenty|thirty|forty|forty-five|fifty|a few|few|several|a couple of|couple of)\s*(?:minutes?|mins?|hours?|hrs?|days?))\s+ago\b`, "ago")
)

// Words with fixed meaning. Values: day offset (or recent), part of day.
type wordMeaning struct {
	offset int
	dated  bool
	part   partOfDay
	recent bool
}

var relWords = map[string]wordMeaning{
	"一昨日": {offset: -2, dated: true}, "おととい": {offset: -2, dated: true},
	"昨日": {offset: -1, dated: true}, "きのう": {offset: -1, dated: true},
	"今日": {dated: true}, "本日": {dated: true},
	"今朝": {dated: true, part: partMorning},
	"昨夜": {offset: -1, dated: true, part: partPastNight}, "昨晩": {offset: -1, dated: true, part: partPastNight},
	"ゆうべ": {offset: -1, dated: true, part: partPastNight},
	"今夜":  {dated: true, part: partNight}, "今晩": {dated: true, part: partNight},
	"つい先ほど": {recent: true}, "ついさっき": {recent: true}, "先ほど": {recent: true}, "先程": {recent: true},
	"さっき": {recent: true}, "たった今": {recent: true}, "今さっき": {recent: true},

	"the day before yesterday": {offset: -2, dated: true}, "day before yesterday": {offset: -2, dated: true},
	"yesterday": {offset: -1, dated: true}, "today": {dated: true}, "earlier today": {dated: true},
	"this morning": {dated: true, part: partMorning}, "this afternoon": {dated: true, part: partAfternoon},
	"this evening": {dated: true, part: partEvening}, "tonight": {dated: true, part: partNight},
	"last night": {offset: -1, dated: true, part: partPastNight}, "last evening": {offset: -1, dated: true, part: partEvening},
	"just now": {recent: true}, "a moment ago": {recent: true}, "moments ago": {recent: true},
	"a few minutes ago": {recent: true}, "few minutes ago": {recent: true}, "a little while ago": {recent: true},

	"午前中": {part: partMorning}, "朝": {part: partMorning}, "昼間": {part: partLunch}, "お昼": {part: partLunch},
	"昼": {part: partLunch}, "ランチタイム": {part: partLunch}, "ランチ": {part: partLunch},
	"午後": {part: partAfternoon}, "夕方": {part: partEvening}, "夕食": {part: partEvening},
	"ディナータイム": {part: partEvening}, "ディナー": {part: partEvening}, "夜間": {part: partNight},
	"夜": {part: partNight}, "深夜": {part: partLateNight}, "夜中": {part: partLateNight},
	"未明": {part: partLateNight}, "明け方": {part: partLateNight},

	"morning": {part: partMorning}, "lunchtime": {part: partLunch}, "lunch time": {part: partLunch},
	"lunch": {part: partLunch}, "afternoon": {part: partAfternoon}, "evening": {part: partEvening},
	"dinnertime": {part: partEvening}, "dinner time": {part: partEvening}, "dinner": {part: partEvening},
	"late night": {part: partLateNight}, "overnight": {part: partLateNight}, "night": {part: partNight},
}

// relWordSets match relWords, longest first, ASCII ones as whole words.
var relWordSets = func() [2]literalSet {
	var ascii, ja []string
	for w := range relWords {
		if isASCIIString(w) {
			ascii = append(ascii, w)
		} else {
			ja = append(ja, w)
		}
	}
	return [2]literalSet{newLiteralSet(ascii, true), newLiteralSet(ja, false)}
}()

var months = map[string]time.Month{
	"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
	"may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
	"september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}

// joinWords may stand between tokens of one mention ("Nov 21 at 7pm").
var joinWords = map[string]bool{
	"at": true, "on": true, "around": true, "about": true, "approximately": true, "approx": true,
	"approx.": true, "in": true, "the": true, "of": true, "by": true,
	"月": true, "火": true, "水": true, "木": true, "金": true, "土": true, "日": true,
	"mon": true, "tue": true, "wed": true, "thu": true, "fri": true, "sat": true, "sun": true,
}

// scanTimes finds time mentions in f (skipping bytes claimed by identifiers),
// claims them and resolves each against submitted.
func (e *Extractor) scanTimes(f *field, submitted time.Time, loc *time.Location) []mention {
	t := f.lower
	toks := timeTokens(f)
	// Leftmost, then longest, non-overlapping and not inside an identifier.
	sortTokens(toks)
	kept := toks[:0]
	lastEnd := 0
	for _, tk := range toks {
		if tk.start < lastEnd || !f.free(tk.start, tk.end) {
			continue
		}
		kept = append(kept, tk)
		lastEnd = tk.end
	}
	var groups []timeGroup
	for _, tk := range kept {
		f.claim(tk.start, tk.end)
		if n := len(groups); n > 0 && isJoiner(t[groups[n-1].end:tk.start]) && groups[n-1].merge(tk) {
			continue
		}
		groups = append(groups, tk)
	}

	var out []mention
	for i := 0; i < len(groups); i++ {
		g := groups[i]
		r, ok := e.resolve(g, submitted, loc, nil)
		if !ok {
			continue
		}
		end := g.end
		switch {
		case i+1 < len(groups) && !g.standalone() && !groups[i+1].standalone() &&
			isRangeGap(t, g.start, g.end, groups[i+1].start):
			next := groups[i+1]
			day := r.day
			end = next.end
			i++
			if rb, ok := e.resolve(next, submitted, loc, &day); ok {
				if rb.to.Before(r.from) {
					rb.to = rb.to.AddDate(0, 0, 1)
				}
				r.to = minTime(rb.to, submitted.Add(e.cfg.FutureGrace))
				r.desc = fmt.Sprintf("%s until %s", r.desc, rb.desc)
			} else {
				// The end is still ahead: the trouble is ongoing.
				r.to = submitted
				r.desc = fmt.Sprintf("%s until now", r.desc)
			}
		case isSince(t, g.start, g.end):
			r.to = submitted
			r.desc = "since " + r.desc
		}
		if !r.from.Before(r.to) {
			continue
		}
		r.anchor = clampTime(r.anchor, r.from, r.to)
		out = append(out, mention{
			found: found{kind: KindTime, value: formatInterval(r.from, r.to), start: g.start, end: end},
			src:   f.source(g.start, end),
			from:  r.from, to: r.to, anchor: r.anchor, prec: r.prec, desc: r.desc,
		})
	}
	return out
}

// mention is a resolved time expression.
type mention struct {
	found
	src              Source
	from, to, anchor time.Time
	prec             Precision
	desc             string
}

// timeTokens runs every time pattern over t.
func timeTokens(f *field) []timeGroup {
	t := f.lower
	var toks []timeGroup
	add := func(s, e int, g timeGroup) {
		g.start, g.end = s, e
		toks = append(toks, g)
	}
	atoi := func(m []int, i int) int {
		if m[2*i] < 0 {
			return -1
		}
		n, _ := strconv.Atoi(t[m[2*i]:m[2*i+1]])
		return n
	}

	isoRe.each(f, func(m []int) {
		if !boundedAt(t, m[0], m[1], "-/.:") {
			return
		}
		y, mo, d := atoi(m, 1), atoi(m, 2), atoi(m, 3)
		g := timeGroup{date: &dateSpec{year: y, month: mo, day: d}}
		if m[8] >= 0 {
			h, mi, sec := atoi(m, 4), atoi(m, 5), max(atoi(m, 6), 0)
			if h > 23 || mi > 59 || sec > 59 || !validDate(y, mo, d) {
				return
			}
			if m[14] >= 0 {
				zone := t[m[14]:m[15]]
				inst := time.Date(y, time.Month(mo), d, h, mi, sec, 0, zoneOf(zone))
				add(m[0], m[1], timeGroup{instant: &inst})
				return
			}
			g.clock = &clockSpec{hour: h, minute: mi, hasMinute: true, h24: true}
		}
		add(m[0], m[1], g)
	})
	jaDateRe.each(f, func(m []int) {
		if m[0] > 0 && isDigit(t[m[0]-1]) {
			return
		}
		add(m[0], m[1], timeGroup{date: &dateSpec{year: max(atoi(m, 1), 0), month: atoi(m, 2), day: atoi(m, 3)}})
	})
	slashDateRe.each(f, func(m []int) {
		// Not part of a path, a longer date, a decimal or a ratio chain.
		if !boundedAt(t, m[0], m[1], "/.:-") {
			return
		}
		add(m[0], m[1], timeGroup{date: &dateSpec{month: atoi(m, 1), day: atoi(m, 2)}})
	})
	enDateRe.each(f, func(m []int) {
		mo, ok := months[t[m[2]:m[3]]]
		if !ok {
			return
		}
		add(m[0], m[1], timeGroup{date: &dateSpec{year: max(atoi(m, 3), 0), month: int(mo), day: atoi(m, 2)}})
	})
	enDate2Re.each(f, func(m []int) {
		word := t[m[4]:m[5]]
		mo, ok := months[word]
		if !ok || word == "may" { // "2 may fail"
			return
		}
		add(m[0], m[1], timeGroup{date: &dateSpec{year: max(atoi(m, 3), 0), month: int(mo), day: atoi(m, 1)}})
	})
	for _, ls := range relWordSets {
		for _, m := range ls.find(t) {
			w := relWords[t[m[0]:m[1]]]
			if w.part != partNone && !w.dated && notATime(t, m[0], m[1]) {
				continue
			}
			g := timeGroup{part: w.part, recent: w.recent}
			if w.dated {
				g.date = &dateSpec{relative: true, offset: w.offset}
			}
			add(m[0], m[1], g)
		}
	}
	clockJaRe.each(f, func(m []int) {
		hourStart := m[4]
		if hourStart > 0 && isDigit(t[hourStart-1]) {
			return
		}
		// 24時間 is a duration, not a time.
		if strings.HasPrefix(t[m[5]+len("時"):], "間") {
			return
		}
		c := clockSpec{hour: atoi(m, 2), meridiem: jaMeridiem(t, m), block: m[10] >= 0}
		c.h24 = t[m[4]] == '0' && m[5]-m[4] == 2
		if m[6] >= 0 {
			c.minute, c.hasMinute = atoi(m, 3), true
		} else if m[8] >= 0 {
			c.minute, c.hasMinute = 30, true
		}
		if c.valid() {
			add(m[0], m[1], timeGroup{clock: &c})
		}
	})
	clockColRe.each(f, func(m []int) {
		end := m[7] // after the minutes
		if m[8] >= 0 {
			end = m[9]
		}
		if (m[4] > 0 && (isWordByte(t[m[4]-1]) || strings.ContainsRune(":./", rune(t[m[4]-1])))) ||
			(end < len(t) && (isDigit(t[end]) || t[end] == ':')) {
			return
		}
		if m[10] >= 0 && m[11] < len(t) && isWordByte(t[m[11]]) && isWordByte(t[m[11]-1]) {
			return
		}
		c := clockSpec{hour: atoi(m, 2), minute: atoi(m, 3), hasMinute: true}
		c.meridiem = jaMeridiem(t, m)
		if m[10] >= 0 {
			c.meridiem = enMeridiem(t[m[10]:m[11]])
		}
		c.h24 = t[m[4]] == '0' && m[5]-m[4] == 2
		if c.valid() {
			add(m[0], m[1], timeGroup{clock: &c})
		}
	})
	clockAmPmRe.each(f, func(m []int) {
		if m[1] < len(t) && isWordByte(t[m[1]]) && isWordByte(t[m[1]-1]) {
			return
		}
		c := clockSpec{hour: atoi(m, 1), meridiem: enMeridiem(t[m[4]:m[5]])}
		if c.valid() {
			add(m[0], m[1], timeGroup{clock: &c})
		}
	})
	oclockRe.each(f, func(m []int) {
		c := clockSpec{hour: atoi(m, 1)}
		if c.valid() {
			add(m[0], m[1], timeGroup{clock: &c})
		}
	})
	noonRe.each(f, func(m []int) {
		c := clockSpec{hour: 12, h24: true}
		if w := t[m[0]:m[1]]; w == "midnight" || w == "真夜中" {
			c.hour = 0
		}
		add(m[0], m[1], timeGroup{clock: &c})
	})
	agoJaRe.each(f, func(m []int) {
		if (m[0] > 0 && isDigit(t[m[0]-1])) || strings.HasPrefix(t[m[1]:], "後") {
			return // 30分前後 is "about 30 minutes", not "30 minutes ago"
		}
		n := atoi(m, 1)
		switch t[m[2]:m[3]] {
		case "数":
			n = 3
		case "十数":
			n = 15
		}
		unit := t[m[4]:m[5]]
		if unit == "分" && t[m[2]:m[3]] == "数" {
			add(m[0], m[1], timeGroup{recent: true}) // 数分前: a few minutes
			return
		}
		d, prec := agoDuration(n, unit)
		if m[6] >= 0 && unit == "時間" {
			d += 30 * time.Minute
		}
		if d > 0 {
			add(m[0], m[1], timeGroup{ago: d, agoUnit: prec})
		}
	})
	agoEnRe.each(f, func(m []int) {
		d, prec := enAgo(t[m[2]:m[3]])
		if d > 0 {
			add(m[0], m[1], timeGroup{ago: d, agoUnit: prec})
		}
	})
	return toks
}

// notATime rejects part-of-day words that name a dish or a greeting:
// ランチメニュー, dinner set, good morning.
func notATime(t string, start, end int) bool {
	after := strings.TrimLeft(t[end:], " ")
	for _, w := range []string{"メニュー", "セット", "コース", "限定", "menu", "set", "course", "special", "deal"} {
		if strings.HasPrefix(after, w) {
			return true
		}
	}
	return strings.HasSuffix(tail(t, start, 5), "good ")
}

func jaMeridiem(t string, m []int) int {
	if m[2] < 0 {
		return meridiemNone
	}
	if t[m[2]:m[3]] == "午前" {
		return meridiemAM
	}
	return meridiemPM
}

func enMeridiem(s string) int {
	if s[0] == 'a' {
		return meridiemAM
	}
	return meridiemPM
}

func (c clockSpec) valid() bool {
	if c.minute < 0 || c.minute > 59 || c.hour < 0 {
		return false
	}
	if c.meridiem != meridiemNone {
		return c.hour <= 12
	}
	return c.hour <= 23
}

func agoDuration(n int, unit string) (time.Duration, Precision) {
	if n <= 0 {
		return 0, ""
	}
	switch unit {
	case "分":
		return time.Duration(n) * time.Minute, PrecisionMinute
	case "時間":
		return time.Duration(n) * time.Hour, PrecisionHour
	default:
		return time.Duration(n) * 24 * time.Hour, PrecisionDay
	}
}

var enNumbers = map[string]int{
	"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
	"eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
	"forty-five": 45, "fifty": 50, "a few": 3, "few": 3, "several": 3, "a couple of": 2, "couple of": 2,
}

// enAgo reads "10 minutes", "an hour", "half an hour".
func enAgo(s string) (time.Duration, Precision) {
	switch s {
	case "half an hour":
		return 30 * time.Minute, PrecisionMinute
	case "an hour and a half":
		return 90 * time.Minute, PrecisionHour
	}
	i := strings.LastIndexAny(s, " 0123456789")
	num, unit := strings.TrimSpace(s[:i+1]), s[i+1:]
	n, err := strconv.Atoi(num)
	if err != nil {
		n = enNumbers[num]
	}
	switch {
	case strings.HasPrefix(unit, "min"):
		return agoDuration(n, "分")
	case strings.HasPrefix(unit, "h"):
		return agoDuration(n, "時間")
	default:
		return agoDuration(n, "日")
	}
}

// sortTokens orders by start, longer first at one start; among equal spans
// the pattern that ran first wins ("a few minutes ago" is recent, not 3m).
func sortTokens(toks []timeGroup) {
	sort.SliceStable(toks, func(i, j int) bool {
		if toks[i].start != toks[j].start {
			return toks[i].start < toks[j].start
		}
		return toks[i].end > toks[j].end
	})
}

// isJoiner reports whether gap only holds particles, punctuation and little
// words that keep two tokens in one mention.
func isJoiner(gap string) bool {
	if len(gap) > 24 {
		return false
	}
	for _, w := range strings.FieldsFunc(gap, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",、のには", r)
	}) {
		w = strings.Trim(w, "()")
		if w != "" && !joinWords[w] && !joinWords[strings.TrimSuffix(strings.TrimSuffix(w, "日"), "曜")] {
			return false
		}
	}
	return true
}

// isRangeGap reports whether the text between two groups makes them a range:
// "19時〜20時", "19:00-19:30", "7pm to 8pm", "19時から20時", "between 7 and 8pm".
func isRangeGap(t string, aStart, aEnd, bStart int) bool {
	gap := strings.TrimSpace(t[aEnd:bStart])
	switch gap {
	case "~", "-", "から", "to", "until", "till", "through":
		return true
	case "and":
		return strings.HasSuffix(strings.TrimRight(tail(t, aStart, 10), " "), "between")
	}
	return false
}

// isSince reports an open-ended mention: "昨日の夜から", "19時以降", "since 7pm".
func isSince(t string, start, end int) bool {
	after := strings.TrimLeft(t[end:], " ")
	for _, w := range []string{"から", "以降", "以来", "onwards", "onward"} {
		if strings.HasPrefix(after, w) {
			return true
		}
	}
	before := strings.TrimRight(tail(t, start, 12), " ")
	// Not "from": "logs from 19:05" names a moment.
	for _, w := range []string{"since", "starting", "starting at", "starting from"} {
		if strings.HasSuffix(before, w) && (len(before) == len(w) || !isWordByte(before[len(before)-len(w)-1])) {
			return true
		}
	}
	return false
}

// civil is a calendar day in the tenant's zone.
type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, m, d}
}

func (c civil) at(loc *time.Location, addDays, hour, min int) time.Time {
	return time.Date(c.y, c.m, c.d+addDays, hour, min, 0, 0, loc)
}

func (c civil) add(days int, loc *time.Location) civil {
	return civilOf(c.at(loc, days, 12, 0))
}

// resolved is a mention placed on the timeline.
type resolved struct {
	from, to, anchor time.Time
	prec             Precision
	day              civil // the day a range's second half defaults to
	desc             string
}

// resolve places g against submitted; forced fixes the day (the second half
// of a range). It fails for mentions in the future or too long ago.
func (e *Extractor) resolve(g timeGroup, submitted time.Time, loc *time.Location, forced *civil) (resolved, bool) {
	limit := submitted.Add(e.cfg.FutureGrace)
	today := civilOf(submitted)
	var r resolved
	switch {
	case g.instant != nil:
		at := g.instant.In(loc)
		r = resolved{from: at.Add(-e.cfg.MinuteSlack), to: at.Add(e.cfg.MinuteSlack), anchor: at, prec: PrecisionExact,
			desc: fmt.Sprintf("%s ±%s", at.Format("2006-01-02 15:04 MST"), shortDur(e.cfg.MinuteSlack))}
	case g.recent:
		r = resolved{from: submitted.Add(-e.cfg.Recent), to: submitted, anchor: submitted, prec: PrecisionRecent,
			desc: fmt.Sprintf("the %s before submission", shortDur(e.cfg.Recent))}
	case g.ago > 0:
		at := submitted.Add(-g.ago)
		r = resolved{anchor: at, prec: g.agoUnit}
		switch g.agoUnit {
		case PrecisionMinute:
			r.from, r.to = at.Add(-e.cfg.MinuteSlack), at.Add(e.cfg.MinuteSlack)
			r.desc = fmt.Sprintf("%s before submission ±%s", shortDur(g.ago), shortDur(e.cfg.MinuteSlack))
		case PrecisionHour:
			r.from, r.to = at.Add(-e.cfg.HourSlack), at.Add(e.cfg.HourSlack)
			r.desc = fmt.Sprintf("%s before submission ±%s", shortDur(g.ago), shortDur(e.cfg.HourSlack))
		default:
			day := civilOf(at)
			r.from, r.to = day.at(loc, 0, 0, 0), day.at(loc, 1, 0, 0)
			r.desc = fmt.Sprintf("the whole of %s", r.from.Format("2006-01-02"))
		}
		r.day = civilOf(at)
	default:
		var ok bool
		if r, ok = e.resolveDay(g, submitted, today, limit, loc, forced); !ok {
			return r, false
		}
	}
	if r.to.Before(submitted.Add(-e.cfg.MaxLookback)) {
		return r, false
	}
	if r.to.After(limit) {
		r.to = limit
	}
	if !r.from.Before(r.to) {
		return r, false
	}
	if r.day == (civil{}) {
		r.day = civilOf(r.anchor)
	}
	return r, true
}

// resolveDay places a group made of a date, a part of day and/or a clock.
func (e *Extractor) resolveDay(g timeGroup, submitted time.Time, today civil, limit time.Time, loc *time.Location, forced *civil) (resolved, bool) {
	day, explicit := today, false
	switch {
	case forced != nil:
		day, explicit = *forced, true
	case g.date != nil && g.date.relative:
		day, explicit = today.add(g.date.offset, loc), true
	case g.date != nil:
		d := g.date
		y := d.year
		if y == 0 {
			y = today.y
			// A date without a year that lies ahead means last year's.
			if validDate(y, d.month, d.day) && time.Date(y, time.Month(d.month), d.day, 0, 0, 0, 0, loc).After(limit) {
				y--
			}
		}
		if !validDate(y, d.month, d.day) {
			return resolved{}, false
		}
		day, explicit = civil{y, time.Month(d.month), d.day}, true
	}
	var r resolved
	switch {
	case g.clock != nil:
		c := g.clock
		hours := c.candidates(g.part)
		pick := func(d civil) (time.Time, bool) {
			var best time.Time
			for _, h := range hours {
				if at := d.at(loc, 0, h, c.minute); !at.After(limit) && at.After(best) {
					best = at
				}
			}
			return best, !best.IsZero()
		}
		at, ok := pick(day)
		if !ok && !explicit {
			// A time of day still ahead of submission was yesterday's.
			day = day.add(-1, loc)
			at, ok = pick(day)
		}
		if !ok {
			return r, false
		}
		r = resolved{anchor: at, day: day}
		switch {
		case c.block:
			r.from, r.to, r.prec = at, at.Add(time.Hour), PrecisionHour
			r.anchor = at.Add(30 * time.Minute)
			r.desc = fmt.Sprintf("the hour from %s", at.Format("2006-01-02 15:04 MST"))
		case c.hasMinute:
			r.from, r.to, r.prec = at.Add(-e.cfg.MinuteSlack), at.Add(e.cfg.MinuteSlack), PrecisionMinute
			r.desc = fmt.Sprintf("%s ±%s", at.Format("2006-01-02 15:04 MST"), shortDur(e.cfg.MinuteSlack))
		default:
			r.from, r.to, r.prec = at.Add(-e.cfg.HourSlack), at.Add(e.cfg.HourSlack), PrecisionHour
			r.desc = fmt.Sprintf("%s ±%s", at.Format("2006-01-02 15:04 MST"), shortDur(e.cfg.HourSlack))
		}
	case g.part != partNone:
		span := func(d civil) (time.Time, time.Time) {
			hr := e.partRange(g.part, d, today, loc)
			return d.at(loc, 0, hr.Start, 0), d.at(loc, 0, hr.End, 0)
		}
		from, to := span(day)
		if from.After(limit) {
			if explicit {
				return r, false
			}
			day = day.add(-1, loc)
			from, to = span(day)
		}
		// A part of day still under way at submission points at now (the
		// trouble is current); a past one at its middle ("dinner" → 19:30).
		anchor := midpoint(from, to)
		if submitted.Before(to) {
			anchor = submitted
		}
		r = resolved{from: from, to: to, prec: PrecisionPartOfDay, day: day, anchor: anchor,
			desc: fmt.Sprintf("%s %s–%s on %s", partNames[g.part], from.Format("15:04"), to.Format("15:04"), from.Format("2006-01-02"))}
	default:
		from, to := day.at(loc, 0, 0, 0), day.at(loc, 1, 0, 0)
		if from.After(limit) {
			return r, false
		}
		r = resolved{from: from, to: to, prec: PrecisionDay, day: day,
			anchor: midpoint(from, minTime(to, submitted)),
			desc:   fmt.Sprintf("the whole of %s", from.Format("2006-01-02"))}
	}
	return r, true
}

// partRange is the configured range of p; a night before the submission day
// runs into the early morning.
func (e *Extractor) partRange(p partOfDay, day, today civil, loc *time.Location) HourRange {
	ps := e.cfg.Parts
	switch p {
	case partMorning:
		return ps.Morning
	case partLunch:
		return ps.Lunch
	case partAfternoon:
		return ps.Afternoon
	case partEvening:
		return ps.Evening
	case partLateNight:
		return ps.LateNight
	case partPastNight:
		return ps.PastNight
	}
	if day.at(loc, 0, 0, 0).Before(today.at(loc, 0, 0, 0)) {
		return ps.PastNight
	}
	return ps.Night
}

// candidates are the 24-hour readings of the clock, given the part of day
// said with it; hours past 23 fall on the next day (昨夜2時).
func (c clockSpec) candidates(part partOfDay) []int {
	h := c.hour
	switch {
	case c.meridiem == meridiemAM:
		return []int{h % 12}
	case c.meridiem == meridiemPM:
		return []int{h%12 + 12}
	case c.h24 || h == 0 || h >= 13:
		return []int{h}
	}
	switch part {
	case partAfternoon, partEvening:
		return []int{h%12 + 12}
	case partNight, partPastNight, partLateNight:
		if h <= 4 {
			return []int{h + 24}
		}
		if part == partLateNight && h < 12 {
			return []int{h + 12}
		}
		return []int{h%12 + 12}
	case partLunch:
		if h <= 5 {
			return []int{h + 12}
		}
		return []int{h}
	case partMorning:
		return []int{h % 12}
	}
	if h == 12 {
		return []int{12}
	}
	// "at 7:05" with no am or pm: the latest reading not in the future.
	return []int{h, h + 12}
}

// window picks the search window: OccurredAt, else the most precise mention,
// else the default lookback.
func (e *Extractor) window(occurred *time.Time, ms []mention, submitted time.Time, loc *time.Location) TimeWindow {
	limit := submitted.Add(e.cfg.FutureGrace)
	if occurred != nil && !occurred.IsZero() {
		at := occurred.In(loc)
		from, to := at.Add(-e.cfg.MinuteSlack), minTime(at.Add(e.cfg.MinuteSlack), limit)
		if from.Before(to) {
			text := at.Format(time.RFC3339)
			return TimeWindow{From: from, To: to, Anchor: clampTime(at, from, to), Precision: PrecisionExact,
				Source: Source{Field: FieldOccurredAt, End: len(text), Text: text},
				Reason: fmt.Sprintf("occurred_at %s ±%s", at.Format("2006-01-02 15:04 MST"), shortDur(e.cfg.MinuteSlack))}
		}
	}
	// The most precise mention wins; among equals, the narrowest ("今夜の
	// ディナータイム": dinner, not the whole night).
	best := -1
	for i, m := range ms {
		switch {
		case best < 0, m.prec.rank() > ms[best].prec.rank():
			best = i
		case m.prec.rank() == ms[best].prec.rank() && m.to.Sub(m.from) < ms[best].to.Sub(ms[best].from):
			best = i
		}
	}
	if best >= 0 {
		m := ms[best]
		return TimeWindow{From: m.from, To: m.to, Anchor: m.anchor, Precision: m.prec, Source: m.src,
			Reason: fmt.Sprintf("%q in %s: %s", m.src.Text, m.src.Field, m.desc)}
	}
	return TimeWindow{From: submitted.Add(-e.cfg.DefaultLookback), To: submitted, Anchor: submitted,
		Precision: PrecisionDefault,
		Reason:    fmt.Sprintf("no time in the ticket: the %s before submission", shortDur(e.cfg.DefaultLookback))}
}

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 || d > 31 || y < 1970 || y > 9999 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 12, 0, 0, 0, time.UTC)
	return t.Day() == d
}

// zoneOf reads "z", "+09:00" or "+0900".
func zoneOf(s string) *time.Location {
	if s == "z" {
		return time.UTC
	}
	digits := strings.ReplaceAll(s[1:], ":", "")
	h, _ := strconv.Atoi(digits[:2])
	m, _ := strconv.Atoi(digits[2:])
	off := (h*60 + m) * 60
	if s[0] == '-' {
		off = -off
	}
	return time.FixedZone("", off)
}

func formatInterval(from, to time.Time) string {
	return from.Format(time.RFC3339) + "/" + to.Format(time.RFC3339)
}

func midpoint(a, b time.Time) time.Time { return a.Add(b.Sub(a) / 2) }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func clampTime(t, lo, hi time.Time) time.Time {
	if t.Before(lo) {
		return lo
	}
	if t.After(hi) {
		return hi
	}
	return t
}

// shortDur prints 15m, 1h, 1h30m.
func shortDur(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dm", m)
}

// sortLongestFirst orders alternatives so RE2's leftmost-first choice takes
// the longest word at a position ("一昨日" before "昨日").
func sortLongestFirst(ws []string) {
	sort.Slice(ws, func(i, j int) bool {
		if len(ws[i]) != len(ws[j]) {
			return len(ws[i]) > len(ws[j])
		}
		return ws[i] < ws[j]
	})
}
