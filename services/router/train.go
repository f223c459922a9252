package router

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/triage-pipeline/triage/libs/events"
)

// Example is one labelled ticket to learn from.
type Example struct {
	ID         string
	Ticket     events.Ticket
	Enrichment events.Enrichment
	Technical  bool
	// Component and Severity are "" when unknown (a re-route says only
	// which queue was right); the heads that need them skip the example.
	Component string
	Severity  string
	// Weight counts the example this many times (0 means 1): a person's
	// correction of the router weighs more than a written example.
	Weight float64
	// Correction marks examples that came from re-routed tickets.
	Correction bool
	// Incident names the storm the ticket belongs to, when labelled.
	Incident string
}

// TrainOptions are the training settings; DefaultTrainOptions documents
// the defaults. The same options and examples give the same model.
type TrainOptions struct {
	Seed   uint64 `json:"seed"`
	Epochs int    `json:"epochs"`
	// LearningRate is AdaGrad's step.
	LearningRate float64 `json:"learning_rate"`
	// L2 pulls the text features' weights towards zero. SignalL2 does the
	// same, more strongly, for the other features (rules, extracted items,
	// logs): each is one strong switch that a few training tickets could
	// otherwise make decisive; for a rule it pulls the learned correction
	// to zero, that is the rule's weight towards the team's.
	L2       float64 `json:"l2"`
	SignalL2 float64 `json:"signal_l2"`
	// MinCount drops text features seen in fewer training tickets: a word
	// one ticket uses teaches nothing that carries over.
	MinCount int `json:"min_count"`
	// RuleScale turns a rule's weight from the rules file into log-odds.
	RuleScale float64 `json:"rule_scale"`
	// Prune drops weights smaller than this from the saved model.
	Prune float64 `json:"prune"`
}

// DefaultTrainOptions are the settings the shipped model is trained with.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{Seed: 1, Epochs: 12, LearningRate: 0.3, L2: 1e-3, MinCount: 2, RuleScale: 0.5, Prune: 0.01, SignalL2: 0.05}
}

// vectorized is an example read into the feature indexes of one training
// run.
type vectorized struct {
	idx    []int
	val    []float64
	l2     []float64    // per feature: its regularisation
	offset [3][]float64 // per head: the priors of the rules that fired
	label  [3]int       // per head: the class, or -1 when unknown
	weight float64
}

var headClasses = [3][]string{
	headTechnical: {events.QueueSupport, events.QueueEscalation},
	headComponent: knownComponents,
	headSeverity:  knownSeverities,
}

// Train fits the three heads on the examples with the rules' features.
func Train(examples []Example, rules *Rules, opts TrainOptions) (*Model, error) {
	if len(examples) == 0 {
		return nil, errors.New("train: no examples")
	}
	if opts.Epochs <= 0 || opts.LearningRate <= 0 {
		return nil, fmt.Errorf("train: epochs and learning rate must be positive, got %d and %g", opts.Epochs, opts.LearningRate)
	}
	feats := make([]ticketFeatures, len(examples))
	for i, ex := range examples {
		feats[i] = extractFeatures(ex.Ticket, ex.Enrichment, rules)
	}
	return train(examples, feats, rules, opts)
}

func train(examples []Example, feats []ticketFeatures, rules *Rules, opts TrainOptions) (*Model, error) {
	// Vocabulary: text features in at least MinCount tickets; every other
	// feature (rules, extracted items, logs) as soon as it is seen.
	counts := map[string]int{}
	for _, tf := range feats {
		for _, f := range tf.feats {
			counts[f.name]++
		}
	}
	var vocab []string
	for name, n := range counts {
		if !isText(name) || n >= opts.MinCount {
			vocab = append(vocab, name)
		}
	}
	sort.Strings(vocab)
	index := make(map[string]int, len(vocab))
	for i, name := range vocab {
		index[name] = i
	}
	data := make([]vectorized, len(examples))
	corrections := 0
	for i, ex := range examples {
		v := vectorized{weight: ex.Weight}
		if v.weight <= 0 {
			v.weight = 1
		}
		if ex.Correction {
			corrections++
		}
		for _, f := range feats[i].feats {
			if j, ok := index[f.name]; ok {
				v.idx = append(v.idx, j)
				v.val = append(v.val, f.value)
				l2 := opts.SignalL2
				if isText(f.name) {
					l2 = opts.L2
				}
				v.l2 = append(v.l2, l2)
			}
		}
		for h := range headClasses {
			v.offset[h] = make([]float64, len(headClasses[h]))
			for _, fr := range feats[i].fired {
				if ci := slices.Index(headClasses[h], fr.target); ci >= 0 && headKind(h).votes(fr.group) {
					v.offset[h][ci] += opts.RuleScale * float64(fr.rule.Weight)
				}
			}
		}
		v.label[headTechnical] = 0
		if ex.Technical {
			v.label[headTechnical] = 1
		}
		v.label[headComponent] = slices.Index(knownComponents, ex.Component)
		v.label[headSeverity] = -1
		if ex.Technical {
			v.label[headSeverity] = slices.Index(knownSeverities, ex.Severity)
		}
		data[i] = v
	}
	m := &Model{Format: ModelFormat, Options: opts, Trained: TrainInfo{
		Examples: len(examples), Corrections: corrections, RulesFile: rules.Version, DataSHA256: examplesDigest(examples),
	}}
	for h, dst := range []*Head{&m.Technical, &m.Component, &m.Severity} {
		*dst = fitHead(data, headKind(h), vocab, opts)
	}
	return m, nil
}

