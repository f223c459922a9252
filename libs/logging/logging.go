// Package logging builds the zap loggers every service uses.
package logging

import (
	"fmt"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Config selects level and encoding.
type Config struct {
	Level string `name:"log-level" env:"TRIAGE_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Log level (debug, info, warn, error)."`
	// The default is json for the separate services; a command may set the
	// kong variable log_format (the one-process run sets console).
	Format string `name:"log-format" env:"TRIAGE_LOG_FORMAT" default:"${log_format=json}" enum:"json,console" help:"Log encoding (json, console)."`
}

// New returns a logger writing to stderr.
func New(cfg Config) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(cfg.Level)
	if err != nil {
		return nil, fmt.Errorf("log level %q: %w", cfg.Level, err)
	}
	zc := zap.NewProductionConfig()
	if cfg.Format == "console" {
		zc = zap.NewDevelopmentConfig()
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		zc.DisableStacktrace = true
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	zc.EncoderConfig.TimeKey = "ts"
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	zc.Sampling = nil
	log, err := zc.Build()
	if err != nil {
		return nil, fmt.Errorf("build logger: %w", err)
	}
	return log, nil
}

// TicketID is the field every log line about a ticket carries.
func TicketID(id string) zap.Field { return zap.String("ticket_id", id) }
