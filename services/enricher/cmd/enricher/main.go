// Command enricher runs the enricher service on its own against a NATS server.
package main

import (
	"os"

	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/enricher"
)

func main() {
	var cfg enricher.Config
	os.Exit(service.Main("enricher", &cfg, os.Args[1:], service.Serve(&cfg, enricher.New)))
}
