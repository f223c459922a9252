package redact

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/zricethezav/gitleaks/v8/detect"
)

// maskByte replaces the bytes of placeholders already in a text while
// rules run: no rule matches it, and like a placeholder's brackets it is no
// word character.
const maskByte = 0

// maxPasses bounds Redact's passes (see Redact); text needing more is
// contrived (a chain of tokens glued to one another).
const maxPasses = 8

// MinKeyBytes is the shortest Config.Key New accepts: a short key would let
// someone who sees many placeholders search for it.
const MinKeyBytes = 16

// digestHexLen is how many hex digits of the HMAC a placeholder shows:
// 32 bits keep accidental collisions rare (about one pair among 90,000
// distinct values of one kind) while staying short in prose.
const digestHexLen = 8

// Config says how a Redactor replaces values.
type Config struct {
	// Key is the HMAC key for placeholders, at least MinKeyBytes long. Use
	// one secret key per deployment so placeholders stay the same across
	// documents and restarts. Empty means a random key for this Redactor:
	// placeholders are then stable only within it.
	Key []byte
	// Names are customer or tenant names to replace, matched case-insensitively
	// as whole words; a name that starts or ends with a character outside
	// ASCII letters and digits (Japanese, say) has no word boundary there and
	// matches as a substring. Runs of spaces in a name match any whitespace.
	Names []string
}

// Kind names what a placeholder stands for.
type Kind string

// The kinds of redacted values, as they appear in placeholders.
const (
	KindSecret   Kind = "secret"
	KindCard     Kind = "card"
	KindEmail    Kind = "email"
	KindPhone    Kind = "phone"
	KindIP       Kind = "ip"
	KindCustomer Kind = "customer"
)

// Counts is how many values of each kind one Redact call replaced (every
// occurrence counts), for logs and metrics: it never holds the values.
type Counts struct {
	Secret, Card, Email, Phone, IP, Customer int
}

// Total is the number of replaced values of every kind.
func (c Counts) Total() int {
	return c.Secret + c.Card + c.Email + c.Phone + c.IP + c.Customer
}

// Add returns the sum of c and o, to total several fields of one document.
func (c Counts) Add(o Counts) Counts {
	return Counts{
		Secret:   c.Secret + o.Secret,
		Card:     c.Card + o.Card,
		Email:    c.Email + o.Email,
		Phone:    c.Phone + o.Phone,
		IP:       c.IP + o.IP,
		Customer: c.Customer + o.Customer,
	}
}

// ByKind returns the counts keyed by kind, zeros included, for a metric
// labelled by kind.
func (c Counts) ByKind() map[Kind]int {
	return map[Kind]int{
		KindSecret: c.Secret, KindCard: c.Card, KindEmail: c.Email,
		KindPhone: c.Phone, KindIP: c.IP, KindCustomer: c.Customer,
	}
}

func (c *Counts) inc(k Kind) {
	switch k {
	case KindSecret:
		c.Secret++
	case KindCard:
		c.Card++
	case KindEmail:
		c.Email++
	case KindPhone:
		c.Phone++
	case KindIP:
		c.IP++
	case KindCustomer:
		c.Customer++
	}
}

// Redactor replaces secrets and personal data. It is safe for concurrent
// use and meant to be built once per process: New compiles gitleaks' rule
// set, which takes about a tenth of a second.
type Redactor struct {
	key       []byte
	ephemeral bool
	names     []namePattern
	// secrets is shared by every Redact call. gitleaks v8.30 does not
	// document Detector as safe for concurrent use, but DetectString only
	// reads the rules, the keyword trie and the allowlists and adds to an
	// atomic byte counter; the findings list and commit map it locks are
	// used by DetectSource alone. That holds only with MaxDecodeDepth 0 (its
	// decoding pass appends to a rule's shared Tags slice), and
	// TestRedactConcurrent checks it under the race detector on every
	// upgrade.
	secrets *detect.Detector
	// ruleIDs are the rule ids a [secret:...] placeholder may carry, so a
	// look-alike such as "[secret:AKIA...]" in the input is not mistaken
	// for one and kept.
	ruleIDs map[string]bool
}

