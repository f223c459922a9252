package demoworld

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTicketMix(t *testing.T) {
	w := defaultWorld()
	if n := len(w.Tickets); n < 60 || n > 120 {
		t.Errorf("%d tickets, want 60–120", n)
	}
	components := map[string]bool{}
	for _, c := range []string{ComponentOrder, ComponentPayment, ComponentPrinter, ComponentMenu, ComponentAuth, ComponentCustomerID, ComponentBilling, ComponentAccount, ComponentOther} {
		components[c] = true
	}
	channels := map[string]bool{ChannelWeb: true, ChannelPhone: true, ChannelEmail: true, ChannelChat: true}
	severities := map[string]bool{SeverityP1: true, SeverityP2: true, SeverityP3: true, SeverityP4: true}
	ja, technical := 0, 0
	perIncident, perComponent, perChannel := map[string]int{}, map[string]int{}, map[string]int{}
	ids := map[string]bool{}
	for i, tk := range w.Tickets {
		if ids[tk.ID] || !strings.HasPrefix(tk.ID, "tkt-") {
			t.Errorf("ticket id %q duplicated or malformed", tk.ID)
		}
		ids[tk.ID] = true
		if !components[tk.Component] || !channels[tk.Channel] || !severities[tk.Severity] {
			t.Errorf("ticket %s: component %q channel %q severity %q", tk.ID, tk.Component, tk.Channel, tk.Severity)
		}
		if tk.Subject == "" || tk.Description == "" || tk.Reporter == "" {
			t.Errorf("ticket %s has empty text or reporter", tk.ID)
		}
		if _, ok := w.Tenant(tk.TenantID); !ok {
			t.Errorf("ticket %s from unknown tenant %s", tk.ID, tk.TenantID)
		}
		if tk.SubmittedAt.Before(w.Start) || !tk.SubmittedAt.Before(w.End) {
			t.Errorf("ticket %s submitted at %v, outside the period", tk.ID, tk.SubmittedAt)
		}
		if i > 0 && tk.SubmittedAt.Before(w.Tickets[i-1].SubmittedAt) {
			t.Errorf("tickets not sorted by submission at %d", i)
		}
		if !tk.OccurredAt.IsZero() && (tk.OccurredAt.After(tk.SubmittedAt) || tk.SubmittedAt.Sub(tk.OccurredAt) > 24*time.Hour) {
			t.Errorf("ticket %s occurred at %v, submitted at %v", tk.ID, tk.OccurredAt, tk.SubmittedAt)
		}
		switch tk.Language {
		case LangJapanese:
			ja++
			if !hasJapanese(tk.Description) {
				t.Errorf("ticket %s is labelled ja but has no Japanese: %s", tk.ID, tk.Description)
			}
		case LangEnglish:
			if hasJapanese(tk.Subject + tk.Description) {
				t.Errorf("ticket %s is labelled en but has Japanese: %s", tk.ID, tk.Description)
			}
		default:
			t.Errorf("ticket %s language %q", tk.ID, tk.Language)
		}
		if tk.Technical {
			technical++
		} else if tk.Incident != "" || len(tk.ExpectedLogIDs) > 0 {
			t.Errorf("non-technical ticket %s has incident %q and %d logs", tk.ID, tk.Incident, len(tk.ExpectedLogIDs))
		}
		perIncident[tk.Incident]++
		perComponent[tk.Component]++
		perChannel[tk.Channel]++
	}
	n := float64(len(w.Tickets))
	if share := float64(ja) / n; share < 0.45 || share > 0.75 {
		t.Errorf("Japanese share %.2f, want about 0.6", share)
	}
	if share := float64(technical) / n; share < 0.45 || share > 0.8 {
		t.Errorf("technical share %.2f, want a mix", share)
	}
	if perIncident[IncidentPaymentStorm] < 20 || perIncident[IncidentPrinterCrash] < 1 ||
		perIncident[IncidentMenuSchema] < 2 || perIncident[IncidentAuthExpiry] < 2 || perIncident[""] < 25 {
		t.Errorf("tickets per incident %v: want a storm of payment tickets and some for each other incident", perIncident)
	}
	if len(perComponent) < 8 || len(perChannel) != 4 {
		t.Errorf("components %v and channels %v: want nearly all of them", perComponent, perChannel)
	}
}

