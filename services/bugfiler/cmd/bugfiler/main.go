// Command bugfiler runs the bug filer on its own against a NATS server.
package main

import (
	"os"

	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/bugfiler"
)

func main() {
	var cfg bugfiler.Config
	os.Exit(service.Main("bugfiler", &cfg, os.Args[1:], service.Serve(&cfg, bugfiler.New)))
}
