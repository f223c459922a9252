package esdev

import (
	"testing"
	"time"
)

func TestParseDateMath(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 34, 56, 789e6, time.UTC)
	tokyo, err := parseTimeZone("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	ms := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	cases := []struct {
		expr    string
		format  string
		loc     *time.Location
		roundUp bool
		want    int64
	}{
		{"2026-11-22T10:00:00Z", "", time.UTC, false, ms("2026-11-22T10:00:00Z")},
		{"2026-11-22T10:00:00.123Z", "", time.UTC, false, ms("2026-11-22T10:00:00.123Z")},
		{"2026-11-22T19:00:00+09:00", "", time.UTC, false, ms("2026-11-22T10:00:00Z")},
		{"2026-11-22T19:00:00", "", tokyo, false, ms("2026-11-22T10:00:00Z")},
		{"2026-11-22", "", time.UTC, false, ms("2026-11-22T00:00:00Z")},
		{"2026-11-22", "", time.UTC, true, ms("2026-11-22T23:59:59.999Z")},
		{"2026-11-22T10", "", time.UTC, true, ms("2026-11-22T10:59:59.999Z")},
		{"now", "", time.UTC, false, now.UnixMilli()},
		{"now-1h", "", time.UTC, false, now.Add(-time.Hour).UnixMilli()},
		{"now-1h/h", "", time.UTC, false, ms("2026-11-22T11:00:00Z")},
		{"now-1h/h", "", time.UTC, true, ms("2026-11-22T11:59:59.999Z")},
		{"now/d", "", tokyo, false, ms("2026-11-21T15:00:00Z")}, // 21:34 in Tokyo; its day began at 15:00 UTC
		{"now-7d/d", "", time.UTC, false, ms("2026-11-15T00:00:00Z")},
		{"2026-11-22T10:00:00Z||-30m", "", time.UTC, false, ms("2026-11-22T09:30:00Z")},
		{"2026-11-22T10:00:00Z||+1d/d", "", time.UTC, false, ms("2026-11-23T00:00:00Z")},
		{"1795341600000", "", time.UTC, false, 1795341600000},
		{"2026/11/22 10:00:00", "yyyy/MM/dd HH:mm:ss", time.UTC, false, ms("2026-11-22T10:00:00Z")},
		{"22.11.2026", "dd.MM.yyyy", time.UTC, true, ms("2026-11-22T23:59:59.999Z")},
		{"1795341600", "epoch_second", time.UTC, false, 1795341600000},
	}
	for _, c := range cases {
		f, err := parseDateFormat(c.format)
		if err != nil {
			t.Fatalf("format %q: %v", c.format, err)
		}
		got, err := parseDateMath(c.expr, f, c.loc, now, c.roundUp)
		if err != nil {
			t.Errorf("parseDateMath(%q) error: %v", c.expr, err)
			continue
		}
		if got != c.want {
			t.Errorf("parseDateMath(%q, roundUp=%v) = %s, want %s", c.expr, c.roundUp,
				time.UnixMilli(got).UTC().Format(time.RFC3339Nano), time.UnixMilli(c.want).UTC().Format(time.RFC3339Nano))
		}
	}
}

func TestParseDateErrors(t *testing.T) {
	f, _ := parseDateFormat("")
	for _, expr := range []string{"yesterday", "2026-13-01", "2026-02-30", "now-1x", "2026-11-22T25:00:00Z", "now+"} {
		if _, err := parseDateMath(expr, f, time.UTC, time.Now(), false); err == nil {
			t.Errorf("parseDateMath(%q) succeeded, want an error", expr)
		}
	}
}

func TestFormatDate(t *testing.T) {
	tokyo, _ := parseTimeZone("+09:00")
	f, _ := parseDateFormat("")
	ms := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC).UnixMilli()
	if got := f.format(ms, time.UTC); got != "2026-11-22T10:00:00.000Z" {
		t.Errorf("UTC = %s", got)
	}
	if got := f.format(ms, tokyo); got != "2026-11-22T19:00:00.000+09:00" {
		t.Errorf("+09:00 = %s", got)
	}
	custom, _ := parseDateFormat("yyyy-MM-dd HH:mm")
	if got := custom.format(ms, time.UTC); got != "2026-11-22 10:00" {
		t.Errorf("custom = %s", got)
	}
}
