package demoworld

import (
	"time"
)

// Ticket is a support ticket as staff submit it, plus the labels a good
// escalation engineer would give it.
type Ticket struct {
	ID          string `json:"id"`
	Subject     string `json:"subject"`
	Description string `json:"description"`
	TenantID    string `json:"tenant_id"`
	Reporter    string `json:"reporter"`
	// Language is "ja" or "en".
	Language string `json:"language"`
	// Channel is web, phone, email or chat.
	Channel     string    `json:"channel"`
	SubmittedAt time.Time `json:"submitted_at"`
	// OccurredAt is the "when did it happen" form field, set on some tickets.
	OccurredAt time.Time `json:"occurred_at,omitzero"`
	// Identifiers are the ids staff typed into the form's fields (text
	// mentions are only in Subject and Description).
	Identifiers Identifiers `json:"identifiers,omitzero"`

	// Labels.
	Technical bool `json:"technical"`
	// Component is one of order, payment, printer, menu, auth, customer-id,
	// billing, account, other.
	Component string `json:"component"`
	// Severity is P1..P4 as DESIGN.md defines them.
	Severity string `json:"severity"`
	// Incident names the injected incident the ticket reports, or "".
	Incident string `json:"incident,omitempty"`
	// ExpectedLogIDs are the logs to attach, chosen by the rule in the
	// package documentation; empty for non-technical tickets.
	ExpectedLogIDs []string `json:"expected_log_ids,omitempty"`
	// Mentioned are the ids written in Subject or Description, and
	// MentionedErrorCodes and MentionedStatusCodes the error codes and HTTP
	// statuses: what an extractor should find in the text.
	Mentioned            Identifiers `json:"mentioned,omitzero"`
	MentionedErrorCodes  []string    `json:"mentioned_error_codes,omitempty"`
	MentionedStatusCodes []int       `json:"mentioned_status_codes,omitempty"`
	// TimeHint says how the ticket points at a time (Hint* constants).
	TimeHint string `json:"time_hint"`
	// Window is the search window the ticket implies (zero when the
	// ticket is non-technical).
	Window TimeWindow `json:"window,omitzero"`
}

// Identifiers are ids a ticket carries in structured fields.
type Identifiers struct {
	RequestIDs []string `json:"request_ids,omitempty"`
	OrderIDs   []string `json:"order_ids,omitempty"`
	UserIDs    []string `json:"user_ids,omitempty"`
	TraceIDs   []string `json:"trace_ids,omitempty"`
	DeviceIDs  []string `json:"device_ids,omitempty"`
}

func (ids Identifiers) empty() bool {
	return len(ids.RequestIDs)+len(ids.OrderIDs)+len(ids.UserIDs)+len(ids.TraceIDs)+len(ids.DeviceIDs) == 0
}

// union returns the ids of a and b, each once, a's first.
func (ids Identifiers) union(b Identifiers) Identifiers {
	merge := func(x, y []string) []string {
		var out []string
		seen := map[string]bool{}
		for _, v := range append(append([]string(nil), x...), y...) {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
		return out
	}
	return Identifiers{
		RequestIDs: merge(ids.RequestIDs, b.RequestIDs),
		OrderIDs:   merge(ids.OrderIDs, b.OrderIDs),
		UserIDs:    merge(ids.UserIDs, b.UserIDs),
		TraceIDs:   merge(ids.TraceIDs, b.TraceIDs),
		DeviceIDs:  merge(ids.DeviceIDs, b.DeviceIDs),
	}
}

// TimeWindow is the period a ticket's text points at; Anchor is the
// moment it describes (the middle of a vague period, or the submission
// time when the text gives none).
type TimeWindow struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Anchor time.Time `json:"anchor"`
}

// How a ticket points at a time.
const (
	// HintNone: no time given; the window is the two hours before submission.
	HintNone = "none"
	// HintClock: a clock time ("19:05頃", "around 7:05 pm"), ±15 min.
	HintClock = "clock"
	// HintHour: a full hour ("19時頃", "around 7 pm"), ±30 min.
	HintHour = "hour"
	// HintAgo: minutes before submission ("10分前", "10 minutes ago"), ±10 min.
	HintAgo = "ago"
	// HintLunch: today's lunch, 11:00–14:30 local.
	HintLunch = "lunch"
	// HintDinner: today's dinner, 17:00–22:00 local.
	HintDinner = "dinner"
	// HintLastNight: yesterday 17:00 to midnight local.
	HintLastNight = "last-night"
	// HintOccurredAt: only the OccurredAt field, ±15 min.
	HintOccurredAt = "occurred-at"
)

// Severities and channels.
const (
	SeverityP1 = "P1"
	SeverityP2 = "P2"
	SeverityP3 = "P3"
	SeverityP4 = "P4"

	ChannelWeb   = "web"
	ChannelPhone = "phone"
	ChannelEmail = "email"
	ChannelChat  = "chat"
)

// Components of the demo world.
const (
	ComponentOrder      = "order"
	ComponentPayment    = "payment"
	ComponentPrinter    = "printer"
	ComponentMenu       = "menu"
	ComponentAuth       = "auth"
	ComponentCustomerID = "customer-id"
	ComponentBilling    = "billing"
	ComponentAccount    = "account"
	ComponentOther      = "other"
)

// ComponentServices lists the services whose logs the labelling rule
// considers for a component (nil: none).
func ComponentServices(component string) []string {
	switch component {
	case ComponentPayment:
		return []string{ServicePaymentGateway, ServiceOrderAPI}
	case ComponentOrder, ComponentCustomerID:
		return []string{ServiceOrderAPI}
	case ComponentPrinter:
		return []string{ServicePrinterBridge}
	case ComponentMenu:
		return []string{ServiceMenuSync}
	case ComponentAuth:
		return []string{ServiceAuth}
	}
	return nil
}

// ComponentCodePrefix is the error-code prefix of a component's own
// failures ("" when it has none): the rule attaches a payment ticket's
// PAY-… errors, not an unrelated ORD-… error logged by the same service.
func ComponentCodePrefix(component string) string {
	switch component {
	case ComponentPayment:
		return "PAY-"
	case ComponentOrder:
		return "ORD-"
	case ComponentCustomerID:
		return "CUS-"
	case ComponentPrinter:
		return "PRN-"
	case ComponentMenu:
		return "MENU-"
	case ComponentAuth:
		return "AUTH-"
	}
	return ""
}

// ComponentLevels lists the log levels the labelling rule attaches for a
// component: errors and fatals, plus warnings for auth, whose key evidence
// (the token expiry) is logged as a warning first.
func ComponentLevels(component string) []string {
	if component == ComponentAuth {
		return []string{LevelWarn, LevelError, LevelFatal}
	}
	return []string{LevelError, LevelFatal}
}
