package router

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/extract"
)

// Feature names carry their family in a prefix, so the model file stays
// readable and a reason can say what weighed:
//
//	c:<chars>   a character 1–3-gram of the folded text (Japanese needs no
//	            tokenizer this way, and typos still share most n-grams)
//	e:<chars>   a character 2–4-gram of the description's last sentence
//	w:<words>   an English word or word pair
//	x:<what>    something the extractor found in the text: an error code
//	            and its prefix, an HTTP status class, a service, an id
//	log:<what>  attached logs: error logs per service, their codes and
//	            HTTP statuses
//	r:<rule>    a rule of the rules file that fired (its weight is the
//	            rule's, plus what training learned on top; see model.go)
const (
	famChar = "c:"
	famWord = "w:"
	famText = "x:"
	famLog  = "log:"
	famRule = "r:"
	famEnd  = "e:"
)

// lastSentence is the end of a ticket's description, where support staff
// write what they concluded: resolved, explained, still failing,
// escalating.
func lastSentence(text string) string {
	text = strings.TrimRight(text, " 。.!?！？")
	i := strings.LastIndexAny(text, "。.!?！？\n")
	if i < 0 {
		return text
	}
	return text[i+1:]
}

// feature is one named input of the model with its value.
type feature struct {
	name  string
	value float64
}

// firedRule is a rule that matched a ticket, with the words a person can
// check.
type firedRule struct {
	rule *Rule
	// group is technical, non_technical, severity or component.
	group string
	// target is the class the rule votes for: escalation or support,
	// a severity, or a component.
	target string
	why    string
	// hits counts a component's keywords that matched.
	hits int
}

// ticketFeatures is everything the model and the rules read of a ticket.
type ticketFeatures struct {
	feats []feature
	fired []firedRule
	logs  logSummary
	// codes are the error codes named in the text or carried by the logs.
	codes []string
}

// logSummary is what the attached logs say, in words for the reasons.
type logSummary struct {
	// errors counts error logs; matched those of them the enricher tied to
	// something the ticket names (a service, an error code, an id), the
	// rest being the tenant's other errors in the window.
	errors   int
	matched  int
	services []string // by error count, most first
	perSvc   map[string]int
	statuses []string
	codes    []string
}

func (l logSummary) String() string {
	if l.errors == 0 {
		return ""
	}
	parts := make([]string, 0, len(l.services))
	for _, s := range l.services {
		parts = append(parts, fmt.Sprintf("%d from %s", l.perSvc[s], s))
	}
	s := fmt.Sprintf("%d ERROR logs (%s); %d attached tied to what the ticket names", l.errors, strings.Join(parts, ", "), l.matched)
	var extra []string
	if len(l.statuses) > 0 {
		extra = append(extra, "HTTP "+strings.Join(l.statuses, ", "))
	}
	if len(l.codes) > 0 {
		extra = append(extra, strings.Join(l.codes, ", "))
	}
	if len(extra) > 0 {
		s += ": " + strings.Join(extra, "; ")
	}
	return s
}

// normalize is the text the n-grams are cut from: folded as the extractor
// folds it, lower case, every run of digits one "0" (times, amounts and ids
// say nothing by their value) and every run of spaces one space.
func normalize(s string) string {
	s = fold(s)
	var b strings.Builder
	b.Grow(len(s))
	prevDigit, prevSpace := false, false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if !prevDigit {
				b.WriteByte('0')
			}
			prevDigit, prevSpace = true, false
		case unicode.IsSpace(r):
			if !prevSpace {
				b.WriteByte(' ')
			}
			prevDigit, prevSpace = false, true
		default:
			b.WriteRune(r)
			prevDigit, prevSpace = false, false
		}
	}
	return b.String()
}

// charGrams adds the character n-grams of text (n from lo to hi) that hold
// at least one letter or kana/kanji: pure punctuation and digit grams are
// noise.
func charGrams(text string, lo, hi int, add func(string)) {
	runes := []rune(" " + text + " ")
	for i := range runes {
		for n := lo; n <= hi && i+n <= len(runes); n++ {
			g := runes[i : i+n]
			if !hasLetter(g) {
				continue
			}
			add(string(g))
		}
	}
}

