package demoworld

import (
	"strings"
	"testing"
	"time"
)

func incident(tb testing.TB, w *World, name string) Incident {
	tb.Helper()
	for _, in := range w.Incidents {
		if in.Name == name {
			return in
		}
	}
	tb.Fatalf("incident %s missing; have %+v", name, w.Incidents)
	return Incident{}
}

// logsWithCode returns the tenant-scoped logs carrying error.code code.
func logsWithCode(w *World, code string) []Log {
	var out []Log
	for i := range w.Logs {
		if w.Logs[i].Error.Code == code && w.Logs[i].Labels.TenantID != "" {
			out = append(out, w.Logs[i])
		}
	}
	return out
}

func TestPaymentStorm(t *testing.T) {
	w := defaultWorld()
	in := incident(t, w, IncidentPaymentStorm)
	if d := in.End.Sub(in.Start); d < 35*time.Minute || d > 45*time.Minute {
		t.Errorf("storm lasts %v, want about 40 min", d)
	}
	tokyo, _ := time.LoadLocation(ReferenceZone)
	if h := localHour(in.Start, tokyo); h < 17.5 || h > 21 {
		t.Errorf("storm starts at %v Tokyo time, want the dinner peak", in.Start.In(tokyo))
	}
	gateway, orderAPI := map[string]int{}, map[string]int{}
	for _, l := range logsWithCode(w, CodeProviderTimeout) {
		if l.Timestamp.Before(in.Start) || l.Timestamp.After(in.End.Add(5*time.Minute)) {
			t.Errorf("storm log %s at %v is outside the storm", l.ID(), l.Timestamp)
		}
		switch l.Service.Name {
		case ServicePaymentGateway:
			if l.Log.Level != LevelError || l.Error.Type != "ProviderTimeoutError" || l.HTTP.Response.StatusCode != 504 ||
				!strings.HasPrefix(l.Message, "payment provider timeout after 30000 ms") {
				t.Fatalf("gateway storm log has the wrong shape: %+v", l)
			}
			gateway[l.Labels.TenantID]++
		case ServiceOrderAPI:
			if l.Log.Level != LevelError || l.HTTP.Response.StatusCode != 503 || l.Labels.OrderID == "" ||
				!strings.HasPrefix(l.Message, "payment step failed for order "+l.Labels.OrderID) {
				t.Fatalf("order-api storm log has the wrong shape: %+v", l)
			}
			orderAPI[l.Labels.TenantID]++
		default:
			t.Fatalf("storm log from unexpected service %s", l.Service.Name)
		}
	}
	if share := float64(len(gateway)) / float64(len(w.Tenants)); share < 0.6 {
		t.Errorf("storm hit %d of %d tenants (%.0f%%), want at least 60%%", len(gateway), len(w.Tenants), share*100)
	}
	if len(orderAPI) != len(gateway) || len(in.Tenants) != len(gateway) {
		t.Errorf("tenants with gateway errors %d, order-api errors %d, in summary %d", len(gateway), len(orderAPI), len(in.Tenants))
	}
	for tenant, n := range gateway {
		if n < 5 {
			t.Errorf("tenant %s has only %d provider timeouts during a 40 min dinner storm", tenant, n)
		}
	}
}

func TestPrinterCrashLoop(t *testing.T) {
	w := defaultWorld()
	in := incident(t, w, IncidentPrinterCrash)
	if d := in.End.Sub(in.Start); d < 2*time.Hour || d > 5*time.Hour {
		t.Errorf("crash loop lasts %v, want a few hours", d)
	}
	if len(in.Tenants) != 1 {
		t.Fatalf("crash loop tenants %v, want one", in.Tenants)
	}
	tenant, _ := w.Tenant(in.Tenants[0])
	levels := map[string]int{}
	restarts := 0
	for _, l := range w.TenantLogs(tenant.ID) {
		if l.Service.Name == ServicePrinterBridge && strings.HasPrefix(l.Message, "printer bridge restarting") {
			restarts++
		}
	}
	for _, l := range logsWithCode(w, CodePrinterCrash) {
		if l.Labels.TenantID != tenant.ID {
			t.Fatalf("printer crash log for tenant %s, want only %s", l.Labels.TenantID, tenant.ID)
		}
		if l.Labels.DeviceID != tenant.Printers()[0] || l.Service.Name != ServicePrinterBridge {
			t.Fatalf("crash log %s on device %s service %s", l.ID(), l.Labels.DeviceID, l.Service.Name)
		}
		if strings.HasPrefix(l.Message, "printer bridge crashed: ") {
			levels[l.Log.Level]++
		}
	}
	if levels[LevelFatal] == 0 || levels[LevelError] == 0 || restarts < levels[LevelFatal]+levels[LevelError] {
		t.Errorf("crashes by level %v with %d restarts, want FATAL and ERROR crashes each followed by a restart", levels, restarts)
	}
}

