// Package fleetgen writes realistic fleet syslog: many hosts, each in its
// own syslog format, mostly noise (user space and ordinary kernel chatter,
// including look-alikes such as an application printing "BUG:" or a kernel
// "segfault at" line), with kernel crash reports interleaved line by line
// across hosts. Crashes are drawn from the knowledge base's examples (known
// issues and their look-alikes) and from built-in unknown crashes; some are
// cut short as if the machine died. Output is deterministic for a seed, so
// demos and benchmarks are reproducible.
package fleetgen

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/oopsflow/oopsflow/processor/logline"
)

// Config says what to generate.
type Config struct {
	Hosts      int       // number of hosts (default 2000)
	Lines      int64     // lines to write (default 1,000,000)
	CrashEvery int64     // start a crash every N lines on average (default 20,000)
	CutRate    float64   // fraction of crashes cut short (default 0.1)
	Seed       uint64    // random seed (default 1)
	Start      time.Time // time of the first line (default 2026-03-01T00:00:00Z)
	Rate       int       // fleet lines per second of log time (default 20,000)
	// Formats weights the per-host syslog format: rfc3164, rfc3339, rfc5424,
	// journald. Default 60/25/10/5.
	Formats map[string]int
	// Examples holds the signature examples (signatures.FS); crash bodies
	// are taken from every *.log and *.json file under examples/.
	Examples fs.FS
	// JSON writes each line as a JSON record {"host": ..., "log": line}, as
	// a log shipper would, so that a Kafka output can key it by host.
	JSON bool
	// KernelShare, when set (0..1), is the fraction of noise lines that the
	// kernel prints; by default about a quarter.
	KernelShare float64
	// Realtime paces the output at Rate lines per second of wall-clock time
	// (a live stream for demos) instead of writing as fast as possible.
	Realtime bool
}

// Stats says what was generated.
type Stats struct {
	Lines   int64
	Bytes   int64
	Crashes int64 // crash reports started
	Cut     int64 // of which cut short
}

type format uint8

const (
	f3164 format = iota
	f3339
	f5424
	fJournald
)

type host struct {
	name   string
	format format
	boot   string
	uptime time.Duration // at Start
}

type crash struct {
	host  *host
	lines []string
	next  int
	stop  int // lines to emit (shorter when cut)
}

// Generate writes the fleet log to w.
func Generate(w io.Writer, cfg Config) (Stats, error) {
	cfg = withDefaults(cfg)
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	bodies, err := crashBodies(cfg.Examples)
	if err != nil {
		return Stats{}, err
	}
	hosts := makeHosts(cfg, rng)
	bw := bufio.NewWriterSize(w, 1<<20)
	g := &gen{cfg: cfg, rng: rng, w: bw, hosts: hosts}
	var active []*crash
	busy := map[*host]bool{}
	step := time.Second / time.Duration(cfg.Rate)
	wallStart := time.Now()
	for i := int64(0); i < cfg.Lines; i++ {
		g.now = cfg.Start.Add(time.Duration(i) * step)
		if cfg.Realtime && i%100 == 0 {
			if ahead := time.Duration(i)*step - time.Since(wallStart); ahead > 0 {
				if err := bw.Flush(); err != nil {
					return g.stats, fmt.Errorf("write: %w", err)
				}
				time.Sleep(ahead)
			}
		}
		if rng.Int64N(cfg.CrashEvery) == 0 {
			h := hosts[rng.IntN(len(hosts))]
			if !busy[h] {
				body := bodies[rng.IntN(len(bodies))]
				c := &crash{host: h, lines: body, stop: len(body)}
				if rng.Float64() < cfg.CutRate && len(body) > 6 {
					c.stop = 3 + rng.IntN(len(body)-4)
					g.stats.Cut++
				}
				active = append(active, c)
				busy[h] = true
				g.stats.Crashes++
			}
		}
		if len(active) > 0 && rng.IntN(4) == 0 {
			k := rng.IntN(len(active))
			c := active[k]
			g.kernel(c.host, c.lines[c.next])
			c.next++
			if c.next >= c.stop {
				active = append(active[:k], active[k+1:]...)
				delete(busy, c.host)
			}
			continue
		}
		g.noise(hosts[rng.IntN(len(hosts))])
	}
	if err := bw.Flush(); err != nil {
		return g.stats, fmt.Errorf("write: %w", err)
	}
	return g.stats, g.err
}

func withDefaults(c Config) Config {
	if c.Hosts <= 0 {
		c.Hosts = 2000
	}
	if c.Lines <= 0 {
		c.Lines = 1_000_000
	}
	if c.CrashEvery <= 0 {
		c.CrashEvery = 20_000
	}
	if c.CutRate < 0 || c.CutRate > 1 {
		c.CutRate = 0.1
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	}
	if c.Rate <= 0 {
		c.Rate = 20_000
	}
	if c.Formats == nil {
		c.Formats = map[string]int{"rfc3164": 60, "rfc3339": 25, "rfc5424": 10, "journald": 5}
	}
	return c
}

