package esdev

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time_zone parameters name IANA zones; do not depend on the host's zoneinfo
)

// defaultDateFormat is the format of a date field without an explicit one.
const defaultDateFormat = "strict_date_optional_time||epoch_millis"

// dateFormat is a parsed Elasticsearch date format: one or more
// alternatives separated by "||"; the first one prints values.
type dateFormat struct {
	spec         string
	alternatives []dateLayout
}

// dateLayout parses and prints one alternative of a date format.
type dateLayout interface {
	// parse returns epoch milliseconds. With roundUp, fields the text leaves
	// out are filled with their largest value (ES's "round up" parsing used
	// for gt and lte bounds), so "2026-11-22" means the day's last millisecond.
	parse(s string, loc *time.Location, roundUp bool) (int64, error)
	format(ms int64, loc *time.Location) string
}

func parseDateFormat(spec string) (*dateFormat, error) {
	if spec == "" {
		spec = defaultDateFormat
	}
	f := &dateFormat{spec: spec}
	for _, alt := range strings.Split(spec, "||") {
		alt = strings.TrimSpace(alt)
		var l dateLayout
		switch alt {
		case "strict_date_optional_time", "date_optional_time", "strict_date_optional_time_nanos",
			"strict_date_time", "date_time", "strict_date_time_no_millis", "date_time_no_millis",
			"strict_date", "date", "strict_date_hour_minute_second", "date_hour_minute_second",
			"strict_date_hour_minute_second_millis", "date_hour_minute_second_millis",
			"strict_date_hour_minute_second_fraction", "date_hour_minute_second_fraction":
			l = isoLayout{}
		case "epoch_millis":
			l = epochLayout{unit: 1}
		case "epoch_second":
			l = epochLayout{unit: 1000}
		default:
			p, err := compileJavaPattern(alt)
			if err != nil {
				return nil, err
			}
			l = p
		}
		f.alternatives = append(f.alternatives, l)
	}
	return f, nil
}

