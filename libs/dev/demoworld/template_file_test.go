package demoworld

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/shareddata"
)

// The index template shipped in deployments/ must stay the one the demo
// world (and so every test) uses.
func TestDeployedIndexTemplateMatches(t *testing.T) {
	root, err := shareddata.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "deployments", "elasticsearch", "logs-template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var deployed, built any
	if err := json.Unmarshal(b, &deployed); err != nil {
		t.Fatalf("deployed template: %v", err)
	}
	if err := json.Unmarshal(IndexTemplate(), &built); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(deployed, built) {
		t.Fatal("deployments/elasticsearch/logs-template.json differs from demoworld.IndexTemplate(); regenerate it")
	}
}
