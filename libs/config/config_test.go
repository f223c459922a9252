package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

type Inner struct {
	Limit int `name:"limit" default:"5"`
}

func (c *Inner) Validate() error {
	if c.Limit < 1 {
		return errors.New("--limit must be positive")
	}
	return nil
}

type outer struct {
	Inner `embed:""`
	Part  part   `embed:"" prefix:"part-"`
	Name  string `name:"name" default:"x"`
}

func (c *outer) Validate() error {
	if c.Name == "" {
		return errors.New("--name is required")
	}
	return nil
}

type part struct {
	Size int `name:"size" default:"1"`
}

func (p *part) Validate() error {
	if p.Size > 10 {
		return errors.New("--part-size must be at most 10")
	}
	return nil
}

// promoted holds Inner without a Validate of its own, so Inner's is
// promoted to it and must still be reported once.
type promoted struct {
	Inner `embed:""`
}

func TestValidateAfterChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*outer)
		want   []string
	}{
		{name: "defaults pass", change: func(*outer) {}},
		{name: "own method", change: func(c *outer) { c.Name = "" }, want: []string{"--name is required"}},
		{name: "embedded method", change: func(c *outer) { c.Limit = 0 }, want: []string{"--limit must be positive"}},
		{name: "field struct method", change: func(c *outer) { c.Part.Size = 11 }, want: []string{"--part-size"}},
		{name: "all at once", change: func(c *outer) { c.Name, c.Limit, c.Part.Size = "", 0, 11 },
			want: []string{"--name", "--limit", "--part-size"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c outer
			if err := Load("test", &c, nil); err != nil {
				t.Fatalf("defaults: %v", err)
			}
			tc.change(&c)
			err := Validate(&c)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted a bad configuration")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	var p promoted
	if err := Load("test", &p, nil); err != nil {
		t.Fatal(err)
	}
	p.Limit = 0
	if err := Validate(&p); err == nil || strings.Count(err.Error(), "--limit") != 1 {
		t.Fatalf("promoted Validate: %v, want one --limit error", err)
	}
}

func TestValidateNeedsAPointer(t *testing.T) {
	var c outer
	for _, bad := range []any{c, (*outer)(nil), 3} {
		if err := Validate(bad); err == nil {
			t.Errorf("Validate(%T) checked nothing and said nothing", bad)
		}
	}
}
