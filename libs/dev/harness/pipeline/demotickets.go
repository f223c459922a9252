package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/triage-pipeline/triage/libs/dev/demoworld"
	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/services/intake"
)

// SubmitDemoTickets posts the world's tickets to intake as support staff
// would, with the moment each describes as occurred_at (they were written
// against the world's clock, not today's), and returns how many were new.
// Keys make a retry resubmit nothing.
func SubmitDemoTickets(ctx context.Context, intakeURL, token string, w *demoworld.World, log *zap.Logger) (int, error) {
	client := intake.NewClient(intakeURL, intake.ClientOptions{Retries: 3, Token: token})
	n := 0
	for _, t := range DemoTicketsBefore(w, time.Now()) {
		resp, err := client.Submit(ctx, DemoRequest(t), "demo-"+t.ID)
		switch {
		case err == nil:
			if !resp.Replayed {
				n++
			}
		case ctx.Err() != nil:
			return n, nil // stopping
		case intake.IsRefusal(err):
			// One ticket intake refuses must not keep the others out.
			log.Warn("demo ticket refused", zap.String("demo_ticket", t.ID), zap.Error(err))
		default:
			return n, fmt.Errorf("submit demo ticket %s: %w", t.ID, err)
		}
	}
	return n, nil
}

// DemoTicketsBefore is the world's tickets whose moment is not after now:
// a world runs to the end of the current hour (DemoWorldEnd), and intake
// refuses a ticket that happened in the future.
func DemoTicketsBefore(w *demoworld.World, now time.Time) []demoworld.Ticket {
	var out []demoworld.Ticket
	for _, t := range w.Tickets {
		if !t.Window.Anchor.After(now) {
			out = append(out, t)
		}
	}
	return out
}

// DemoRequest is the submission support staff would make for a demo ticket.
func DemoRequest(t demoworld.Ticket) intake.SubmitRequest {
	req := intake.SubmitRequest{
		Subject: t.Subject, Description: t.Description, TenantID: t.TenantID,
		Reporter: t.Reporter, Channel: t.Channel, Language: t.Language,
		Identifiers: events.Identifiers(t.Identifiers),
	}
	if !t.Window.Anchor.IsZero() {
		req.OccurredAt = t.Window.Anchor.UTC().Format(time.RFC3339)
	}
	return req
}

// demoMarker, in the data directory, says its demo tickets were submitted.
const demoMarker = "demo-tickets-submitted"

// SubmitDemoTicketsOnce submits the pipeline's demo tickets unless they
// were submitted on this data directory before: a world built in another
// hour has other tenants and ids, so keys alone would add a second set on
// every restart. It reports whether it submitted.
func (p *Pipeline) SubmitDemoTicketsOnce(ctx context.Context, log *zap.Logger) (n int, submitted bool, err error) {
	marker := filepath.Join(p.DataDir, demoMarker)
	if _, err := os.Stat(marker); err == nil {
		return 0, false, nil
	}
	if n, err = SubmitDemoTickets(ctx, p.Intake.URL(), p.Tokens.Support, p.World, log); err != nil || ctx.Err() != nil {
		return n, true, err
	}
	if err := os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
		return n, true, fmt.Errorf("mark demo tickets submitted: %w", err)
	}
	return n, true, nil
}
