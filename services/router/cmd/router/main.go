// Command router runs the router service on its own against a NATS server.
package main

import (
	"os"

	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/router"
)

func main() {
	var cfg router.Config
	os.Exit(service.Main("router", &cfg, os.Args[1:], service.Serve(&cfg, router.New)))
}
