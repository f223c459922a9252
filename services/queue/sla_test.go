package queue

import (
	"testing"
	"time"
)

func TestBusinessHoursDue(t *testing.T) {
	b, err := ParseBusinessHours("Mon-Fri 09:00-18:00", "Asia/Tokyo", "P1=15m/4h,P2=1h/16h,P3=4h/48h,P4=24h/160h", []string{"P1"})
	if err != nil {
		t.Fatal(err)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, tokyo)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name, sev, from, resp, resol string
	}{
		// 2026-12-04 is a Friday.
		{"in hours", "P2", "2026-12-04 10:00", "2026-12-04 11:00", "2026-12-07 17:00"},
		{"friday evening waits for monday", "P3", "2026-12-04 19:30", "2026-12-07 13:00", "2026-12-14 12:00"},
		{"crosses the weekend", "P2", "2026-12-04 17:30", "2026-12-07 09:30", "2026-12-08 15:30"},
		{"before opening", "P2", "2026-12-07 07:00", "2026-12-07 10:00", "2026-12-08 16:00"},
		{"P1 runs around the clock", "P1", "2026-12-05 03:00", "2026-12-05 03:15", "2026-12-05 07:00"},
		{"unknown severity gets the loosest target", "P9", "2026-12-07 09:00", "2026-12-09 15:00", "2026-12-30 16:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, s := b.Due(tc.sev, at(tc.from))
			if !r.Equal(at(tc.resp)) || !s.Equal(at(tc.resol)) {
				t.Fatalf("due %s / %s, want %s / %s", r.In(tokyo).Format("Mon 01-02 15:04"), s.In(tokyo).Format("Mon 01-02 15:04"), tc.resp, tc.resol)
			}
		})
	}
	if !b.InHours(at("2026-12-07 09:00")) || b.InHours(at("2026-12-05 12:00")) || b.InHours(at("2026-12-07 18:00")) {
		t.Fatal("InHours is wrong at the edges")
	}
}

func TestParseBusinessHoursRefusesBadInput(t *testing.T) {
	for _, tc := range [][3]string{
		{"Mon-Fri", "Asia/Tokyo", "P1=1h/2h"},
		{"Mon-Fri 18:00-09:00", "Asia/Tokyo", "P1=1h/2h"},
		{"Mon-Fri 09:00-18:00", "Mars/Base", "P1=1h/2h"},
		{"Funday 09:00-18:00", "UTC", "P1=1h/2h"},
		{"Mon-Fri 09:00-18:00", "UTC", "P1=2h/1h"},
		{"Mon-Fri 09:00-18:00", "UTC", "P1=soon"},
	} {
		if _, err := ParseBusinessHours(tc[0], tc[1], tc[2], nil); err == nil {
			t.Errorf("%q accepted", tc)
		}
	}
}

// The day the clocks change, the team still opens at 09:00 on the wall:
// New York springs forward at 02:00 on Sunday 8 March 2026.
func TestBusinessHoursOnTheDayClocksChange(t *testing.T) {
	b, err := ParseBusinessHours("Mon-Sun 09:00-18:00", "America/New_York", "P2=1h/16h", nil)
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	from := time.Date(2026, 3, 8, 8, 0, 0, 0, ny)
	resp, _ := b.Due("P2", from)
	if want := time.Date(2026, 3, 8, 10, 0, 0, 0, ny); !resp.Equal(want) {
		t.Fatalf("response due %s, want %s (opening at 09:00 on the wall)", resp.In(ny), want)
	}
	if !b.InHours(time.Date(2026, 3, 8, 9, 0, 0, 0, ny)) || b.InHours(time.Date(2026, 3, 8, 8, 59, 0, 0, ny)) {
		t.Fatal("InHours disagrees with the wall clock on the day the clocks change")
	}
}
