package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/triage-pipeline/triage/libs/dev/harness/bench"
	"github.com/triage-pipeline/triage/libs/dev/harness/pipeline"
	"github.com/triage-pipeline/triage/libs/service"
)

type benchCmd struct {
	bench.Config `embed:""`
	CPUProfile   string `name:"cpuprofile" type:"path" help:"Write a CPU profile of this process to this file: with --no-processes the whole pipeline and the load, otherwise the load alone."`
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
