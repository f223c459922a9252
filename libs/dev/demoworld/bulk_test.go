package demoworld

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// ecsField is what the mapping test needs from ecs_flat.yml.
type ecsField struct {
	Type        string `yaml:"type"`
	ObjectType  string `yaml:"object_type"`
	IgnoreAbove int    `yaml:"ignore_above"`
}

// flattenMapping turns nested "properties" into dotted paths.
func flattenMapping(prefix string, props map[string]any, out map[string]map[string]any) {
	for name, raw := range props {
		field := raw.(map[string]any)
		path := prefix + name
		if sub, ok := field["properties"].(map[string]any); ok {
			flattenMapping(path+".", sub, out)
			continue
		}
		out[path] = field
	}
}

func TestIndexMappingMatchesECS(t *testing.T) {
	raw, err := os.ReadFile(testkit.SharedPath(t, "contracts", "elasticsearch", "ecs", "ecs_flat.app-logs.8.17.0.yml"))
	if err != nil {
		t.Fatalf("read ECS fields: %v", err)
	}
	var ecs map[string]ecsField
	if err := yaml.Unmarshal(raw, &ecs); err != nil {
		t.Fatalf("parse ECS fields: %v", err)
	}
	var body struct {
		Mappings struct {
			Properties map[string]any `json:"properties"`
		} `json:"mappings"`
	}
	if err := json.Unmarshal(defaultWorld().IndexMapping(), &body); err != nil {
		t.Fatalf("IndexMapping is not JSON: %v", err)
	}
	fields := map[string]map[string]any{}
	flattenMapping("", body.Mappings.Properties, fields)
	for path, field := range fields {
		want, ok := ecs[path]
		if strings.HasPrefix(path, "labels.") {
			// ECS declares labels as an object whose values are keywords.
			want, ok = ecsField{Type: ecs["labels"].ObjectType, IgnoreAbove: 1024}, ecs["labels"].ObjectType != ""
		}
		if !ok {
			t.Errorf("mapped field %s is not an ECS field", path)
			continue
		}
		if field["type"] != want.Type {
			t.Errorf("%s mapped as %v, ECS says %s", path, field["type"], want.Type)
		}
		if want.IgnoreAbove != 0 && field["ignore_above"] != float64(want.IgnoreAbove) {
			t.Errorf("%s ignore_above %v, ECS says %d", path, field["ignore_above"], want.IgnoreAbove)
		}
	}
	for path, typ := range map[string]string{
		"@timestamp": "date", "message": "match_only_text", "error.message": "match_only_text",
		"http.response.status_code": "long", "labels.tenant_id": "keyword", "event.id": "keyword",
	} {
		if fields[path]["type"] != typ {
			t.Errorf("%s mapped as %v, want %s", path, fields[path]["type"], typ)
		}
	}

	// Every field a generated document carries must be mapped explicitly.
	w := defaultWorld()
	seen := map[string]bool{}
	for i := 0; i < len(w.Logs); i += 97 {
		b, _ := json.Marshal(&w.Logs[i])
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		collectPaths("", doc, seen)
	}
	for path := range seen {
		if fields[path] == nil {
			t.Errorf("documents carry %s, which the mapping leaves to dynamic mapping", path)
		}
	}
}

func collectPaths(prefix string, doc map[string]any, out map[string]bool) {
	for k, v := range doc {
		if sub, ok := v.(map[string]any); ok {
			collectPaths(prefix+k+".", sub, out)
			continue
		}
		out[prefix+k] = true
	}
}

func TestIndexTemplate(t *testing.T) {
	var tmpl struct {
		IndexPatterns []string `json:"index_patterns"`
		Template      struct {
			Mappings json.RawMessage `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(IndexTemplate(), &tmpl); err != nil {
		t.Fatalf("IndexTemplate is not JSON: %v", err)
	}
	var create struct {
		Mappings json.RawMessage `json:"mappings"`
	}
	if err := json.Unmarshal(IndexMapping(), &create); err != nil {
		t.Fatal(err)
	}
	if len(tmpl.IndexPatterns) != 1 || tmpl.IndexPatterns[0] != "logs-pos-*" || string(tmpl.Template.Mappings) != string(create.Mappings) {
		t.Errorf("template %s does not apply the index mapping to logs-pos-*", IndexTemplate())
	}
}
