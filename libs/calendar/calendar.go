// Package calendar reads business hours ("Mon-Fri 09:00-18:00" in a time
// zone): the queue's SLA clock and the pager's "who is at work" share them,
// so people write business hours one way everywhere.
package calendar

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Hours are business hours in a time zone.
type Hours struct {
	Days     [7]bool       // by time.Weekday
	Open     time.Duration // since midnight, by the clock on the wall
	Close    time.Duration
	Location *time.Location
	spec     string
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseHours reads hours such as "Mon-Fri 09:00-18:00" (days as a range or
// a comma list, a range may wrap: "Sun-Thu") in the time zone loc (see
// LoadZone). Closing must come after opening on the same day.
func ParseHours(hours string, loc *time.Location) (*Hours, error) {
	h := &Hours{Location: loc, spec: strings.TrimSpace(hours)}
	days, span, ok := strings.Cut(strings.TrimSpace(hours), " ")
	if !ok {
		return nil, fmt.Errorf("hours %q: want days and hours, such as \"Mon-Fri 09:00-18:00\"", hours)
	}
	for _, part := range strings.Split(strings.ToLower(days), ",") {
		from, to, isRange := strings.Cut(part, "-")
		f, ok1 := weekdays[from]
		t, ok2 := weekdays[to]
		if !isRange {
			t, ok2 = f, ok1
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("hours %q: unknown day in %q (use Mon, Tue, ...)", hours, part)
		}
		for d := f; ; d = (d + 1) % 7 {
			h.Days[d] = true
			if d == t {
				break
			}
		}
	}
	o, c, ok := strings.Cut(strings.TrimSpace(span), "-")
	var err error
	if h.Open, err = clock(o); ok && err == nil {
		h.Close, err = clock(c)
	}
	if !ok || err != nil || h.Close <= h.Open {
		return nil, fmt.Errorf("hours %q: want opening and closing times such as 09:00-18:00", hours)
	}
	return h, nil
}

// LoadZone loads a time zone by name, refusing the empty name, which time.LoadLocation reads as UTC.
func LoadZone(zone string) (*time.Location, error) {
	if strings.TrimSpace(zone) == "" {
		return nil, errors.New(`time zone is empty: want a name such as "Asia/Tokyo" or "UTC"`)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", zone, err)
	}
	return loc, nil
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// InHours reports whether t falls in business hours. It reads the wall
// clock in the zone, so "09:00" stays 09:00 on the days the clocks
// change.
func (h *Hours) InHours(t time.Time) bool {
	lt := t.In(h.Location)
	if !h.Days[lt.Weekday()] {
		return false
	}
	hh, mm, ss := lt.Clock()
	since := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute + time.Duration(ss)*time.Second
	return since >= h.Open && since < h.Close
}

// String is the hours as written, with their zone, for logs.
func (h *Hours) String() string { return h.spec + " " + h.Location.String() }

// Day is the opening and closing of t's day in the hours' zone, by the
// wall clock (so 09:00 stays 09:00 on the days the clocks change), and
// whether it is a working day.
func (h *Hours) Day(t time.Time) (open, closing time.Time, working bool) {
	lt := t.In(h.Location)
	y, m, d := lt.Date()
	wall := func(since time.Duration) time.Time {
		hh, mm := int(since/time.Hour), int(since%time.Hour/time.Minute)
		return time.Date(y, m, d, hh, mm, 0, 0, h.Location)
	}
	return wall(h.Open), wall(h.Close), h.Days[lt.Weekday()]
}

// NextDay is the start of the day after t's, in the hours' zone.
func (h *Hours) NextDay(t time.Time) time.Time {
	y, m, d := t.In(h.Location).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, h.Location)
}
