package signature

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// Config tunes a Miner. The zero value of each field selects its default,
// which is the one configuration measured on LogHub (see EvaluateLogHub).
type Config struct {
	// Similarity is Drain's threshold: the share of a message's tokens that
	// must equal a group's template for the message to join it, in (0, 1].
	// Default 0.5.
	Similarity float64
	// PrefixTokens is how many leading tokens route a message in the parse
	// tree before similarity is compared (Drain's depth minus two). Default 2.
	PrefixTokens int
	// MaxChildren caps a tree node's children; further distinct tokens share
	// a wildcard child, so a variable in a leading position cannot blow up the
	// tree. Default 100.
	MaxChildren int
	// MinVariableValues is how many distinct words a position must show in a
	// group before it counts as a variable. Fewer distinct words ("GET" and
	// "POST", "bytes" and "values") mean different events, and the group is
	// split at that position. Default 5.
	MinVariableValues int
	// MaxSampleIDs caps Summary.SampleIDs. Default 5.
	MaxSampleIDs int
}

// Default values for Config's zero fields.
const (
	DefaultSimilarity        = 0.5
	DefaultPrefixTokens      = 2
	DefaultMaxChildren       = 100
	DefaultMinVariableValues = 5
	DefaultMaxSampleIDs      = 5
)

// Signature names one group of messages.
type Signature struct {
	// ID is TemplateID(Template): equal templates have equal ids.
	ID string
	// Template is the group's text with variable parts written as <*>.
	Template string
}

// Miner groups log messages into signatures. A Miner holds only its
// configuration, so one value can serve many goroutines.
type Miner struct {
	cfg Config
	// scanAll compares each message with every cluster of its leaf instead of
	// the indexed candidates; tests use it to check the index changes nothing.
	scanAll bool
}

// New returns a Miner with cfg, its zero fields set to their defaults.
func New(cfg Config) (*Miner, error) {
	if cfg.Similarity == 0 {
		cfg.Similarity = DefaultSimilarity
	}
	if cfg.PrefixTokens == 0 {
		cfg.PrefixTokens = DefaultPrefixTokens
	}
	if cfg.MaxChildren == 0 {
		cfg.MaxChildren = DefaultMaxChildren
	}
	if cfg.MinVariableValues == 0 {
		cfg.MinVariableValues = DefaultMinVariableValues
	}
	if cfg.MaxSampleIDs == 0 {
		cfg.MaxSampleIDs = DefaultMaxSampleIDs
	}
	switch {
	case !(cfg.Similarity > 0 && cfg.Similarity <= 1):
		return nil, fmt.Errorf("signature config: similarity %v outside (0, 1]", cfg.Similarity)
	case cfg.PrefixTokens < 0:
		return nil, fmt.Errorf("signature config: prefix tokens %d is negative", cfg.PrefixTokens)
	case cfg.MaxChildren < 1:
		return nil, fmt.Errorf("signature config: max children %d below 1", cfg.MaxChildren)
	case cfg.MinVariableValues < 2:
		return nil, fmt.Errorf("signature config: min variable values %d below 2", cfg.MinVariableValues)
	case cfg.MaxSampleIDs < 0:
		return nil, fmt.Errorf("signature config: max sample ids %d is negative", cfg.MaxSampleIDs)
	}
	return &Miner{cfg: cfg}, nil
}

// Config returns the Miner's configuration with defaults filled in.
func (m *Miner) Config() Config { return m.cfg }

// Mine groups msgs and returns each message's signature, in input order.
// The grouping depends only on the set of distinct masked messages, so
// shuffling msgs or repeating some of them changes no id.
func (m *Miner) Mine(msgs []string) []Signature {
	b := newBatch(len(msgs))
	for _, msg := range msgs {
		b.add(msg)
	}
	groupSigs := m.group(b.uniq)
	out := make([]Signature, len(msgs))
	for i, u := range b.ofMessage {
		out[i] = groupSigs[u]
	}
	return out
}

// distinct is one distinct masked message of a batch.
type distinct struct {
	key  string
	toks []token
}

// batch deduplicates messages by their masked tokens.
type batch struct {
	index     map[string]int
	uniq      []*distinct
	ofMessage []int // distinct index of each message
	scratch   []token
	key       []byte
}

func newBatch(n int) *batch {
	return &batch{index: make(map[string]int), ofMessage: make([]int, 0, n)}
}

// add tokenises msg and records which distinct message it is. Spacing does
// not take part in the key; a distinct message keeps a space wherever any of
// its messages had one, which no arrival order can change.
func (b *batch) add(msg string) {
	b.scratch = tokenize(msg, b.scratch[:0])
	// Each token is its kind, its text's length and its text, so no two
	// token sequences share a key whatever bytes the text holds.
	b.key = b.key[:0]
	for _, t := range b.scratch {
		text := t.text
		if t.kind == kindVar {
			text = ""
		}
		b.key = append(b.key, byte(t.kind))
		b.key = binary.AppendUvarint(b.key, uint64(len(text)))
		b.key = append(b.key, text...)
	}
	key := string(b.key)
	if u, ok := b.index[key]; ok {
		for i, t := range b.scratch {
			if t.space {
				b.uniq[u].toks[i].space = true
			}
		}
		b.ofMessage = append(b.ofMessage, u)
		return
	}
	u := len(b.uniq)
	b.index[key] = u
	b.uniq = append(b.uniq, &distinct{key: key, toks: slices.Clone(b.scratch)})
	b.ofMessage = append(b.ofMessage, u)
}

