package assemble

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/processor/logline"
)

// BenchmarkAssemble feeds kernel lines of 2,000 hosts: mostly noise, with a
// report every 1,000 lines.
func BenchmarkAssemble(b *testing.B) {
	report := strings.Split(oopsText, "\n")
	var lines []logline.Line
	for i := 0; i < 100_000; i++ {
		host := fmt.Sprintf("host-%04d", i%2000)
		text := "IPv6: ADDRCONF(NETDEV_CHANGE): vethe7796: link becomes ready"
		if i%1000 < len(report) {
			host = fmt.Sprintf("crash-%d", i/1000)
			text = report[i%1000]
		}
		lines = append(lines, logline.Line{Host: host, Kernel: true, Text: []byte(text), Time: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		a := New(Config{}, func(*Report) { n++ })
		for i := range lines {
			a.Add(&lines[i], lines[i].Time, int64(i))
		}
		a.Flush(EOF)
	}
	b.ReportMetric(float64(len(lines))*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkAddSteady is the cost of one ordinary kernel line (no report) of
// a fleet of 2,000 hosts, once the assembler has warmed up: op is one line.
// Lines that start no report cost no allocation.
func BenchmarkAddSteady(b *testing.B) {
	const hosts = 2000
	var lines []logline.Line
	for i := 0; i < 50*hosts; i++ {
		text := fmt.Sprintf("IPv6: ADDRCONF(NETDEV_CHANGE): veth%06x: link becomes ready", i)
		lines = append(lines, logline.Line{HostRaw: []byte(fmt.Sprintf("host-%04d", (i*7919)%hosts)), Kernel: true, Text: []byte(text),
			Time: t0.Add(time.Duration(i) * time.Microsecond), Uptime: time.Duration(i) * time.Microsecond, HasUptime: true})
	}
	a := New(Config{}, func(*Report) {})
	classes := make([]Class, len(lines))
	for i := range lines {
		classes[i] = a.Classify(&lines[i])
		a.AddClassified(&lines[i], lines[i].Time, int64(i), classes[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		a.AddClassified(&lines[i], lines[i].Time, int64(i), classes[i])
		if i++; i == len(lines) {
			i = 0
		}
	}
}
