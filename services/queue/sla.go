package queue

import (
	"fmt"
	"strings"
	"time"

	"github.com/triage-pipeline/triage/libs/calendar"
)

// Target is a severity's response and resolution targets.
type Target struct {
	Response   time.Duration
	Resolution time.Duration
}

// BusinessHours is when the team works, in its time zone: the SLA clock
// runs only then, except for always-on severities.
type BusinessHours struct {
	calendar.Hours
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

// add moves d of business time forward from start, day by day, each
// day's opening and closing read on the wall clock.
func (b *BusinessHours) add(start time.Time, d time.Duration) time.Time {
	t := start.In(b.Location)
	for i := 0; i < 3660 && d > 0; i++ { // ten years of days at most
		open, closing, working := b.Day(t)
		if !working || !t.Before(closing) {
			t, _, _ = b.Day(b.NextDay(t))
			continue
		}
		if t.Before(open) {
			t = open
		}
		if left := closing.Sub(t); d <= left {
			return t.Add(d).UTC()
		} else {
			d -= left
			t, _, _ = b.Day(b.NextDay(t))
		}
	}
	return t.UTC()
}

// ParseBusinessHours reads "Mon-Fri 09:00-18:00" (days as a range or a
// comma list), the zone name, targets as "P1=15m/4h,P2=1h/16h,..." and the
// always-on severities.
func ParseBusinessHours(hours, zone, targets string, alwaysOn []string) (*BusinessHours, error) {
	loc, err := calendar.LoadZone(zone)
	if err != nil {
		return nil, fmt.Errorf("--business-time-zone: %w", err)
	}
	h, err := calendar.ParseHours(hours, loc)
	if err != nil {
		return nil, fmt.Errorf("--business-hours: %w", err)
	}
	b := &BusinessHours{Hours: *h, AlwaysOn: map[string]bool{}, Targets: map[string]Target{}}
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
