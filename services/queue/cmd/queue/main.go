// Command queue runs the queue service on its own against a NATS server.
package main

import (
	"os"

	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/queue"
)

func main() {
	var cfg queue.Config
	os.Exit(service.Main("queue", &cfg, os.Args[1:], service.Serve(&cfg, queue.New)))
}
