package demoworld

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Incident names, used as the Incident label of tickets.
const (
	IncidentPaymentStorm  = "payment-provider-timeout-storm"
	IncidentPrinterCrash  = "printer-bridge-crash-loop"
	IncidentMenuSchema    = "menu-sync-schema-mismatch"
	IncidentAuthExpiry    = "auth-token-expiry"
	stormProviderJapan    = "tsubame-pay"
	stormProviderAmerica  = "harbor-pay"
	menuSyncBuggyRelease  = "menu-sync 2.31.0 (schema v7)"
	printerFirmware       = "2.8.1"
	stormMinTenantsShare  = 0.65
	authTenantsPerTenants = 15
)

// Error codes the demo world uses.
const (
	CodeProviderTimeout = "PAY-1042"
	CodeCardDeclined    = "PAY-1005"
	CodeRefundConflict  = "PAY-1301"
	CodePrinterCrash    = "PRN-2001"
	CodeMenuSchema      = "MENU-3003"
	CodeMenuImage       = "MENU-3001"
	CodeTokenExpired    = "AUTH-4011"
	CodeSessionStore    = "AUTH-4003"
	CodeOrderDeadlock   = "ORD-5002"
	CodeReceiptRender   = "ORD-5007"
	CodeRedisPool       = "ORD-5009"
	CodeLoyaltyLookup   = "CUS-6003"
)

