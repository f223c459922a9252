package router

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/extract"
)

//go:embed rules.yaml
var defaultRules []byte

// Rule is one signal in the rules file.
type Rule struct {
	ID          string   `yaml:"id"`
	Description string   `yaml:"description"`
	Weight      int      `yaml:"weight"`
	Keywords    []string `yaml:"keywords"`
	// MinErrorLogs matches when at least this many error logs are attached
	// that the enricher tied to what the ticket names (a service, an error
	// code, an id); with Logs "any", every attached error log counts (the
	// tenant's other errors in the window too).
	MinErrorLogs int    `yaml:"min_error_logs"`
	Logs         string `yaml:"logs"`
	Severity     string `yaml:"severity"`
	// Override makes the rule decide on its own: a technical or
	// non_technical rule sets the queue, a severity rule the severity,
	// whatever the model says. Without it a rule is one weighed signal.
	Override bool `yaml:"override"`

	line     int
	matchers []keyword
}

// Runbook links a component, an error code or an error signature to the
// page an engineer should open first.
type Runbook struct {
	Component string `yaml:"component"`
	ErrorCode string `yaml:"error_code"`
	// Signature matches the start of an attached error signature's
	// template, case-insensitively.
	Signature string `yaml:"signature"`
	URL       string `yaml:"url"`

	line int
}

// Rules is the parsed rules file.
type Rules struct {
	Version      string `yaml:"version"`
	Technical    []Rule `yaml:"technical"`
	NonTechnical []Rule `yaml:"non_technical"`
	Severity     struct {
		DefaultTechnical string `yaml:"default_technical"`
		Default          string `yaml:"default"`
		Rules            []Rule `yaml:"rules"`
	} `yaml:"severity"`
	// Components keeps file order: ties go to the earlier component.
	Components        yaml.Node         `yaml:"components"`
	ServiceComponents map[string]string `yaml:"service_components"`
	Runbooks          []Runbook         `yaml:"runbooks"`
	NeedsTriage       struct {
		// Below: a decision whose confidence is under this goes to the
		// needs-triage lane instead of being guessed.
		Below float64 `yaml:"below"`
	} `yaml:"needs_triage"`

	components []component
}

type component struct {
	name     string
	matchers []keyword
}

// Vocabulary from DESIGN.md, shared with labels and reports.
var (
	knownComponents = events.Components()
	knownSeverities = events.Severities()
)

// Components is the vocabulary of components, in the order reports use.
func Components() []string { return slices.Clone(knownComponents) }

// Severities is P1…P4.
func Severities() []string { return slices.Clone(knownSeverities) }

// DefaultRules are the rules built into the binary.
func DefaultRules() (*Rules, error) { return ParseRules(defaultRules) }

