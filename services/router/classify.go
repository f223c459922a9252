package router

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/triage-pipeline/triage/libs/events"
)

// ClassifierConfig tunes how decisions are made from the model's answer.
type ClassifierConfig struct {
	// NeedsTriageBelow overrides the rules file's needs_triage.below when
	// positive.
	NeedsTriageBelow float64
	// Reasons caps the learned features named per decision (default 3).
	Reasons int
}

// Classifier decides a ticket's queue, severity and component from the
// rules and the model. It is immutable: a reload builds a new one. The
// router, `triage classify`, `triage eval` and retraining all decide
// through it.
type Classifier struct {
	rules *Rules
	model *Model
	cfg   ClassifierConfig
}

// NewClassifier combines rules and a model.
func NewClassifier(rules *Rules, model *Model, cfg ClassifierConfig) *Classifier {
	if cfg.Reasons <= 0 {
		cfg.Reasons = 3
	}
	return &Classifier{rules: rules, model: model, cfg: cfg}
}

// DefaultClassifier is the built-in rules with the built-in model.
func DefaultClassifier() (*Classifier, error) {
	rules, err := DefaultRules()
	if err != nil {
		return nil, err
	}
	model, err := DefaultModel()
	if err != nil {
		return nil, err
	}
	return NewClassifier(rules, model, ClassifierConfig{}), nil
}

// Rules are the classifier's rules.
func (c *Classifier) Rules() *Rules { return c.rules }

// Model is the classifier's model.
func (c *Classifier) Model() *Model { return c.model }

// Threshold is the confidence below which a ticket needs triage.
func (c *Classifier) Threshold() float64 {
	if c.cfg.NeedsTriageBelow > 0 {
		return c.cfg.NeedsTriageBelow
	}
	return c.rules.NeedsTriage.Below
}

// Decision is a routing with the heads' full answers, for evaluation and
// for `triage classify`.
type Decision struct {
	Routing events.Routing
	// PTechnical is the probability that the ticket is technical.
	PTechnical float64
	// Severity is the severity head's answer even for a ticket routed to
	// support (whose routing carries the support default).
	Severity string
	// SeverityConfidence and ComponentConfidence are those heads'
	// probabilities of their answers.
	SeverityConfidence, ComponentConfidence float64
}

// Decide routes one ticket and explains why, in words a person can check.
func (c *Classifier) Decide(t events.Ticket, e events.Enrichment) events.Routing {
	return c.Classify(t, e).Routing
}

// Classify routes one ticket and returns every head's answer.
func (c *Classifier) Classify(t events.Ticket, e events.Enrichment) Decision {
	return c.classify(t, e, extractFeatures(t, e, c.rules))
}