// cluster is a group under construction.
type cluster struct {
	tmpl    []token // wildcards where members differ; compared with newcomers
	members []*distinct
}

// node is a parse-tree node: children by routing token, clusters at leaves.
type node struct {
	children map[string]*node
	clusters []*cluster
	// postings lists, per constant token at a position, the clusters whose
	// template had it there when created. A position later turned into a
	// wildcard leaves a stale entry, which only costs a comparison.
	postings map[posting][]int
	seen     []int // scratch: last message that listed each cluster as candidate
	visit    int
}

// posting is a constant token at a position. Units share one key because any
// unit matches any other.
type posting struct {
	pos  int
	kind tokenKind
	text string
}

func postingAt(toks []token, pos int) (posting, bool) {
	switch t := toks[pos]; t.kind {
	case kindVar:
		return posting{}, false
	case kindUnit:
		return posting{pos: pos, kind: kindUnit}, true
	default:
		return posting{pos: pos, kind: t.kind, text: t.text}, true
	}
}

// addCluster appends a cluster for toks and indexes its constant tokens.
func (n *node) addCluster(d *distinct) {
	idx := len(n.clusters)
	n.clusters = append(n.clusters, &cluster{tmpl: slices.Clone(d.toks), members: []*distinct{d}})
	n.seen = append(n.seen, 0)
	if n.postings == nil {
		n.postings = make(map[posting][]int)
	}
	for p := range d.toks {
		if key, ok := postingAt(d.toks, p); ok {
			n.postings[key] = append(n.postings[key], idx)
		}
	}
}