func makeHosts(cfg Config, rng *rand.Rand) []*host {
	order := []struct {
		name string
		f    format
	}{{"rfc3164", f3164}, {"rfc3339", f3339}, {"rfc5424", f5424}, {"journald", fJournald}}
	total := 0
	for _, o := range order {
		total += cfg.Formats[o.name]
	}
	if total == 0 {
		total = 1
		cfg.Formats = map[string]int{"rfc3164": 1}
	}
	roles := []string{"web", "db", "k8s-node", "cache", "batch", "edge", "ceph", "gpu"}
	hosts := make([]*host, cfg.Hosts)
	for i := range hosts {
		pick := rng.IntN(total)
		f := f3164
		for _, o := range order {
			if pick < cfg.Formats[o.name] {
				f = o.f
				break
			}
			pick -= cfg.Formats[o.name]
		}
		hosts[i] = &host{
			name:   fmt.Sprintf("%s-%04d", roles[i%len(roles)], i),
			format: f,
			boot:   fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()),
			uptime: time.Duration(3600+rng.IntN(30*86400)) * time.Second,
		}
	}
	return hosts
}

// crashBodies extracts the kernel text of every example log, plus the
// built-in unknown crashes.
func crashBodies(fsys fs.FS) ([][]string, error) {
	var bodies [][]string
	for _, b := range builtinCrashes {
		bodies = append(bodies, splitLines(b))
	}
	if fsys == nil {
		return bodies, nil
	}
	err := fs.WalkDir(fsys, "examples", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		dec := logline.Decoder{DefaultHost: "x", Console: true}
		var body []string
		var l logline.Line
		for _, raw := range bytes.Split(data, []byte("\n")) {
			if dec.Decode(raw, &l) != nil || !l.Kernel {
				continue
			}
			body = append(body, string(l.Text))
		}
		if len(body) > 0 {
			bodies = append(bodies, body)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read examples: %w", err)
	}
	return bodies, nil
}

func splitLines(s string) []string {
	var out []string
	for _, l := range bytes.Split([]byte(s), []byte("\n")) {
		if len(l) > 0 {
			out = append(out, string(l))
		}
	}
	return out
}

type gen struct {
	cfg   Config
	rng   *rand.Rand
	w     *bufio.Writer
	hosts []*host
	now   time.Time
	buf   []byte
	stats Stats
	err   error
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// prefix appends the syslog prefix of h's format up to the message.
func (g *gen) prefix(b []byte, h *host, ident string, pid int, kernel bool) []byte {
	t := g.now
	switch h.format {
	case f3164:
		b = append(b, months[t.Month()-1]...)
		b = append(b, ' ')
		if t.Day() < 10 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(t.Day()), 10)
		b = append(b, ' ')
		b = t.AppendFormat(b, "15:04:05")
		b = append(b, ' ')
		b = append(b, h.name...)
		b = append(b, ' ')
		b = appendIdent(b, ident, pid)
	case f3339:
		b = t.AppendFormat(b, "2006-01-02T15:04:05.000000-07:00")
		b = append(b, ' ')
		b = append(b, h.name...)
		b = append(b, ' ')
		b = appendIdent(b, ident, pid)
	case f5424:
		if kernel {
			b = append(b, "<4>1 "...)
		} else {
			b = append(b, "<30>1 "...)
		}
		b = t.AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
		b = append(b, ' ')
		b = append(b, h.name...)
		b = append(b, ' ')
		b = append(b, ident...)
		b = append(b, ' ')
		if pid > 0 {
			b = strconv.AppendInt(b, int64(pid), 10)
		} else {
			b = append(b, '-')
		}
		b = append(b, " - - "...)
	}
	if kernel {
		b = g.uptime(b, h)
	}
	return b
}

func appendIdent(b []byte, ident string, pid int) []byte {
	b = append(b, ident...)
	if pid > 0 {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(pid), 10)
		b = append(b, ']')
	}
	return append(b, ": "...)
}

// uptime appends "[ 1234.567890] ".
func (g *gen) uptime(b []byte, h *host) []byte {
	up := h.uptime + g.now.Sub(g.cfg.Start)
	sec := int64(up / time.Second)
	usec := int64(up%time.Second) / 1000
	b = append(b, '[')
	s := strconv.AppendInt(nil, sec, 10)
	for i := len(s); i < 5; i++ {
		b = append(b, ' ')
	}
	b = append(b, s...)
	b = append(b, '.')
	u := strconv.AppendInt(nil, usec, 10)
	for i := len(u); i < 6; i++ {
		b = append(b, '0')
	}
	b = append(b, u...)
	return append(b, "] "...)
}

func (g *gen) line(h *host, ident string, pid int, kernel bool, msg string) {
	var b []byte
	if h.format == fJournald {
		b = g.journald(h, ident, pid, kernel, msg)
	} else {
		b = g.prefix(g.buf[:0], h, ident, pid, kernel)
		b = append(b, msg...)
		g.buf = b
	}
	if g.cfg.JSON {
		rec, err := json.Marshal(struct {
			Host string `json:"host"`
			Log  string `json:"log"`
		}{h.name, string(b)})
		if err != nil {
			g.err = err
			return
		}
		b = rec
	}
	g.write(append(b, '\n'))
}