func (c *Classifier) classify(t events.Ticket, e events.Enrichment, tf ticketFeatures) Decision {
	r, m := c.rules, c.model
	scale := m.Options.RuleScale
	tech := m.Technical.score(headTechnical, tf, scale)
	comp := m.Component.score(headComponent, tf, scale)
	sev := m.Severity.score(headSeverity, tf, scale)

	d := Decision{PTechnical: tech.probs[1]}
	technical := tech.best == 1
	confidence := max(tech.probs[0], tech.probs[1])
	var ids []string
	var override *firedRule
	for i := range tf.fired {
		fr := &tf.fired[i]
		if fr.rule.Override && (fr.group == groupTechnical || fr.group == groupNonTechnical) && override == nil {
			override = fr
		}
	}
	if override != nil {
		technical, confidence = override.group == groupTechnical, 1
	}
	needsTriage := override == nil && confidence < c.Threshold()
	queue := events.QueueSupport
	if technical || needsTriage {
		// Unsure tickets wait where an engineer looks, flagged, rather
		// than in support where nobody would re-route them.
		queue = events.QueueEscalation
	}

	var reasons []string
	side := map[bool]string{true: events.QueueEscalation, false: events.QueueSupport}[technical]
	switch {
	case override != nil:
		reasons = append(reasons, fmt.Sprintf("routed to %s because rule %s decides: %s (%s)", queue, override.rule.ID, override.why, override.rule.Description))
	case needsTriage:
		reasons = append(reasons, fmt.Sprintf("needs triage: the router leans %s but only with confidence %.2f (below %.2f); a person decides", side, confidence, c.Threshold()))
	default:
		reasons = append(reasons, fmt.Sprintf("routed to %s (confidence %.2f) because:", queue, confidence))
	}
	if s := tf.logs.String(); s != "" {
		reasons = append(reasons, s)
	}
	reasons = append(reasons, c.explain(tech, "towards "+side)...)
	for _, fr := range tf.fired {
		ids = append(ids, fr.rule.ID)
	}

	// Severity: the model's, unless an override rule says otherwise.
	d.Severity, d.SeverityConfidence = m.Severity.Classes[sev.best], sev.probs[sev.best]
	sevWhy := c.explain(sev, "")
	for _, fr := range tf.fired {
		if fr.group == groupSeverity && fr.rule.Override {
			d.Severity, d.SeverityConfidence = fr.target, 1
			sevWhy = []string{fmt.Sprintf("rule %s decides: %s (%s)", fr.rule.ID, fr.why, fr.rule.Description)}
			break
		}
	}
	severity := r.Severity.Default
	if technical || needsTriage {
		severity = d.Severity
		reasons = append(reasons, fmt.Sprintf("severity %s (%.2f): %s", severity, d.SeverityConfidence, strings.Join(orNothing(sevWhy), "; ")))
	}

	d.ComponentConfidence = comp.probs[comp.best]
	component := m.Component.Classes[comp.best]
	reasons = append(reasons, fmt.Sprintf("component %s (%.2f): %s", component, d.ComponentConfidence, strings.Join(orNothing(c.explain(comp, "")), "; ")))

	if e.LogsStatus == events.LogsPending || e.LogsStatus == events.LogsNotConfigured {
		reasons = append(reasons, fmt.Sprintf("logs %s: decided from the ticket text only", strings.ReplaceAll(string(e.LogsStatus), "_", " ")))
	}
	var templates []string
	for _, s := range e.Signatures {
		templates = append(templates, s.Template)
	}
	d.Routing = events.Routing{
		Queue: queue, Technical: technical, Severity: severity, Component: component,
		Reasons: reasons, RuleIDs: ids, RulesVersion: r.Version,
		Confidence: math.Round(confidence*1000) / 1000, NeedsTriage: needsTriage,
		Runbook: r.runbook(component, tf.codes, templates),
	}
	return d
}

func orNothing(s []string) []string {
	if len(s) == 0 {
		return []string{"nothing stands out; the usual share of tickets"}
	}
	return s
}

// explain names the rules and the strongest learned features behind a
// head's answer: every rule that pushed towards it, then up to
// cfg.Reasons features, one n-gram per stretch of text.
func (c *Classifier) explain(s scored, towards string) []string {
	var out, shown []string
	const minShown = 0.05 // log-odds: smaller pushes say nothing to a person
	for _, ct := range s.contribs {
		if ct.value < minShown {
			break
		}
		if ct.rule != nil {
			out = append(out, fmt.Sprintf("rule %s: %s (%s) %+.2f", ct.rule.rule.ID, ct.rule.why, ct.rule.rule.Description, ct.value))
			continue
		}
		if len(shown) >= c.cfg.Reasons || slices.ContainsFunc(shown, func(s string) bool { return overlaps(s, ct.name) }) {
			continue
		}
		shown = append(shown, ct.name)
		w := "weighs"
		if towards != "" {
			w += " " + towards
		}
		out = append(out, fmt.Sprintf("%s %s %+.2f", display(ct.name), w, ct.value))
	}
	return out
}
