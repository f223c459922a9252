package systemtest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/shareddata"
)

// forbidden are packages a deployed binary must not link: the development
// harness (development Elasticsearch, demo world, benchmark, test kit), the
// embedded NATS server, and the testing package.
var forbidden = []string{
	"github.com/triage-pipeline/triage/libs/dev",
	"github.com/nats-io/nats-server/v2",
	"testing",
}

// deps lists the packages the main package pkg links.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	root, err := shareddata.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-deps", pkg)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func linked(deps []string, prefix string) []string {
	var out []string
	for _, d := range deps {
		if d == prefix || strings.HasPrefix(d, prefix+"/") {
			out = append(out, d)
		}
	}
	return out
}

// The five per-service binaries are what deployments run: they carry the
// product only.
func TestServiceBinariesLinkOnlyTheProduct(t *testing.T) {
	for _, s := range []string{"intake", "enricher", "router", "queue", "bugfiler"} {
		t.Run(s, func(t *testing.T) {
			d := deps(t, "./services/"+s+"/cmd/"+s)
			if len(linked(d, "github.com/triage-pipeline/triage/libs/bus")) == 0 {
				t.Fatalf("the list of %s's packages lacks libs/bus; the check would see nothing:\n%s", s, strings.Join(d, "\n"))
			}
			for _, f := range forbidden {
				if bad := linked(d, f); len(bad) > 0 {
					t.Errorf("%s links %s", s, strings.Join(bad, ", "))
				}
			}
		})
	}
}

// The triage command holds the development tools, but test helpers stay in
// packages only tests import.
func TestTriageCommandDoesNotLinkTesting(t *testing.T) {
	d := deps(t, "./services/triage")
	if len(linked(d, "github.com/triage-pipeline/triage/libs/dev/esdev")) == 0 {
		t.Fatalf("triage does not link the development Elasticsearch; is this the right command?")
	}
	if bad := linked(d, "testing"); len(bad) > 0 {
		t.Errorf("triage links %s; move the test helpers it reaches into packages only tests import", strings.Join(bad, ", "))
	}
}