func TestMenuSchemaMismatch(t *testing.T) {
	w := defaultWorld()
	in := incident(t, w, IncidentMenuSchema)
	failed := map[string]int{}
	for _, l := range logsWithCode(w, CodeMenuSchema) {
		if l.Labels.AppVersion != BuggyMenuVersion || l.Log.Level != LevelError ||
			!strings.HasPrefix(l.Message, "menu sync failed: schema mismatch") || l.Timestamp.Before(in.Start) {
			t.Fatalf("menu failure has the wrong shape: %+v", l)
		}
		failed[l.Labels.TenantID]++
	}
	for _, tenant := range w.Tenants {
		completedAfter, completedBefore := 0, 0
		for _, l := range w.TenantLogs(tenant.ID) {
			if strings.HasPrefix(l.Message, "menu sync completed") {
				if l.Timestamp.Before(in.Start) {
					completedBefore++
				} else {
					completedAfter++
				}
			}
		}
		buggy := tenant.AppVersion == BuggyMenuVersion
		switch {
		case buggy && (failed[tenant.ID] == 0 || completedAfter > 0 || completedBefore == 0):
			t.Errorf("%s on %s: %d failures, %d syncs completed before and %d after the release; want every sync after it to fail",
				tenant.ID, tenant.AppVersion, failed[tenant.ID], completedBefore, completedAfter)
		case !buggy && (failed[tenant.ID] > 0 || completedAfter == 0):
			t.Errorf("%s on %s: %d failures, %d syncs completed; want healthy syncs", tenant.ID, tenant.AppVersion, failed[tenant.ID], completedAfter)
		}
	}
}

func TestAuthTokenExpiry(t *testing.T) {
	w := defaultWorld()
	in := incident(t, w, IncidentAuthExpiry)
	if len(in.Tenants) < 2 || len(in.Tenants) > 6 {
		t.Errorf("token expiry hits %d tenants, want a few", len(in.Tenants))
	}
	days := map[string]bool{}
	levels := map[string]int{}
	for _, l := range logsWithCode(w, CodeTokenExpired) {
		if l.Service.Name != ServiceAuth || l.HTTP.Response.StatusCode != 401 || l.User.ID == "" ||
			!strings.Contains(l.Message, "token expired before refresh") {
			t.Fatalf("token expiry log has the wrong shape: %+v", l)
		}
		levels[l.Log.Level]++
		days[l.Timestamp.Format(time.DateOnly)] = true
	}
	if levels[LevelWarn] == 0 || levels[LevelError] == 0 || len(days) < 2 {
		t.Errorf("expiry logs by level %v on %d days; want WARN and ERROR at random times", levels, len(days))
	}
}

// TestBackgroundErrors checks errors unrelated to any incident exist, so
// "the tenant has an error" is not enough to attach a log, and that card
// declines (not bugs) are logged.
func TestBackgroundErrors(t *testing.T) {
	w := defaultWorld()
	incidentCodes := map[string]bool{CodeProviderTimeout: true, CodePrinterCrash: true, CodeMenuSchema: true, CodeTokenExpired: true}
	tenants, codes := map[string]bool{}, map[string]bool{}
	platformErrors := 0
	for i := range w.Logs {
		l := &w.Logs[i]
		if l.Log.Level != LevelError || incidentCodes[l.Error.Code] {
			continue
		}
		if l.Labels.TenantID == "" {
			platformErrors++
			continue
		}
		tenants[l.Labels.TenantID] = true
		codes[l.Error.Code] = true
	}
	if len(tenants) < len(w.Tenants)/4 || len(codes) < 4 || platformErrors == 0 {
		t.Errorf("background errors at %d tenants with codes %v and %d platform errors; want a spread", len(tenants), codes, platformErrors)
	}
	if n := len(logsWithCode(w, CodeCardDeclined)); n < 20 {
		t.Errorf("%d card declines, want some", n)
	}
}

func TestIncidentsAreStableAcrossNoiseVolume(t *testing.T) {
	quiet := Generate(Config{Seed: 5, Tenants: 6, Days: 2, LogsPerTenantDay: 50})
	busy := Generate(Config{Seed: 5, Tenants: 6, Days: 2, LogsPerTenantDay: 200})
	if len(quiet.Incidents) != len(busy.Incidents) || len(quiet.Incidents) < 3 {
		t.Fatalf("incidents %d vs %d", len(quiet.Incidents), len(busy.Incidents))
	}
	for i := range quiet.Incidents {
		q, b := quiet.Incidents[i], busy.Incidents[i]
		if q.Name != b.Name || (q.Name != IncidentAuthExpiry && !q.Start.Equal(b.Start)) {
			t.Errorf("incident %s moved from %v to %v when only the noise volume changed", q.Name, q.Start, b.Start)
		}
	}
}
