package demoworld

import (
	"fmt"
	"math/rand/v2"
	"time"
	// Embedded zone data: the world must not depend on the host's tzdata.
	_ "time/tzdata"
)

// Tenant is one restaurant using the product.
type Tenant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// TimeZone is an IANA zone name; times in the tenant's tickets are local
	// to it.
	TimeZone   string `json:"time_zone"`
	AppVersion string `json:"app_version"`
	Plan       string `json:"plan"`
	// Devices lists the tablets (tab-) first, then the kitchen printers (prn-).
	Devices []string `json:"devices"`
	// Users are the staff accounts (usr-) of the restaurant.
	Users []string `json:"users"`
	// Language is the language the staff usually write tickets in.
	Language string `json:"language"`

	loc       *time.Location
	menuItems int
}

// Location returns the tenant's time zone.
func (t *Tenant) Location() *time.Location { return t.loc }

// Tablets returns the tenant's tablet device ids.
func (t *Tenant) Tablets() []string { return t.devicesOfKind("tab-") }

// Printers returns the tenant's kitchen printer device ids.
func (t *Tenant) Printers() []string { return t.devicesOfKind("prn-") }

func (t *Tenant) devicesOfKind(prefix string) []string {
	var out []string
	for _, d := range t.Devices {
		if len(d) > len(prefix) && d[:len(prefix)] == prefix {
			out = append(out, d)
		}
	}
	return out
}

// BuggyMenuVersion is the app version whose menu sync fails with a schema
// mismatch once the incident starts.
const BuggyMenuVersion = "v4.12.3"

// Languages of tickets.
const (
	LangJapanese = "ja"
	LangEnglish  = "en"
)

var (
	healthyVersions = [...]string{"v4.11.8", "v4.12.1", "v4.13.0", "v4.13.0", "v4.12.1"}
	plans           = [...]string{"starter", "standard", "standard", "pro"}

	jaNamePrefixes = [...]string{"すし処", "居酒屋", "焼肉", "らーめん", "カフェ", "そば処", "洋食屋", "炉端焼き", "天ぷら", "とんかつ", "ビストロ", "串焼き", "うどん", "食堂", "お好み焼き"}
	jaNameSuffixes = [...]string{"さくら", "はなび", "一心", "まるや", "たけ", "こまち", "ひなた", "大吉", "松風", "つばめ", "あかり", "福助", "みなと", "凪", "かえで", "銀杏"}
	enNameFirst    = [...]string{"Blue Door", "Golden Gate", "Harbor", "Maple", "Sunset", "Old Town", "Red Lantern", "Copper Pot", "Little Tokyo", "Mission", "Ocean Breeze", "Cedar"}
	enNameLast     = [...]string{"Diner", "Tacos", "Ramen Bar", "Kitchen", "Bistro", "Grill", "Sushi", "Cafe", "Noodle House", "Burger Co."}
)

// newTenants builds n tenants: one in six in Los Angeles, the rest in
// Tokyo, where three in ten are run by English-speaking owners; about one
// in five on BuggyMenuVersion (at least one, and never all when n > 1).
// The shares are dealt, not drawn, so every world has the same mix.
func newTenants(n int, rng *rand.Rand, ids *idSource, tokyo, la *time.Location) []Tenant {
	tenants := make([]Tenant, 0, n)
	names := make(map[string]struct{}, n)
	inLA := 0
	if n > 1 {
		inLA = max(1, n/6)
	}
	englishInTokyo := (n - inLA) * 3 / 10
	kinds := rng.Perm(n) // kinds[i] < inLA: LA; next englishInTokyo: English-speaking Tokyo
	for i := range n {
		t := Tenant{ID: ids.tenantID(), Plan: plans[rng.IntN(len(plans))], menuItems: 40 + rng.IntN(140)}
		t.TimeZone, t.loc, t.Language = tokyo.String(), tokyo, LangJapanese
		switch k := kinds[i]; {
		case k < inLA:
			t.TimeZone, t.loc, t.Language = la.String(), la, LangEnglish
		case k < inLA+englishInTokyo:
			t.Language = LangEnglish
		}
		t.Name = uniqueName(rng, names, t.Language == LangJapanese, i)
		t.AppVersion = healthyVersions[rng.IntN(len(healthyVersions))]
		if rng.IntN(5) == 0 {
			t.AppVersion = BuggyMenuVersion
		}
		for range 2 + rng.IntN(4) {
			t.Devices = append(t.Devices, ids.deviceID("tab"))
		}
		for range 1 + rng.IntN(2) {
			t.Devices = append(t.Devices, ids.deviceID("prn"))
		}
		for range 3 + rng.IntN(6) {
			t.Users = append(t.Users, ids.userID())
		}
		tenants = append(tenants, t)
	}
	ensureVersionMix(tenants, rng)
	return tenants
}

// ensureVersionMix makes the menu incident observable in small worlds too.
func ensureVersionMix(tenants []Tenant, rng *rand.Rand) {
	buggy := 0
	for _, t := range tenants {
		if t.AppVersion == BuggyMenuVersion {
			buggy++
		}
	}
	switch {
	case buggy == 0:
		tenants[rng.IntN(len(tenants))].AppVersion = BuggyMenuVersion
	case buggy == len(tenants) && len(tenants) > 1:
		tenants[rng.IntN(len(tenants))].AppVersion = healthyVersions[0]
	}
}

func uniqueName(rng *rand.Rand, used map[string]struct{}, japanese bool, i int) string {
	for attempt := 0; ; attempt++ {
		var name string
		if japanese {
			name = jaNamePrefixes[rng.IntN(len(jaNamePrefixes))] + " " + jaNameSuffixes[rng.IntN(len(jaNameSuffixes))]
		} else {
			name = enNameFirst[rng.IntN(len(enNameFirst))] + " " + enNameLast[rng.IntN(len(enNameLast))]
		}
		if attempt > 50 {
			// The name space is finite; a branch number keeps huge worlds unique.
			if japanese {
				name = fmt.Sprintf("%s %d号店", name, i+1)
			} else {
				name = fmt.Sprintf("%s #%d", name, i+1)
			}
		}
		if _, dup := used[name]; !dup {
			used[name] = struct{}{}
			return name
		}
	}
}
