// Package training holds the router's starting training data and reads
// labelled tickets into examples. Only the operator's command (training,
// retraining, evaluation) links it; the router binary carries just the
// trained model.
package training

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/triage-pipeline/triage/libs/events"
	"github.com/triage-pipeline/triage/services/router"
)

// devTickets are the 300 labelled POS tickets of
// ../shared/datasets/tickets/pos-tickets-dev.jsonl (synthetic, written for
// this project; its README allows this use).
//
//go:embed pos-tickets-dev.jsonl
var devTickets []byte

// Labelled is one line of a labelled tickets file (the dataset's format:
// intake's field names plus a label).
type Labelled struct {
	ID          string             `json:"id"`
	Subject     string             `json:"subject"`
	Description string             `json:"description"`
	TenantID    string             `json:"tenant_id"`
	Reporter    string             `json:"reporter"`
	Language    string             `json:"language"`
	SubmittedAt time.Time          `json:"submitted_at"`
	Identifiers events.Identifiers `json:"identifiers"`
	Logs        []events.LogEntry  `json:"logs,omitempty"`
	Label       struct {
		Technical bool    `json:"technical"`
		Component string  `json:"component"`
		Severity  *string `json:"severity"`
		Why       string  `json:"why"`
		Incident  *string `json:"incident"`
	} `json:"label"`
}

// Dev returns the shipped development tickets as examples.
func Dev() ([]router.Example, error) {
	ex, err := Read(bytes.NewReader(devTickets))
	if err != nil {
		return nil, fmt.Errorf("training/pos-tickets-dev.jsonl: %w", err)
	}
	return ex, nil
}

// Read reads labelled tickets, one JSON object a line.
func Read(r io.Reader) ([]router.Example, error) {
	var out []router.Example
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l Labelled
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, l.Example())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read labelled tickets: %w", err)
	}
	return out, nil
}

// Example turns a labelled ticket into a training example.
func (l Labelled) Example() router.Example {
	ex := router.Example{
		ID: l.ID,
		Ticket: events.Ticket{
			ID: l.ID, Subject: l.Subject, Description: l.Description, TenantID: l.TenantID,
			Reporter: l.Reporter, Language: l.Language, SubmittedAt: l.SubmittedAt, Identifiers: l.Identifiers,
		},
		Enrichment: events.Enrichment{LogsStatus: events.LogsNotConfigured},
		Technical:  l.Label.Technical, Component: l.Label.Component,
	}
	if len(l.Logs) > 0 {
		ex.Enrichment = events.Enrichment{LogsStatus: events.LogsAttached, Logs: l.Logs}
	}
	if l.Label.Severity != nil {
		ex.Severity = *l.Label.Severity
	}
	if l.Label.Incident != nil {
		ex.Incident = *l.Label.Incident
	}
	return ex
}

// keywordBaseline is the router's rules file as of 2026-11-23, before the
// model: the keyword baseline of `triage eval`.
//
//go:embed keyword-baseline.yaml
var keywordBaseline []byte

// KeywordBaseline returns those rules; route with their KeywordDecide.
func KeywordBaseline() (*router.Rules, error) { return router.ParseRules(keywordBaseline) }
