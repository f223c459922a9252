package ghcontract

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/triage-pipeline/triage/libs/dev/shareddata"
	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// schemaRoot is where the payload schemas are registered. octokit's
// schemas have ids relative to the root of the schema tree ("issues$closed",
// "common/issue.schema.json"), which a validator would resolve against each
// file's own location (common/common/...); each $id is made absolute
// under this root instead, so the relative references resolve as meant.
const schemaRoot = "https://webhooks.invalid/api.github.com/"

// WebhookValidator checks webhook deliveries: payloads against octokit's
// JSON Schemas (draft-07) and headers against GitHub's published list.
type WebhookValidator struct {
	schemas map[string]*jsonschema.Schema // "issues.closed" → schema
	headers []string                      // header names every delivery carries
}

// LoadWebhooks reads contracts/github/webhooks: the payload schemas under
// payload-schemas/api.github.com and delivery-headers.yaml.
func LoadWebhooks(dir string) (*WebhookValidator, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	// jsonschema v6.0.3 splits a template on "/" before reading its
	// expressions, so it refuses GitHub's "{/name}" ones; RFC 6570's
	// syntax is checked here instead.
	c.RegisterFormat(&jsonschema.Format{Name: "uri-template", Validate: validateURITemplate})
	root := filepath.Join(dir, "payload-schemas", "api.github.com")
	var events []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".schema.json") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("open schema: %w", err)
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			return fmt.Errorf("read schema %s: %w", path, err)
		}
		obj, _ := doc.(map[string]any)
		id, _ := obj["$id"].(string)
		if id == "" {
			return fmt.Errorf("schema %s has no $id", path)
		}
		obj["$id"] = schemaRoot + id
		if err := c.AddResource(schemaRoot+id, doc); err != nil {
			return fmt.Errorf("add schema %s: %w", path, err)
		}
		rel, _ := filepath.Rel(root, path)
		if dirName := filepath.Dir(rel); dirName != "common" {
			events = append(events, id+" "+dirName+"."+strings.TrimSuffix(filepath.Base(rel), ".schema.json"))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load webhook schemas: %w", err)
	}
	v := &WebhookValidator{schemas: map[string]*jsonschema.Schema{}}
	for _, e := range events {
		id, key, _ := strings.Cut(e, " ")
		sch, err := c.Compile(schemaRoot + id)
		if err != nil {
			return nil, fmt.Errorf("compile webhook schema %s: %w", key, err)
		}
		v.schemas[key] = sch
	}
	raw, err := os.ReadFile(filepath.Join(dir, "delivery-headers.yaml"))
	if err != nil {
		return nil, fmt.Errorf("read delivery headers: %w", err)
	}
	var hdrs struct {
		Parameters []struct {
			Name string `yaml:"name"`
			In   string `yaml:"in"`
		} `yaml:"parameters"`
	}
	if err := yaml.Unmarshal(raw, &hdrs); err != nil {
		return nil, fmt.Errorf("parse delivery headers: %w", err)
	}
	for _, p := range hdrs.Parameters {
		if p.In == "header" {
			v.headers = append(v.headers, p.Name)
		}
	}
	if len(v.headers) == 0 {
		return nil, errors.New("delivery-headers.yaml lists no headers")
	}
	return v, nil
}

// Events lists the payloads that can be validated ("issues.closed", …).
func (v *WebhookValidator) Events() []string {
	out := make([]string, 0, len(v.schemas))
	for k := range v.schemas {
		out = append(out, k)
	}
	return out
}

