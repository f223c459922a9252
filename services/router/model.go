package router

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"

	"github.com/triage-pipeline/triage/libs/events"
)

// The model is three linear classifiers (multinomial logistic regression)
// over the features of features.go: technical or not, component, and
// severity (trained on technical tickets only). Rules are features too,
// with a prior: a fired rule adds RuleScale × its weight from the rules
// file to the class it votes for, and training learns only a correction
// on top (regularised towards zero, so towards the team's weight). So a
// rule the team edits counts at once, a new rule counts before any
// retrain, a rule that misfires on the labelled tickets is turned down
// by the data, and features the training tickets never show (attached
// logs: the labelled tickets have none) are weighed by the rules alone.

//go:embed model.json
var defaultModel []byte

// ModelFormat is the model file's format version.
const ModelFormat = 1

// Model is a trained router model, as stored in model.json.
type Model struct {
	Format  int          `json:"format"`
	Trained TrainInfo    `json:"trained"`
	Options TrainOptions `json:"options"`
	// Heads: technical (support, escalation), component, severity.
	Technical Head `json:"technical"`
	Component Head `json:"component"`
	Severity  Head `json:"severity"`
}

// TrainInfo says what a model was trained on, so a model file can be
// reproduced and a retrain compared.
type TrainInfo struct {
	Examples    int    `json:"examples"`
	Corrections int    `json:"corrections"`
	RulesFile   string `json:"rules_version"`
	DataSHA256  string `json:"data_sha256"`
}

// Head is one classifier: a bias per class and, per feature, a weight per
// class. For rule features (r:…) the weight is the correction learned on
// top of the rule's prior.
type Head struct {
	Classes []string             `json:"classes"`
	Bias    []float64            `json:"bias"`
	Weights map[string][]float64 `json:"weights"`
}

// DefaultModel is the model built into the binary (model.json, made by
// `go generate ./services/router` from training/).
func DefaultModel() (*Model, error) { return ParseModel(defaultModel) }

// LoadModel reads a model file; an empty path means the built-in model.
func LoadModel(path string) (*Model, error) {
	if path == "" {
		return DefaultModel()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	m, err := ParseModel(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ParseModel decodes and checks a model file.
func ParseModel(b []byte) (*Model, error) {
	var m Model
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse model: %w", err)
	}
	if m.Format != ModelFormat {
		return nil, fmt.Errorf("model format %d, this router reads %d", m.Format, ModelFormat)
	}
	var errs []error
	for _, h := range []struct {
		name string
		head Head
		want []string
	}{
		{"technical", m.Technical, []string{events.QueueSupport, events.QueueEscalation}},
		{"component", m.Component, knownComponents},
		{"severity", m.Severity, knownSeverities},
	} {
		if !slices.Equal(h.head.Classes, h.want) {
			errs = append(errs, fmt.Errorf("model head %s: classes %v, want %v", h.name, h.head.Classes, h.want))
			continue
		}
		if len(h.head.Bias) != len(h.want) {
			errs = append(errs, fmt.Errorf("model head %s: %d biases for %d classes", h.name, len(h.head.Bias), len(h.want)))
		}
		for f, w := range h.head.Weights {
			if len(w) != len(h.want) {
				errs = append(errs, fmt.Errorf("model head %s: feature %q has %d weights for %d classes", h.name, f, len(w), len(h.want)))
				break
			}
		}
	}
	return &m, errors.Join(errs...)
}

// Marshal writes the model as stable, diffable JSON: weights rounded to
// four decimals, features sorted (encoding/json sorts map keys).
func (m *Model) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encode model: %w", err)
	}
	// One feature a line: a retrained model's diff shows which features
	// moved.
	b = numberList.ReplaceAllFunc(b, func(list []byte) []byte {
		return bytes.Join(bytes.Fields(list), nil)
	})
	return append(b, '\n'), nil
}

var numberList = regexp.MustCompile(`\[\s+-?[0-9.e+-]+(,\s+-?[0-9.e+-]+)*\s+\]`)

// headKind says which rules vote in a head.
type headKind int

const (
	headTechnical headKind = iota
	headComponent
	headSeverity
)

func (k headKind) votes(group string) bool {
	switch k {
	case headTechnical:
		return group == groupTechnical || group == groupNonTechnical
	case headComponent:
		return group == groupComponent || group == groupService
	default:
		return group == groupSeverity
	}
}

// contribution is one feature's push towards a class.
type contribution struct {
	name  string
	value float64
	rule  *firedRule
}

// scored is a head's answer for one ticket.
type scored struct {
	probs []float64
	best  int
	// contribs are the features' contributions to best over the runner-up,
	// largest first.
	contribs []contribution
}

// score runs one head over a ticket's features, adding the priors of the
// rules that fired for it.
func (h *Head) score(kind headKind, tf ticketFeatures, ruleScale float64) scored {
	k := len(h.Classes)
	logits := slices.Clone(h.Bias)
	per := make([][]float64, 0, len(tf.feats))
	names := make([]string, 0, len(tf.feats))
	var rules []*firedRule
	add := func(name string, w []float64, x float64, fr *firedRule) {
		row := make([]float64, k)
		for c := range k {
			row[c] = w[c] * x
			logits[c] += row[c]
		}
		per = append(per, row)
		names = append(names, name)
		rules = append(rules, fr)
	}
	for _, f := range tf.feats {
		if f.name[:2] == famRule {
			continue // with its prior, below
		}
		if w, ok := h.Weights[f.name]; ok {
			add(f.name, w, f.value, nil)
		}
	}
	for i := range tf.fired {
		fr := &tf.fired[i]
		w := make([]float64, k)
		if delta, ok := h.Weights[ruleFeature(*fr)]; ok {
			copy(w, delta)
		}
		if ci := slices.Index(h.Classes, fr.target); ci >= 0 && kind.votes(fr.group) {
			w[ci] += ruleScale * float64(fr.rule.Weight)
		}
		add(ruleFeature(*fr), w, 1, fr)
	}
	probs := softmax(logits)
	best, second := argmax2(probs)
	out := scored{probs: probs, best: best}
	for i, row := range per {
		v := row[best] - row[second]
		if v != 0 {
			out.contribs = append(out.contribs, contribution{name: names[i], value: v, rule: rules[i]})
		}
	}
	sort.SliceStable(out.contribs, func(i, j int) bool { return out.contribs[i].value > out.contribs[j].value })
	return out
}

func softmax(logits []float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = max(mx, v)
	}
	out := make([]float64, len(logits))
	sum := 0.0
	for i, v := range logits {
		out[i] = math.Exp(v - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// argmax2 returns the best and second-best indexes; ties go to the lower
// index (the earlier class).
func argmax2(p []float64) (int, int) {
	best, second := 0, -1
	for i := 1; i < len(p); i++ {
		switch {
		case p[i] > p[best]:
			best, second = i, best
		case second < 0 || p[i] > p[second]:
			second = i
		}
	}
	if second < 0 {
		second = best
	}
	return best, second
}

// DefaultModelJSON is the built-in model file as shipped.
func DefaultModelJSON() []byte { return bytes.Clone(defaultModel) }
