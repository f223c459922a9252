package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/libs/httpapi"
	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/intake"
)

// submitCmd is the support staff's command line: one ticket per run, safe to
// run again after a timeout because the ticket's content is its
// Idempotency-Key unless one is given.
type submitCmd struct {
	IntakeURL      string        `name:"intake-url" env:"TRIAGE_INTAKE_URL" default:"http://127.0.0.1:8080" help:"Base URL of intake."`
	Token          string        `name:"token" env:"TRIAGE_TOKEN" help:"Your triage token (support, engineer or admin; an admin issues them)."`
	Tenant         string        `name:"tenant" short:"t" help:"Tenant (restaurant) id, such as rst-0042."`
	Subject        string        `name:"subject" short:"s" help:"One-line summary."`
	Description    string        `name:"description" short:"d" help:"What the customer reported; - reads it from stdin."`
	Reporter       string        `name:"reporter" help:"Who reported it (name or e-mail)."`
	Language       string        `name:"language" enum:",ja,en" default:"" help:"ja or en; detected when left out."`
	OccurredAt     string        `name:"occurred-at" help:"When it happened, RFC 3339 (2026-11-22T19:05:00+09:00)."`
	OrderIDs       []string      `name:"order-id" help:"Order id the customer gave (repeatable)."`
	RequestIDs     []string      `name:"request-id" help:"Request id (repeatable)."`
	UserIDs        []string      `name:"user-id" help:"User id (repeatable)."`
	TraceIDs       []string      `name:"trace-id" help:"Trace id (repeatable)."`
	JSON           string        `name:"json" help:"Send this file's ticket JSON (the API's body) instead of the flags; - reads stdin."`
	IdempotencyKey string        `name:"idempotency-key" help:"Key that makes retries safe (default: derived from the ticket's content)."`
	Retries        int           `name:"retries" default:"5" help:"Retries on connection errors, 429 and 5xx, honouring Retry-After."`
	Timeout        time.Duration `name:"timeout" default:"10s" help:"Time limit of each attempt."`
	Output         string        `name:"output" short:"o" enum:"text,json" default:"text" help:"text or json."`

	stdin          io.Reader
	stdout, stderr io.Writer
}

func (c *submitCmd) Run() error {
	ctx, stop := service.SignalContext(context.Background())
	defer stop()
	if c.stdin == nil {
		c.stdin, c.stdout, c.stderr = os.Stdin, os.Stdout, os.Stderr
	}
	return c.run(ctx)
}

func (c *submitCmd) run(ctx context.Context) error {
	req, err := c.request()
	if err != nil {
		return err
	}
	client := intake.NewClient(c.IntakeURL, intake.ClientOptions{Retries: c.Retries, HTTP: &http.Client{Timeout: c.Timeout}, Token: c.Token})
	resp, err := client.Submit(ctx, req, c.IdempotencyKey)
	if err != nil {
		return describeRefusal(err)
	}
	if c.Output == "json" {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(resp)
	}
	if resp.Replayed {
		fmt.Fprintf(c.stdout, "ticket %s was already submitted; nothing new was created\n", resp.TicketID)
		if c.IdempotencyKey == "" {
			fmt.Fprintln(c.stderr, "(a ticket with the same content; to file a separate one, give --idempotency-key)")
		}
	} else {
		fmt.Fprintf(c.stdout, "ticket %s accepted\n", resp.TicketID)
	}
	fmt.Fprintf(c.stdout, "status: %s\n", resp.StatusURL)
	return nil
}

// request builds the ticket from --json or from the flags, not both.
func (c *submitCmd) request() (intake.SubmitRequest, error) {
	var req intake.SubmitRequest
	if c.JSON != "" {
		if c.Tenant+c.Subject+c.Description+c.Reporter+c.OccurredAt+c.Language != "" ||
			len(c.OrderIDs)+len(c.RequestIDs)+len(c.UserIDs)+len(c.TraceIDs) > 0 {
			return req, errors.New("give the ticket either as --json or as flags, not both")
		}
		raw, err := c.readInput(c.JSON)
		if err != nil {
			return req, err
		}
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return req, fmt.Errorf("--json %s: %w", c.JSON, err)
		}
		if req.Channel == "" {
			req.Channel = "cli"
		}
		return req, nil
	}
	var missing []string
	for _, f := range []struct{ flag, value string }{{"--tenant", c.Tenant}, {"--subject", c.Subject}, {"--description", c.Description}} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.flag)
		}
	}
	if len(missing) > 0 {
		return req, fmt.Errorf("missing %s (or give the whole ticket with --json)", strings.Join(missing, ", "))
	}
	description := c.Description
	if description == "-" {
		var err error
		if description, err = c.readInput("-"); err != nil {
			return req, err
		}
	}
	return intake.SubmitRequest{
		Subject: c.Subject, Description: description, TenantID: c.Tenant, Reporter: c.Reporter,
		OccurredAt: c.OccurredAt, Language: c.Language, Channel: "cli",
		Identifiers: events.Identifiers{OrderIDs: c.OrderIDs, RequestIDs: c.RequestIDs, UserIDs: c.UserIDs, TraceIDs: c.TraceIDs},
	}, nil
}

// readInput reads a file, or stdin for "-", up to 1 MiB (intake refuses
// bodies over its --max-body-bytes with a clear 413).
func (c *submitCmd) readInput(path string) (string, error) {
	const limit = 1 << 20
	var r io.Reader = c.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("read ticket: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return "", fmt.Errorf("read ticket: %w", err)
	}
	if len(b) > limit {
		return "", fmt.Errorf("read ticket: %s is over %d bytes", path, limit)
	}
	return string(b), nil
}

// retryHint is what to do when it is unclear whether intake stored the
// ticket: the same command again carries the same key.
const retryHint = "the ticket may or may not be stored: run the same command again; its Idempotency-Key makes that safe"

// describeRefusal spells out intake's answer, one line per bad field, so the
// person at the keyboard knows what to change.
func describeRefusal(err error) error {
	var apiErr *httpapi.Error
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("%w\n%s", err, retryHint)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "intake answered %d %s: %s", apiErr.Status, apiErr.Code, apiErr.Message)
	for _, f := range apiErr.Fields {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	if !intake.IsRefusal(err) {
		b.WriteString("\n" + retryHint)
	}
	return errors.New(b.String())
}
