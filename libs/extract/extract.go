package extract

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Kind says what an extracted value identifies.
type Kind string

// Kinds of extracted items. The ECS field each usually matches is noted; the
// enricher owns the mapping.
const (
	KindTenant     Kind = "tenant"      // labels.tenant_id, rst-0042
	KindUser       Kind = "user"        // user.id, usr-104233
	KindRequestID  Kind = "request_id"  // http.request.id, a UUID
	KindTraceID    Kind = "trace_id"    // trace.id, 32 hex
	KindOrderID    Kind = "order_id"    // labels.order_id, ord_2611221053
	KindDeviceID   Kind = "device_id"   // labels.device_id, tab-1a2b3c / prn-9f00aa
	KindErrorCode  Kind = "error_code"  // error.code, PAY-1042
	KindHTTPStatus Kind = "http_status" // http.response.status_code, 503
	KindAppVersion Kind = "app_version" // labels.app_version, v4.12.3
	KindService    Kind = "service"     // service.name, payment-gateway
	KindID         Kind = "id"          // a UUID or hex id whose kind the text does not say
	KindTime       Kind = "time"        // a time mention; Value is "from/to" in RFC 3339
)

// Field names used in Source.Field.
const (
	FieldSubject     = "subject"
	FieldDescription = "description"
	FieldTenantID    = "tenant_id"
	FieldOccurredAt  = "occurred_at"
	// FieldIdentifiersPrefix is followed by the identifiers key, e.g.
	// "identifiers.request_ids".
	FieldIdentifiersPrefix = "identifiers."
)

// Input is the part of a ticket that extraction reads.
type Input struct {
	Subject     string
	Description string
	TenantID    string
	// Language is "ja" or "en"; anything else is detected from the text.
	Language string
	// Identifiers holds ids the support staff typed into the form, by key:
	// request_ids, order_ids, user_ids, trace_ids, device_ids. The key hints
	// the kind of a UUID or hex value (a UUID under request_ids is a request
	// id); other keys are scanned without a hint.
	Identifiers map[string][]string
	// OccurredAt, when given, wins over time expressions in the text.
	OccurredAt *time.Time
	// SubmittedAt anchors relative expressions ("10分前", "yesterday");
	// Config.Now is used when it is zero.
	SubmittedAt time.Time
	// Location is the tenant's zone; times in the text are local to it.
	// Config.DefaultLocation (Asia/Tokyo) is used when nil.
	Location *time.Location
}

// Source says where an item was found.
type Source struct {
	// Field is subject, description, tenant_id, occurred_at or
	// identifiers.<key>.
	Field string
	// Index is the value's position in an identifiers list (0 elsewhere).
	Index int
	// Start and End are byte offsets in the original field:
	// field[Start:End] == Text.
	Start, End int
	// Text is the evidence as the customer wrote it (full-width included):
	// the identifier itself, or for an HTTP status or a time the phrase.
	Text string
}

// Item is one extracted value.
type Item struct {
	Kind   Kind
	Value  string
	Source Source
}

// Precision says how exactly the text pinned down when something happened.
type Precision string

// Precisions of a TimeWindow, most exact first.
const (
	PrecisionExact     Precision = "exact"       // OccurredAt, or an ISO-8601 date-time
	PrecisionMinute    Precision = "minute"      // 19:05, 7:05 pm, 10分前
	PrecisionHour      Precision = "hour"        // 19時ごろ, around 7pm, 1時間前
	PrecisionPartOfDay Precision = "part_of_day" // 夕方, this morning, last night
	PrecisionRecent    Precision = "recent"      // さっき, just now
	PrecisionDay       Precision = "day"         // 昨日, yesterday, 11月21日
	PrecisionDefault   Precision = "default"     // nothing found
)

// rank orders precisions for choosing among several mentions.
func (p Precision) rank() int {
	switch p {
	case PrecisionExact:
		return 6
	case PrecisionMinute:
		return 5
	case PrecisionHour:
		return 4
	case PrecisionPartOfDay, PrecisionRecent:
		return 3
	case PrecisionDay:
		return 2
	}
	return 0
}

