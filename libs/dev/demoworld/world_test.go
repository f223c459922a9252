package demoworld

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

var update = flag.Bool("update", false, "rewrite testdata golden files")

// defaultWorld is generated once for the whole test binary: the world is
// immutable once built and takes about a second under -race.
var defaultWorld = sync.OnceValue(func() *World { return Generate(Config{}) })

// otherWorlds are built once too: small, odd-sized and summer-time worlds
// on which the invariants must hold as well as on the default one.
var otherWorlds = sync.OnceValue(func() map[string]*World {
	return map[string]*World{
		"one day, five tenants": Generate(Config{Seed: 11, Tenants: 5, Days: 1, LogsPerTenantDay: 150}),
		"summer time in LA":     Generate(Config{Seed: 12, Tenants: 12, Days: 2, LogsPerTenantDay: 100, End: time.Date(2026, 7, 15, 7, 30, 0, 0, time.UTC)}),
		"four quiet days":       Generate(Config{Seed: 13, Tenants: 20, Days: 4, LogsPerTenantDay: 60}),
	}
})

// forEachWorld runs check on the default world and on otherWorlds.
func forEachWorld(t *testing.T, check func(*testing.T, *World)) {
	t.Run("default", func(t *testing.T) { check(t, defaultWorld()) })
	others := otherWorlds()
	names := make([]string, 0, len(others))
	for name := range others {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) { check(t, others[name]) })
	}
}

// smallConfig is a world small enough to build several times per test.
func smallConfig(seed uint64) Config {
	return Config{Seed: seed, Tenants: 8, Days: 2, LogsPerTenantDay: 120}
}

func bulk(tb testing.TB, w *World) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := w.WriteBulk(&buf); err != nil {
		tb.Fatalf("WriteBulk: %v", err)
	}
	return buf.Bytes()
}

func ticketsJSON(tb testing.TB, w *World) []byte {
	tb.Helper()
	b, err := json.Marshal(w.Tickets)
	if err != nil {
		tb.Fatalf("marshal tickets: %v", err)
	}
	return b
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := Generate(smallConfig(42)), Generate(smallConfig(42))
	if !bytes.Equal(bulk(t, a), bulk(t, b)) {
		t.Error("same seed gave different bulk output")
	}
	if !bytes.Equal(ticketsJSON(t, a), ticketsJSON(t, b)) {
		t.Error("same seed gave different tickets")
	}
	c := Generate(smallConfig(43))
	if bytes.Equal(bulk(t, a), bulk(t, c)) {
		t.Error("seeds 42 and 43 gave the same bulk output")
	}
	if bytes.Equal(ticketsJSON(t, a), ticketsJSON(t, c)) {
		t.Error("seeds 42 and 43 gave the same tickets")
	}
}

