// Package config loads a service's configuration from flags and the
// environment into one struct, with defaults and validation, using kong.
package config

import (
	"errors"
	"fmt"
	"reflect"

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

// Validate runs every Validate() method in cfg (a pointer to a struct)
// again, the struct's own and those of the exported structs it holds; for a
// configuration changed in code after loading (the one-process pipeline sets
// shared parts). Failures with the same text are reported once.
func Validate(cfg any) error {
	var errs []error
	seen := map[string]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walk(v.Field(i))
			}
		}
		if !v.CanAddr() {
			return
		}
		if c, ok := v.Addr().Interface().(interface{ Validate() error }); ok {
			// An embedded struct's Validate is promoted to its holder when
			// the holder has none: report each failure once.
			if err := c.Validate(); err != nil && !seen[err.Error()] {
				seen[err.Error()] = true
				errs = append(errs, err)
			}
		}
	}
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("configuration: Validate needs a pointer to a struct, got %T", cfg)
	}
	walk(v)
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return nil
}
