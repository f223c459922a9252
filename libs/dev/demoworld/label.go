package demoworld

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// MaxExpectedLogs is how many logs a ticket is labelled with at most: the
// enricher attaches up to 20.
const MaxExpectedLogs = 20

// ExpectedLogIDs applies the labelling rule (see the package documentation)
// to a ticket of this world: logs carrying an order, request or trace id
// the ticket names first, then the tenant's error logs of the component's
// services and error codes inside the ticket's window, closest to the
// described moment first; at most MaxExpectedLogs, none for non-technical
// tickets.
func (w *World) ExpectedLogIDs(tk *Ticket) []string {
	if !tk.Technical {
		return nil
	}
	named := tk.Identifiers.union(tk.Mentioned)
	horizon := span{tk.SubmittedAt.Add(-24 * time.Hour), tk.SubmittedAt.Add(time.Nanosecond)}
	window := span{tk.Window.From, tk.Window.To.Add(time.Nanosecond)}
	services := ComponentServices(tk.Component)
	levels := ComponentLevels(tk.Component)
	prefix := ComponentCodePrefix(tk.Component)
	codeMatches := func(code string) bool {
		if len(tk.MentionedErrorCodes) > 0 {
			return slices.Contains(tk.MentionedErrorCodes, code)
		}
		return prefix != "" && strings.HasPrefix(code, prefix)
	}
	var byUser, byDevice []string
	switch tk.Component {
	case ComponentAuth:
		byUser = named.UserIDs
	case ComponentPrinter:
		byDevice = named.DeviceIDs
	}

	var direct, related []int
	for _, i := range w.tenantLogs[tk.TenantID] {
		l := &w.Logs[i]
		if !horizon.contains(l.Timestamp.Time) {
			continue
		}
		switch {
		case slices.Contains(named.OrderIDs, l.Labels.OrderID) && l.Labels.OrderID != "",
			slices.Contains(named.RequestIDs, l.HTTP.Request.ID) && l.HTTP.Request.ID != "",
			slices.Contains(named.TraceIDs, l.Trace.ID) && l.Trace.ID != "":
			direct = append(direct, i)
		case window.contains(l.Timestamp.Time) &&
			slices.Contains(services, l.Service.Name) &&
			slices.Contains(levels, l.Log.Level) &&
			codeMatches(l.Error.Code) &&
			(len(byUser) == 0 || slices.Contains(byUser, l.User.ID)) &&
			(len(byDevice) == 0 || slices.Contains(byDevice, l.Labels.DeviceID)):
			related = append(related, i)
		}
	}
	closest := func(a, b int) int {
		da := absDuration(w.Logs[a].Timestamp.Sub(tk.Window.Anchor))
		db := absDuration(w.Logs[b].Timestamp.Sub(tk.Window.Anchor))
		if c := cmp.Compare(da, db); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	}
	slices.SortFunc(direct, closest)
	slices.SortFunc(related, closest)
	var ids []string
	for _, i := range append(direct, related...) {
		if len(ids) == MaxExpectedLogs {
			break
		}
		ids = append(ids, w.Logs[i].Event.ID)
	}
	return ids
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
