package main

import (
	"fmt"
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
