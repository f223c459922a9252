package demoworld

import (
	"math/rand/v2"
	"time"
)

// generator holds the state of one Generate call.
type generator struct {
	cfg        Config
	start, end time.Time
	seedKey    uint64
	counter    uint64
	tokyo, la  *time.Location
	// used is shared by every stream's idSource so ids never repeat.
	used map[string]struct{}
	w    *World
	plan plan
}

func newGenerator(cfg Config) *generator {
	return &generator{
		cfg:     cfg,
		start:   cfg.start(),
		end:     cfg.End,
		seedKey: mix64(cfg.Seed ^ 0x6c6f67735f706f73),
		tokyo:   loadZone(ReferenceZone, 9*3600),
		la:      loadZone("America/Los_Angeles", -8*3600),
		used:    make(map[string]struct{}),
		w:       &World{Config: cfg, Start: cfg.start(), End: cfg.End},
	}
}

// loadZone cannot fail with the embedded zone data; the fixed fallback only
// keeps a stripped build from panicking.
func loadZone(name string, offset int) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone(name, offset)
	}
	return loc
}

func (g *generator) stream(salt uint64) (*rand.Rand, *idSource) {
	rng := newStream(g.cfg.Seed, salt)
	return rng, newIDSource(rng, g.used)
}

// generate fills the world. The order of the steps fixes the event ids, so
// it is part of the determinism contract.
func (g *generator) generate(legacy []legacyLine) {
	rng, ids := g.stream(streamTenants)
	g.w.Tenants = newTenants(g.cfg.Tenants, rng, ids, g.tokyo, g.la)

	rng, _ = g.stream(streamPlan)
	g.plan = newPlan(g, rng)

	rng, ids = g.stream(streamNoise)
	(&traffic{g: g, rng: rng, ids: ids}).noise()

	rng, ids = g.stream(streamIncidents)
	(&traffic{g: g, rng: rng, ids: ids}).incidents()

	if len(legacy) > 0 {
		rng, _ = g.stream(streamLegacy)
		g.legacy(legacy, rng)
	}
	g.w.buildIndexes()
	g.w.Incidents = g.plan.summaries(g.w)

	rng, _ = g.stream(streamTickets)
	newTicketWriter(g, rng).run()
}

func (g *generator) world() *World { return g.w }

// emit stores l if it falls inside the period, giving it its event id; it
// reports whether the log was kept.
func (g *generator) emit(l Log) bool {
	at := l.Timestamp.Truncate(time.Millisecond)
	if at.Before(g.start) || !at.Before(g.end) {
		return false
	}
	l.Timestamp = ECSTime{at.UTC()}
	l.Event.ID = eventID(g.seedKey, g.counter)
	g.counter++
	if l.Event.Dataset == "" {
		l.Event.Dataset = "pos." + l.Service.Name
	}
	g.w.Logs = append(g.w.Logs, l)
	return true
}

// localClock returns the instant at hour:minute on the local date of day.
func localClock(day time.Time, loc *time.Location, hour, minute int) time.Time {
	d := day.In(loc)
	return time.Date(d.Year(), d.Month(), d.Day(), hour, minute, 0, 0, loc)
}

// localDays returns local midnights of every date touching [from, to).
func localDays(from, to time.Time, loc *time.Location) []time.Time {
	var days []time.Time
	for d := localClock(from, loc, 0, 0); d.Before(to); d = localClock(d.Add(36*time.Hour), loc, 0, 0) {
		days = append(days, d)
	}
	return days
}

// businessWeight is the relative activity of a restaurant at a local
// hour: lunch 11:30–13:30 and dinner 17:30–21:00 peaks, quiet at night.
func businessWeight(localHour float64) float64 {
	switch {
	case localHour < 6:
		return 0.03
	case localHour < 9:
		return 0.08
	case localHour < 11:
		return 0.3
	case localHour < 11.5:
		return 0.55
	case localHour < 13.5:
		return 1
	case localHour < 15:
		return 0.45
	case localHour < 17.5:
		return 0.3
	case localHour < 21:
		return 1
	case localHour < 22.5:
		return 0.45
	default:
		return 0.1
	}
}

func localHour(t time.Time, loc *time.Location) float64 {
	l := t.In(loc)
	return float64(l.Hour()) + float64(l.Minute())/60 + float64(l.Second())/3600
}

// sampleBusinessTime draws an instant in [from, to) following the business
// curve in loc, by rejection.
func sampleBusinessTime(rng *rand.Rand, from, to time.Time, loc *time.Location) time.Time {
	span := int64(to.Sub(from))
	for {
		t := from.Add(time.Duration(rng.Int64N(span)))
		if rng.Float64() < businessWeight(localHour(t, loc)) {
			return t
		}
	}
}

// jitter returns a duration uniformly in [lo, hi].
func jitter(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func chance(rng *rand.Rand, p float64) bool { return rng.Float64() < p }
