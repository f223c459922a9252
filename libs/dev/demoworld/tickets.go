package demoworld

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ticketWriter turns the incidents and the background errors into the
// tickets restaurant staff would file.
type ticketWriter struct {
	g       *generator
	w       *World
	rng     *rand.Rand
	tickets []Ticket
}

func newTicketWriter(g *generator, rng *rand.Rand) *ticketWriter {
	return &ticketWriter{g: g, w: g.w, rng: rng}
}

// draft is a ticket being written.
type draft struct {
	Ticket
	t         *Tenant
	sentences []string
	vars      map[string]string
}

func (tw *ticketWriter) run() {
	tw.stormTickets()
	tw.printerTickets()
	tw.menuTickets()
	tw.authTickets()
	tw.oneOffTickets()
	tw.cosmeticTickets()
	tw.nonTechnicalTickets()

	slices.SortStableFunc(tw.tickets, func(a, b Ticket) int { return a.SubmittedAt.Compare(b.SubmittedAt) })
	for i := range tw.tickets {
		tw.tickets[i].ID = fmt.Sprintf("tkt-%016x", mix64(tw.g.seedKey^0x7469636b657473+uint64(i)))
	}
	tw.w.Tickets = tw.tickets
}

// newDraft starts a ticket from tenant t in the staff's language.
func (tw *ticketWriter) newDraft(t *Tenant) *draft {
	lang := t.Language
	switch {
	case t.Language == LangJapanese && chance(tw.rng, 0.15):
		// Foreign staff write in English.
		lang = LangEnglish
	case t.Language == LangEnglish && t.TimeZone == ReferenceZone && chance(tw.rng, 0.2):
		lang = LangJapanese
	}
	d := &draft{t: t, vars: map[string]string{}}
	d.TenantID = t.ID
	d.Language = lang
	d.TimeHint = HintNone
	if lang == LangJapanese {
		d.Reporter = pick(tw.rng, reporterSurnamesJa[:]) + "（" + pick(tw.rng, reporterRolesJa[:]) + "）"
	} else {
		d.Reporter = pick(tw.rng, reporterNamesEn[:]) + " (" + pick(tw.rng, reporterRolesEn[:]) + ")"
	}
	return d
}

// channel draws how the ticket arrived; urgent problems come by phone.
func (tw *ticketWriter) channel(urgent bool) string {
	x := tw.rng.Float64()
	if urgent {
		switch {
		case x < 0.4:
			return ChannelPhone
		case x < 0.65:
			return ChannelChat
		case x < 0.9:
			return ChannelWeb
		}
		return ChannelEmail
	}
	switch {
	case x < 0.4:
		return ChannelWeb
	case x < 0.75:
		return ChannelEmail
	case x < 0.9:
		return ChannelChat
	}
	return ChannelPhone
}

func (d *draft) say(ja, en string) {
	if d.Language == LangJapanese {
		d.sentences = append(d.sentences, ja)
	} else {
		d.sentences = append(d.sentences, en)
	}
}

func (d *draft) mentionOrder(id string) {
	d.vars["order"] = id
	d.Mentioned.OrderIDs = appendNew(d.Mentioned.OrderIDs, id)
}

func (d *draft) mentionCode(code string) {
	d.vars["code"] = code
	d.MentionedErrorCodes = appendNew(d.MentionedErrorCodes, code)
}

func (d *draft) mentionStatus(status int) {
	d.vars["status"] = strconv.Itoa(status)
	if !slices.Contains(d.MentionedStatusCodes, status) {
		d.MentionedStatusCodes = append(d.MentionedStatusCodes, status)
	}
}

