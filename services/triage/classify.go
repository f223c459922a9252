package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/services/router"
)

type classifyCmd struct {
	Rules            string  `name:"rules" type:"path" help:"Routing rules file; empty uses the built-in rules."`
	Model            string  `name:"model" type:"path" help:"Model file; empty uses the built-in model."`
	NeedsTriageBelow float64 `name:"needs-triage-below" help:"Confidence below which a ticket needs triage; 0 uses the rules file's."`
}

// classifyInput is one ticket on stdin: intake's field names, plus the
// logs attached to it (or a whole enrichment). Other fields (a label,
// say) are ignored, so labelled files can be piped as they are.
type classifyInput struct {
	ID          string             `json:"id"`
	Subject     string             `json:"subject"`
	Description string             `json:"description"`
	TenantID    string             `json:"tenant_id"`
	Language    string             `json:"language"`
	OccurredAt  *time.Time         `json:"occurred_at"`
	SubmittedAt time.Time          `json:"submitted_at"`
	Identifiers events.Identifiers `json:"identifiers"`
	Logs        []events.LogEntry  `json:"logs"`
	Enrichment  *events.Enrichment `json:"enrichment"`
}

// classifyOutput is one decision on stdout.
type classifyOutput struct {
	ID          string   `json:"id,omitempty"`
	Technical   bool     `json:"technical"`
	Queue       string   `json:"queue"`
	NeedsTriage bool     `json:"needs_triage"`
	Severity    string   `json:"severity"`
	Component   string   `json:"component"`
	Confidence  float64  `json:"confidence"`
	Runbook     string   `json:"runbook,omitempty"`
	RuleIDs     []string `json:"rule_ids"`
	Reasons     []string `json:"reasons"`
}

// Run reads tickets as JSON lines on stdin and prints one decision per
// line, in the same order, with the router's own code, rules and model.
func (c *classifyCmd) Run() error {
	rules, err := router.LoadRules(c.Rules)
	if err != nil {
		return err
	}
	model, err := router.LoadModel(c.Model)
	if err != nil {
		return err
	}
	return classify(os.Stdin, os.Stdout, router.NewClassifier(rules, model, router.ClassifierConfig{NeedsTriageBelow: c.NeedsTriageBelow}))
}

func classify(in io.Reader, out io.Writer, cl *router.Classifier) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var t classifyInput
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			return fmt.Errorf("stdin line %d: %w", line, err)
		}
		ticket := events.Ticket{
			ID: t.ID, Subject: t.Subject, Description: t.Description, TenantID: t.TenantID, Language: t.Language,
			OccurredAt: t.OccurredAt, SubmittedAt: t.SubmittedAt, Identifiers: t.Identifiers,
		}
		enr := events.Enrichment{LogsStatus: events.LogsNotConfigured}
		switch {
		case t.Enrichment != nil:
			enr = *t.Enrichment
		case len(t.Logs) > 0:
			enr = events.Enrichment{LogsStatus: events.LogsAttached, Logs: t.Logs}
		}
		r := cl.Decide(ticket, enr)
		if err := enc.Encode(classifyOutput{
			ID: t.ID, Technical: r.Technical, Queue: r.Queue, NeedsTriage: r.NeedsTriage, Severity: r.Severity,
			Component: r.Component, Confidence: r.Confidence, Runbook: r.Runbook, RuleIDs: r.RuleIDs, Reasons: r.Reasons,
		}); err != nil {
			return fmt.Errorf("write decision: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write decisions: %w", err)
	}
	return nil
}