// Incident summarises one injected incident.
type Incident struct {
	Name      string `json:"name"`
	Component string `json:"component"`
	// Services emitting the incident's logs; ErrorCode and Signature (a
	// message prefix) identify them.
	Services  []string  `json:"services"`
	ErrorCode string    `json:"error_code"`
	Signature string    `json:"signature"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Tenants   []string  `json:"tenants"`
}

// span is a time interval [from, to).
type span struct{ from, to time.Time }

func (s span) contains(t time.Time) bool {
	return !s.from.IsZero() && !t.Before(s.from) && t.Before(s.to)
}

// plan fixes when and where the incidents happen before any log is written,
// so the background traffic can fail consistently with them.
type plan struct {
	storm         span
	stormTenants  map[string]bool
	printerTenant string
	printerDevice string
	printer       span
	menu          span
	authTenants   map[string]bool
}

func newPlan(g *generator, rng *rand.Rand) plan {
	p := plan{stormTenants: map[string]bool{}, authTenants: map[string]bool{}}
	tenants := g.w.Tenants

	if at, ok := pickLocalTime(rng, g, g.tokyo, 18*60+40, 19*60+10, 45*time.Minute+2*time.Hour); ok {
		p.storm = span{at, at.Add(jitter(rng, 36*time.Minute, 44*time.Minute)).Truncate(time.Second)}
		p.stormTenants = chooseStormTenants(rng, tenants, g.tokyo)
	}

	// The crash loop hits a Tokyo restaurant at lunch.
	var candidates []int
	for i, t := range tenants {
		if t.loc == g.tokyo {
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 0 {
		candidates = []int{0}
	}
	t := &tenants[pick(rng, candidates)]
	if at, ok := pickLocalTime(rng, g, t.loc, 11*60, 12*60+30, 5*time.Hour); ok {
		p.printer = span{at, at.Add(jitter(rng, 150*time.Minute, 240*time.Minute)).Truncate(time.Second)}
		p.printerTenant = t.ID
		p.printerDevice = t.Printers()[0]
	}

	// The menu-sync release goes out late morning, at least half a day
	// into the period, and is never rolled back within it.
	if at, ok := pickLocalTime(rng, g, g.tokyo, 10*60, 14*60, 10*time.Hour); ok {
		if earliest := g.start.Add(12 * time.Hour); at.Before(earliest) {
			at = earliest
		}
		p.menu = span{at, g.end}
	}

	n := max(2, int(math.Round(float64(len(tenants))/authTenantsPerTenants)))
	for _, i := range rng.Perm(len(tenants))[:min(n, len(tenants))] {
		p.authTenants[tenants[i].ID] = true
	}
	return p
}

// pickLocalTime draws a local time of day between fromMin and toMin
// (minutes after midnight in loc) on a random date such that the instant
// plus after still lies inside the period.
func pickLocalTime(rng *rand.Rand, g *generator, loc *time.Location, fromMin, toMin int, after time.Duration) (time.Time, bool) {
	var fits []time.Time
	for _, d := range localDays(g.start, g.end, loc) {
		first := localClock(d, loc, fromMin/60, fromMin%60)
		last := localClock(d, loc, toMin/60, toMin%60)
		if !first.Before(g.start) && !last.Add(after).After(g.end) {
			fits = append(fits, first)
		}
	}
	if len(fits) == 0 {
		return time.Time{}, false
	}
	first := pick(rng, fits)
	return first.Add(jitter(rng, 0, time.Duration(toMin-fromMin)*time.Minute)).Truncate(time.Second), true
}

// chooseStormTenants picks the restaurants on the Japanese provider that
// see the timeouts: about nine in ten Tokyo tenants, topped up so at least
// 65% of all tenants are hit.
func chooseStormTenants(rng *rand.Rand, tenants []Tenant, tokyo *time.Location) map[string]bool {
	hit := map[string]bool{}
	var spare []string
	for _, t := range tenants {
		if t.loc == tokyo && chance(rng, 0.9) {
			hit[t.ID] = true
		} else {
			spare = append(spare, t.ID)
		}
	}
	need := int(math.Ceil(stormMinTenantsShare * float64(len(tenants))))
	for _, i := range rng.Perm(len(spare)) {
		if len(hit) >= need {
			break
		}
		hit[spare[i]] = true
	}
	return hit
}

func (p *plan) stormAt(tenantID string, t time.Time) bool {
	return p.stormTenants[tenantID] && p.storm.contains(t)
}

func (p *plan) printerDown(tenantID, device string, t time.Time) bool {
	return tenantID == p.printerTenant && device == p.printerDevice && p.printer.contains(t)
}

func (p *plan) menuBroken(t *Tenant, at time.Time) bool {
	return t.AppVersion == BuggyMenuVersion && p.menu.contains(at)
}

// summaries describes the incidents from the plan and the written logs.
func (p *plan) summaries(w *World) []Incident {
	var out []Incident
	byCode := func(code string) (tenants []string, first, last time.Time) {
		seen := map[string]bool{}
		for i := range w.Logs {
			l := &w.Logs[i]
			if l.Error.Code != code || l.Labels.TenantID == "" {
				continue
			}
			if first.IsZero() {
				first = l.Timestamp.Time
			}
			last = l.Timestamp.Time
			if !seen[l.Labels.TenantID] {
				seen[l.Labels.TenantID] = true
				tenants = append(tenants, l.Labels.TenantID)
			}
		}
		slices.Sort(tenants)
		return tenants, first, last
	}
	if !p.storm.from.IsZero() {
		tenants, _, _ := byCode(CodeProviderTimeout)
		out = append(out, Incident{
			Name: IncidentPaymentStorm, Component: "payment",
			Services:  []string{ServicePaymentGateway, ServiceOrderAPI},
			ErrorCode: CodeProviderTimeout, Signature: "payment provider timeout after 30000 ms",
			Start: p.storm.from, End: p.storm.to, Tenants: tenants,
		})
	}
	if !p.printer.from.IsZero() {
		out = append(out, Incident{
			Name: IncidentPrinterCrash, Component: "printer",
			Services:  []string{ServicePrinterBridge},
			ErrorCode: CodePrinterCrash, Signature: "printer bridge crashed:",
			Start: p.printer.from, End: p.printer.to, Tenants: []string{p.printerTenant},
		})
	}
	if !p.menu.from.IsZero() {
		tenants, _, _ := byCode(CodeMenuSchema)
		out = append(out, Incident{
			Name: IncidentMenuSchema, Component: "menu",
			Services:  []string{ServiceMenuSync},
			ErrorCode: CodeMenuSchema, Signature: "menu sync failed: schema mismatch",
			Start: p.menu.from, End: p.menu.to, Tenants: tenants,
		})
	}
	if tenants, first, last := byCode(CodeTokenExpired); len(tenants) > 0 {
		out = append(out, Incident{
			Name: IncidentAuthExpiry, Component: "auth",
			Services:  []string{ServiceAuth},
			ErrorCode: CodeTokenExpired, Signature: "token expired before refresh",
			Start: first, End: last.Add(time.Millisecond), Tenants: tenants,
		})
	}
	return out
}
