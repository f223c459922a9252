package router

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
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
	// MinErrorLogs matches when at least this many error logs are attached.
	MinErrorLogs int    `yaml:"min_error_logs"`
	Severity     string `yaml:"severity"`

	matchers []keyword
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

	components []component
}

type component struct {
	name     string
	matchers []keyword
}

// Vocabulary from DESIGN.md, shared with labels and reports.
var (
	knownComponents = []string{"order", "payment", "printer", "menu", "auth", "customer-id", "billing", "account", "other"}
	knownSeverities = []string{"P1", "P2", "P3", "P4"}
)

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
// severity outside P1-P4 is an error, not a silently ignored rule.
func ParseRules(b []byte) (*Rules, error) {
	var r Rules
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("parse rules: %w", err)
	}
	if err := r.compile(); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return &r, nil
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
			where := fmt.Sprintf("%s[%d] (%s)", group, i, rule.ID)
			switch {
			case rule.ID == "":
				errs = append(errs, fmt.Errorf("%s: id is required", where))
			case seen[rule.ID]:
				errs = append(errs, fmt.Errorf("%s: duplicate id", where))
			}
			seen[rule.ID] = true
			if len(rule.Keywords) == 0 && rule.MinErrorLogs == 0 {
				errs = append(errs, fmt.Errorf("%s: needs keywords or min_error_logs", where))
			}
			if needSeverity && !slices.Contains(knownSeverities, rule.Severity) {
				errs = append(errs, fmt.Errorf("%s: severity must be one of %v, got %q", where, knownSeverities, rule.Severity))
			}
			if !needSeverity && rule.Weight <= 0 {
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
			name := r.Components.Content[i].Value
			var kws []string
			if err := r.Components.Content[i+1].Decode(&kws); err != nil {
				errs = append(errs, fmt.Errorf("components.%s: %w", name, err))
				continue
			}
			if !slices.Contains(knownComponents, name) {
				errs = append(errs, fmt.Errorf("components.%s: unknown component (known: %v)", name, knownComponents))
			}
			r.components = append(r.components, component{name: name, matchers: compileKeywords(kws)})
		}
	}
	for svc, comp := range r.ServiceComponents {
		if !slices.Contains(knownComponents, comp) {
			errs = append(errs, fmt.Errorf("service_components.%s: unknown component %q", svc, comp))
		}
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

// ruleMatch is why one rule matched.
type ruleMatch struct {
	rule    *Rule
	keyword string
	errors  int
}

func (m ruleMatch) reason() string {
	if m.keyword != "" {
		return fmt.Sprintf("mentions %q (rule %s: %s)", m.keyword, m.rule.ID, m.rule.Description)
	}
	return fmt.Sprintf("%d error logs attached (rule %s: %s)", m.errors, m.rule.ID, m.rule.Description)
}

func (rule *Rule) match(text string, errorLogs int) (ruleMatch, bool) {
	if kw, ok := firstMatch(rule.matchers, text); ok {
		return ruleMatch{rule: rule, keyword: kw}, true
	}
	if rule.MinErrorLogs > 0 && errorLogs >= rule.MinErrorLogs {
		return ruleMatch{rule: rule, errors: errorLogs}, true
	}
	return ruleMatch{}, false
}

// Decide routes one ticket and explains why, in words a person can check.
func (r *Rules) Decide(t events.Ticket, e events.Enrichment) events.Routing {
	text := fold(t.Subject + "\n" + t.Description)
	errorLogs := e.ErrorLogs
	var reasons, ids []string
	score := func(rules []Rule) (int, []ruleMatch) {
		total := 0
		var matched []ruleMatch
		for i := range rules {
			if m, ok := rules[i].match(text, errorLogs); ok {
				total += rules[i].Weight
				matched = append(matched, m)
			}
		}
		return total, matched
	}
	tech, techMatches := score(r.Technical)
	nonTech, nonTechMatches := score(r.NonTechnical)
	technical := tech > nonTech
	decisive := techMatches
	queue := events.QueueEscalation
	if !technical {
		decisive, queue = nonTechMatches, events.QueueSupport
	}
	head := fmt.Sprintf("routed to %s because: technical signals %d vs non-technical %d", queue, tech, nonTech)
	if len(decisive) == 0 {
		head = fmt.Sprintf("routed to %s because: no rule found a technical problem", queue)
	}
	reasons = append(reasons, head)
	if errorLogs > 0 && len(e.Signatures) > 0 {
		reasons = append(reasons, fmt.Sprintf("%d error logs from %s", errorLogs, strings.Join(errorServices(e), ", ")))
	}
	for _, m := range decisive {
		reasons = append(reasons, m.reason())
		ids = append(ids, m.rule.ID)
	}
	severity := r.Severity.Default
	if technical {
		severity = r.Severity.DefaultTechnical
		for i := range r.Severity.Rules {
			if m, ok := r.Severity.Rules[i].match(text, errorLogs); ok {
				severity = m.rule.Severity
				reasons = append(reasons, fmt.Sprintf("severity %s: %s", severity, m.reason()))
				ids = append(ids, m.rule.ID)
				break
			}
		}
	}
	comp, compReason := r.component(text, e)
	if compReason != "" {
		reasons = append(reasons, compReason)
	}
	if e.LogsStatus == events.LogsPending || e.LogsStatus == events.LogsNotConfigured {
		reasons = append(reasons, fmt.Sprintf("logs %s: decided from the ticket text only", strings.ReplaceAll(string(e.LogsStatus), "_", " ")))
	}
	return events.Routing{
		Queue: queue, Technical: technical, Severity: severity, Component: comp,
		Reasons: reasons, RuleIDs: ids, RulesVersion: r.Version,
	}
}

func errorServices(e events.Enrichment) []string {
	set := map[string]bool{}
	for _, s := range e.Signatures {
		for _, svc := range s.Services {
			set[svc] = true
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func (r *Rules) component(text string, e events.Enrichment) (string, string) {
	hits := map[string]int{}
	why := map[string][]string{}
	for _, c := range r.components {
		for _, k := range c.matchers {
			if k.in(text) {
				hits[c.name]++
				why[c.name] = append(why[c.name], fmt.Sprintf("%q", k.text))
			}
		}
	}
	for _, s := range e.Signatures {
		for _, svc := range s.Services {
			if c, ok := r.ServiceComponents[svc]; ok {
				// Logs outweigh a word: they show where it broke.
				hits[c] += 2
				why[c] = append(why[c], "logs from "+svc)
			}
		}
	}
	best, bestHits := "other", 0
	for _, c := range r.components {
		if hits[c.name] > bestHits {
			best, bestHits = c.name, hits[c.name]
		}
	}
	if bestHits == 0 {
		return best, ""
	}
	return best, fmt.Sprintf("component %s: %s", best, strings.Join(dedupe(why[best]), ", "))
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