// ValidatePayload checks a payload of event (X-GitHub-Event) against the
// schema of its action.
func (v *WebhookValidator) ValidatePayload(event string, body []byte) error {
	var head struct {
		Action string `json:"action"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return fmt.Errorf("webhook payload is not JSON: %w", err)
	}
	key := event + "." + head.Action
	sch, ok := v.schemas[key]
	if !ok {
		return fmt.Errorf("no payload schema for %s", key)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook payload: %w", err)
	}
	if err := sch.Validate(doc); err != nil {
		return fmt.Errorf("%s payload does not conform: %w", key, err)
	}
	return nil
}

// uriVarspec is an RFC 6570 variable with an optional modifier.
var uriVarspec = regexp.MustCompile(`^(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*(?:\*|:[1-9][0-9]{0,3})?$`)

// validateURITemplate checks RFC 6570 syntax: balanced, unnested
// expressions of an optional operator and comma-separated variables.
func validateURITemplate(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	for {
		open := strings.IndexAny(s, "{}")
		if open < 0 {
			return nil
		}
		if s[open] == '}' {
			return errors.New("'}' outside an expression")
		}
		end := strings.IndexAny(s[open+1:], "{}")
		if end < 0 || s[open+1+end] == '{' {
			return errors.New("unclosed or nested expression")
		}
		expr := s[open+1 : open+1+end]
		if expr != "" && strings.ContainsRune("+#./;?&=,!@|", rune(expr[0])) {
			expr = expr[1:]
		}
		for _, vs := range strings.Split(expr, ",") {
			if !uriVarspec.MatchString(vs) {
				return fmt.Errorf("bad variable %q in expression", vs)
			}
		}
		s = s[open+1+end+1:]
	}
}

var (
	uuidPattern    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	hookshotAgent  = regexp.MustCompile(`^GitHub-Hookshot/[0-9a-f]+$`)
	digitsOnly     = regexp.MustCompile(`^[0-9]+$`)
	errNoSignature = errors.New("no X-Hub-Signature-256")
)

// ValidateDelivery checks a delivery as a receiver gets it: every header
// GitHub's description lists, their forms, the signatures of the raw body
// with secret (skipped when secret is empty), and the payload.
func (v *WebhookValidator) ValidateDelivery(header http.Header, body []byte, secret string) error {
	var problems []string
	for _, name := range v.headers {
		if header.Get(name) == "" {
			problems = append(problems, "no "+name)
		}
	}
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); mt != "application/json" {
		problems = append(problems, fmt.Sprintf("Content-Type %q, want application/json", header.Get("Content-Type")))
	}
	if d := header.Get("X-GitHub-Delivery"); !uuidPattern.MatchString(d) {
		problems = append(problems, fmt.Sprintf("X-GitHub-Delivery %q is not a UUID", d))
	}
	if ua := header.Get("User-Agent"); !hookshotAgent.MatchString(ua) {
		problems = append(problems, fmt.Sprintf("User-Agent %q, want GitHub-Hookshot/<hex>", ua))
	}
	for _, name := range []string{"X-GitHub-Hook-ID", "X-GitHub-Hook-Installation-Target-ID"} {
		if id := header.Get(name); !digitsOnly.MatchString(id) {
			problems = append(problems, fmt.Sprintf("%s %q is not a number", name, id))
		}
	}
	if secret != "" {
		if err := VerifySignatures(header, body, secret); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if err := v.ValidatePayload(header.Get("X-GitHub-Event"), body); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("webhook delivery: %s", strings.Join(problems, "; "))
	}
	return nil
}

// VerifySignatures checks X-Hub-Signature-256 (required) and, when
// present, the legacy X-Hub-Signature against the raw body, in constant time.
func VerifySignatures(header http.Header, body []byte, secret string) error {
	sig := header.Get("X-Hub-Signature-256")
	if sig == "" {
		return errNoSignature
	}
	if err := verify(sig, "sha256=", sha256.New, body, secret); err != nil {
		return fmt.Errorf("X-Hub-Signature-256: %w", err)
	}
	if legacy := header.Get("X-Hub-Signature"); legacy != "" {
		if err := verify(legacy, "sha1=", sha1.New, body, secret); err != nil {
			return fmt.Errorf("X-Hub-Signature: %w", err)
		}
	}
	return nil
}

func verify(sig, prefix string, h func() hash.Hash, body []byte, secret string) error {
	hexSum, ok := strings.CutPrefix(sig, prefix)
	if !ok {
		return fmt.Errorf("%q does not start with %s", sig, prefix)
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return fmt.Errorf("%q is not hex: %w", sig, err)
	}
	m := hmac.New(h, []byte(secret))
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return errors.New("signature does not match the body")
	}
	return nil
}

var loadSharedWebhooks = sync.OnceValues(func() (*WebhookValidator, error) {
	dir, err := shareddata.Dir()
	if err != nil {
		return nil, fmt.Errorf("find shared contracts: %w", err)
	}
	return LoadWebhooks(filepath.Join(dir, "contracts", "github", "webhooks"))
})

// SharedWebhooks returns the validator of the shared webhook contract,
// skipping the test when the shared folder is absent.
func SharedWebhooks(tb testing.TB) *WebhookValidator {
	tb.Helper()
	_ = testkit.SharedPath(tb, "contracts", "github", "webhooks")
	v, err := loadSharedWebhooks()
	if err != nil {
		tb.Fatalf("load GitHub webhook contract: %v", err)
	}
	return v
}