// New builds a Redactor. It fails on a key shorter than MinKeyBytes, a blank
// name, or a gitleaks rule set that does not load.
func New(cfg Config) (*Redactor, error) {
	r := &Redactor{key: slices.Clone(cfg.Key)}
	switch {
	case len(r.key) == 0:
		r.key = make([]byte, 32)
		if _, err := rand.Read(r.key); err != nil {
			return nil, fmt.Errorf("draw a placeholder key: %w", err)
		}
		r.ephemeral = true
	case len(r.key) < MinKeyBytes:
		return nil, fmt.Errorf("placeholder key has %d bytes, want at least %d", len(r.key), MinKeyBytes)
	}
	names, err := compileNames(cfg.Names)
	if err != nil {
		return nil, err
	}
	r.names = names
	det, err := newSecretDetector()
	if err != nil {
		return nil, err
	}
	r.secrets = det
	r.ruleIDs = make(map[string]bool, len(det.Config.Rules)+len(ownSecretRules))
	for id := range det.Config.Rules {
		r.ruleIDs[id] = true
	}
	for _, rule := range ownSecretRules {
		r.ruleIDs[rule.id] = true
	}
	return r, nil
}

// EphemeralKey reports whether the Redactor drew its own key because none
// was configured, so a service can warn that placeholders will change when
// it restarts.
func (r *Redactor) EphemeralKey() bool { return r.ephemeral }

// span is a byte range of the input to replace. rule is the secret rule id
// for KindSecret.
type span struct {
	start, end int
	kind       Kind
	rule       string
}

// priority orders kinds when overlapping matches merge into one span: a
// secret wins over anything, since its placeholder shows no digest.
func priority(k Kind) int {
	switch k {
	case KindSecret:
		return 0
	case KindCard:
		return 1
	case KindEmail:
		return 2
	case KindPhone:
		return 3
	case KindIP:
		return 4
	default:
		return 5
	}
}

// generic is 1 for the secret rules that match by context alone (a key
// name, a header, a shape) and 0 for those that know the token's format, so
// a placeholder names the most telling rule: [secret:slack-bot-token]
// rather than [secret:credential-assignment] for SLACK_TOKEN=xoxb-....
func generic(rule string) int {
	switch rule {
	case "generic-api-key", "credential-assignment", "authorization-header", "bearer-token", "cookie", awsSecretRule:
		return 1
	}
	return 0
}

// Redact returns s with every secret and personal value found replaced by
// its placeholder, and how many of each kind it replaced. Everything else
// is kept byte for byte.
//
// A replacement can reveal another value: in "AKIA…ghp_…" the key ID only
// ends at a word boundary once the token after it is a placeholder, and a
// secret scanner reading the issue would see it. So Redact passes over its
// own output until a pass finds nothing: one pass for clean text, two for
// most others. That also makes it idempotent.
func (r *Redactor) Redact(s string) (string, Counts) {
	var total Counts
	for range maxPasses {
		out, c := r.redactOnce(s)
		if c.Total() == 0 {
			break
		}
		s, total = out, total.Add(c)
	}
	return s, total
}

// redactOnce replaces what the rules find in one pass.
func (r *Redactor) redactOnce(s string) (string, Counts) {
	if s == "" {
		return s, Counts{}
	}
	// Placeholders already in s are masked before any rule runs, so that
	// no rule reads "[secret:x]" as the key "secret" and whatever follows
	// as its value; a match that covers a masked placeholder loses it again
	// in subtract. Masking keeps every byte offset.
	kept := r.placeholders(s)
	m := s
	if len(kept) > 0 {
		b := []byte(s)
		for _, k := range kept {
			for i := k.start; i < k.end; i++ {
				b[i] = maskByte
			}
		}
		m = string(b)
	}
	var spans []span
	spans = r.appendSecrets(spans, m)
	spans = appendCards(spans, m)
	spans = appendEmails(spans, m)
	spans = appendPhones(spans, m)
	spans = appendIPs(spans, m)
	spans = r.appendNames(spans, m)
	if len(spans) == 0 {
		return s, Counts{}
	}
	spans = subtract(merge(spans), kept)

	var b strings.Builder
	b.Grow(len(s))
	var counts Counts
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.start])
		b.WriteString(r.placeholder(sp, s[sp.start:sp.end]))
		counts.inc(sp.kind)
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String(), counts
}