// fitHead trains one multinomial logistic regression with AdaGrad over
// shuffled examples (the seed fixes the order), L2 applied to the weights
// each example touches.
func fitHead(data []vectorized, h headKind, vocab []string, opts TrainOptions) Head {
	k := len(headClasses[h])
	w := make([]float64, len(vocab)*k)
	g := make([]float64, len(vocab)*k)
	bias := make([]float64, k)
	gb := make([]float64, k)
	var order []int
	for i, d := range data {
		if d.label[h] >= 0 {
			order = append(order, i)
		}
	}
	rng := rand.New(rand.NewPCG(opts.Seed, uint64(h)+1))
	logits := make([]float64, k)
	const eps = 1e-8
	// The saved weights are the average of the epoch-end weights of the
	// second half of training: steadier than the last epoch's, which
	// depend on the last few examples seen.
	avgW := make([]float64, len(w))
	avgB := make([]float64, k)
	averaged := 0
	for epoch := range opts.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			d := &data[i]
			for c := range k {
				logits[c] = bias[c] + d.offset[h][c]
			}
			for n, j := range d.idx {
				for c := range k {
					logits[c] += w[j*k+c] * d.val[n]
				}
			}
			p := softmax(logits)
			for c := range k {
				grad := p[c] * d.weight
				if c == d.label[h] {
					grad -= d.weight
				}
				gb[c] += grad * grad
				bias[c] -= opts.LearningRate * grad / math.Sqrt(gb[c]+eps)
				for n, j := range d.idx {
					gr := grad*d.val[n] + d.l2[n]*w[j*k+c]
					g[j*k+c] += gr * gr
					w[j*k+c] -= opts.LearningRate * gr / math.Sqrt(g[j*k+c]+eps)
				}
			}
		}
		if epoch >= opts.Epochs/2 {
			for i, v := range w {
				avgW[i] += v
			}
			for c, v := range bias {
				avgB[c] += v
			}
			averaged++
		}
	}
	w, bias = avgW, avgB
	for i := range w {
		w[i] /= float64(averaged)
	}
	for c := range bias {
		bias[c] /= float64(averaged)
	}
	head := Head{Classes: slices.Clone(headClasses[h]), Bias: make([]float64, k), Weights: map[string][]float64{}}
	for c := range k {
		head.Bias[c] = round4(bias[c])
	}
	for j, name := range vocab {
		row := make([]float64, k)
		keep := false
		for c := range k {
			row[c] = round4(w[j*k+c])
			keep = keep || math.Abs(row[c]) >= opts.Prune
		}
		if keep {
			head.Weights[name] = row
		}
	}
	return head
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// examplesDigest identifies the training data in the model file.
func examplesDigest(examples []Example) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, ex := range examples {
		_ = enc.Encode([]any{ex.ID, ex.Ticket.Subject, ex.Ticket.Description, ex.Technical, ex.Component, ex.Severity, ex.Weight})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Folds assigns each example to one of k folds, stratified by label
// (technical or not, and component) so each fold holds a fair share of
// the small classes; seeded, so the split is reproducible.
func Folds(examples []Example, k int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	strata := map[string][]int{}
	var keys []string
	for i, ex := range examples {
		key := fmt.Sprintf("%v/%s", ex.Technical, ex.Component)
		if _, ok := strata[key]; !ok {
			keys = append(keys, key)
		}
		strata[key] = append(strata[key], i)
	}
	sort.Strings(keys)
	fold := make([]int, len(examples))
	next := 0
	for _, key := range keys {
		ids := strata[key]
		rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		for _, i := range ids {
			fold[i] = next % k
			next++
		}
	}
	return fold
}

// CrossValidate trains on k-1 folds and decides the held-out fold, k
// times: every example gets a decision from a model that never saw it.
// Features are read once; each fold's model uses only its own training
// tickets' vocabulary.
func CrossValidate(examples []Example, rules *Rules, opts TrainOptions, k int, cfg ClassifierConfig) ([]Decision, error) {
	if k < 2 || k > len(examples) {
		return nil, fmt.Errorf("cross-validate: %d folds for %d examples", k, len(examples))
	}
	feats := make([]ticketFeatures, len(examples))
	for i, ex := range examples {
		feats[i] = extractFeatures(ex.Ticket, ex.Enrichment, rules)
	}
	fold := Folds(examples, k, opts.Seed)
	out := make([]Decision, len(examples))
	for f := range k {
		var trainEx []Example
		var trainFeats []ticketFeatures
		for i := range examples {
			if fold[i] != f {
				trainEx = append(trainEx, examples[i])
				trainFeats = append(trainFeats, feats[i])
			}
		}
		m, err := train(trainEx, trainFeats, rules, opts)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", f, err)
		}
		c := NewClassifier(rules, m, cfg)
		for i := range examples {
			if fold[i] == f {
				out[i] = c.classify(examples[i].Ticket, examples[i].Enrichment, feats[i])
			}
		}
	}
	return out, nil
}