// TimeWindow is the span to search logs in.
type TimeWindow struct {
	From, To time.Time
	// Anchor is the instant the window is built around (the midpoint of a
	// part of day, SubmittedAt for the default).
	Anchor    time.Time
	Precision Precision
	// Source is the text that produced the window; zero for the default.
	Source Source
	// Reason explains the window in a sentence an engineer can check.
	Reason string
}

// Result is what Extract found.
type Result struct {
	Items  []Item
	Window TimeWindow
	// Language is Input.Language when it is ja or en, else detected.
	Language string
	// Keywords are salient words of the customer's text for a capped match
	// query: no stop words, no ids or times (those are Items), deduplicated,
	// most salient first.
	Keywords []string
	// Truncated names the fields cut at Config.MaxFieldBytes.
	Truncated []string
}

// Values returns the values of the items of kind k, in order.
func (r Result) Values(k Kind) []string {
	var out []string
	for _, it := range r.Items {
		if it.Kind == k {
			out = append(out, it.Value)
		}
	}
	return out
}

// HourRange is a part of the day in local hours; End may pass 24 to reach
// into the next morning.
type HourRange struct{ Start, End int }

// PartsOfDay are the ranges that words like 朝 or evening stand for.
type PartsOfDay struct {
	Morning   HourRange // 朝, 午前中, morning: 06–11
	Lunch     HourRange // 昼, ランチ, lunch: 11–14
	Afternoon HourRange // 午後, afternoon: 12–17
	Evening   HourRange // 夕方, ディナー, evening, dinner: 17–22
	Night     HourRange // 夜, 今夜, tonight: 18–24
	// PastNight is a night on a day before the submission day (昨夜, last
	// night, 昨日の夜): it runs into the early morning, 18–30 (06:00).
	PastNight HourRange
	LateNight HourRange // 深夜, 夜中, late night: 22–29 (05:00)
}

// Config tunes extraction. DefaultConfig documents every default; New fills
// zero fields with them.
type Config struct {
	// DefaultLocation is used when Input.Location is nil: Asia/Tokyo (a
	// fixed +09:00 zone when tzdata is missing; Japan has no DST).
	DefaultLocation *time.Location
	// MaxFieldBytes caps how much of each field is read: 64 KiB.
	MaxFieldBytes int
	// MaxIdentifierValues caps the values read per identifiers key: 64.
	MaxIdentifierValues int
	// MaxItemsPerKind caps the distinct values kept per kind: 50.
	MaxItemsPerKind int
	// MaxKeywords caps Result.Keywords: 12.
	MaxKeywords int
	// MaxKeywordBytes drops longer keywords: 64.
	MaxKeywordBytes int
	// MinuteSlack is the half-width around a time given to the minute: 15m.
	MinuteSlack time.Duration
	// HourSlack is the half-width around a time given to the hour: 45m.
	HourSlack time.Duration
	// Recent is how far back さっき or just now reaches: 1h.
	Recent time.Duration
	// DefaultLookback is the window when nothing is found: the 2h before
	// submission.
	DefaultLookback time.Duration
	// FutureGrace is how far past SubmittedAt a window may reach (clock
	// skew, a time said a minute early): 5m.
	FutureGrace time.Duration
	// MaxLookback ignores mentions older than this before submission (logs
	// are kept about a month; "1/2" is more likely a fraction): 31 days.
	MaxLookback time.Duration
	// Parts are the part-of-day ranges.
	Parts PartsOfDay
	// ErrorCodePrefixes are the components' error-code prefixes, accepted in
	// any case and without context: ORD, PAY, PRN, MENU, AUTH. Other
	// upper-case prefixes count only after "error code" or "エラーコード".
	ErrorCodePrefixes []string
	// Now is the clock used when Input.SubmittedAt is zero: time.Now.
	Now func() time.Time
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		DefaultLocation:     tokyo(),
		MaxFieldBytes:       64 << 10,
		MaxIdentifierValues: 64,
		MaxItemsPerKind:     50,
		MaxKeywords:         12,
		MaxKeywordBytes:     64,
		MinuteSlack:         15 * time.Minute,
		HourSlack:           45 * time.Minute,
		Recent:              time.Hour,
		DefaultLookback:     2 * time.Hour,
		FutureGrace:         5 * time.Minute,
		MaxLookback:         31 * 24 * time.Hour,
		Parts: PartsOfDay{
			Morning:   HourRange{6, 11},
			Lunch:     HourRange{11, 14},
			Afternoon: HourRange{12, 17},
			Evening:   HourRange{17, 22},
			Night:     HourRange{18, 24},
			PastNight: HourRange{18, 30},
			LateNight: HourRange{22, 29},
		},
		ErrorCodePrefixes: slices.Sorted(maps.Keys(errorCodeServices)),
		Now:               time.Now,
	}
}

