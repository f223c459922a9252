package paging

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/triage-pipeline/triage/libs/calendar"
	"github.com/triage-pipeline/triage/libs/events"
)

// DefaultTeam names the team of every component no --paging-team names.
const DefaultTeam = "default"

// Config configures paging. With neither a routing key file nor a webhook
// URL paging is off: the pager sends nothing and says so once.
type Config struct {
	PagerDutyURL   string        `name:"paging-pagerduty-url" env:"TRIAGE_PAGING_PAGERDUTY_URL" default:"https://events.pagerduty.com/v2/enqueue" help:"PagerDuty Events API v2 endpoint."`
	RoutingKeyFile string        `name:"paging-pagerduty-routing-key-file" env:"TRIAGE_PAGING_PAGERDUTY_ROUTING_KEY_FILE" type:"path" help:"File holding the routing (integration) key of the PagerDuty service to page; a secret, so read from a file and never logged. Empty: no PagerDuty pages."`
	WebhookURL     string        `name:"paging-webhook-url" env:"TRIAGE_PAGING_WEBHOOK_URL" help:"URL that also gets each page and its resolution as a JSON POST with an Idempotency-Key header. Empty: none."`
	Hours          string        `name:"paging-hours" env:"TRIAGE_PAGING_HOURS" default:"Mon-Fri 09:00-18:00" help:"Business hours of the default team, when nobody is paged: days and times as the queue's --business-hours, e.g. \"Mon-Fri 09:00-18:00\"."`
	TimeZone       string        `name:"paging-timezone" env:"TRIAGE_PAGING_TIMEZONE" default:"UTC" help:"Time zone of the default team's hours, e.g. Asia/Tokyo."`
	Teams          []string      `name:"paging-team" env:"TRIAGE_PAGING_TEAMS" sep:";" help:"A team with its own hours, repeatable or ;-separated: name:Time/Zone:hours:component,component, e.g. \"tokyo:Asia/Tokyo:Mon-Fri 09:00-18:00:payment,printer\" (empty hours: --paging-hours). Components no team names belong to the default team."`
	Lease          time.Duration `name:"paging-lease" env:"TRIAGE_PAGING_LEASE" default:"1m" help:"How long one replica owns sending a page; when it lapses unfinished (the sender crashed or failed), another replica sends again."`
	Timeout        time.Duration `name:"paging-timeout" env:"TRIAGE_PAGING_TIMEOUT" default:"10s" help:"Timeout of one request to PagerDuty or the webhook."`
}

// Enabled reports whether any page target is configured.
func (c *Config) Enabled() bool { return c.RoutingKeyFile != "" || c.WebhookURL != "" }

// Validate checks the settings; the routing key file is read by New.
func (c *Config) Validate() error {
	_, _, err := c.validate()
	return err
}

// validate checks the settings and returns the teams they name.
func (c *Config) validate() (*team, map[string]*team, error) {
	fallback, teams, err := c.teams()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if c.RoutingKeyFile != "" && !httpURL(c.PagerDutyURL) {
		errs = append(errs, fmt.Errorf("--paging-pagerduty-url: %q is not an http(s) URL", c.PagerDutyURL))
	}
	// The webhook URL may carry a token: name the flag, never the value.
	if c.WebhookURL != "" && !httpURL(c.WebhookURL) {
		errs = append(errs, errors.New("--paging-webhook-url is not an http(s) URL"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("--paging-timeout must be positive, got %s", c.Timeout))
	}
	// A sender must be done with both targets before its lease lapses, or
	// another replica would send the same page while it still works.
	if c.Lease <= 2*c.Timeout {
		errs = append(errs, fmt.Errorf("--paging-lease (%s) must exceed twice --paging-timeout (%s)", c.Lease, c.Timeout))
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return fallback, teams, nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// team is who gets paged for a component, and when not.
type team struct {
	name  string
	hours *calendar.Hours
}

var (
	teamName   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	onlyDigits = regexp.MustCompile(`^[0-9]+$`)
)

const teamFormat = `want name:Time/Zone:hours:component,component, such as "tokyo:Asia/Tokyo:Mon-Fri 09:00-18:00:payment,printer"`

// teams parses the default team and --paging-team: the default team, and
// the teams by lower-cased component.
func (c *Config) teams() (*team, map[string]*team, error) {
	loc, err := calendar.LoadZone(c.TimeZone)
	if err != nil {
		return nil, nil, fmt.Errorf("--paging-timezone: %w", err)
	}
	hours, err := calendar.ParseHours(c.Hours, loc)
	if err != nil {
		return nil, nil, fmt.Errorf("--paging-hours: %w", err)
	}
	def := &team{name: DefaultTeam, hours: hours}
	byComponent := map[string]*team{}
	names := map[string]bool{DefaultTeam: true}
	var errs []error
	for _, spec := range c.Teams {
		t, comps, err := c.parseTeam(spec)
		if err == nil && names[t.name] {
			err = fmt.Errorf("team %q named twice (%q is the default team's name)", t.name, DefaultTeam)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("--paging-team %q: %w", spec, err))
			continue
		}
		names[t.name] = true
		for _, comp := range comps {
			if other, ok := byComponent[comp]; ok {
				errs = append(errs, fmt.Errorf("--paging-team %q: component %q already belongs to team %q", spec, comp, other.name))
				continue
			}
			byComponent[comp] = t
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return def, byComponent, nil
}

// parseTeam reads name:zone:hours:components. Hours hold colons, so the
// name and zone end at the first two colons and the components start
// after the last one.
func (c *Config) parseTeam(spec string) (*team, []string, error) {
	name, rest, ok1 := strings.Cut(strings.TrimSpace(spec), ":")
	zone, rest, ok2 := strings.Cut(rest, ":")
	i := strings.LastIndex(rest, ":")
	if !ok1 || !ok2 || i < 0 {
		return nil, nil, errors.New(teamFormat)
	}
	hours, list := strings.TrimSpace(rest[:i]), strings.TrimSpace(rest[i+1:])
	if !teamName.MatchString(name) {
		return nil, nil, fmt.Errorf("team name %q: use letters, digits, '.', '_' and '-'", name)
	}
	// "tokyo:Asia/Tokyo:Mon-Fri 09:00-18:00" cuts the closing time in two.
	if list == "" || onlyDigits.MatchString(list) {
		return nil, nil, fmt.Errorf("no components after the hours; %s", teamFormat)
	}
	if hours == "" {
		hours = c.Hours
	}
	loc, err := calendar.LoadZone(zone)
	if err != nil {
		return nil, nil, err
	}
	h, err := calendar.ParseHours(hours, loc)
	if err != nil {
		return nil, nil, err
	}
	var comps []string
	seen := map[string]bool{}
	for _, comp := range strings.Split(list, ",") {
		comp = strings.ToLower(strings.TrimSpace(comp))
		if !slices.Contains(events.Components(), comp) {
			// Incidents carry the routing's component: a name outside the
			// vocabulary (a service's, say) would never match one.
			return nil, nil, fmt.Errorf("component %q: use the components incidents carry: %s", comp, strings.Join(events.Components(), ", "))
		}
		if !seen[comp] {
			seen[comp] = true
			comps = append(comps, comp)
		}
	}
	return &team{name: name, hours: h}, comps, nil
}
