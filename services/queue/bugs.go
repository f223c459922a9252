package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
)

// fingerprintPattern keeps a fingerprint a single subject token.
var fingerprintPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{2,63}$`)

// maxExcerpts bounds the log lines an engineer attaches to a bug.
const maxExcerpts = 20

// bugReport gathers what the bug filer needs from the ticket: the
// fingerprint (the engineer's, or the component with the ticket's most
// frequent error signature, so tickets of one bug meet on one issue), a
// title, the impact and the log lines the engineer picked.
func (s *Service) bugReport(ctx context.Context, r *Record, req ActionRequest) (events.BugReport, error) {
	fp := strings.ToLower(strings.TrimSpace(req.Fingerprint))
	top := topSignature(r.Enrichment.Signatures)
	switch {
	case fp != "" && !fingerprintPattern.MatchString(fp):
		return events.BugReport{}, fieldErr("fingerprint", httpapi.FieldInvalidFormat, "3-64 lowercase letters, digits, '-' or '_'")
	case fp == "" && top != nil:
		fp = component(r) + "-" + top.ID
	case fp == "":
		// No error signature: the component and the title stand for the bug.
		sum := sha256.Sum256([]byte(component(r) + "\x00" + strings.ToLower(strings.TrimSpace(firstNonEmpty(req.Title, r.Ticket.Subject)))))
		fp = component(r) + "-" + hex.EncodeToString(sum[:6])
	}
	title := strings.TrimSpace(req.Title)
	if title == "" {
		title = "[" + component(r) + "] "
		if top != nil {
			title += top.Template
		} else {
			title += r.Ticket.Subject
		}
	}
	bug := events.BugReport{
		Fingerprint: fp, Title: truncateRunes(title, maxTitle), Severity: r.Routing.Severity, Component: component(r),
		TicketIDs: []string{r.Ticket.ID}, Tenants: []string{r.Ticket.TenantID},
		Reported:  []string{r.Ticket.Subject + "\n" + r.Ticket.Description},
		FirstSeen: r.Ticket.SubmittedAt, LastSeen: r.Ticket.SubmittedAt,
		Notes: req.Notes, Signatures: r.Enrichment.Signatures, DiscoverURL: r.Enrichment.DiscoverURL,
		TicketURL: s.publicURL() + "/tickets/" + r.Ticket.ID,
	}
	for _, sig := range r.Enrichment.Signatures {
		if !sig.FirstSeen.IsZero() && sig.FirstSeen.Before(bug.FirstSeen) {
			bug.FirstSeen = sig.FirstSeen
		}
		if sig.LastSeen.After(bug.LastSeen) {
			bug.LastSeen = sig.LastSeen
		}
	}
	if len(req.LogIDs) > maxExcerpts {
		return events.BugReport{}, fieldErr("log_ids", httpapi.FieldTooMany, "at most %d log lines", maxExcerpts)
	}
	if len(req.LogIDs) > 0 {
		logs, err := s.st.logs(ctx, r)
		if err != nil {
			return events.BugReport{}, err
		}
		for _, id := range req.LogIDs {
			i := slices.IndexFunc(logs, func(l events.LogEntry) bool { return l.ID == id })
			if i < 0 {
				return events.BugReport{}, fieldErr("log_ids", httpapi.FieldInvalidValue, "log %q is not attached to this ticket", id)
			}
			l := logs[i]
			bug.Excerpts = append(bug.Excerpts, events.LogExcerpt{ID: l.ID, Timestamp: l.Timestamp, Level: l.Level, Service: l.Service, Message: l.Message})
		}
	}
	return bug, nil
}

func component(r *Record) string {
	if r.Routing.Component == "" {
		return "other"
	}
	return r.Routing.Component
}

func topSignature(sigs []events.Signature) *events.Signature {
	var top *events.Signature
	for i := range sigs {
		if top == nil || sigs[i].Count > top.Count {
			top = &sigs[i]
		}
	}
	return top
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

func truncateRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