// tokyo loads Asia/Tokyo, falling back to its fixed offset when the system
// has no tzdata (a library should not force time/tzdata on its importers).
func tokyo() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return loc
	}
	return time.FixedZone("Asia/Tokyo", 9*60*60)
}

// Extractor extracts with one Config. It is immutable and safe for
// concurrent use.
type Extractor struct {
	cfg      Config
	prefixes map[string]bool // upper-case known error-code prefixes
	services serviceMatcher
}

// New returns an Extractor; zero fields of cfg take DefaultConfig's values.
func New(cfg Config) *Extractor {
	def := DefaultConfig()
	if cfg.DefaultLocation == nil {
		cfg.DefaultLocation = def.DefaultLocation
	}
	setInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setInt(&cfg.MaxFieldBytes, def.MaxFieldBytes)
	setInt(&cfg.MaxIdentifierValues, def.MaxIdentifierValues)
	setInt(&cfg.MaxItemsPerKind, def.MaxItemsPerKind)
	setInt(&cfg.MaxKeywords, def.MaxKeywords)
	setInt(&cfg.MaxKeywordBytes, def.MaxKeywordBytes)
	setDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	setDur(&cfg.MinuteSlack, def.MinuteSlack)
	setDur(&cfg.HourSlack, def.HourSlack)
	setDur(&cfg.Recent, def.Recent)
	setDur(&cfg.DefaultLookback, def.DefaultLookback)
	setDur(&cfg.FutureGrace, def.FutureGrace)
	setDur(&cfg.MaxLookback, def.MaxLookback)
	if cfg.Parts == (PartsOfDay{}) {
		cfg.Parts = def.Parts
	}
	if len(cfg.ErrorCodePrefixes) == 0 {
		cfg.ErrorCodePrefixes = def.ErrorCodePrefixes
	}
	if cfg.Now == nil {
		cfg.Now = def.Now
	}
	prefixes := make(map[string]bool, len(cfg.ErrorCodePrefixes))
	for _, p := range cfg.ErrorCodePrefixes {
		prefixes[strings.ToUpper(p)] = true
	}
	return &Extractor{cfg: cfg, prefixes: prefixes, services: newServiceMatcher()}
}

// defaultExtractor is built once on first use and never changed.
var defaultExtractor = sync.OnceValue(func() *Extractor { return New(DefaultConfig()) })

// Extract extracts with DefaultConfig.
func Extract(in Input) Result {
	return defaultExtractor().Extract(in)
}

