package paging

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/triage-pipeline/triage/libs/events"
)

// event is one page or resolve, as every target gets it.
type event struct {
	action string // EventTrigger or EventResolve
	inc    events.Incident
	link   string
	team   string
}

// target is where pages go.
type target interface {
	name() string
	send(ctx context.Context, ev event) error
}

// statusError is a target's answer other than 2xx.
type statusError struct {
	target string
	status int
	body   string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s answered %d: %s", e.target, e.status, e.body)
}

// permanent says whether sending the same event again is pointless: a 4xx
// other than a timeout or rate limit.
func (e *statusError) permanent() bool {
	return e.status >= 400 && e.status < 500 && e.status != http.StatusRequestTimeout && e.status != http.StatusTooManyRequests
}

// pagerDuty sends Events API v2 events
// (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/).
type pagerDuty struct {
	url        string
	routingKey string // a secret: never logged, and cut out of answers
	client     *http.Client
	timeout    time.Duration
}

type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Payload     *pdPayload `json:"payload,omitempty"`
	Client      string     `json:"client,omitempty"`
	ClientURL   string     `json:"client_url,omitempty"`
	Links       []pdLink   `json:"links,omitempty"`
}

type pdPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

type pdLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

func (p *pagerDuty) name() string { return "pagerduty" }

func (p *pagerDuty) send(ctx context.Context, ev event) error {
	inc := ev.inc
	// The incident id is the dedup key: PagerDuty keeps one alert per
	// incident, however often it is triggered, and resolves that one.
	body := pdEvent{RoutingKey: p.routingKey, EventAction: ev.action, DedupKey: inc.ID}
	if ev.action == EventTrigger {
		body.Payload = &pdPayload{
			Summary:   summary(inc),
			Source:    cmp.Or(inc.Component, "triage"),
			Severity:  "critical",
			Component: inc.Component,
			Group:     ev.team,
			Class:     "incident",
			CustomDetails: map[string]any{
				"incident_id": inc.ID,
				"severity":    inc.Severity,
				"tickets":     inc.Count,
				"tenants":     len(inc.Tenants),
				"reason":      inc.Reason,
				"team":        ev.team,
			},
		}
		if !inc.FirstSeen.IsZero() {
			body.Payload.Timestamp = inc.FirstSeen.UTC().Format(time.RFC3339)
		}
		body.Client, body.ClientURL = "triage", ev.link
		if ev.link != "" {
			body.Links = append(body.Links, pdLink{Href: ev.link, Text: "Incident in the triage queue"})
		}
		if inc.Runbook != "" {
			body.Links = append(body.Links, pdLink{Href: inc.Runbook, Text: "Runbook"})
		}
	}
	return post(ctx, p.client, p.url, p.timeout, body, nil, p.name(), p.routingKey)
}

// webhook posts the same events as JSON to any receiver.
type webhook struct {
	url     string // may carry a token: never logged
	client  *http.Client
	timeout time.Duration
}

// WebhookEvent is the body the webhook gets.
type WebhookEvent struct {
	IncidentID string `json:"incident_id"`
	Event      string `json:"event"` // "trigger" or "resolve"
	Summary    string `json:"summary"`
	Link       string `json:"link,omitempty"`
	Runbook    string `json:"runbook,omitempty"`
	Severity   string `json:"severity"`
	Component  string `json:"component,omitempty"`
	Team       string `json:"team"`
	Tickets    int    `json:"tickets"`
	Tenants    int    `json:"tenants"`
}

func (w *webhook) name() string { return "webhook" }

func (w *webhook) send(ctx context.Context, ev event) error {
	inc := ev.inc
	body := WebhookEvent{IncidentID: inc.ID, Event: ev.action, Summary: summary(inc), Link: ev.link, Runbook: inc.Runbook,
		Severity: inc.Severity, Component: inc.Component, Team: ev.team, Tickets: inc.Count, Tenants: len(inc.Tenants)}
	// One key per incident and event: a repeat (a sender taking over from
	// one that crashed) carries the same key, for the receiver to drop.
	h := http.Header{"Idempotency-Key": {inc.ID + ":" + ev.action}}
	return post(ctx, w.client, w.url, w.timeout, body, h, w.name(), "")
}

// post sends body as JSON and reads the answer: nil on 2xx, a
// *statusError otherwise, the transport's error (without the URL) when
// there is no answer. secret, if not empty, is cut out of answers.
func post(ctx context.Context, client *http.Client, u string, timeout time.Duration, body any, header http.Header, target, secret string) error {
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", target, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: %w", target, stripURL(err))
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", target, stripURL(err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	text := strings.TrimSpace(string(answer))
	if secret != "" {
		text = strings.ReplaceAll(text, secret, "[redacted]")
	}
	return &statusError{target: target, status: resp.StatusCode, body: truncate(text, 512)}
}

// stripURL drops the URL a *url.Error repeats: a webhook's may hold a
// token.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
