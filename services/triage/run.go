package main

import (
	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/bugfiler"
	"github.com/triage-pipeline/triage/services/enricher"
	"github.com/triage-pipeline/triage/services/intake"
	"github.com/triage-pipeline/triage/services/queue"
	"github.com/triage-pipeline/triage/services/router"
)

type runCmd struct {
	Intake   intakeCmd   `cmd:"" help:"HTTP API that accepts tickets."`
	Enricher enricherCmd `cmd:"" help:"Attaches logs to submitted tickets."`
	Router   routerCmd   `cmd:"" help:"Routes tickets to the escalation or support queue."`
	Queue    queueCmd    `cmd:"" help:"The engineers' queue and its API."`
	Bugfiler bugfilerCmd `cmd:"" help:"Files GitHub issues for confirmed bugs."`
}

type intakeCmd struct {
	intake.Config `embed:""`
}

func (c *intakeCmd) Run() error {
	return service.Run(c.Log, service.Serve(&c.Config, intake.New))
}

type enricherCmd struct {
	enricher.Config `embed:""`
}

func (c *enricherCmd) Run() error {
	return service.Run(c.Log, service.Serve(&c.Config, enricher.New))
}

type routerCmd struct {
	router.Config `embed:""`
}

func (c *routerCmd) Run() error {
	return service.Run(c.Log, service.Serve(&c.Config, router.New))
}

type queueCmd struct {
	queue.Config `embed:""`
}

func (c *queueCmd) Run() error {
	return service.Run(c.Log, service.Serve(&c.Config, queue.New))
}

type bugfilerCmd struct {
	bugfiler.Config `embed:""`
}

func (c *bugfilerCmd) Run() error {
	return service.Run(c.Log, service.Serve(&c.Config, bugfiler.New))
}
