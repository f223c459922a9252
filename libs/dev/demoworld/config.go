package demoworld

import (
	"time"
)

// Defaults used when a Config field is left zero.
const (
	DefaultDays             = 3
	DefaultTenants          = 50
	DefaultLogsPerTenantDay = 300
	DefaultLegacyLogsPerDay = 400
)

// DefaultEnd is the fixed end of the generated period when Config.End is
// zero: 2026-03-07 00:00 in Tokyo, so the default three days are whole local
// days for most tenants. A fixed instant keeps the world reproducible.
func DefaultEnd() time.Time {
	return time.Date(2026, time.March, 6, 15, 0, 0, 0, time.UTC)
}

// ReferenceZone is the zone of most tenants; the incidents are placed by its
// clock (the payment storm hits the Tokyo dinner peak).
const ReferenceZone = "Asia/Tokyo"

// Config describes the world to generate. The zero value is the default
// world; every field has a documented default.
type Config struct {
	// Seed selects the world; the same seed gives the same world byte for byte.
	Seed uint64
	// End is the exclusive end of the generated period (default DefaultEnd()).
	End time.Time
	// Days is the length of the period ending at End (default 3).
	Days int
	// Tenants is the number of restaurants (default 50).
	Tenants int
	// LogsPerTenantDay is the background log volume per tenant and day
	// (default 300), spread over a business-hours curve in local time.
	// Incidents add their own logs on top.
	LogsPerTenantDay int
	// LogHubDir, when set, is a folder holding Loghub's
	// <System>/<System>_2k.log_structured.csv files; their Content lines are
	// mixed in as the legacy-batch service. Off by default.
	LogHubDir string
	// LegacyLogsPerDay is the legacy-batch volume when LogHubDir is set
	// (default 400).
	LegacyLogsPerDay int
}

// withDefaults fills zero fields; negative counts are treated as zero-valued.
func (c Config) withDefaults() Config {
	if c.End.IsZero() {
		c.End = DefaultEnd()
	}
	c.End = c.End.UTC().Truncate(time.Millisecond)
	if c.Days <= 0 {
		c.Days = DefaultDays
	}
	if c.Tenants <= 0 {
		c.Tenants = DefaultTenants
	}
	if c.LogsPerTenantDay <= 0 {
		c.LogsPerTenantDay = DefaultLogsPerTenantDay
	}
	if c.LegacyLogsPerDay <= 0 {
		c.LegacyLogsPerDay = DefaultLegacyLogsPerDay
	}
	return c
}

// Start is the inclusive start of the generated period.
func (c Config) start() time.Time {
	return c.End.Add(-time.Duration(c.Days) * 24 * time.Hour)
}