// LoadRules reads a rules file; an empty path means the built-in rules.
func LoadRules(path string) (*Rules, error) {
	if path == "" {
		return DefaultRules()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	r, err := ParseRules(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// ParseRules parses and checks a rules file strictly: an unknown key or a
// severity outside P1-P4 is an error, not a silently ignored rule. Every
// problem names its line.
func ParseRules(b []byte) (*Rules, error) {
	var r Rules
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("parse rules: %w", err) // yaml's message names the line
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("parse rules: %w", err)
	}
	r.placeLines(&root)
	if err := r.compile(); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return &r, nil
}

// placeLines records where each rule and runbook is, for messages.
func (r *Rules) placeLines(root *yaml.Node) {
	items := func(path ...string) []*yaml.Node {
		n := root
		if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
			n = n.Content[0]
		}
		for _, key := range path {
			n = mappingValue(n, key)
			if n == nil {
				return nil
			}
		}
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		return n.Content
	}
	set := func(rules []Rule, path ...string) {
		for i, n := range items(path...) {
			if i < len(rules) {
				rules[i].line = n.Line
			}
		}
	}
	set(r.Technical, "technical")
	set(r.NonTechnical, "non_technical")
	set(r.Severity.Rules, "severity", "rules")
	for i, n := range items("runbooks") {
		if i < len(r.Runbooks) {
			r.Runbooks[i].line = n.Line
		}
	}
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func (r *Rules) compile() error {
	if r.Version == "" {
		return errors.New("version is required")
	}
	seen := map[string]bool{}
	var errs []error
	check := func(group string, rules []Rule, needSeverity bool) {
		for i := range rules {
			rule := &rules[i]
			where := fmt.Sprintf("line %d: %s[%d] (%s)", rule.line, group, i, rule.ID)
			switch {
			case rule.ID == "":
				errs = append(errs, fmt.Errorf("%s: id is required", where))
			case seen[rule.ID]:
				errs = append(errs, fmt.Errorf("%s: duplicate id", where))
			}
			seen[rule.ID] = true
			if rule.Logs != "" && rule.Logs != "any" && rule.Logs != "tied" {
				errs = append(errs, fmt.Errorf("%s: logs must be \"tied\" (the default) or \"any\", got %q", where, rule.Logs))
			}
			if len(rule.Keywords) == 0 && rule.MinErrorLogs == 0 {
				errs = append(errs, fmt.Errorf("%s: needs keywords or min_error_logs", where))
			}
			if needSeverity && !slices.Contains(knownSeverities, rule.Severity) {
				errs = append(errs, fmt.Errorf("%s: severity must be one of %v, got %q", where, knownSeverities, rule.Severity))
			}
			if !needSeverity && rule.Severity != "" {
				errs = append(errs, fmt.Errorf("%s: severity belongs in severity.rules", where))
			}
			switch {
			case needSeverity && rule.Weight == 0:
				rule.Weight = 2 // a severity rule's default vote
			case rule.Weight <= 0:
				errs = append(errs, fmt.Errorf("%s: weight must be positive", where))
			}
			rule.matchers = compileKeywords(rule.Keywords)
		}
	}
	check("technical", r.Technical, false)
	check("non_technical", r.NonTechnical, false)
	check("severity.rules", r.Severity.Rules, true)
	for _, sev := range []string{r.Severity.DefaultTechnical, r.Severity.Default} {
		if !slices.Contains(knownSeverities, sev) {
			errs = append(errs, fmt.Errorf("severity defaults must be one of %v, got %q", knownSeverities, sev))
		}
	}
	if r.Components.Kind != yaml.MappingNode {
		errs = append(errs, errors.New("components must be a mapping of component to keywords"))
	} else {
		for i := 0; i+1 < len(r.Components.Content); i += 2 {
			key := r.Components.Content[i]
			name := key.Value
			var kws []string
			if err := r.Components.Content[i+1].Decode(&kws); err != nil {
				errs = append(errs, fmt.Errorf("line %d: components.%s: %w", key.Line, name, err))
				continue
			}
			if !slices.Contains(knownComponents, name) {
				errs = append(errs, fmt.Errorf("line %d: components.%s: unknown component (known: %v)", key.Line, name, knownComponents))
			}
			r.components = append(r.components, component{name: name, matchers: compileKeywords(kws)})
		}
	}
	for svc, comp := range r.ServiceComponents {
		if !slices.Contains(knownComponents, comp) {
			errs = append(errs, fmt.Errorf("service_components.%s: unknown component %q", svc, comp))
		}
	}
	for i := range r.Runbooks {
		rb := &r.Runbooks[i]
		where := fmt.Sprintf("line %d: runbooks[%d]", rb.line, i)
		keys := 0
		for _, k := range []string{rb.Component, rb.ErrorCode, rb.Signature} {
			if k != "" {
				keys++
			}
		}
		if keys != 1 {
			errs = append(errs, fmt.Errorf("%s: needs exactly one of component, error_code or signature", where))
		}
		if rb.Component != "" && !slices.Contains(knownComponents, rb.Component) {
			errs = append(errs, fmt.Errorf("%s: unknown component %q (known: %v)", where, rb.Component, knownComponents))
		}
		if u, err := url.Parse(rb.URL); rb.URL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: url must be an http(s) link, got %q", where, rb.URL))
		}
		rb.ErrorCode = strings.ToUpper(rb.ErrorCode)
	}
	if b := r.NeedsTriage.Below; b < 0 || b >= 1 {
		errs = append(errs, fmt.Errorf("needs_triage.below must be in [0, 1), got %s", strconv.FormatFloat(b, 'g', -1, 64)))
	}
	return errors.Join(errs...)
}

// keyword is a compiled keyword: ASCII ones match whole words (or a word
// prefix when written with a trailing *), others match anywhere.
type keyword struct {
	text   string
	ascii  bool
	prefix bool
}

func compileKeywords(list []string) []keyword {
	out := make([]keyword, 0, len(list))
	for _, k := range list {
		kw := keyword{text: fold(k)}
		if strings.HasSuffix(kw.text, "*") {
			kw.prefix, kw.text = true, strings.TrimSuffix(kw.text, "*")
		}
		kw.ascii = isASCII(kw.text)
		if kw.text != "" {
			out = append(out, kw)
		}
	}
	return out
}

func (k keyword) in(text string) bool {
	if !k.ascii {
		return strings.Contains(text, k.text)
	}
	for from := 0; from < len(text); {
		i := strings.Index(text[from:], k.text)
		if i < 0 {
			return false
		}
		start, end := from+i, from+i+len(k.text)
		if !wordByte(text, start-1) && (k.prefix || !wordByte(text, end)) {
			return true
		}
		from = start + 1
	}
	return false
}

func wordByte(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// fold lower-cases and folds text as the log extractor does, so "ＥＲＲＯＲ"
// matches "error".
func fold(s string) string {
	return strings.ToLower(extract.Fold(s))
}

func firstMatch(matchers []keyword, text string) (string, bool) {
	for _, k := range matchers {
		if k.in(text) {
			return k.text, true
		}
	}
	return "", false
}

// Rule groups, as the model and the reasons name them.
const (
	groupTechnical    = "technical"
	groupNonTechnical = "non_technical"
	groupSeverity     = "severity"
	groupComponent    = "component"
	groupService      = "service"
)

func (rule *Rule) match(text string, logs logSummary) (string, bool) {
	if kw, ok := firstMatch(rule.matchers, text); ok {
		return fmt.Sprintf("mentions %q", kw), true
	}
	if rule.MinErrorLogs <= 0 {
		return "", false
	}
	if rule.Logs == "any" {
		if logs.errors >= rule.MinErrorLogs {
			return fmt.Sprintf("%d error logs", logs.errors), true
		}
		return "", false
	}
	if logs.matched >= rule.MinErrorLogs {
		return fmt.Sprintf("%d tied error logs", logs.matched), true
	}
	return "", false
}

// fire lists every rule that matches the folded text or the attached logs.
func (r *Rules) fire(text string, tf ticketFeatures) []firedRule {
	var out []firedRule
	groups := []struct {
		name  string
		rules []Rule
	}{{groupTechnical, r.Technical}, {groupNonTechnical, r.NonTechnical}, {groupSeverity, r.Severity.Rules}}
	for _, g := range groups {
		for i := range g.rules {
			rule := &g.rules[i]
			why, ok := rule.match(text, tf.logs)
			if !ok {
				continue
			}
			target := events.QueueEscalation
			switch g.name {
			case groupNonTechnical:
				target = events.QueueSupport
			case groupSeverity:
				target = rule.Severity
			}
			out = append(out, firedRule{rule: rule, group: g.name, target: target, why: why})
		}
	}
	for _, c := range r.components {
		var hits []string
		for _, k := range c.matchers {
			if k.in(text) {
				hits = append(hits, fmt.Sprintf("%q", k.text))
			}
		}
		if len(hits) > 0 {
			rule := &Rule{ID: "component:" + c.name, Weight: 1, Description: "words of the " + c.name + " component"}
			out = append(out, firedRule{rule: rule, group: groupComponent, target: c.name, why: "mentions " + strings.Join(hits[:min(3, len(hits))], ", "), hits: len(hits)})
		}
	}
	for _, svc := range tf.logs.services {
		if c, ok := r.ServiceComponents[svc]; ok {
			// Logs outweigh a word: they show where it broke.
			rule := &Rule{ID: "service:" + c, Weight: 2, Description: "error logs of the " + c + " component's service"}
			out = append(out, firedRule{rule: rule, group: groupService, target: c, why: fmt.Sprintf("%d error logs from %s", tf.logs.perSvc[svc], svc), hits: 2})
		}
	}
	return out
}

// runbook picks the most specific link for a decision: an error code the
// ticket or its logs carry, then an attached signature, then the
// component.
func (r *Rules) runbook(component string, codes []string, templates []string) string {
	for _, rb := range r.Runbooks {
		if rb.ErrorCode != "" && slices.Contains(codes, rb.ErrorCode) {
			return rb.URL
		}
	}
	for _, rb := range r.Runbooks {
		if rb.Signature == "" {
			continue
		}
		for _, t := range templates {
			if strings.HasPrefix(strings.ToLower(t), strings.ToLower(rb.Signature)) {
				return rb.URL
			}
		}
	}
	for _, rb := range r.Runbooks {
		if rb.Component != "" && rb.Component == component {
			return rb.URL
		}
	}
	return ""
}