// Extract reads the ticket's fields and free text. It never fails: what it
// cannot read it leaves out, and with no time in the text the window is the
// DefaultLookback before submission.
func (e *Extractor) Extract(in Input) Result {
	loc := in.Location
	if loc == nil {
		loc = e.cfg.DefaultLocation
	}
	submitted := in.SubmittedAt
	if submitted.IsZero() {
		submitted = e.cfg.Now()
	}
	submitted = submitted.In(loc)

	var res Result
	col := newCollector(e.cfg.MaxItemsPerKind)
	truncated := func(name string) {
		if !slices.Contains(res.Truncated, name) {
			res.Truncated = append(res.Truncated, name)
		}
	}
	addField := func(name, text string, hint Kind) *field {
		f, cut := newField(name, text, e.cfg.MaxFieldBytes, hint)
		if cut {
			truncated(name)
		}
		return f
	}

	if strings.TrimSpace(in.TenantID) != "" {
		f := addField(FieldTenantID, in.TenantID, KindTenant)
		col.add(f, e.scanTenantField(f))
	}
	keys := make([]string, 0, len(in.Identifiers))
	for k := range in.Identifiers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := FieldIdentifiersPrefix + k
		hint := identifierHint(k)
		values := in.Identifiers[k]
		if len(values) > e.cfg.MaxIdentifierValues {
			values = values[:e.cfg.MaxIdentifierValues]
			truncated(name)
		}
		for i, v := range values {
			f := addField(name, v, hint)
			f.index = i
			col.add(f, e.scanIdentifiers(f))
		}
	}

	var mentions []mention
	var texts []*field
	for _, t := range []struct{ name, text string }{
		{FieldSubject, in.Subject},
		{FieldDescription, in.Description},
	} {
		if t.text == "" {
			continue
		}
		f := addField(t.name, t.text, "")
		texts = append(texts, f)
		finds := e.scanIdentifiers(f)
		ms := e.scanTimes(f, submitted, loc)
		for _, m := range ms {
			finds = append(finds, m.found)
		}
		finds = append(finds, e.services.scan(f)...)
		col.add(f, finds)
		mentions = append(mentions, ms...)
	}

	res.Window = e.window(in.OccurredAt, mentions, submitted, loc)
	if res.Window.Source.Field == FieldOccurredAt {
		col.items = append(col.items, Item{
			Kind:   KindTime,
			Value:  formatInterval(res.Window.From, res.Window.To),
			Source: res.Window.Source,
		})
	}
	res.Items = col.items

	switch lang := strings.ToLower(strings.TrimSpace(in.Language)); {
	case lang == "ja" || strings.HasPrefix(lang, "ja-"):
		res.Language = "ja"
	case lang == "en" || strings.HasPrefix(lang, "en-"):
		res.Language = "en"
	default:
		res.Language = detectFields(texts)
	}
	res.Keywords = e.keywords(texts)
	return res
}

// identifierHint maps a form's identifiers key to the kind a bare UUID or
// hex value under it has.
func identifierHint(key string) Kind {
	switch strings.ToLower(strings.TrimSpace(key)) {
	case "request_ids", "request_id", "requests":
		return KindRequestID
	case "trace_ids", "trace_id", "traces":
		return KindTraceID
	case "order_ids", "order_id", "orders":
		return KindOrderID
	case "user_ids", "user_id", "users":
		return KindUser
	case "device_ids", "device_id", "devices":
		return KindDeviceID
	}
	return ""
}

// found is an item located in a field's folded text, before it is mapped
// back to the original bytes.
type found struct {
	kind       Kind
	value      string
	start, end int // in field.norm
}

// collector keeps items in order, deduplicated by kind and value, at most
// max distinct values per kind.
type collector struct {
	items   []Item
	seen    map[Kind]map[string]bool
	perKind map[Kind]int
	max     int
}

func newCollector(max int) *collector {
	return &collector{seen: map[Kind]map[string]bool{}, perKind: map[Kind]int{}, max: max}
}

// add appends the field's finds in text order.
func (c *collector) add(f *field, fs []found) {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].start < fs[j].start })
	for _, x := range fs {
		if c.seen[x.kind][x.value] || c.perKind[x.kind] >= c.max {
			continue
		}
		if c.seen[x.kind] == nil {
			c.seen[x.kind] = map[string]bool{}
		}
		c.seen[x.kind][x.value] = true
		c.perKind[x.kind]++
		c.items = append(c.items, Item{Kind: x.kind, Value: x.value, Source: f.source(x.start, x.end)})
	}
}
