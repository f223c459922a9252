// Package logsearch finds a ticket's application logs in Elasticsearch:
// the client settings (retries with backoff, timeouts, auth), the query built
// from what extract found in the ticket, batching of many tickets' searches
// into one _msearch under a cap on concurrent requests, and the summary
// (attached logs, error signatures, a Kibana Discover link).
package logsearch

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Fields names the log fields; Elastic Common Schema by default.
type Fields struct {
	Timestamp    string `name:"timestamp" default:"@timestamp" help:"Event time field."`
	Message      string `name:"message" default:"message" help:"Log message field."`
	Level        string `name:"level" default:"log.level" help:"Log level field."`
	Service      string `name:"service" default:"service.name" help:"Service name field."`
	Tenant       string `name:"tenant" default:"labels.tenant_id" help:"Tenant id field."`
	User         string `name:"user" default:"user.id" help:"User id field."`
	TraceID      string `name:"trace" default:"trace.id" help:"Trace id field."`
	RequestID    string `name:"request" default:"http.request.id" help:"Request id field."`
	OrderID      string `name:"order" default:"labels.order_id" help:"Order id field."`
	DeviceID     string `name:"device" default:"labels.device_id" help:"Device id field."`
	ErrorCode    string `name:"error-code" default:"error.code" help:"Error code field."`
	ErrorType    string `name:"error-type" default:"error.type" help:"Error type field."`
	ErrorMessage string `name:"error-message" default:"error.message" help:"Error message field."`
	HTTPStatus   string `name:"http-status" default:"http.response.status_code" help:"HTTP status field."`
	AppVersion   string `name:"app-version" default:"labels.app_version" help:"App version field."`
}

// detail is the fields an attached log carries besides its time, message,
// level and service.
func (f Fields) detail() []string {
	return []string{f.TraceID, f.RequestID, f.OrderID, f.User, f.DeviceID, f.ErrorCode, f.ErrorType, f.ErrorMessage, f.HTTPStatus, f.AppVersion}
}

// read is every field the finder reads from a log.
func (f Fields) read() []string {
	return append([]string{f.Timestamp, f.Message, f.Level, f.Service}, f.detail()...)
}

// Config configures the Elasticsearch access. With no Addresses the
// enricher runs without logs and says so on every ticket.
type Config struct {
	Addresses      []string      `name:"es-addresses" env:"TRIAGE_ES_ADDRESSES" sep:"," help:"Elasticsearch URLs, comma-separated; empty: no log enrichment (tickets are marked not_configured)."`
	APIKey         string        `name:"es-api-key" env:"TRIAGE_ES_API_KEY" help:"API key (base64 id:key)."`
	Username       string        `name:"es-username" env:"TRIAGE_ES_USERNAME" help:"Basic auth user."`
	Password       string        `name:"es-password" env:"TRIAGE_ES_PASSWORD" help:"Basic auth password."`
	CACert         string        `name:"es-ca-cert" env:"TRIAGE_ES_CA_CERT" type:"path" help:"PEM CA certificate for TLS."`
	IndexPattern   string        `name:"es-index" env:"TRIAGE_ES_INDEX" default:"logs-*" help:"Index pattern searched for logs."`
	Fields         Fields        `embed:"" prefix:"es-field-"`
	MaxLogs        int           `name:"es-max-logs" env:"TRIAGE_ES_MAX_LOGS" default:"20" help:"Logs attached to a ticket at most."`
	Candidates     int           `name:"es-candidates" env:"TRIAGE_ES_CANDIDATES" default:"200" help:"Logs fetched per ticket for ranking and signatures."`
	IDLookback     time.Duration `name:"es-id-lookback" env:"TRIAGE_ES_ID_LOOKBACK" default:"24h" help:"How far back logs carrying an id the ticket names are searched, whatever its time window."`
	MaxKeywords    int           `name:"es-max-keywords" env:"TRIAGE_ES_MAX_KEYWORDS" default:"8" help:"Words of the customer's text used in the match query."`
	RequestTimeout time.Duration `name:"es-timeout" env:"TRIAGE_ES_TIMEOUT" default:"5s" help:"Timeout of one Elasticsearch request."`
	MaxRetries     int           `name:"es-max-retries" env:"TRIAGE_ES_MAX_RETRIES" default:"3" help:"Retries of 429/502/503/504 and transport errors, with backoff."`
	RetryBackoff   time.Duration `name:"es-retry-backoff" env:"TRIAGE_ES_RETRY_BACKOFF" default:"200ms" help:"First retry delay; doubles each retry, with jitter."`
	MaxConcurrent  int           `name:"es-max-concurrent" env:"TRIAGE_ES_MAX_CONCURRENT" default:"4" help:"Elasticsearch requests in flight at most."`
	BatchSize      int           `name:"es-batch-size" env:"TRIAGE_ES_BATCH_SIZE" default:"50" help:"Tickets searched in one _msearch at most."`
	BatchWait      time.Duration `name:"es-batch-wait" env:"TRIAGE_ES_BATCH_WAIT" default:"25ms" help:"How long a search waits for others to share its _msearch."`
	Deadline       time.Duration `name:"es-deadline" env:"TRIAGE_ES_DEADLINE" default:"10s" help:"After this a ticket moves on marked logs pending, and is enriched later."`
	PendingRetry   time.Duration `name:"es-pending-retry" env:"TRIAGE_ES_PENDING_RETRY" default:"30s" help:"How often tickets with pending logs are tried again."`
	KibanaURL      string        `name:"kibana-url" env:"TRIAGE_KIBANA_URL" help:"Kibana base URL; adds a Discover link to each ticket."`
	KibanaDataView string        `name:"kibana-data-view" env:"TRIAGE_KIBANA_DATA_VIEW" help:"Kibana data view id for the Discover link."`
}

// Enabled reports whether an Elasticsearch is configured.
func (c *Config) Enabled() bool { return len(c.Addresses) > 0 }

// Validate checks the settings.
func (c *Config) Validate() error {
	var errs []error
	for _, a := range c.Addresses {
		if u, err := url.Parse(a); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--es-addresses: %q is not an http(s) URL", a))
		}
	}
	if c.APIKey != "" && c.Username != "" {
		errs = append(errs, errors.New("--es-api-key and --es-username are exclusive; use one"))
	}
	if c.KibanaURL != "" {
		if u, err := url.Parse(c.KibanaURL); err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("--kibana-url: %q is not a URL", c.KibanaURL))
		}
	}
	check := func(name string, v, min, max int) {
		if v < min || v > max {
			errs = append(errs, fmt.Errorf("--%s must be %d to %d, got %d", name, min, max, v))
		}
	}
	check("es-max-logs", c.MaxLogs, 1, 200)
	check("es-candidates", c.Candidates, c.MaxLogs, 10000)
	check("es-max-keywords", c.MaxKeywords, 0, 32)
	check("es-max-retries", c.MaxRetries, 0, 10)
	check("es-max-concurrent", c.MaxConcurrent, 1, 64)
	check("es-batch-size", c.BatchSize, 1, 500)
	if c.PendingRetry <= 0 {
		errs = append(errs, fmt.Errorf("--es-pending-retry must be positive, got %s", c.PendingRetry))
	}
	if c.RequestTimeout <= 0 || c.Deadline <= c.RequestTimeout {
		errs = append(errs, fmt.Errorf("--es-deadline (%s) must exceed --es-timeout (%s)", c.Deadline, c.RequestTimeout))
	}
	return errors.Join(errs...)
}