func hasJapanese(s string) bool {
	for _, r := range s {
		if r >= 0x3040 && r <= 0x30ff || r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

// TestExpectedLogs checks the labels follow the documented rule: real logs
// of the ticket's tenant from the 24 h before submission, each pointed at
// by a named id or by (window, component services, level).
func TestExpectedLogs(t *testing.T) {
	forEachWorld(t, checkExpectedLogs)
}

func checkExpectedLogs(t *testing.T, w *World) {
	incidentCode := map[string]string{
		IncidentPaymentStorm: CodeProviderTimeout, IncidentPrinterCrash: CodePrinterCrash,
		IncidentMenuSchema: CodeMenuSchema, IncidentAuthExpiry: CodeTokenExpired,
	}
	for _, tk := range w.Tickets {
		if len(tk.ExpectedLogIDs) > MaxExpectedLogs {
			t.Errorf("ticket %s has %d expected logs, max %d", tk.ID, len(tk.ExpectedLogIDs), MaxExpectedLogs)
		}
		if tk.Incident != "" && len(tk.ExpectedLogIDs) == 0 {
			t.Errorf("incident ticket %s (%s) has no expected logs", tk.ID, tk.Incident)
		}
		if tk.Technical && tk.Window.From.IsZero() {
			t.Errorf("technical ticket %s has no window", tk.ID)
		}
		named := tk.Identifiers.union(tk.Mentioned)
		hasIncidentLog := false
		for _, id := range tk.ExpectedLogIDs {
			l, ok := w.Log(id)
			if !ok {
				t.Fatalf("ticket %s expects unknown log %s", tk.ID, id)
			}
			if l.Labels.TenantID != tk.TenantID {
				t.Errorf("ticket %s (tenant %s) expects log %s of tenant %s", tk.ID, tk.TenantID, id, l.Labels.TenantID)
			}
			if l.Timestamp.After(tk.SubmittedAt) || tk.SubmittedAt.Sub(l.Timestamp.Time) > 24*time.Hour {
				t.Errorf("ticket %s submitted %v expects log %s from %v", tk.ID, tk.SubmittedAt, id, l.Timestamp)
			}
			byID := slices.Contains(named.OrderIDs, l.Labels.OrderID) || slices.Contains(named.RequestIDs, l.HTTP.Request.ID) ||
				slices.Contains(named.TraceIDs, l.Trace.ID)
			codeOK := strings.HasPrefix(l.Error.Code, ComponentCodePrefix(tk.Component)) && l.Error.Code != ""
			if len(tk.MentionedErrorCodes) > 0 {
				codeOK = slices.Contains(tk.MentionedErrorCodes, l.Error.Code)
			}
			byWindow := !l.Timestamp.Before(tk.Window.From) && !l.Timestamp.After(tk.Window.To) && codeOK &&
				slices.Contains(ComponentServices(tk.Component), l.Service.Name) && slices.Contains(ComponentLevels(tk.Component), l.Log.Level)
			if !byID && !byWindow {
				t.Errorf("ticket %s expects log %s (%s %s %v) that nothing in the ticket points to", tk.ID, id, l.Service.Name, l.Log.Level, l.Timestamp)
			}
			if l.Error.Code == incidentCode[tk.Incident] {
				hasIncidentLog = true
			}
		}
		if tk.Incident != "" && !hasIncidentLog {
			t.Errorf("ticket %s about %s attaches no log with %s", tk.ID, tk.Incident, incidentCode[tk.Incident])
		}
		if got := w.ExpectedLogIDs(&tk); !slices.Equal(got, tk.ExpectedLogIDs) {
			t.Errorf("ticket %s: rule gives %v, label is %v", tk.ID, got, tk.ExpectedLogIDs)
		}
	}
}

// TestExpectedLogsPreferNamedIDs checks every log of a named order comes
// first, then the closest matching errors.
func TestExpectedLogsPreferNamedIDs(t *testing.T) {
	forEachWorld(t, checkNamedIDsFirst)
}

func checkNamedIDsFirst(t *testing.T, w *World) {
	checked := 0
	for _, tk := range w.Tickets {
		named := tk.Identifiers.union(tk.Mentioned)
		if len(named.OrderIDs) == 0 {
			continue
		}
		checked++
		var orderLogs []string
		for _, l := range w.TenantLogs(tk.TenantID) {
			if slices.Contains(named.OrderIDs, l.Labels.OrderID) && !l.Timestamp.After(tk.SubmittedAt) &&
				tk.SubmittedAt.Sub(l.Timestamp.Time) <= 24*time.Hour {
				orderLogs = append(orderLogs, l.ID())
			}
		}
		if len(orderLogs) > MaxExpectedLogs {
			continue
		}
		head := tk.ExpectedLogIDs[:len(orderLogs)]
		for _, id := range orderLogs {
			if !slices.Contains(head, id) {
				t.Errorf("ticket %s names order %v but its log %s is not among the first expected logs %v", tk.ID, named.OrderIDs, id, head)
			}
		}
		rest := tk.ExpectedLogIDs[len(orderLogs):]
		for i := 1; i < len(rest); i++ {
			a, _ := w.Log(rest[i-1])
			b, _ := w.Log(rest[i])
			if absDuration(a.Timestamp.Sub(tk.Window.Anchor)) > absDuration(b.Timestamp.Sub(tk.Window.Anchor)) {
				t.Errorf("ticket %s: expected logs not ordered by distance to %v", tk.ID, tk.Window.Anchor)
			}
		}
	}
	if len(w.Tickets) > 50 && checked < 5 {
		t.Errorf("only %d tickets name an order", checked)
	}
}

var (
	textOrder   = regexp.MustCompile(`ord_\d{10}`)
	textUser    = regexp.MustCompile(`usr-\d{6}`)
	textDevice  = regexp.MustCompile(`(?:tab|prn)-[0-9a-f]{6}`)
	textRequest = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	textCode    = regexp.MustCompile(`\b[A-Z]{3,4}-\d{4}\b`)
	textStatus  = regexp.MustCompile(`(?i)(?:error|エラー) ?(\d{3})\b`)
)

// TestTicketMentionsExist checks the ids, codes and statuses in the text
// are the labelled mentions and really exist for the tenant.
func TestTicketMentionsExist(t *testing.T) {
	forEachWorld(t, checkTicketMentions)
}

func checkTicketMentions(t *testing.T, w *World) {
	mentions := 0
	for _, tk := range w.Tickets {
		text := tk.Subject + "\n" + tk.Description
		tenant, _ := w.Tenant(tk.TenantID)
		logs := w.TenantLogs(tk.TenantID)
		inLogs := func(match func(Log) bool) bool { return slices.ContainsFunc(logs, match) }
		same := func(what string, got, want []string) {
			if !slices.Equal(got, want) {
				t.Errorf("ticket %s: %s in text %v, labelled %v: %s", tk.ID, what, got, want, text)
			}
		}
		same("orders", textOrder.FindAllString(text, -1), tk.Mentioned.OrderIDs)
		same("users", textUser.FindAllString(text, -1), tk.Mentioned.UserIDs)
		same("devices", textDevice.FindAllString(text, -1), tk.Mentioned.DeviceIDs)
		same("requests", textRequest.FindAllString(text, -1), tk.Mentioned.RequestIDs)
		same("error codes", textCode.FindAllString(text, -1), tk.MentionedErrorCodes)
		var statuses []int
		for _, m := range textStatus.FindAllStringSubmatch(text, -1) {
			s, _ := strconv.Atoi(m[1])
			statuses = append(statuses, s)
		}
		if !slices.Equal(statuses, tk.MentionedStatusCodes) {
			t.Errorf("ticket %s: statuses in text %v, labelled %v", tk.ID, statuses, tk.MentionedStatusCodes)
		}

		all := tk.Identifiers.union(tk.Mentioned)
		for _, id := range all.OrderIDs {
			mentions++
			if !inLogs(func(l Log) bool { return l.Labels.OrderID == id }) {
				t.Errorf("ticket %s names order %s, not in the tenant's logs", tk.ID, id)
			}
		}
		for _, id := range all.RequestIDs {
			mentions++
			if !inLogs(func(l Log) bool { return l.HTTP.Request.ID == id }) {
				t.Errorf("ticket %s names request %s, not in the tenant's logs", tk.ID, id)
			}
		}
		for _, id := range all.TraceIDs {
			if !inLogs(func(l Log) bool { return l.Trace.ID == id }) {
				t.Errorf("ticket %s names trace %s, not in the tenant's logs", tk.ID, id)
			}
		}
		for _, id := range all.UserIDs {
			mentions++
			if !slices.Contains(tenant.Users, id) {
				t.Errorf("ticket %s names user %s, not staff of %s", tk.ID, id, tk.TenantID)
			}
		}
		for _, id := range all.DeviceIDs {
			mentions++
			if !slices.Contains(tenant.Devices, id) {
				t.Errorf("ticket %s names device %s, not a device of %s", tk.ID, id, tk.TenantID)
			}
		}
		for _, code := range tk.MentionedErrorCodes {
			mentions++
			if !inLogs(func(l Log) bool { return l.Error.Code == code && !l.Timestamp.After(tk.SubmittedAt) }) {
				t.Errorf("ticket %s mentions %s, never logged for %s before submission", tk.ID, code, tk.TenantID)
			}
		}
		for _, status := range tk.MentionedStatusCodes {
			if !inLogs(func(l Log) bool { return l.HTTP.Response.StatusCode == status && l.Error.Code != "" }) {
				t.Errorf("ticket %s mentions HTTP %d, no such error for %s", tk.ID, status, tk.TenantID)
			}
		}
	}
	if len(w.Tickets) > 50 && mentions < 20 {
		t.Errorf("only %d id and code mentions across %d tickets", mentions, len(w.Tickets))
	}
}

// TestTicketTimesMatchText checks a written clock time is the window's
// anchor in the tenant's local time.
func TestTicketTimesMatchText(t *testing.T) {
	forEachWorld(t, checkTicketTimes)
}

func checkTicketTimes(t *testing.T, w *World) {
	hints := map[string]int{}
	for _, tk := range w.Tickets {
		hints[tk.TimeHint]++
		if !tk.Technical {
			continue
		}
		loc, _ := w.TenantZone(tk.TenantID)
		anchor := tk.Window.Anchor.In(loc)
		var want string
		switch {
		case tk.TimeHint == HintClock && tk.Language == LangJapanese:
			want = fmt.Sprintf("%d:%02d頃", anchor.Hour(), anchor.Minute())
		case tk.TimeHint == HintClock:
			want = "around " + anchor.Format("3:04 pm")
		case tk.TimeHint == HintHour && tk.Language == LangJapanese:
			want = strconv.Itoa(anchor.Hour()) + "時頃"
		case tk.TimeHint == HintHour:
			want = "around " + anchor.Format("3 pm")
		case tk.TimeHint == HintAgo:
			minutes := int(tk.SubmittedAt.Sub(tk.Window.Anchor).Round(time.Minute) / time.Minute)
			want = strconv.Itoa(minutes)
		case tk.TimeHint == HintNone || tk.TimeHint == HintOccurredAt:
			if !tk.Window.Anchor.Equal(tk.SubmittedAt) && tk.TimeHint == HintNone {
				t.Errorf("ticket %s without a time has anchor %v, want the submission %v", tk.ID, tk.Window.Anchor, tk.SubmittedAt)
			}
			if tk.TimeHint == HintOccurredAt && !tk.OccurredAt.Equal(tk.Window.Anchor) {
				t.Errorf("ticket %s: OccurredAt %v is not the anchor %v", tk.ID, tk.OccurredAt, tk.Window.Anchor)
			}
			continue
		default:
			continue
		}
		if !strings.Contains(tk.Description, want) {
			t.Errorf("ticket %s (%s) should say %q: %s", tk.ID, tk.TimeHint, want, tk.Description)
		}
	}
	for _, h := range []string{HintNone, HintClock, HintAgo} {
		if len(w.Tickets) > 50 && hints[h] == 0 {
			t.Errorf("no ticket with time hint %s (have %v)", h, hints)
		}
	}
}
