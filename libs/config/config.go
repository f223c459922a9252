// Package config loads a service's configuration from flags and the
// environment into one struct, with defaults and validation, using kong.
package config

import (
	"fmt"

	"github.com/alecthomas/kong"
)

// Load parses args (and the TRIAGE_* environment) into cfg, applies the
// defaults in its struct tags, and runs every Validate() method in it.
func Load(name string, cfg any, args []string) error {
	parser, err := kong.New(cfg, kong.Name(name), kong.Exit(func(int) {}))
	if err != nil {
		return fmt.Errorf("configuration schema: %w", err)
	}
	if _, err := parser.Parse(args); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return nil
}
