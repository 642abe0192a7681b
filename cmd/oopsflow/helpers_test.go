package main

import (
	"fmt"
	"github.com/oopsflow/oopsflow/processor/config"
	"strings"
)

// fmtSscan reads the crash count from gen's summary line.
func fmtSscan(summary string, crashes *int) (int, error) {
	i := strings.Index(summary, "hosts, ")
	if i < 0 {
		return 0, fmt.Errorf("no crash count")
	}
	return fmt.Sscanf(summary[i+len("hosts, "):], "%d crash", crashes)
}

// loadConsumeConfig loads a YAML file as consume would, with no
// environment and no flags.
func loadConsumeConfig(path string) (*config.Config, error) {
	return config.Load(config.Sources{Front: config.Consume, Environ: func() []string { return []string{config.FileEnv + "=" + path} }})
}
