package main

import (
	"os"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/triage-pipeline/triage/libs/dev/testkit"
)

// TestMain fails the package's tests if any leaves a goroutine running.
func TestMain(m *testing.M) { testkit.Main(m) }

// Every command line the README shows must parse.
func TestCommandLinesParse(t *testing.T) {
	for _, args := range [][]string{
		{"dev", "--data-dir", "/tmp/x", "--no-demo-tickets"},
		{"run", "intake", "--nats-url", "nats://nats:4222", "--http-addr", ":8080"},
		{"run", "enricher", "--es-addresses", "http://es:9200", "--es-index", "logs-*"},
		{"run", "router", "--rules", "../router/rules.yaml"},
		{"run", "queue", "--max-wait", "10s"},
		{"run", "bugfiler"},
		{"submit", "-t", "rst-0042", "-s", "カード決済ができない", "-d", "19:05頃から…", "--order-id", "ord_2611211905", "--occurred-at", "2026-11-21T19:05:00+09:00"},
		{"submit", "--json", "-", "-o", "json"},
		{"deadletters", "list", "--json"},
		{"deadletters", "replay", "7", "9"},
		{"deadletters", "replay", "--all"},
		{"bench", "--rate", "200", "--duration", "5s"},
		{"eval", "--seeds", "1,2"},
		{"signatures"},
		{"esdev", "--addr", "127.0.0.1:9200", "--no-demo"},
		{"reconcile", "--older-than", "5m"},
		{"tokens", "issue", "--name", "alice", "--role", "admin"},
		{"tokens", "list", "--json"},
		{"tokens", "revoke", "abc123"},
	} {
		var c cli
		parser, err := kong.New(&c, kong.Name("triage"), kong.Exit(func(int) { t.Fatalf("exit on %v", args) }))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parser.Parse(args); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// The one-process run logs for people (console); the services keep JSON.
func TestLogFormatDefaults(t *testing.T) {
	t.Setenv("TRIAGE_LOG_FORMAT", "") // restored after the test
	os.Unsetenv("TRIAGE_LOG_FORMAT")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dev"}, "console"},
		{[]string{"dev", "--log-format", "json"}, "json"},
		{[]string{"run", "queue"}, "json"},
	} {
		var c cli
		parser, err := kong.New(&c, kong.Name("triage"), kong.Exit(func(int) { t.Fatalf("exit on %v", tc.args) }))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parser.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		got := c.Dev.Log.Format
		if tc.args[0] == "run" {
			got = c.Run.Queue.Log.Format
		}
		if got != tc.want {
			t.Errorf("%v: log format %q, want %q", tc.args, got, tc.want)
		}
	}
}