// merge sorts spans and joins overlapping ones, so a value two rules both
// matched (a card number inside a key=value secret, say) is replaced once,
// whole, by the kind that matters most.
func merge(spans []span) []span {
	// The order is total, so the rule id a placeholder shows does not
	// depend on the order rules ran in (gitleaks keeps its rules in a map).
	slices.SortFunc(spans, func(a, b span) int {
		if a.start != b.start {
			return a.start - b.start
		}
		if a.end != b.end {
			return b.end - a.end
		}
		if pa, pb := priority(a.kind), priority(b.kind); pa != pb {
			return pa - pb
		}
		if ga, gb := generic(a.rule), generic(b.rule); ga != gb {
			return ga - gb
		}
		return strings.Compare(a.rule, b.rule)
	})
	out := spans[:1]
	for _, sp := range spans[1:] {
		cur := &out[len(out)-1]
		if sp.start >= cur.end {
			out = append(out, sp)
			continue
		}
		cur.end = max(cur.end, sp.end)
		if p, pc := priority(sp.kind), priority(cur.kind); p < pc || p == pc && generic(sp.rule) < generic(cur.rule) {
			cur.kind, cur.rule = sp.kind, sp.rule
		}
	}
	return out
}

// subtract removes from spans (sorted, disjoint) the ranges in keep (sorted,
// disjoint): placeholders already in the input stay as they are, which makes
// Redact idempotent, while whatever a rule matched around them still goes.
func subtract(spans, keep []span) []span {
	if len(keep) == 0 {
		return spans
	}
	var out []span
	k := 0
	for _, sp := range spans {
		for k < len(keep) && keep[k].end <= sp.start {
			k++
		}
		for j := k; j < len(keep) && keep[j].start < sp.end; j++ {
			if keep[j].start > sp.start {
				piece := sp
				piece.end = keep[j].start
				out = append(out, piece)
			}
			sp.start = max(sp.start, keep[j].end)
		}
		if sp.start < sp.end {
			out = append(out, sp)
		}
	}
	return out
}

// placeholderRE matches what placeholder produces; placeholders checks the
// rule id of a secret one.
var placeholderRE = regexp.MustCompile(`\[(?:(secret):([a-z0-9][a-z0-9-]{0,63})|(?:card|email|phone|ip|customer):[0-9a-f]{8})\]`)

// placeholders returns the spans of s that are placeholders of ours.
func (r *Redactor) placeholders(s string) []span {
	if !strings.Contains(s, "[") {
		return nil
	}
	var out []span
	for _, m := range placeholderRE.FindAllStringSubmatchIndex(s, -1) {
		if m[2] >= 0 && !r.ruleIDs[s[m[4]:m[5]]] {
			continue
		}
		out = append(out, span{start: m[0], end: m[1]})
	}
	return out
}

// placeholder is the text that replaces value.
func (r *Redactor) placeholder(sp span, value string) string {
	if sp.kind == KindSecret {
		return "[secret:" + sp.rule + "]"
	}
	mac := hmac.New(sha256.New, r.key)
	mac.Write([]byte(sp.kind))
	mac.Write([]byte{0})
	mac.Write([]byte(normalise(sp.kind, value)))
	sum := mac.Sum(nil)
	return "[" + string(sp.kind) + ":" + hex.EncodeToString(sum[:digestHexLen/2]) + "]"
}