// candidates returns, in creation order, the clusters that can reach the
// threshold for toks. A cluster needs at least need equal tokens, all at
// positions where toks is constant; if it matches need of those c positions,
// it matches at least one of any c-need+1 of them, so the union of the
// c-need+1 shortest posting lists holds every possible winner.
func (n *node) candidates(toks []token, need int) []int {
	var lists [][]int
	for p := range toks {
		if key, ok := postingAt(toks, p); ok {
			lists = append(lists, n.postings[key])
		}
	}
	if len(lists) < need {
		return nil
	}
	slices.SortFunc(lists, func(a, b []int) int { return len(a) - len(b) })
	n.visit++
	var out []int
	for _, list := range lists[:len(lists)-need+1] {
		for _, c := range list {
			if n.seen[c] != n.visit {
				n.seen[c] = n.visit
				out = append(out, c)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (n *node) child(key string, maxChildren int) *node {
	if c, ok := n.children[key]; ok {
		return c
	}
	if n.children == nil {
		n.children = make(map[string]*node)
	}
	if len(n.children) >= maxChildren {
		key = Wildcard
		if c, ok := n.children[key]; ok {
			return c
		}
	}
	c := &node{}
	n.children[key] = c
	return c
}

// group clusters the distinct messages and returns the signature of each.
func (m *Miner) group(uniq []*distinct) []Signature {
	// A fixed processing order makes the greedy clustering a function of the
	// set of distinct messages alone.
	order := make([]int, len(uniq))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(uniq[a].key, uniq[b].key) })

	byLength := make(map[int]*node)
	var leaves []*node
	for _, u := range order {
		d := uniq[u]
		leaf := m.route(byLength, d.toks)
		if leaf.clusters == nil {
			leaves = append(leaves, leaf)
		}
		if c := m.bestCluster(leaf, d.toks); c != nil {
			c.members = append(c.members, d)
			generalize(c.tmpl, d.toks)
			continue
		}
		leaf.addCluster(d)
	}

	sigOf := make(map[*distinct]Signature, len(uniq))
	for _, leaf := range leaves {
		for _, c := range leaf.clusters {
			for _, members := range m.splitWeakPositions(c.members) {
				tmpl := render(templateOf(members))
				sig := Signature{ID: TemplateID(tmpl), Template: tmpl}
				for _, d := range members {
					sigOf[d] = sig
				}
			}
		}
	}
	out := make([]Signature, len(uniq))
	for i, d := range uniq {
		out[i] = sigOf[d]
	}
	return out
}

// route finds the leaf for toks: first by token count, then by the leading
// tokens, variables taking the wildcard branch.
func (m *Miner) route(byLength map[int]*node, toks []token) *node {
	n, ok := byLength[len(toks)]
	if !ok {
		n = &node{}
		byLength[len(toks)] = n
	}
	for i := 0; i < m.cfg.PrefixTokens && i < len(toks); i++ {
		key := Wildcard
		if t := toks[i]; t.kind == kindWord || t.kind == kindPunct {
			key = t.text
		}
		n = n.child(key, m.cfg.MaxChildren)
	}
	return n
}

// bestCluster returns the leaf's most similar cluster reaching the
// threshold, preferring more wildcard positions, then the earlier cluster;
// nil if none.
func (m *Miner) bestCluster(leaf *node, toks []token) *cluster {
	if len(leaf.clusters) == 0 {
		return nil
	}
	if len(toks) == 0 {
		return leaf.clusters[0] // every empty message is alike
	}
	need := 0 // fewest equal tokens that reach the threshold
	for float64(need)/float64(len(toks)) < m.cfg.Similarity {
		need++
	}
	var cands []int
	if m.scanAll {
		cands = make([]int, len(leaf.clusters))
		for i := range cands {
			cands[i] = i
		}
	} else {
		cands = leaf.candidates(toks, need)
	}
	var best *cluster
	bestSim, bestParams := -1.0, -1
	for _, i := range cands {
		c := leaf.clusters[i]
		sim, params := similarity(c.tmpl, toks)
		if sim > bestSim || sim == bestSim && params > bestParams {
			best, bestSim, bestParams = c, sim, params
		}
	}
	if best == nil || bestSim < m.cfg.Similarity {
		return nil
	}
	return best
}

// similarity is Drain's: equal constant tokens over all tokens, plus the
// number of variable positions in the template as a tie-breaker. Lengths are
// equal because the tree routes by token count.
func similarity(tmpl, toks []token) (float64, int) {
	if len(tmpl) == 0 {
		return 1, 0
	}
	equal, params := 0, 0
	for i, t := range tmpl {
		switch {
		case t.kind == kindUnit && toks[i].kind == kindUnit:
			// A unit after a number agrees with any other unit ("B", "KB").
			equal++
		case t.kind == kindVar:
			params++
		case t.kind == toks[i].kind && t.text == toks[i].text:
			equal++
		}
	}
	return float64(equal) / float64(len(tmpl)), params
}

// generalize turns the template's positions where toks differ into wildcards.
func generalize(tmpl, toks []token) {
	for i := range tmpl {
		t, o := &tmpl[i], toks[i]
		switch {
		case t.kind == kindUnit && o.kind == kindUnit:
			// Units vary freely; the final template decides whether to show one.
		case t.kind == kindVar:
		case t.kind != o.kind || t.text != o.text:
			t.kind, t.text = kindVar, Wildcard
		}
	}
}

// splitWeakPositions splits a cluster at word positions that show fewer
// distinct words than MinVariableValues: two or three alternatives there
// ("GET"/"POST", "bytes"/"values") name different events, not a variable.
// Positions where some member has a masked variable are variable already.
// It splits at the position with the fewest alternatives first and recurses,
// so the result depends only on the members, not on their order.
func (m *Miner) splitWeakPositions(members []*distinct) [][]*distinct {
	if len(members) < 2 {
		return [][]*distinct{members}
	}
	width := len(members[0].toks)
	bestPos, bestCount := -1, 0
	for p := 0; p < width; p++ {
		values := make(map[string]struct{})
		variable := false
		for _, d := range members {
			t := d.toks[p]
			if t.kind == kindVar || t.kind == kindUnit {
				variable = true
				break
			}
			values[string(rune('0'+t.kind))+t.text] = struct{}{}
		}
		if variable || len(values) < 2 || len(values) >= m.cfg.MinVariableValues {
			continue
		}
		if bestPos < 0 || len(values) < bestCount {
			bestPos, bestCount = p, len(values)
		}
	}
	if bestPos < 0 {
		return [][]*distinct{members}
	}
	parts := make(map[string][]*distinct)
	var keys []string
	for _, d := range members {
		t := d.toks[bestPos]
		k := string(rune('0'+t.kind)) + t.text
		if _, ok := parts[k]; !ok {
			keys = append(keys, k)
		}
		parts[k] = append(parts[k], d)
	}
	slices.Sort(keys)
	var out [][]*distinct
	for _, k := range keys {
		out = append(out, m.splitWeakPositions(parts[k])...)
	}
	return out
}

// templateOf builds the template of a final group from its members alone:
// a token where all agree, a wildcard where they differ, a unit shown only
// when every member has the same one. A position gets a space if any member
// had one there.
func templateOf(members []*distinct) []token {
	first := members[0].toks
	out := make([]token, 0, len(first))
	for p := range first {
		t := first[p]
		same, space := true, false
		allUnits := true
		for _, d := range members {
			o := d.toks[p]
			space = space || o.space
			if o.kind != t.kind || o.text != t.text {
				same = false
			}
			if o.kind != kindUnit {
				allUnits = false
			}
		}
		switch {
		case same:
		case allUnits:
			// A unit that changes with the number is part of the variable.
			continue
		default:
			t.kind, t.text = kindVar, Wildcard
		}
		t.space = space
		out = append(out, t)
	}
	return out
}
