package redact

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
)

// newSecretDetector builds a gitleaks detector with its default rules.
// detect.NewDetectorDefaultConfig does the same through viper's global
// instance, which races with any other user of viper in the process; a
// viper of our own does not.
func newSecretDetector() (*detect.Detector, error) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(config.DefaultConfig)); err != nil {
		return nil, fmt.Errorf("read gitleaks default rules: %w", err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return nil, fmt.Errorf("decode gitleaks default rules: %w", err)
	}
	cfg, err := vc.Translate()
	if err != nil {
		return nil, fmt.Errorf("compile gitleaks default rules: %w", err)
	}
	if len(cfg.Rules) == 0 {
		// Would silently disable secret detection.
		return nil, errors.New("gitleaks default configuration has no rules")
	}
	d := detect.NewDetector(cfg)
	// No base64/hex/percent decoding pass: it is what makes a shared
	// detector unsafe (see Redactor.secrets), and its findings name decoded
	// values that are not in the text, which Redact replaces by value.
	d.MaxDecodeDepth = 0
	return d, nil
}

// secretRule is one of our own secret patterns. The secret is the first
// non-empty capture group, or the whole match when the pattern has none,
// so "password=hunter2" keeps its key and loses its value.
//
// Go's regexp has no fast path for a pattern that starts with a class or
// \b and would try one at every byte of the text, so each rule names the
// words its matches start with (anchors, lower-case ASCII) and its pattern,
// anchored with ^, runs only where one of them occurs.
type secretRule struct {
	id      string
	anchors []string
	re      *regexp.Regexp
	// wordStart: the match must not continue a word (xghp_... is not a
	// token, Xbearer is not a header).
	wordStart bool
}

// ownSecretRules back up gitleaks where its rules are narrower than what
// support tickets and logs carry: GitHub tokens of any length and prefix
// (gitleaks v8.30 wants exactly 36 characters after ghp_ and high entropy),
// credentials of low entropy (password=hunter2, which gitleaks' generic rule
// skips on purpose), headers, and JWTs whose parts gitleaks finds too short.
var ownSecretRules = []secretRule{
	{
		id:        "github-token",
		anchors:   []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
		re:        regexp.MustCompile(`^(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})\b`),
		wordStart: true,
	},
	{
		id:        "aws-access-key-id",
		anchors:   []string{"a3t", "akia", "asia", "abia", "acca", "agpa", "aida", "aipa", "anpa", "anva", "apka", "aroa"},
		re:        regexp.MustCompile(`^(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA)[A-Z0-9]{16}\b`),
		wordStart: true,
	},
	{
		// An AWS secret access key named as such, in any of the spellings
		// of environment variables, config files and SDK options. A bare
		// one is found by appendBase64Keys.
		id:      awsSecretRule,
		anchors: []string{"aws"},
		re:      regexp.MustCompile(`^(?i)aws.{0,24}?(?:secret|private).{0,24}?["']?\s*(?:[:=]|=>)\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`),
	},
	{
		id:        "jwt",
		anchors:   []string{"eyj"},
		re:        regexp.MustCompile(`^eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){1,3}`),
		wordStart: true,
	},
	{
		// The whole block; a block cut short (a log line's length limit)
		// loses its base64 lines up to the first line that is not base64.
		id:      "private-key",
		anchors: []string{"-----begin"},
		re: regexp.MustCompile(`^-----BEGIN[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----` +
			`(?:[\s\S]*?-----END[ A-Z0-9_-]{0,40}PRIVATE KEY(?: BLOCK)?-----|(?:[ \t]*\r?\n[ \t]*[A-Za-z0-9+/=]{16,})*)`),
	},
	{
		id:      "authorization-header",
		anchors: []string{"authorization"},
		re:      regexp.MustCompile(`^(?i)authorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest|negotiate|ntlm|apikey|sso-key)\s+)?([^\s"',;]{4,})`),
	},
	{
		id:        "bearer-token",
		anchors:   []string{"bearer"},
		re:        regexp.MustCompile(`^(?i)bearer\s+([A-Za-z0-9\-._~+/]{8,}=*)`),
		wordStart: true,
	},
	{
		// Everything after Cookie: or Set-Cookie: is a session credential.
		id:      "cookie",
		anchors: []string{"cookie"},
		re:      regexp.MustCompile(`^(?i)cookie\s*:[ \t]*([^\r\n]+)`),
	},
	{
		// user:password in a URL's authority.
		id:      "url-credentials",
		anchors: []string{"://"},
		re:      regexp.MustCompile(`^://([^\s:/?#@\[\]]+:[^\s/?#@]+)@`),
	},
	{
		id:        "slack-token",
		anchors:   []string{"xox"},
		re:        regexp.MustCompile(`^xox[abeoprs]-[A-Za-z0-9-]{10,}`),
		wordStart: true,
	},
	{
		// key=value, key: value and "key": "value" where the key names a
		// credential, also in JSON escaped inside a log message
		// ({\"token\":\"...\"}). The key may carry a prefix (db_password,
		// x-api-key, AWS_SECRET_ACCESS_KEY) but must end in the credential
		// word, so max_tokens=5 and token_count=5 are left alone.
		id:      "credential-assignment",
		anchors: []string{"api", "access", "secret", "private", "client", "pass", "pwd", "token", "credential"},
		re: regexp.MustCompile(`^(?i)(?:api[_.\-]?key|apikey|access[_.\-]?key|secret[_.\-]?key|private[_.\-]?key|` +
			`client[_.\-]?secret|password|passwd|passphrase|pwd|secret|token|credentials?)(?:\\?["'])?\s*(?::=|=>|[:=])\s*` +
			`(?:\\"([^"\\\r\n]+)\\"|"([^"\r\n]+)"|'([^'\r\n]+)'|([^\s"'` + "`" + `,;&]+))`),
	},
}