// normalise maps the spellings of one value to one form, so that
// "Taro@Example.com" and "taro@example.com", or "090-1234-5678" and
// "０９０１２３４５６７８", get the same placeholder.
func normalise(k Kind, v string) string {
	switch k {
	case KindEmail:
		return strings.ToLower(v)
	case KindPhone, KindCard:
		var b strings.Builder
		for _, c := range v {
			if c == '+' {
				b.WriteRune(c)
			} else if d, ok := digitValue(c); ok {
				b.WriteByte(byte('0' + d))
			}
		}
		return b.String()
	case KindIP:
		return canonicalIP(v)
	case KindCustomer:
		return strings.Join(strings.Fields(strings.ToLower(v)), " ")
	}
	return v
}

// namePattern finds one configured customer name.
type namePattern struct {
	// anchor is the name's first word with ASCII letters lower-cased, found
	// in the ASCII-lower-cased text before re runs there; empty when that
	// word has non-ASCII letters with case (Émile), whose other spellings
	// asciiLower cannot bring together: re then scans the whole text.
	anchor string
	// wordStart: the name starts with an ASCII letter or digit, so it must
	// not continue a word. Go's \b is ASCII-only, which is what we want: a
	// boundary between "さくら" and "Sakura" counts, and a Japanese name gets
	// none.
	wordStart bool
	re        *regexp.Regexp
}

// compileNames prepares the configured names: case-insensitive, runs of
// spaces matching any whitespace, a word boundary at each end that is an
// ASCII letter or digit.
func compileNames(names []string) ([]namePattern, error) {
	seen := make(map[string]bool, len(names))
	var out []namePattern
	for i, n := range names {
		n = strings.Join(strings.Fields(n), " ")
		if n == "" {
			return nil, fmt.Errorf("customer name %d is blank", i)
		}
		if !utf8.ValidString(n) {
			return nil, fmt.Errorf("customer name %d is not valid UTF-8", i)
		}
		if seen[strings.ToLower(n)] {
			continue
		}
		seen[strings.ToLower(n)] = true
		first, _ := utf8.DecodeRuneInString(n)
		last, _ := utf8.DecodeLastRuneInString(n)
		p := namePattern{wordStart: isASCIIWord(first)}
		expr := strings.ReplaceAll(regexp.QuoteMeta(n), " ", `\s+`)
		if isASCIIWord(last) {
			expr += `\b`
		}
		word, _, _ := strings.Cut(n, " ")
		if !hasCase(word) {
			p.anchor = asciiLower(word)
			expr = "^" + expr
		} else if p.wordStart {
			expr = `\b` + expr
		}
		re, err := regexp.Compile(`(?i)` + expr)
		if err != nil {
			return nil, fmt.Errorf("compile customer name %d: %w", i, err)
		}
		p.re = re
		out = append(out, p)
	}
	return out, nil
}

// hasCase reports whether s has a non-ASCII letter with another case.
func hasCase(s string) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf && unicode.SimpleFold(c) != c {
			return true
		}
	}
	return false
}

func (r *Redactor) appendNames(spans []span, s string) []span {
	if len(r.names) == 0 {
		return spans
	}
	lower := asciiLower(s)
	for _, p := range r.names {
		if p.anchor == "" {
			for _, m := range p.re.FindAllStringIndex(s, -1) {
				spans = append(spans, span{start: m[0], end: m[1], kind: KindCustomer})
			}
			continue
		}
		for off := 0; ; {
			i := strings.Index(lower[off:], p.anchor)
			if i < 0 {
				break
			}
			at := off + i
			off = at + len(p.anchor)
			if p.wordStart && at > 0 && isASCIIWord(rune(s[at-1])) {
				continue
			}
			if m := p.re.FindStringIndex(s[at:]); m != nil {
				spans = append(spans, span{start: at, end: at + m[1], kind: KindCustomer})
			}
		}
	}
	return spans
}