func hasLetter(rs []rune) bool {
	for _, r := range rs {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// words returns the ASCII words of folded text (letters and inner
// apostrophes), for English unigrams and bigrams.
func words(text string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(text); i++ {
		var c byte
		if i < len(text) {
			c = text[i]
		}
		isWord := c >= 'a' && c <= 'z' || c == '\'' && start >= 0 && i+1 < len(text) && text[i+1] >= 'a' && text[i+1] <= 'z'
		if isWord && start < 0 {
			start = i
		}
		if !isWord && start >= 0 {
			out = append(out, text[start:i])
			start = -1
		}
	}
	return out
}

// extractFeatures reads a ticket (and its attached logs, when there are
// any) into the model's features and the rules that fired. It is the one
// reading of a ticket: training, the router and `triage classify` all go
// through it.
func extractFeatures(t events.Ticket, e events.Enrichment, rules *Rules) ticketFeatures {
	var tf ticketFeatures
	raw := t.Subject + "\n" + t.Description
	text := normalize(raw)

	// Text n-grams and words share one unit length, so a long ticket does
	// not outvote a short one by its length alone.
	seen := map[string]bool{}
	var textFeats []string
	addText := func(name string) {
		if !seen[name] {
			seen[name] = true
			textFeats = append(textFeats, name)
		}
	}
	// 1–3-grams of the whole text (cross-validated: longer grams only
	// memorise the training tickets' phrasing), and 2–4-grams of the last
	// sentence apart: that is where support staff write what they
	// concluded (explained and closed, still failing, escalating).
	charGrams(text, 1, 3, func(g string) { addText(famChar + g) })
	charGrams(lastSentence(normalize(t.Description)), 2, 4, func(g string) { addText(famEnd + g) })
	ws := words(text)
	for i, w := range ws {
		addText(famWord + w)
		if i+1 < len(ws) {
			addText(famWord + w + " " + ws[i+1])
		}
	}
	if len(textFeats) > 0 {
		v := 1 / math.Sqrt(float64(len(textFeats)))
		for _, name := range textFeats {
			tf.feats = append(tf.feats, feature{name, v})
		}
	}

	// What the extractor finds generalises past wording: a code's prefix,
	// a status class, a service named in any language.
	ex := extract.Extract(extract.Input{Subject: t.Subject, Description: t.Description, Language: t.Language, SubmittedAt: t.SubmittedAt})
	flags := map[string]bool{}
	for _, it := range ex.Items {
		switch it.Kind {
		case extract.KindErrorCode:
			flags["x:error-code"] = true
			if p, _, ok := strings.Cut(it.Value, "-"); ok {
				flags["x:error-code:"+p] = true
			}
			tf.codes = appendNew(tf.codes, it.Value)
		case extract.KindHTTPStatus:
			flags["x:http:"+it.Value[:1]+"xx"] = true
		case extract.KindService:
			flags["x:service:"+it.Value] = true
		case extract.KindOrderID, extract.KindRequestID, extract.KindTraceID, extract.KindDeviceID:
			flags["x:id:"+string(it.Kind)] = true
		case extract.KindAppVersion:
			flags["x:app-version"] = true
		}
	}

	tf.logs = summarizeLogs(e)
	for _, c := range tf.logs.codes {
		tf.codes = appendNew(tf.codes, c)
	}
	if tf.logs.matched > 0 {
		flags["log:errors-tied"] = true
	}
	if tf.logs.errors > 0 {
		// Log features have no weight in a model trained on text-only
		// tickets; the rules (min_error_logs, service_components) weigh
		// them until corrections with logs teach the model.
		flags["log:errors"] = true
		for _, s := range tf.logs.services {
			flags["log:service:"+s] = true
		}
		for _, st := range tf.logs.statuses {
			flags["log:http:"+st[:1]+"xx"] = true
		}
	}
	for name := range flags {
		tf.feats = append(tf.feats, feature{name, 1})
	}

	if rules != nil {
		tf.fired = rules.fire(fold(raw), tf)
		var tech, nonTech int
		for _, f := range tf.fired {
			tf.feats = append(tf.feats, feature{ruleFeature(f), 1})
			switch f.group {
			case groupTechnical:
				tech += f.rule.Weight
			case groupNonTechnical:
				nonTech += f.rule.Weight
			}
		}
		// The rules' vote as a whole: a ticket only the non-technical
		// rules speak for (a plain question) differs from one where a
		// how-to phrase comes with a failure; the model learns how far
		// each kind of vote can be trusted.
		switch {
		case tech > 0 && nonTech == 0:
			tf.feats = append(tf.feats, feature{"v:technical-only", 1})
		case nonTech > 0 && tech == 0:
			tf.feats = append(tf.feats, feature{"v:non-technical-only", 1})
		case tech > 0:
			tf.feats = append(tf.feats, feature{"v:both", 1})
		default:
			tf.feats = append(tf.feats, feature{"v:none", 1})
		}
	}
	sort.Slice(tf.feats, func(i, j int) bool { return tf.feats[i].name < tf.feats[j].name })
	return tf
}

// ruleFeature names a fired rule's feature; component rules carry the
// component, as one rule id serves them all.
func ruleFeature(f firedRule) string {
	if f.group == groupComponent || f.group == groupService {
		return famRule + f.group + ":" + f.target
	}
	return famRule + f.rule.ID
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// summarizeLogs counts the attached logs at error level or worse by
// service, with their HTTP statuses and error codes. The enricher's
// ErrorLogs counts all matching error logs, not just the attached ones;
// the larger of the two is the count.
func summarizeLogs(e events.Enrichment) logSummary {
	l := logSummary{perSvc: map[string]int{}}
	attached := 0
	anyMatchedBy := false
	for _, entry := range e.Logs {
		anyMatchedBy = anyMatchedBy || len(entry.MatchedBy) > 0
	}
	for _, entry := range e.Logs {
		switch strings.ToLower(entry.Level) {
		case "error", "fatal", "critical", "crit", "emergency", "alert":
		default:
			continue
		}
		attached++
		if tiedToTicket(entry) {
			l.matched++
		}
		svc := entry.Service
		if svc == "" {
			svc = "unknown service"
		}
		l.perSvc[svc]++
		for k, v := range entry.Fields {
			switch {
			case strings.HasSuffix(k, "status_code"):
				if n, err := strconv.Atoi(v); err == nil && n >= 400 && n < 600 {
					l.statuses = appendNew(l.statuses, v)
				}
			case k == "error.code" || strings.HasSuffix(k, ".error_code"):
				l.codes = appendNew(l.codes, strings.ToUpper(v))
			}
		}
	}
	// Signatures summarise every matching error log, not just the
	// attached ones.
	fromSigs := map[string]int{}
	for _, s := range e.Signatures {
		for _, svc := range s.Services {
			fromSigs[svc] += s.Count
		}
	}
	for svc, n := range fromSigs {
		l.perSvc[svc] = max(l.perSvc[svc], n)
	}
	l.errors = max(attached, e.ErrorLogs)
	if !anyMatchedBy {
		// Logs that do not say why they matched (attached by hand, or
		// by another enricher) all count as tied to the ticket.
		l.matched = l.errors
	}
	for s := range l.perSvc {
		l.services = append(l.services, s)
	}
	sort.Slice(l.services, func(i, j int) bool {
		a, b := l.services[i], l.services[j]
		if l.perSvc[a] != l.perSvc[b] {
			return l.perSvc[a] > l.perSvc[b]
		}
		return a < b
	})
	sort.Strings(l.statuses)
	sort.Strings(l.codes)
	return l
}

// tiedToTicket reports whether the enricher matched a log by what the
// ticket names: a service, an error code, an order, request or trace id.
// Its level, user or device only narrow the tenant's logs: the enricher
// attaches the tenant's errors to any ticket, a how-to question too.
func tiedToTicket(entry events.LogEntry) bool {
	for _, m := range entry.MatchedBy {
		field, _, _ := strings.Cut(m, "=")
		if !strings.Contains(field, "level") && !strings.Contains(field, "user") && !strings.Contains(field, "device") {
			return true
		}
	}
	return false
}

// display turns a feature name into words for a reason.
func display(name string) string {
	switch {
	case strings.HasPrefix(name, famChar), strings.HasPrefix(name, famEnd):
		g := strings.TrimSpace(name[len(famChar):])
		q := "「" + g + "」"
		if isASCII(g) {
			q = fmt.Sprintf("%q", g)
		}
		if strings.HasPrefix(name, famEnd) {
			q += " at the end"
		}
		return q
	case strings.HasPrefix(name, famWord):
		return fmt.Sprintf("%q", name[len(famWord):])
	case strings.HasPrefix(name, "x:error-code:"):
		return "an error code starting " + name[len("x:error-code:"):] + "-"
	case name == "x:error-code":
		return "an error code in the text"
	case strings.HasPrefix(name, "x:http:"):
		return "HTTP " + name[len("x:http:"):] + " in the text"
	case strings.HasPrefix(name, "x:service:"):
		return "mentions " + name[len("x:service:"):]
	case strings.HasPrefix(name, "x:id:"):
		return "names a " + strings.ReplaceAll(name[len("x:id:"):], "_", " ")
	case name == "x:app-version":
		return "names an app version"
	case name == "v:technical-only":
		return "only rules for technical tickets matched"
	case name == "v:non-technical-only":
		return "only rules for support tickets matched"
	case name == "v:both":
		return "rules for both queues matched"
	case name == "v:none":
		return "no rule matched"
	case name == "log:errors":
		return "error logs attached"
	case name == "log:errors-tied":
		return "error logs tied to what the ticket names"
	case strings.HasPrefix(name, "log:service:"):
		return "error logs from " + name[len("log:service:"):]
	case strings.HasPrefix(name, "log:http:"):
		return "logs with HTTP " + name[len("log:http:"):]
	}
	return name
}

// isText reports whether a feature is an n-gram or words of the text.
func isText(name string) bool {
	return strings.HasPrefix(name, famChar) || strings.HasPrefix(name, famWord) || strings.HasPrefix(name, famEnd)
}

// overlaps reports whether two text features say the same thing (one
// n-gram inside the other), so a reason lists 「使い方」 once, not also
// 「使い」 and 「い方」.
func overlaps(a, b string) bool {
	fa, fb := isText(a), isText(b)
	if !fa || !fb {
		return false
	}
	ta, tb := strings.TrimSpace(a[2:]), strings.TrimSpace(b[2:])
	if utf8.RuneCountInString(ta) < utf8.RuneCountInString(tb) {
		ta, tb = tb, ta
	}
	return strings.Contains(ta, tb) || strings.Contains(tb, ta)
}