func (f *dateFormat) parse(s string, loc *time.Location, roundUp bool) (int64, error) {
	var firstErr error
	for _, l := range f.alternatives {
		ms, err := l.parse(s, loc, roundUp)
		if err == nil {
			return ms, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return 0, fmt.Errorf("failed to parse date field [%s] with format [%s]: %w", s, f.spec, firstErr)
}

func (f *dateFormat) format(ms int64, loc *time.Location) string {
	return f.alternatives[0].format(ms, loc)
}

func msToTime(ms int64, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return time.UnixMilli(ms).In(loc)
}

// isoLayout is strict_date_optional_time: yyyy[-MM[-dd[Thh[:mm[:ss[.fff]]]]]][offset].
type isoLayout struct{}

var errBadDate = errors.New("not an ISO 8601 date")

func (isoLayout) parse(s string, loc *time.Location, roundUp bool) (int64, error) {
	p := 0
	num := func(min, max int) (int, bool) {
		start := p
		for p < len(s) && p-start < max && s[p] >= '0' && s[p] <= '9' {
			p++
		}
		if p-start < min {
			return 0, false
		}
		n, _ := strconv.Atoi(s[start:p])
		return n, true
	}
	year, ok := num(4, 4)
	if !ok {
		return 0, errBadDate
	}
	month, day, hour, minute, sec, nanos := 1, 1, 0, 0, 0, 0
	unit := "y"
	if p < len(s) && s[p] == '-' {
		p++
		if month, ok = num(1, 2); !ok {
			return 0, errBadDate
		}
		unit = "M"
		if p < len(s) && s[p] == '-' {
			p++
			if day, ok = num(1, 2); !ok {
				return 0, errBadDate
			}
			unit = "d"
			if p < len(s) && (s[p] == 'T' || s[p] == 't') {
				p++
				if hour, ok = num(2, 2); !ok {
					return 0, errBadDate
				}
				unit = "h"
				if p < len(s) && s[p] == ':' {
					p++
					if minute, ok = num(2, 2); !ok {
						return 0, errBadDate
					}
					unit = "m"
					if p < len(s) && s[p] == ':' {
						p++
						if sec, ok = num(2, 2); !ok {
							return 0, errBadDate
						}
						unit = "s"
						if p < len(s) && (s[p] == '.' || s[p] == ',') {
							p++
							start := p
							frac, ok := num(1, 9)
							if !ok {
								return 0, errBadDate
							}
							digits := p - start
							nanos = frac * int(math.Pow10(9-digits))
							unit = "ms"
						}
					}
				}
			}
		}
	}
	zone := loc
	if zone == nil {
		zone = time.UTC
	}
	if p < len(s) {
		z, n, err := parseOffset(s[p:])
		if err != nil || n != len(s)-p || unit == "y" || unit == "M" {
			return 0, errBadDate
		}
		zone = z
		p = len(s)
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return 0, errBadDate
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nanos, zone)
	if t.Day() != day {
		return 0, errBadDate
	}
	if roundUp {
		return roundUpTo(t, unit).UnixMilli(), nil
	}
	return t.UnixMilli(), nil
}

func (isoLayout) format(ms int64, loc *time.Location) string {
	return msToTime(ms, loc).Format("2006-01-02T15:04:05.000Z07:00")
}

// parseOffset reads Z, ±HH, ±HHmm or ±HH:mm and reports how many bytes it used.
func parseOffset(s string) (*time.Location, int, error) {
	if s == "" {
		return nil, 0, errBadDate
	}
	if s[0] == 'Z' || s[0] == 'z' {
		return time.UTC, 1, nil
	}
	if s[0] != '+' && s[0] != '-' {
		return nil, 0, errBadDate
	}
	digits := func(t string) bool {
		for _, c := range t {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	var hh, mm string
	n := 0
	switch {
	case len(s) >= 6 && s[3] == ':' && digits(s[1:3]) && digits(s[4:6]):
		hh, mm, n = s[1:3], s[4:6], 6
	case len(s) >= 5 && digits(s[1:5]):
		hh, mm, n = s[1:3], s[3:5], 5
	case len(s) >= 3 && digits(s[1:3]):
		hh, mm, n = s[1:3], "00", 3
	default:
		return nil, 0, errBadDate
	}
	h, _ := strconv.Atoi(hh)
	m, _ := strconv.Atoi(mm)
	secs := h*3600 + m*60
	if s[0] == '-' {
		secs = -secs
	}
	return time.FixedZone(s[:n], secs), n, nil
}

// roundUpTo returns the last millisecond of the unit that t starts.
func roundUpTo(t time.Time, unit string) time.Time {
	var next time.Time
	switch unit {
	case "y":
		next = t.AddDate(1, 0, 0)
	case "M":
		next = t.AddDate(0, 1, 0)
	case "w":
		next = t.AddDate(0, 0, 7)
	case "d":
		next = t.AddDate(0, 0, 1)
	case "h":
		next = t.Add(time.Hour)
	case "m":
		next = t.Add(time.Minute)
	case "s":
		next = t.Add(time.Second)
	default:
		return t
	}
	return next.Add(-time.Millisecond)
}

type epochLayout struct{ unit int64 }

func (e epochLayout) parse(s string, _ *time.Location, _ bool) (int64, error) {
	if strings.ContainsAny(s, "eE") {
		return 0, errBadDate
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errBadDate
	}
	return int64(f * float64(e.unit)), nil
}

func (e epochLayout) format(ms int64, _ *time.Location) string {
	if e.unit == 1 {
		return strconv.FormatInt(ms, 10)
	}
	return strconv.FormatInt(ms/e.unit, 10)
}

// javaLayout is a custom java.time pattern such as "yyyy-MM-dd HH:mm:ss".
type javaLayout struct {
	parts    []javaPart
	goLayout string
}

type javaPart struct {
	letter  byte // 0 for a literal
	width   int
	literal string
}

func compileJavaPattern(p string) (*javaLayout, error) {
	l := &javaLayout{}
	var goLayout strings.Builder
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			end := strings.IndexByte(p[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("invalid date format [%s]: unterminated quote", p)
			}
			lit := p[i+1 : i+1+end]
			l.parts = append(l.parts, javaPart{literal: lit})
			goLayout.WriteString(lit)
			i += end + 2
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			w := j - i
			var gl string
			switch c {
			case 'y', 'u':
				gl = "2006"
				if w == 2 {
					gl = "06"
				}
			case 'M':
				gl = "01"
			case 'd':
				gl = "02"
			case 'H':
				gl = "15"
			case 'm':
				gl = "04"
			case 's':
				gl = "05"
			case 'S':
				gl = strings.Repeat("0", w)
				if !strings.HasSuffix(goLayout.String(), ".") && !strings.HasSuffix(goLayout.String(), ",") {
					return nil, fmt.Errorf("invalid date format [%s]: fraction must follow '.'", p)
				}
			case 'X', 'x', 'Z':
				gl = "Z07:00"
				if w == 1 || c == 'Z' {
					gl = "Z0700"
				}
			default:
				return nil, fmt.Errorf("invalid date format [%s]: pattern letter [%c] is not supported", p, c)
			}
			l.parts = append(l.parts, javaPart{letter: c, width: w})
			goLayout.WriteString(gl)
			i = j
		default:
			l.parts = append(l.parts, javaPart{literal: string(c)})
			goLayout.WriteByte(c)
			i++
		}
	}
	l.goLayout = goLayout.String()
	return l, nil
}

func (l *javaLayout) parse(s string, loc *time.Location, roundUp bool) (int64, error) {
	year, month, day, hour, minute, sec, nanos := 1970, 1, 1, 0, 0, 0, 0
	zone := loc
	if zone == nil {
		zone = time.UTC
	}
	// unit is the finest field the text gives; round-up fills what is finer.
	unit := ""
	rank := map[string]int{"": 0, "y": 1, "M": 2, "d": 3, "h": 4, "m": 5, "s": 6, "ms": 7}
	finer := func(u string) {
		if rank[u] > rank[unit] {
			unit = u
		}
	}
	p := 0
	for _, part := range l.parts {
		if part.letter == 0 {
			if !strings.HasPrefix(s[p:], part.literal) {
				return 0, errBadDate
			}
			p += len(part.literal)
			continue
		}
		if part.letter == 'X' || part.letter == 'x' || part.letter == 'Z' {
			z, n, err := parseOffset(s[p:])
			if err != nil {
				return 0, err
			}
			zone = z
			p += n
			continue
		}
		max := part.width
		if part.letter == 'y' || part.letter == 'u' {
			max = 4
		}
		if part.letter == 'S' {
			max = 9
		}
		start := p
		for p < len(s) && p-start < max && s[p] >= '0' && s[p] <= '9' {
			p++
		}
		if p == start {
			return 0, errBadDate
		}
		n, _ := strconv.Atoi(s[start:p])
		switch part.letter {
		case 'y', 'u':
			year = n
			finer("y")
			if p-start == 2 {
				year += 2000
			}
		case 'M':
			month = n
			finer("M")
		case 'd':
			day = n
			finer("d")
		case 'H':
			hour = n
			finer("h")
		case 'm':
			minute = n
			finer("m")
		case 's':
			sec = n
			finer("s")
		case 'S':
			nanos = n * int(math.Pow10(9-(p-start)))
			finer("ms")
		}
	}
	if p != len(s) {
		return 0, errBadDate
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nanos, zone)
	if roundUp {
		t = roundUpTo(t, unit)
	}
	return t.UnixMilli(), nil
}

func (l *javaLayout) format(ms int64, loc *time.Location) string {
	return msToTime(ms, loc).Format(l.goLayout)
}

// parseTimeZone reads a time_zone parameter: an offset such as "+09:00" or
// an IANA name such as "Asia/Tokyo".
func parseTimeZone(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	if z, n, err := parseOffset(tz); err == nil && n == len(tz) {
		return z, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone [%s]: %w", tz, err)
	}
	return loc, nil
}

// parseDateMath evaluates a date or date-math expression ("now-1h/h",
// "2026-11-22T10:00:00Z||-30m", "2026-11-22") to epoch milliseconds.
func parseDateMath(expr string, f *dateFormat, loc *time.Location, now time.Time, roundUp bool) (int64, error) {
	var base time.Time
	var math string
	switch {
	case strings.HasPrefix(expr, "now"):
		base = now.In(loc)
		math = expr[3:]
	case strings.Contains(expr, "||"):
		i := strings.Index(expr, "||")
		ms, err := f.parse(expr[:i], loc, false)
		if err != nil {
			return 0, err
		}
		base = msToTime(ms, loc)
		math = expr[i+2:]
	default:
		return f.parse(expr, loc, roundUp)
	}
	t, err := applyDateMath(base, math, roundUp)
	if err != nil {
		return 0, fmt.Errorf("failed to parse date math [%s]: %w", expr, err)
	}
	return t.UnixMilli(), nil
}

func applyDateMath(t time.Time, math string, roundUp bool) (time.Time, error) {
	for i := 0; i < len(math); {
		op := math[i]
		i++
		if op != '+' && op != '-' && op != '/' {
			return t, fmt.Errorf("operator not supported [%c]", op)
		}
		n := 1
		if op != '/' {
			start := i
			for i < len(math) && math[i] >= '0' && math[i] <= '9' {
				i++
			}
			if i > start {
				n, _ = strconv.Atoi(math[start:i])
			}
			if op == '-' {
				n = -n
			}
		}
		if i >= len(math) {
			return t, errors.New("truncated date math")
		}
		unit := math[i]
		i++
		if op == '/' {
			var err error
			t, err = roundDown(t, unit)
			if err != nil {
				return t, err
			}
			if roundUp {
				t = roundUpTo(t, unitName(unit))
			}
			continue
		}
		switch unit {
		case 'y':
			t = t.AddDate(n, 0, 0)
		case 'M':
			t = t.AddDate(0, n, 0)
		case 'w':
			t = t.AddDate(0, 0, 7*n)
		case 'd':
			t = t.AddDate(0, 0, n)
		case 'h', 'H':
			t = t.Add(time.Duration(n) * time.Hour)
		case 'm':
			t = t.Add(time.Duration(n) * time.Minute)
		case 's':
			t = t.Add(time.Duration(n) * time.Second)
		default:
			return t, fmt.Errorf("unit [%c] not supported for date math", unit)
		}
	}
	return t, nil
}

func unitName(u byte) string {
	switch u {
	case 'H':
		return "h"
	default:
		return string(u)
	}
}

// roundDown truncates t to the start of the unit in t's own time zone.
func roundDown(t time.Time, unit byte) (time.Time, error) {
	y, mo, d := t.Date()
	loc := t.Location()
	switch unit {
	case 'y':
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc), nil
	case 'M':
		return time.Date(y, mo, 1, 0, 0, 0, 0, loc), nil
	case 'w':
		day := time.Date(y, mo, d, 0, 0, 0, 0, loc)
		offset := (int(day.Weekday()) + 6) % 7 // weeks start on Monday
		return day.AddDate(0, 0, -offset), nil
	case 'd':
		return time.Date(y, mo, d, 0, 0, 0, 0, loc), nil
	case 'h', 'H':
		return time.Date(y, mo, d, t.Hour(), 0, 0, 0, loc), nil
	case 'm':
		return time.Date(y, mo, d, t.Hour(), t.Minute(), 0, 0, loc), nil
	case 's':
		return time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), 0, loc), nil
	}
	return t, fmt.Errorf("unit [%c] not supported for date math rounding", unit)
}
