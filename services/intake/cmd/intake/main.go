// Command intake runs the intake service on its own against a NATS server.
package main

import (
	"os"

	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/intake"
)

func main() {
	var cfg intake.Config
	os.Exit(service.Main("intake", &cfg, os.Args[1:], service.Serve(&cfg, intake.New)))
}
