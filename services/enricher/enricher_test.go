package enricher

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"rst-0001":"America/Los_Angeles"}`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--default-time-zone", "Mars/Olympus"}, "--default-time-zone"},
		{[]string{"--tenant-zones", write("bad.json", `["rst-0001"]`)}, "want a JSON object"},
		{[]string{"--tenant-zones", write("badzone.json", `{"rst-0001":"Nowhere/Land"}`)}, "tenant rst-0001"},
		{[]string{"--tenant-zones", filepath.Join(dir, "missing.json")}, "--tenant-zones"},
		{[]string{"--es-addresses", "elastic:9200"}, "not an http(s) URL"},
		{[]string{"--es-addresses", "http://es:9200", "--es-pending-retry", "0s"}, "--es-pending-retry must be positive"},
		{[]string{"--es-addresses", "http://es:9200", "--es-deadline", "19s"}, "below the handler timeout"},
	} {
		var cfg Config
		err := config.Load("enricher", &cfg, tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
	var cfg Config
	if err := config.Load("enricher", &cfg, []string{"--tenant-zones", good, "--es-addresses", "http://es:9200"}); err != nil {
		t.Fatalf("good config rejected: %v", err)
	}
	zones, err := loadZones(good)
	if err != nil || zones["rst-0001"].String() != "America/Los_Angeles" {
		t.Fatalf("zones %v, %v", zones, err)
	}
}
