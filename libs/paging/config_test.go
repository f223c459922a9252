package paging

import (
	"strings"
	"testing"

	"github.com/triage-pipeline/triage/libs/config"
)

// Bad settings fail the load with a message naming the flag and the bad
// value.
func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string // substrings of the error
	}{
		{"unknown time zone", []string{"--paging-timezone", "Mars/Olympus"}, []string{"--paging-timezone", `time zone "Mars/Olympus"`}},
		{"empty time zone", []string{"--paging-timezone", ""}, []string{"--paging-timezone: time zone is empty"}},
		{"hours without days", []string{"--paging-hours", "09:00-18:00"}, []string{"--paging-hours", `"09:00-18:00"`, "want days and hours"}},
		{"unknown day", []string{"--paging-hours", "Mon-Fry 09:00-18:00"}, []string{`--paging-hours: hours "Mon-Fry 09:00-18:00": unknown day in "mon-fry"`}},
		{"bad times", []string{"--paging-hours", "Mon-Fri 9-18"}, []string{`"Mon-Fri 9-18"`, "want opening and closing times"}},
		{"closing before opening", []string{"--paging-hours", "Mon-Fri 18:00-09:00"}, []string{"want opening and closing times"}},
		{"team without parts", []string{"--paging-team", "tokyo"}, []string{`--paging-team "tokyo"`, "want name:Time/Zone:hours:component"}},
		{"team with a bad zone", []string{"--paging-team", "tokyo:Asia/Tokio:Mon-Fri 09:00-18:00:payment"},
			[]string{`--paging-team "tokyo:Asia/Tokio:Mon-Fri 09:00-18:00:payment"`, `time zone "Asia/Tokio"`}},
		{"team with bad hours", []string{"--paging-team", "tokyo:Asia/Tokyo:Weekdays 09:00-18:00:payment"}, []string{`unknown day in "weekdays"`}},
		{"team without components", []string{"--paging-team", "tokyo:Asia/Tokyo:Mon-Fri 09:00-18:00"}, []string{"no components after the hours"}},
		{"team with a bad name", []string{"--paging-team", "to kyo:Asia/Tokyo::payment"}, []string{`team name "to kyo"`}},
		{"component in two teams", []string{"--paging-team", "tokyo:Asia/Tokyo::payment", "--paging-team", "berlin:Europe/Berlin::Payment"},
			[]string{`component "payment" already belongs to team "tokyo"`}},
		{"team named twice", []string{"--paging-team", "default:Asia/Tokyo::payment"}, []string{`team "default" named twice`}},
		{"lease too short", []string{"--paging-lease", "15s", "--paging-timeout", "10s"}, []string{"--paging-lease (15s) must exceed twice --paging-timeout (10s)"}},
		{"bad PagerDuty URL", []string{"--paging-pagerduty-routing-key-file", "/dev/null", "--paging-pagerduty-url", "events.pagerduty.com"},
			[]string{`--paging-pagerduty-url: "events.pagerduty.com" is not an http(s) URL`}},
		{"bad webhook URL", []string{"--paging-webhook-url", "hooks.example.com/T0KEN"}, []string{"--paging-webhook-url is not an http(s) URL"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cfg Config
			err := config.Load("paging-test", &cfg, c.args)
			if err == nil {
				t.Fatalf("%v loaded", c.args)
			}
			t.Log(err)
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "T0KEN") {
				t.Errorf("error %q repeats the webhook URL", err)
			}
		})
	}
}

// Teams come from repeated flags or one ;-separated variable; empty hours
// are the default team's.
func TestConfigTeams(t *testing.T) {
	t.Setenv("TRIAGE_PAGING_TEAMS", "tokyo:Asia/Tokyo:Mon-Fri 09:00-18:00:Printer, Menu;berlin:Europe/Berlin::billing")
	var cfg Config
	if err := config.Load("paging-test", &cfg, []string{"--paging-hours", "Mon-Sat 08:00-20:00"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Enabled() {
		t.Error("paging on without targets")
	}
	def, teams, err := cfg.teams()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"printer": "tokyo", "menu": "tokyo", "billing": "berlin"}
	if len(teams) != len(want) {
		t.Errorf("teams by component %v, want %v", teams, want)
	}
	for comp, name := range want {
		if teams[comp] == nil || teams[comp].name != name {
			t.Errorf("component %s: team %v, want %s", comp, teams[comp], name)
		}
	}
	if got := teams["billing"].hours.String(); got != "Mon-Sat 08:00-20:00 Europe/Berlin" {
		t.Errorf("berlin's hours %q, want the default hours in Berlin", got)
	}
	if def.name != DefaultTeam || def.hours.String() != "Mon-Sat 08:00-20:00 UTC" {
		t.Errorf("default team %s %s", def.name, def.hours)
	}
}