// TestGolden pins the first documents of a tiny world, so an accidental
// change of the output format or of the random streams is noticed.
func TestGolden(t *testing.T) {
	w := Generate(Config{Seed: 7, Tenants: 3, Days: 1, LogsPerTenantDay: 40})
	lines := strings.SplitAfter(string(bulk(t, w)), "\n")
	mid := len(lines) / 4 * 2 // an action line in the middle of the day
	got := strings.Join(lines[mid:mid+12], "")
	path := filepath.Join("testdata", "seed7_head.ndjson")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("bulk head differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestDefaultWorldSize(t *testing.T) {
	w := defaultWorld()
	if n := len(w.Logs); n < 40_000 || n > 80_000 {
		t.Errorf("default world has %d logs, want 40k–80k", n)
	}
	if len(w.Tenants) != DefaultTenants {
		t.Errorf("got %d tenants, want %d", len(w.Tenants), DefaultTenants)
	}
	if !w.End.Equal(DefaultEnd()) || !w.Start.Equal(DefaultEnd().Add(-72*time.Hour)) {
		t.Errorf("period [%v, %v), want three days ending %v", w.Start, w.End, DefaultEnd())
	}
}

var (
	reTenant  = regexp.MustCompile(`^rst-\d{4}$`)
	reUser    = regexp.MustCompile(`^usr-\d{6}$`)
	reOrder   = regexp.MustCompile(`^ord_\d{10}$`)
	reDevice  = regexp.MustCompile(`^(tab|prn)-[0-9a-f]{6}$`)
	reRequest = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	reTrace   = regexp.MustCompile(`^[0-9a-f]{32}$`)
	reCode    = regexp.MustCompile(`^[A-Z]{3,4}-\d{4}$`)
	reVersion = regexp.MustCompile(`^v\d+\.\d+\.\d+$`)
	reEventID = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

func TestLogsFollowTheVocabulary(t *testing.T) {
	w := defaultWorld()
	levels := map[string]bool{LevelDebug: true, LevelInfo: true, LevelWarn: true, LevelError: true, LevelFatal: true}
	seen := make(map[string]bool, len(w.Logs))
	for i := range w.Logs {
		l := &w.Logs[i]
		check := func(what, v string, re *regexp.Regexp) {
			if v != "" && !re.MatchString(v) {
				t.Errorf("log %s: %s %q has the wrong format", l.ID(), what, v)
			}
		}
		check("event.id", l.Event.ID, reEventID)
		check("tenant", l.Labels.TenantID, reTenant)
		check("user", l.User.ID, reUser)
		check("order", l.Labels.OrderID, reOrder)
		check("device", l.Labels.DeviceID, reDevice)
		check("request", l.HTTP.Request.ID, reRequest)
		check("trace", l.Trace.ID, reTrace)
		check("error code", l.Error.Code, reCode)
		check("app version", l.Labels.AppVersion, reVersion)
		if seen[l.ID()] {
			t.Fatalf("event id %s used twice", l.ID())
		}
		seen[l.ID()] = true
		if !levels[l.Log.Level] || l.Message == "" || l.Service.Name == "" {
			t.Fatalf("log %s lacks level, message or service: %+v", l.ID(), l)
		}
		if l.Timestamp.Before(w.Start) || !l.Timestamp.Before(w.End) {
			t.Fatalf("log %s at %v is outside [%v, %v)", l.ID(), l.Timestamp, w.Start, w.End)
		}
		if i > 0 && l.Timestamp.Before(w.Logs[i-1].Timestamp.Time) {
			t.Fatalf("logs not sorted at %d", i)
		}
		if l.Labels.TenantID != "" {
			tenant, ok := w.Tenant(l.Labels.TenantID)
			if !ok || tenant.AppVersion != l.Labels.AppVersion {
				t.Fatalf("log %s: tenant %s unknown or app version mismatch", l.ID(), l.Labels.TenantID)
			}
		}
		if got, ok := w.Log(l.ID()); !ok || got.Message != l.Message {
			t.Fatalf("Log(%s) lookup failed", l.ID())
		}
	}
}

func TestLogJSONShape(t *testing.T) {
	full := Log{
		Timestamp: ECSTime{time.Date(2026, 3, 4, 10, 5, 0, 0, time.UTC)},
		Message:   "payment provider timeout after 30000 ms",
		Log:       LogFields{Level: LevelError},
		Service:   Service{Name: ServicePaymentGateway},
		Trace:     Trace{ID: "0af7651916cd43dd8448eb211c80319c"},
		User:      User{ID: "usr-104233"},
		Error:     ErrorInfo{Type: "ProviderTimeoutError", Message: "deadline", Code: "PAY-1042"},
		HTTP:      HTTP{Request: HTTPRequest{ID: "3f1c2a9e-8b7d-4c61-9f2e-5a6b7c8d9e0f"}, Response: HTTPResponse{StatusCode: 504}},
		Labels:    Labels{TenantID: "rst-0042", OrderID: "ord_2611221053", DeviceID: "tab-1a2b3c", AppVersion: "v4.12.3"},
		Event:     EventField{ID: "00000000000000aa", Dataset: "pos.payment-gateway"},
	}
	tests := []struct {
		name string
		log  Log
		want string
	}{
		{"every field", full, `{"@timestamp":"2026-03-04T10:05:00.000Z","message":"payment provider timeout after 30000 ms","log":{"level":"error"},"service":{"name":"payment-gateway"},"trace":{"id":"0af7651916cd43dd8448eb211c80319c"},"user":{"id":"usr-104233"},"error":{"type":"ProviderTimeoutError","message":"deadline","code":"PAY-1042"},"http":{"request":{"id":"3f1c2a9e-8b7d-4c61-9f2e-5a6b7c8d9e0f"},"response":{"status_code":504}},"labels":{"tenant_id":"rst-0042","order_id":"ord_2611221053","device_id":"tab-1a2b3c","app_version":"v4.12.3"},"event":{"id":"00000000000000aa","dataset":"pos.payment-gateway"}}`},
		{"empty parts left out", Log{
			Timestamp: ECSTime{time.Date(2026, 3, 4, 10, 5, 0, 123456789, time.FixedZone("JST", 9*3600))},
			Message:   "heartbeat", Log: LogFields{Level: LevelDebug}, Service: Service{Name: ServicePrinterBridge},
			HTTP:  HTTP{Response: HTTPResponse{StatusCode: 200}},
			Event: EventField{ID: "01"},
		}, `{"@timestamp":"2026-03-04T01:05:00.123Z","message":"heartbeat","log":{"level":"debug"},"service":{"name":"printer-bridge"},"http":{"response":{"status_code":200}},"event":{"id":"01"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.log)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			var back Log
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !back.Timestamp.Equal(tc.log.Timestamp.Truncate(time.Millisecond)) || back.Message != tc.log.Message {
				t.Errorf("round trip changed the log: %+v", back)
			}
		})
	}
	if got, want := full.Index(), "logs-pos-2026.03.04"; got != want {
		t.Errorf("Index() = %q, want %q", got, want)
	}
	late := full
	late.Timestamp = ECSTime{time.Date(2026, 3, 5, 8, 0, 0, 0, time.FixedZone("JST", 9*3600))}
	if got, want := late.Index(), "logs-pos-2026.03.04"; got != want {
		t.Errorf("Index() of 08:00 JST = %q, want the UTC date %q", got, want)
	}
}

func TestTenants(t *testing.T) {
	w := defaultWorld()
	zones := map[string]int{}
	buggy := 0
	for _, tenant := range w.Tenants {
		if !reTenant.MatchString(tenant.ID) || tenant.Name == "" || tenant.Plan == "" || !reVersion.MatchString(tenant.AppVersion) {
			t.Errorf("tenant %+v is incomplete", tenant)
		}
		if len(tenant.Tablets()) == 0 || len(tenant.Printers()) == 0 || len(tenant.Users) == 0 {
			t.Errorf("tenant %s has no tablet, printer or user", tenant.ID)
		}
		loc, ok := w.TenantZone(tenant.ID)
		if !ok || loc.String() != tenant.TimeZone || w.TenantZones()[tenant.ID] != tenant.TimeZone {
			t.Errorf("TenantZone(%s) = %v, %v; want %s", tenant.ID, loc, ok, tenant.TimeZone)
		}
		zones[tenant.TimeZone]++
		if tenant.AppVersion == BuggyMenuVersion {
			buggy++
		}
	}
	if zones["Asia/Tokyo"] < len(w.Tenants)/2 || zones["America/Los_Angeles"] == 0 {
		t.Errorf("zones %v: want mostly Tokyo and some Los Angeles", zones)
	}
	if buggy == 0 || buggy == len(w.Tenants) {
		t.Errorf("%d of %d tenants on %s, want some but not all", buggy, len(w.Tenants), BuggyMenuVersion)
	}
	if _, ok := w.TenantZone("rst-99999"); ok {
		t.Error("TenantZone of an unknown tenant reported ok")
	}
}

// TestBusinessHours checks the noise follows the restaurants' day: busy at
// lunch and dinner, quiet after closing, in each tenant's local time.
func TestBusinessHours(t *testing.T) {
	w := defaultWorld()
	perHour := map[string][24]int{}
	for i := range w.Logs {
		l := &w.Logs[i]
		if !strings.Contains(l.Message, " created: table ") {
			continue
		}
		tenant, _ := w.Tenant(l.Labels.TenantID)
		zone := perHour[tenant.TimeZone]
		zone[l.Timestamp.In(tenant.Location()).Hour()]++
		perHour[tenant.TimeZone] = zone
	}
	for zone, hours := range perHour {
		lunch, afternoon, night := hours[12], (hours[15]+hours[16])/2, hours[3]+hours[4]
		if lunch < 2*afternoon || hours[19] < 2*afternoon || night*20 > lunch {
			t.Errorf("%s: orders per local hour %v do not peak at lunch and dinner", zone, hours)
		}
	}
}

func TestBulkFormat(t *testing.T) {
	w := Generate(smallConfig(3))
	lines := bytes.Split(bytes.TrimSuffix(bulk(t, w), []byte("\n")), []byte("\n"))
	if len(lines) != 2*len(w.Logs) {
		t.Fatalf("got %d lines for %d logs", len(lines), len(w.Logs))
	}
	indices := map[string]bool{}
	for i := 0; i < len(lines); i += 2 {
		var action map[string]map[string]string
		if err := json.Unmarshal(lines[i], &action); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		var doc struct {
			Timestamp string `json:"@timestamp"`
			Event     struct{ ID string }
		}
		if err := json.Unmarshal(lines[i+1], &doc); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		meta := action["index"]
		ts, err := time.Parse(time.RFC3339, doc.Timestamp)
		if err != nil || len(doc.Timestamp) != len("2026-03-04T10:05:00.000Z") {
			t.Fatalf("line %d: timestamp %q is not RFC 3339 with milliseconds in UTC", i+1, doc.Timestamp)
		}
		if meta["_id"] != doc.Event.ID || meta["_index"] != "logs-pos-"+ts.UTC().Format("2006.01.02") || len(meta) != 2 {
			t.Fatalf("line %d: action %s does not match document %s", i, lines[i], lines[i+1])
		}
		indices[meta["_index"]] = true
	}
	if got := w.Indices(); len(got) != len(indices) || len(got) < 2 {
		t.Errorf("Indices() = %v, bulk used %v", got, indices)
	}
	var part bytes.Buffer
	if err := w.WriteBulkRange(&part, 2, 4); err != nil || bytes.Count(part.Bytes(), []byte("\n")) != 4 {
		t.Errorf("WriteBulkRange(2, 4) wrote %q, %v", part.String(), err)
	}
	if err := w.WriteBulkRange(&part, 5, len(w.Logs)+1); err == nil {
		t.Error("WriteBulkRange past the end did not fail")
	}
}

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Config
		want Config
	}{
		{"zero", Config{}, Config{End: DefaultEnd(), Days: 3, Tenants: 50, LogsPerTenantDay: 300, LegacyLogsPerDay: 400}},
		{"kept", Config{Seed: 9, End: time.Date(2026, 1, 1, 0, 0, 0, 5e6+7, time.UTC), Days: 1, Tenants: 4, LogsPerTenantDay: 10, LegacyLogsPerDay: 5},
			Config{Seed: 9, End: time.Date(2026, 1, 1, 0, 0, 0, 5e6, time.UTC), Days: 1, Tenants: 4, LogsPerTenantDay: 10, LegacyLogsPerDay: 5}},
		{"negative", Config{Days: -1, Tenants: -2}, Config{End: DefaultEnd(), Days: 3, Tenants: 50, LogsPerTenantDay: 300, LegacyLogsPerDay: 400}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.withDefaults(); got != tc.want {
				t.Errorf("withDefaults() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		w := Generate(Config{Seed: 1})
		if len(w.Logs) == 0 {
			b.Fatal("no logs")
		}
	}
}

func BenchmarkWriteBulk(b *testing.B) {
	w := Generate(Config{Seed: 1})
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := w.WriteBulk(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
