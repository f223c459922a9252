package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/triage-pipeline/triage/libs/service"
	"github.com/triage-pipeline/triage/services/triage/bench"
	"github.com/triage-pipeline/triage/services/triage/pipeline"
)

type benchCmd struct {
	bench.Config `embed:""`
	CPUProfile   string `name:"cpuprofile" type:"path" help:"Write a CPU profile of the whole run (server and load) to this file."`
}

func (c *benchCmd) Run() error {
	ctx, stop := service.SignalContext(context.Background())
	defer stop()
	pipeline.TuneGC()
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	return bench.Run(ctx, c.Config, os.Stdout)
}
