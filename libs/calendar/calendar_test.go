package calendar

import (
	"testing"
	"time"
)

func TestInHours(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		hours, zone, at string
		want            bool
	}{
		{"Mon-Fri 09:00-18:00", "Asia/Tokyo", "2026-11-17T23:59:00Z", false}, // Wed 08:59 in Tokyo
		{"Mon-Fri 09:00-18:00", "Asia/Tokyo", "2026-11-18T00:00:00Z", true},  // Wed 09:00
		{"Mon-Fri 09:00-18:00", "Asia/Tokyo", "2026-11-18T08:59:59Z", true},  // Wed 17:59:59
		{"Mon-Fri 09:00-18:00", "Asia/Tokyo", "2026-11-18T09:00:00Z", false}, // Wed 18:00
		{"Mon-Fri 09:00-18:00", "Asia/Tokyo", "2026-11-21T01:00:00Z", false}, // Sat 10:00
		{"Mon-Fri 09:00-18:00", "UTC", "2026-11-18T01:00:00Z", false},        // Tokyo's 10:00 is 01:00 here
		{"Sun-Thu 08:00-17:00", "UTC", "2026-11-22T10:00:00Z", true},         // a range wrapping the week: Sunday
		{"Sun-Thu 08:00-17:00", "UTC", "2026-11-20T10:00:00Z", false},        // Friday
		{"mon,wed 10:00-12:00", "UTC", "2026-11-17T11:00:00Z", false},        // Tuesday
		{"mon,wed 10:00-12:00", "UTC", "2026-11-18T11:00:00Z", true},         // Wednesday
		// New York springs forward on Sunday 8 March 2026: Monday's 09:00 is
		// still 09:00 on the wall.
		{"Mon-Fri 09:00-18:00", "America/New_York", "2026-03-09T13:00:00Z", true},
		{"Mon-Fri 09:00-18:00", "America/New_York", "2026-03-09T12:59:00Z", false},
	}
	for _, c := range cases {
		loc, err := LoadZone(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ParseHours(c.hours, loc)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.InHours(at(c.at)); got != c.want {
			t.Errorf("%q in %s at %s: InHours = %v, want %v", c.hours, c.zone, c.at, got, c.want)
		}
	}
}

func TestParseHoursErrors(t *testing.T) {
	for _, c := range []struct{ hours, zone string }{
		{"09:00-18:00", "UTC"}, {"Mon-Fri 18:00-09:00", "UTC"}, {"Mon-Xyz 09:00-18:00", "UTC"},
		{"Mon-Fri 9-18", "UTC"}, {"Mon-Fri 09:00-18:00", ""}, {"Mon-Fri 09:00-18:00", "Mars/Olympus"},
	} {
		loc, err := LoadZone(c.zone)
		if err == nil {
			_, err = ParseHours(c.hours, loc)
		}
		if err == nil {
			t.Errorf("ParseHours(%q) in %q accepted", c.hours, c.zone)
		}
	}
}
