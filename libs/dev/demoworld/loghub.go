package demoworld

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// legacyLine is one Loghub line: its system, level and content.
type legacyLine struct {
	system  string
	level   string
	content string
}

// loadLogHub reads the Content (and Level, where present) column of every
// <System>/<System>_2k.log_structured.csv under dir, in sorted path order.
func loadLogHub(dir string) ([]legacyLine, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", "*_2k.log_structured.csv"))
	if err != nil {
		return nil, fmt.Errorf("list loghub files in %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no *_2k.log_structured.csv files under %s", dir)
	}
	slices.Sort(paths)
	var lines []legacyLine
	for _, p := range paths {
		got, err := readLogHubFile(p)
		if err != nil {
			return nil, err
		}
		lines = append(lines, got...)
	}
	return lines, nil
}

func readLogHubFile(path string) ([]legacyLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open loghub file: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read header of %s: %w", path, err)
	}
	content, level := slices.Index(header, "Content"), slices.Index(header, "Level")
	if content < 0 {
		return nil, fmt.Errorf("%s has no Content column", path)
	}
	system := strings.ToLower(filepath.Base(filepath.Dir(path)))
	var lines []legacyLine
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if content >= len(rec) || rec[content] == "" {
			continue
		}
		l := legacyLine{system: system, level: LevelInfo, content: rec[content]}
		if level >= 0 && level < len(rec) {
			l.level = normaliseLevel(rec[level])
		}
		lines = append(lines, l)
	}
}

// normaliseLevel maps the systems' own level words onto ECS's five.
func normaliseLevel(level string) string {
	switch strings.ToLower(level) {
	case "debug", "trace":
		return LevelDebug
	case "warn", "warning":
		return LevelWarn
	case "error", "err", "severe", "failure":
		return LevelError
	case "fatal", "critical", "crit", "emerg", "alert":
		return LevelFatal
	}
	return LevelInfo
}

// legacy spreads Loghub lines over the period as the legacy-batch service:
// real text from unrelated systems, with no tenant, to keep the enricher
// and the template miner honest.
func (g *generator) legacy(lines []legacyLine, rng *rand.Rand) {
	n := g.cfg.Days * g.cfg.LegacyLogsPerDay
	span := int64(g.end.Sub(g.start))
	for range n {
		line := lines[rng.IntN(len(lines))]
		at := g.start.Add(time.Duration(rng.Int64N(span)))
		l := platform(at, ServiceLegacyBatch, line.level, line.content)
		l.Event.Dataset = ServiceLegacyBatch + "." + line.system
		g.emit(l)
	}
}