const awsSecretRule = "aws-secret-access-key"

// gitleaksLineBytes is how much text, in whole lines, one gitleaks call
// reads. Line by line is three times faster than whole documents (Go's
// regexp backtracks on short inputs, and a line without a rule's keywords
// skips the rule) and loses only secrets split over lines, which are the
// private key blocks our own rule finds.
const gitleaksLineBytes = 256

// appendSecrets adds the spans of every secret gitleaks or our own rules
// find in s.
func (r *Redactor) appendSecrets(spans []span, s string) []span {
	for chunk := range chunks(s, gitleaksLineBytes) {
		for _, f := range r.secrets.DetectString(chunk) {
			// A finding carries the secret's text, not reliable byte
			// offsets (its columns count from line starts, differently per
			// rule), so every occurrence of the text goes: a secret is no
			// less secret where a rule did not match it.
			val := f.Secret
			if val == "" || !strings.Contains(s, val) {
				val = f.Match
			}
			spans = appendAll(spans, s, strings.TrimSpace(val), f.RuleID)
		}
	}
	lower := asciiLower(s)
	for _, rule := range ownSecretRules {
		for _, a := range rule.anchors {
			for off := 0; ; {
				i := strings.Index(lower[off:], a)
				if i < 0 {
					break
				}
				at := off + i
				off = at + len(a)
				if rule.wordStart && at > 0 && isASCIIWord(rune(s[at-1])) {
					continue
				}
				m := rule.re.FindStringSubmatchIndex(s[at:])
				if m == nil {
					continue
				}
				start, end := m[0], m[1]
				for g := 2; g < len(m); g += 2 {
					if m[g] >= 0 && m[g] < m[g+1] {
						start, end = m[g], m[g+1]
						break
					}
				}
				spans = append(spans, span{start: at + start, end: at + end, kind: KindSecret, rule: rule.id})
			}
		}
	}
	return appendBase64Keys(spans, s)
}

// appendBase64Keys adds bare 40-character base64 words with upper and
// lower case letters and digits: what an AWS secret access key looks like
// when its name is not next to it. Git hashes (lower-case hex) and longer
// base64 are left alone.
func appendBase64Keys(spans []span, s string) []span {
	isB64 := func(c byte) bool { return isASCIIWord(rune(c)) && c != '_' || c == '/' || c == '+' }
	for i := 0; i < len(s); {
		if !isB64(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isB64(s[j]) {
			j++
		}
		if j-i == 40 && (j == len(s) || !joinsBase64(s[j])) && (i == 0 || !joinsBase64(s[i-1])) && mixedCase(s[i:j]) {
			spans = append(spans, span{start: i, end: j, kind: KindSecret, rule: awsSecretRule})
		}
		i = j
	}
	return spans
}

// joinsBase64 reports whether c next to a base64 word makes it part of a
// longer token (padding, ghp_..., base64url).
func joinsBase64(c byte) bool {
	return c == '=' || c == '_' || c == '-'
}

// chunks yields s in pieces of whole lines, each at most max bytes unless
// one line is longer.
func chunks(s string, max int) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for start := 0; start < len(s); {
			end := start
			for end < len(s) {
				next := len(s)
				if i := strings.IndexByte(s[end:], '\n'); i >= 0 {
					next = end + i + 1
				}
				if end > start && next-start > max {
					break
				}
				end = next
			}
			if !yield(s[start:end]) {
				return
			}
			start = end
		}
	}
}

// asciiLower lower-cases ASCII letters only, so offsets in the result are
// offsets in s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// appendAll adds a span for every occurrence of val in s.
func appendAll(spans []span, s, val, rule string) []span {
	if val == "" {
		return spans
	}
	for off := 0; ; {
		i := strings.Index(s[off:], val)
		if i < 0 {
			return spans
		}
		start := off + i
		spans = append(spans, span{start: start, end: start + len(val), kind: KindSecret, rule: rule})
		off = start + len(val)
	}
}

// mixedCase reports whether s has an upper-case letter, a lower-case letter
// and a digit.
func mixedCase(s string) bool {
	var upper, lower, digit bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'A' <= c && c <= 'Z':
			upper = true
		case 'a' <= c && c <= 'z':
			lower = true
		case '0' <= c && c <= '9':
			digit = true
		}
	}
	return upper && lower && digit
}