func (g *gen) journald(h *host, ident string, pid int, kernel bool, msg string) []byte {
	rec := map[string]string{
		"__REALTIME_TIMESTAMP": strconv.FormatInt(g.now.UnixMicro(), 10),
		"_HOSTNAME":            h.name,
		"_BOOT_ID":             h.boot,
		"SYSLOG_IDENTIFIER":    ident,
		"MESSAGE":              msg,
		"PRIORITY":             "6",
		"_TRANSPORT":           "syslog",
	}
	if kernel {
		rec["_TRANSPORT"] = "kernel"
		rec["PRIORITY"] = "4"
		up := h.uptime + g.now.Sub(g.cfg.Start)
		rec["_SOURCE_MONOTONIC_TIMESTAMP"] = strconv.FormatInt(int64(up/time.Microsecond), 10)
	} else if pid > 0 {
		rec["_PID"] = strconv.Itoa(pid)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		g.err = err
	}
	return b
}

func (g *gen) write(b []byte) {
	if g.err != nil {
		return
	}
	if _, err := g.w.Write(b); err != nil {
		g.err = err
		return
	}
	g.stats.Lines++
	g.stats.Bytes += int64(len(b))
}

func (g *gen) kernel(h *host, text string) { g.line(h, "kernel", 0, true, text) }

// noise writes one ordinary line.
func (g *gen) noise(h *host) {
	r := g.rng
	pid := 300 + r.IntN(60000)
	n := r.IntN(100)
	if k := g.cfg.KernelShare; k > 0 {
		// Lines 76..99 of the mix below are the kernel's.
		if r.Float64() < k {
			n = 76 + r.IntN(24)
		} else {
			n = r.IntN(76)
		}
	}
	switch {
	case n < 18:
		g.line(h, "sshd", pid, false, "Accepted publickey for deploy from 10."+strconv.Itoa(r.IntN(255))+"."+strconv.Itoa(r.IntN(255))+"."+strconv.Itoa(r.IntN(255))+" port "+strconv.Itoa(30000+r.IntN(30000))+" ssh2: ED25519 SHA256:q8N4cGzYkKx1VtT0WmH3pFz2eU7bA9sRjL5oQiXyD6c")
	case n < 32:
		g.line(h, "systemd", 1, false, "Started Session "+strconv.Itoa(r.IntN(90000))+" of User deploy.")
	case n < 44:
		g.line(h, "CRON", pid, false, "(root) CMD (/usr/lib/sysstat/debian-sa1 1 1)")
	case n < 58:
		g.line(h, "kubelet", 1893, false, "I0301 00:00:01.118223    1893 kubelet_getters.go:182] \"Pod status updated\" pod=\"default/api-7d9c5b6f4-"+strconv.Itoa(r.IntN(99999))+"\" status=\"Running\"")
	case n < 68:
		g.line(h, "containerd", 1411, false, "time=\"2026-03-01T00:00:01Z\" level=info msg=\"shim disconnected\" id="+strconv.FormatUint(r.Uint64(), 16)+" namespace=k8s.io")
	case n < 74:
		g.line(h, "nginx", pid, false, "2026/03/01 00:00:01 [error] 9377#0: *88211 upstream timed out (110: Connection timed out) while reading response header from upstream")
	case n < 76:
		// User space printing kernel-like words must never start a report.
		g.line(h, "app-worker", pid, false, "BUG: invariant violated in order queue; WARNING: retrying; general protection fault handler installed")
	case n < 84:
		g.kernel(h, "IPv6: ADDRCONF(NETDEV_CHANGE): veth"+strconv.FormatUint(r.Uint64()&0xffffff, 16)+": link becomes ready")
	case n < 89:
		g.kernel(h, "audit: type=1400 audit("+strconv.Itoa(1700000000+r.IntN(1e8))+".123:"+strconv.Itoa(r.IntN(1e6))+"): apparmor=\"DENIED\" operation=\"open\" profile=\"cri-containerd.apparmor.d\" name=\"/proc/sys/kernel/random/boot_id\" pid="+strconv.Itoa(pid)+" comm=\"node\" requested_mask=\"r\" denied_mask=\"r\" fsuid=1000 ouid=0")
	case n < 92:
		g.kernel(h, "EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro. Quota mode: none.")
	case n < 94:
		g.kernel(h, "nf_conntrack: nf_conntrack: table full, dropping packet")
	case n < 96:
		g.kernel(h, "TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.  Check SNMP counters.")
	case n < 98:
		// A user-space crash reported by the kernel: not a kernel report.
		g.kernel(h, "python3["+strconv.Itoa(pid)+"]: segfault at 0 ip 00007f3ecc5b2c4d sp 00007fff64cd5d58 error 4 in libc.so.6[7f3ecc400000+195000] likely on CPU 3 (core 3, socket 0)")
	default:
		g.kernel(h, "device veth"+strconv.FormatUint(r.Uint64()&0xffffff, 16)+" entered promiscuous mode")
	}
}
