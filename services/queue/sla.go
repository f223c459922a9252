package queue

import (
	"fmt"
	"strings"
	"time"
)

// Target is a severity's response and resolution targets.
type Target struct {
	Response   time.Duration
	Resolution time.Duration
}

// BusinessHours is when the team works, in its time zone: the SLA clock
// runs only then, except for always-on severities.
type BusinessHours struct {
	Days       [7]bool // by time.Weekday
	Open       time.Duration
	Close      time.Duration
	Location   *time.Location
	AlwaysOn   map[string]bool
	Targets    map[string]Target
	defaultTgt Target
}

// Due implements DuePolicy.
func (b *BusinessHours) Due(severity string, from time.Time) (time.Time, time.Time) {
	t, ok := b.Targets[severity]
	if !ok {
		t = b.defaultTgt
	}
	if b.AlwaysOn[severity] {
		return from.Add(t.Response).UTC(), from.Add(t.Resolution).UTC()
	}
	return b.add(from, t.Response), b.add(from, t.Resolution)
}

// InHours reports whether t is within business hours.
func (b *BusinessHours) InHours(t time.Time) bool {
	lt := t.In(b.Location)
	if !b.Days[lt.Weekday()] {
		return false
	}
	since := lt.Sub(midnight(lt))
	return since >= b.Open && since < b.Close
}

func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// add moves d of business time forward from start.
func (b *BusinessHours) add(start time.Time, d time.Duration) time.Time {
	t := start.In(b.Location)
	for i := 0; i < 3660 && d > 0; i++ { // ten years of days at most
		day := midnight(t)
		open, closing := day.Add(b.Open), day.Add(b.Close)
		if !b.Days[t.Weekday()] || !t.Before(closing) {
			t = day.AddDate(0, 0, 1).Add(b.Open)
			continue
		}
		if t.Before(open) {
			t = open
		}
		if left := closing.Sub(t); d <= left {
			return t.Add(d).UTC()
		} else {
			d -= left
			t = day.AddDate(0, 0, 1).Add(b.Open)
		}
	}
	return t.UTC()
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseBusinessHours reads "Mon-Fri 09:00-18:00" (days as a range or a
// comma list), the zone name, targets as "P1=15m/4h,P2=1h/16h,..." and the
// always-on severities.
func ParseBusinessHours(hours, zone, targets string, alwaysOn []string) (*BusinessHours, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("--business-time-zone: %w", err)
	}
	b := &BusinessHours{Location: loc, AlwaysOn: map[string]bool{}, Targets: map[string]Target{}}
	days, span, ok := strings.Cut(strings.TrimSpace(hours), " ")
	if !ok {
		return nil, fmt.Errorf("--business-hours %q: want days and hours, such as \"Mon-Fri 09:00-18:00\"", hours)
	}
	for _, part := range strings.Split(strings.ToLower(days), ",") {
		from, to, isRange := strings.Cut(part, "-")
		f, ok1 := weekdays[from]
		tt, ok2 := weekdays[to]
		if !isRange {
			tt, ok2 = f, ok1
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("--business-hours %q: unknown day in %q (use Mon, Tue, ...)", hours, part)
		}
		for d := f; ; d = (d + 1) % 7 {
			b.Days[d] = true
			if d == tt {
				break
			}
		}
	}
	o, c, ok := strings.Cut(strings.TrimSpace(span), "-")
	if b.Open, err = clock(o); ok && err == nil {
		b.Close, err = clock(c)
	}
	if !ok || err != nil || b.Close <= b.Open {
		return nil, fmt.Errorf("--business-hours %q: want opening and closing times such as 09:00-18:00", hours)
	}
	for _, part := range strings.Split(targets, ",") {
		sev, durs, ok := strings.Cut(strings.TrimSpace(part), "=")
		r, s, ok2 := strings.Cut(durs, "/")
		var t Target
		var err1, err2 error
		t.Response, err1 = time.ParseDuration(r)
		t.Resolution, err2 = time.ParseDuration(s)
		if !ok || !ok2 || err1 != nil || err2 != nil || t.Response <= 0 || t.Resolution < t.Response {
			return nil, fmt.Errorf("--sla-targets %q: want severity=response/resolution, such as P1=15m/4h", part)
		}
		b.Targets[sev] = t
	}
	worst := Target{}
	for _, t := range b.Targets {
		if t.Resolution > worst.Resolution {
			worst = t
		}
	}
	b.defaultTgt = worst // an unknown severity gets the loosest target
	for _, s := range alwaysOn {
		b.AlwaysOn[s] = true
	}
	return b, nil
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}