func appendNew(xs []string, x string) []string {
	if slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

// finish fills the text, computes the labels and stores the ticket.
func (tw *ticketWriter) finish(d *draft, book phrasebook) {
	subject := pick(tw.rng, book.subjects)
	body := []string{pick(tw.rng, book.bodies)}
	body = append(body, d.sentences...)
	if d.Language == LangJapanese {
		if c := pick(tw.rng, closingsJa[:]); c != "" {
			body = append(body, c)
		}
	} else if c := pick(tw.rng, closingsEn[:]); c != "" {
		body = append(body, c)
	}
	sep := " "
	if d.Language == LangJapanese {
		sep = ""
	}
	desc := strings.Join(body, sep)
	if d.Channel == ChannelPhone {
		if d.Language == LangJapanese {
			desc = "（電話受付）" + desc
		} else {
			desc = "(Phone call, logged by support) " + desc
		}
	}
	d.Subject = d.expand(subject)
	d.Description = d.expand(desc)
	d.ExpectedLogIDs = tw.w.ExpectedLogIDs(&d.Ticket)
	tw.tickets = append(tw.tickets, d.Ticket)
}

func (d *draft) expand(s string) string {
	for k, v := range d.vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// schedule decides when the ticket is submitted after the moment at it
// describes, how its text points at that moment (adding the sentence that
// says so) and the search window that follows from the text.
func (tw *ticketWriter) schedule(d *draft, at time.Time, maxDelay time.Duration) {
	loc := d.t.loc
	end := tw.g.end.Add(-time.Second)
	local := at.In(loc)
	hour := localHour(at, loc)
	var phraseJa, phraseEn string
	for attempt := 0; ; attempt++ {
		x := tw.rng.Float64()
		if attempt > 20 {
			x = 1 // fall back to a ticket without any time
		}
		switch {
		case x < 0.25:
			r := at.Round(5 * time.Minute)
			d.TimeHint = HintClock
			// Nobody writes down a time that has not come yet.
			d.SubmittedAt = laterOf(at, r).Add(jitter(tw.rng, 4*time.Minute, maxDelay))
			d.Window = TimeWindow{From: r.Add(-15 * time.Minute), To: r.Add(15 * time.Minute), Anchor: r}
			rl := r.In(loc)
			phraseJa = fmt.Sprintf("%d:%02d頃", rl.Hour(), rl.Minute())
			phraseEn = "around " + rl.Format("3:04 pm")
		case x < 0.37:
			r := at.Round(time.Hour)
			if absDuration(at.Sub(r)) > 20*time.Minute {
				continue
			}
			d.TimeHint = HintHour
			d.SubmittedAt = laterOf(at, r).Add(jitter(tw.rng, 4*time.Minute, maxDelay))
			d.Window = TimeWindow{From: r.Add(-30 * time.Minute), To: r.Add(30 * time.Minute), Anchor: r}
			rl := r.In(loc)
			phraseJa = fmt.Sprintf("%d時頃", rl.Hour())
			phraseEn = "around " + rl.Format("3 pm")
		case x < 0.52:
			minutes := pick(tw.rng, []int{5, 10, 15, 20, 30})
			d.TimeHint = HintAgo
			d.SubmittedAt = at.Add(time.Duration(minutes)*time.Minute + jitter(tw.rng, -2*time.Minute, 2*time.Minute)).Truncate(time.Second)
			anchor := d.SubmittedAt.Add(-time.Duration(minutes) * time.Minute)
			d.Window = TimeWindow{From: anchor.Add(-10 * time.Minute), To: anchor.Add(10 * time.Minute), Anchor: anchor}
			phraseJa = fmt.Sprintf("%d分ほど前", minutes)
			phraseEn = fmt.Sprintf("about %d minutes ago", minutes)
		case x < 0.6:
			var from, to time.Time
			switch {
			case hour >= 11 && hour < 14.5:
				d.TimeHint = HintLunch
				from, to = localClock(local, loc, 11, 0), localClock(local, loc, 14, 30)
				phraseJa, phraseEn = "今日のランチタイム", "during lunch today"
			case hour >= 17 && hour < 22:
				d.TimeHint = HintDinner
				from, to = localClock(local, loc, 17, 0), localClock(local, loc, 22, 0)
				phraseJa, phraseEn = "今夜のディナータイム", "during dinner service tonight"
			default:
				continue
			}
			d.SubmittedAt = at.Add(jitter(tw.rng, 10*time.Minute, maxDelay))
			if d.SubmittedAt.After(to.Add(2 * time.Hour)) {
				continue
			}
			d.Window = TimeWindow{From: from, To: to, Anchor: from.Add(to.Sub(from) / 2)}
		case x < 0.67:
			if hour < 17 {
				continue
			}
			next := localClock(local.Add(25*time.Hour), loc, 0, 0)
			d.TimeHint = HintLastNight
			d.SubmittedAt = localClock(next, loc, 9, 0).Add(jitter(tw.rng, 0, 150*time.Minute))
			from := localClock(local, loc, 17, 0)
			d.Window = TimeWindow{From: from, To: next, Anchor: from.Add(next.Sub(from) / 2)}
			phraseJa, phraseEn = "昨日の夜", "last night"
		default:
			d.TimeHint = HintNone
			d.SubmittedAt = at.Add(jitter(tw.rng, 3*time.Minute, min(maxDelay, 100*time.Minute)))
			phraseJa, phraseEn = "", ""
			if attempt > 20 {
				// Whatever happens, the ticket is filed before the world ends.
				d.SubmittedAt = minTime(d.SubmittedAt, end)
			}
		}
		if !d.SubmittedAt.After(end) {
			break
		}
	}
	d.SubmittedAt = d.SubmittedAt.Truncate(time.Second)
	if d.TimeHint == HintNone {
		d.Window = TimeWindow{From: d.SubmittedAt.Add(-2 * time.Hour), To: d.SubmittedAt, Anchor: d.SubmittedAt}
	}
	if d.Window.To.After(d.SubmittedAt) {
		d.Window.To = d.SubmittedAt
	}
	switch {
	case phraseJa != "" && chance(tw.rng, 0.35) && d.TimeHint != HintLunch && d.TimeHint != HintDinner && d.TimeHint != HintLastNight:
		d.OccurredAt = d.Window.Anchor
	case phraseJa == "" && chance(tw.rng, 0.25):
		// Only the form's "when" field says when.
		occ := at.Round(5 * time.Minute)
		d.OccurredAt = occ
		d.TimeHint = HintOccurredAt
		d.Window = TimeWindow{From: occ.Add(-15 * time.Minute), To: minTime(occ.Add(15*time.Minute), d.SubmittedAt), Anchor: occ}
	}
	if phraseJa != "" {
		i := tw.rng.IntN(3)
		d.say([]string{phraseJa + "に発生しました。", phraseJa + "から同じ症状です。", "最初に気づいたのは" + phraseJa + "です。"}[i],
			[]string{"It started " + phraseEn + ".", "This happened " + phraseEn + ".", "We first noticed it " + phraseEn + "."}[i])
	}
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// reportable is how long before the end of the world a failure must happen
// for staff to notice it and write a ticket.
const reportable = 30 * time.Minute

// tenantLogs returns the indexes of tenant logs matching keep that happened
// early enough to be reported.
func (tw *ticketWriter) tenantLogs(tenantID string, keep func(*Log) bool) []int {
	var out []int
	last := tw.g.end.Add(-reportable)
	for _, i := range tw.w.tenantLogs[tenantID] {
		if l := &tw.w.Logs[i]; l.Timestamp.Before(last) && keep(l) {
			out = append(out, i)
		}
	}
	return out
}

func byCodeService(code, service string, levels ...string) func(*Log) bool {
	return func(l *Log) bool {
		return l.Error.Code == code && (service == "" || l.Service.Name == service) &&
			(len(levels) == 0 || slices.Contains(levels, l.Log.Level))
	}
}

// atLeast returns round(n*share), but at least floor when n allows.
func atLeast(n int, share float64, floor int) int {
	return min(n, max(floor, int(math.Round(float64(n)*share))))
}

func (tw *ticketWriter) stormTickets() {
	var affected []*Tenant
	for i := range tw.w.Tenants {
		t := &tw.w.Tenants[i]
		if tw.g.plan.stormTenants[t.ID] && !tw.g.plan.storm.from.IsZero() {
			affected = append(affected, t)
		}
	}
	n := atLeast(len(affected), 0.7, 3)
	for _, k := range tw.rng.Perm(len(affected))[:n] {
		t := affected[k]
		failures := tw.tenantLogs(t.ID, byCodeService(CodeProviderTimeout, ServiceOrderAPI))
		if len(failures) == 0 {
			continue
		}
		l := tw.w.Logs[pick(tw.rng, failures)]
		d := tw.newDraft(t)
		d.Technical, d.Component, d.Severity, d.Incident = true, ComponentPayment, SeverityP1, IncidentPaymentStorm
		d.Channel = tw.channel(true)
		tw.schedule(d, l.Timestamp.Time, 50*time.Minute)
		if chance(tw.rng, 0.35) {
			d.mentionOrder(l.Labels.OrderID)
			d.say("例えば注文番号 {order} のお会計で失敗しました。", "One of the failed orders is {order}.")
		}
		if chance(tw.rng, 0.2) {
			d.Identifiers.OrderIDs = append(d.Identifiers.OrderIDs, l.Labels.OrderID)
		}
		if chance(tw.rng, 0.3) {
			d.mentionCode(l.Error.Code)
			d.say("画面には「{code}」と出ています。", "The screen shows {code}.")
		}
		if chance(tw.rng, 0.2) {
			d.mentionStatus(l.HTTP.Response.StatusCode)
			d.say("「通信エラー {status}」と表示されることもあります。", "Sometimes it says \"error {status}\".")
		}
		if chance(tw.rng, 0.08) {
			d.vars["request"] = l.HTTP.Request.ID
			d.Identifiers.RequestIDs = append(d.Identifiers.RequestIDs, l.HTTP.Request.ID)
			d.Mentioned.RequestIDs = append(d.Mentioned.RequestIDs, l.HTTP.Request.ID)
			d.say("エラー画面の問い合わせIDは {request} です。", "Reference ID on the error screen: {request}.")
		}
		if chance(tw.rng, 0.1) {
			d.Identifiers.UserIDs = append(d.Identifiers.UserIDs, l.User.ID)
		}
		tw.finish(d, phrasesStorm.in(d.Language))
	}
}

func (tw *ticketWriter) printerTickets() {
	p := &tw.g.plan
	if p.printer.from.IsZero() {
		return
	}
	t := &tw.w.Tenants[tw.g.tenantIndex(p.printerTenant)]
	crashes := tw.tenantLogs(t.ID, byCodeService(CodePrinterCrash, ServicePrinterBridge))
	if len(crashes) == 0 {
		return
	}
	early, late := []int{}, []int{}
	for _, i := range crashes {
		if tw.w.Logs[i].Timestamp.Before(p.printer.from.Add(30 * time.Minute)) {
			early = append(early, i)
		} else if tw.w.Logs[i].Timestamp.After(p.printer.from.Add(90 * time.Minute)) {
			late = append(late, i)
		}
	}
	reports := []struct {
		logs     []int
		book     bilingual
		maxDelay time.Duration
	}{{early, phrasesPrinter, 30 * time.Minute}, {late, phrasesPrinterFollowUp, 40 * time.Minute}}
	for n, r := range reports {
		if len(r.logs) == 0 || (n == 1 && chance(tw.rng, 0.15)) {
			continue
		}
		l := tw.w.Logs[pick(tw.rng, r.logs)]
		d := tw.newDraft(t)
		d.Technical, d.Component, d.Severity, d.Incident = true, ComponentPrinter, SeverityP2, IncidentPrinterCrash
		d.Channel = tw.channel(true)
		tw.schedule(d, l.Timestamp.Time, r.maxDelay)
		if n == 1 || chance(tw.rng, 0.3) {
			d.vars["device"] = l.Labels.DeviceID
			d.Mentioned.DeviceIDs = append(d.Mentioned.DeviceIDs, l.Labels.DeviceID)
			d.say("プリンターの設定画面に出ているIDは{device}です。", "The printer ID shown in settings is {device}.")
		}
		if chance(tw.rng, 0.4) {
			d.Identifiers.DeviceIDs = append(d.Identifiers.DeviceIDs, l.Labels.DeviceID)
		}
		if chance(tw.rng, 0.4) {
			d.mentionCode(l.Error.Code)
			d.say("管理画面にエラー {code} が出ています。", "The admin page shows error {code}.")
		}
		tw.finish(d, r.book.in(d.Language))
	}
}

func (tw *ticketWriter) menuTickets() {
	var broken []*Tenant
	for i := range tw.w.Tenants {
		t := &tw.w.Tenants[i]
		if len(tw.tenantLogs(t.ID, byCodeService(CodeMenuSchema, ServiceMenuSync))) > 0 {
			broken = append(broken, t)
		}
	}
	n := atLeast(len(broken), 0.6, 1)
	for _, k := range tw.rng.Perm(len(broken))[:n] {
		t := broken[k]
		failures := tw.tenantLogs(t.ID, byCodeService(CodeMenuSchema, ServiceMenuSync))
		l := tw.w.Logs[pick(tw.rng, failures)]
		d := tw.newDraft(t)
		d.Technical, d.Component, d.Severity, d.Incident = true, ComponentMenu, SeverityP3, IncidentMenuSchema
		d.Channel = tw.channel(false)
		tw.schedule(d, l.Timestamp.Time, 3*time.Hour)
		if chance(tw.rng, 0.4) {
			d.mentionCode(l.Error.Code)
			d.say("同期エラーのコードは {code} です。", "The sync error code is {code}.")
		}
		tw.finish(d, phrasesMenu.in(d.Language))
	}
}

func (tw *ticketWriter) authTickets() {
	for i := range tw.w.Tenants {
		t := &tw.w.Tenants[i]
		if !tw.g.plan.authTenants[t.ID] {
			continue
		}
		rejected := tw.tenantLogs(t.ID, byCodeService(CodeTokenExpired, ServiceAuth, LevelError))
		for n := range 2 {
			if len(rejected) == 0 || (n == 1 && chance(tw.rng, 0.6)) {
				break
			}
			l := tw.w.Logs[pick(tw.rng, rejected)]
			d := tw.newDraft(t)
			d.Technical, d.Component, d.Severity, d.Incident = true, ComponentAuth, SeverityP3, IncidentAuthExpiry
			d.Channel = tw.channel(false)
			tw.schedule(d, l.Timestamp.Time, 90*time.Minute)
			if chance(tw.rng, 0.4) {
				d.vars["user"] = l.User.ID
				d.Mentioned.UserIDs = append(d.Mentioned.UserIDs, l.User.ID)
				d.say("ログアウトされたのはスタッフID {user} です。", "It happened to staff ID {user}.")
			}
			if chance(tw.rng, 0.3) {
				d.Identifiers.UserIDs = appendNew(d.Identifiers.UserIDs, l.User.ID)
			}
			if chance(tw.rng, 0.2) {
				d.mentionStatus(l.HTTP.Response.StatusCode)
				d.say("「エラー {status}」と出ました。", "It showed \"error {status}\".")
			}
			if chance(tw.rng, 0.2) {
				d.mentionCode(l.Error.Code)
				d.say("エラーコードは {code} でした。", "The error code was {code}.")
			}
			tw.finish(d, phrasesAuth.in(d.Language))
		}
	}
}

// oneOffTickets report background errors that hit one table once.
func (tw *ticketWriter) oneOffTickets() {
	codes := []string{CodeOrderDeadlock, CodeReceiptRender, CodeLoyaltyLookup, CodeRefundConflict, CodeSessionStore}
	var candidates []int
	for i := range tw.w.Logs {
		l := &tw.w.Logs[i]
		if l.Labels.TenantID != "" && l.Log.Level == LevelError && slices.Contains(codes, l.Error.Code) &&
			l.Timestamp.Before(tw.g.end.Add(-reportable)) &&
			!tw.g.plan.stormAt(l.Labels.TenantID, l.Timestamp.Time) {
			candidates = append(candidates, i)
		}
	}
	n := min(len(candidates), max(2, len(tw.w.Tenants)/5))
	used := map[string]bool{}
	for _, k := range tw.rng.Perm(len(candidates)) {
		if n == 0 {
			break
		}
		l := tw.w.Logs[candidates[k]]
		if used[l.Labels.TenantID] {
			continue
		}
		used[l.Labels.TenantID] = true
		n--
		t := &tw.w.Tenants[tw.g.tenantIndex(l.Labels.TenantID)]
		d := tw.newDraft(t)
		d.Technical, d.Severity = true, SeverityP3
		switch l.Error.Code {
		case CodeLoyaltyLookup:
			d.Component = ComponentCustomerID
		case CodeRefundConflict:
			d.Component = ComponentPayment
		case CodeSessionStore:
			d.Component = ComponentAuth
		default:
			d.Component = ComponentOrder
		}
		d.Channel = tw.channel(false)
		tw.schedule(d, l.Timestamp.Time, 90*time.Minute)
		if l.Labels.OrderID != "" {
			switch x := tw.rng.Float64(); {
			case x < 0.5:
				d.mentionOrder(l.Labels.OrderID)
				d.say("注文番号は {order} です。", "The order number is {order}.")
			case x < 0.75:
				d.Identifiers.OrderIDs = append(d.Identifiers.OrderIDs, l.Labels.OrderID)
			}
		}
		if l.User.ID != "" && chance(tw.rng, 0.3) {
			d.Identifiers.UserIDs = append(d.Identifiers.UserIDs, l.User.ID)
		}
		if chance(tw.rng, 0.3) {
			d.mentionCode(l.Error.Code)
			d.say("画面に {code} と表示されました。", "The screen showed {code}.")
		}
		if l.HTTP.Response.StatusCode != 0 && chance(tw.rng, 0.15) {
			d.mentionStatus(l.HTTP.Response.StatusCode)
			d.say("「エラー {status}」とも出ていました。", "It also said \"error {status}\".")
		}
		tw.finish(d, oneOffPhrases(l.Error.Code).in(d.Language))
	}
}

// cosmeticTickets are real but log-less display bugs; they are filed at a
// moment when the rule finds no order-api errors, so nothing is attached.
func (tw *ticketWriter) cosmeticTickets() {
	n := max(1, len(tw.w.Tenants)/25)
	for range n {
		t := &tw.w.Tenants[tw.rng.IntN(len(tw.w.Tenants))]
		for attempt := 0; attempt < 20; attempt++ {
			d := tw.newDraft(t)
			d.Technical, d.Component, d.Severity = true, ComponentOrder, SeverityP4
			d.Channel = tw.channel(false)
			d.SubmittedAt = sampleBusinessTime(tw.rng, tw.g.start.Add(2*time.Hour), tw.g.end, t.loc).Truncate(time.Second)
			d.Window = TimeWindow{From: d.SubmittedAt.Add(-2 * time.Hour), To: d.SubmittedAt, Anchor: d.SubmittedAt}
			if len(tw.w.ExpectedLogIDs(&d.Ticket)) == 0 {
				tw.finish(d, phrasesCosmetic.in(d.Language))
				break
			}
		}
	}
}

func (tw *ticketWriter) nonTechnicalTickets() {
	n := max(3, int(math.Round(float64(len(tw.w.Tenants))*0.5)))
	months := []string{"1月", "2月"}
	monthsEn := []string{"January", "February"}
	for range n {
		kind := nonTechnicalTickets[tw.rng.IntN(len(nonTechnicalTickets))]
		t := &tw.w.Tenants[tw.rng.IntN(len(tw.w.Tenants))]
		var decline *Log
		if kind.needs == "decline" {
			declines := tw.tenantLogs(t.ID, byCodeService(CodeCardDeclined, ServicePaymentGateway))
			if len(declines) == 0 {
				kind = nonTechnicalTickets[0]
			} else {
				l := tw.w.Logs[pick(tw.rng, declines)]
				decline = &l
			}
		}
		d := tw.newDraft(t)
		d.Component, d.Severity = kind.component, kind.severity
		d.Channel = tw.channel(false)
		if decline != nil {
			d.SubmittedAt = decline.Timestamp.Add(jitter(tw.rng, 5*time.Minute, 3*time.Hour))
			d.mentionCode(decline.Error.Code)
		} else {
			d.SubmittedAt = sampleBusinessTime(tw.rng, tw.g.start, tw.g.end, t.loc)
		}
		d.SubmittedAt = minTime(d.SubmittedAt, tw.g.end.Add(-time.Second)).Truncate(time.Second)
		if kind.needs == "user" {
			d.vars["user"] = pick(tw.rng, t.Users)
			d.Mentioned.UserIDs = append(d.Mentioned.UserIDs, d.vars["user"])
		}
		m := tw.rng.IntN(len(months))
		if d.Language == LangJapanese {
			d.vars["month"] = months[m]
		} else {
			d.vars["month"] = monthsEn[m]
		}
		d.vars["plan"] = pick(tw.rng, []string{"pro", "standard"})
		d.vars["item"] = menuItem(tw.rng, d.Language)
		d.vars["price"] = wrongPrice(t, d.Language, tw.rng)
		book := kind.en
		if d.Language == LangJapanese {
			book = kind.ja
		}
		tw.finish(d, book)
	}
}

// wrongPrice is a price with a typing slip (an extra zero).
func wrongPrice(t *Tenant, lang string, rng *rand.Rand) string {
	if !isTokyoStyle(t) {
		return fmt.Sprintf("$%d.00", 100+rng.IntN(300))
	}
	yen := (300 + rng.IntN(1500)) / 10 * 100
	if lang == LangJapanese {
		return fmt.Sprintf("%d円", yen)
	}
	return fmt.Sprintf("¥%d", yen)
}
