package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/oopsflow/oopsflow/internal/testenv"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/internal/estest"
	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/elastic"
	"github.com/oopsflow/oopsflow/processor/logline"
	"github.com/oopsflow/oopsflow/signatures"
)

// The tests build the real plugin (and the decode-only baseline) with
// -buildmode=c-shared and drive it with testdata/harness.c, which calls the
// exported symbols the way Fluent Bit does. No Fluent Bit is needed.

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func artifacts(t testing.TB) (plugin, noop, harness string) {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "oopsflow-plugin")
		if buildErr != nil {
			return
		}
		for _, b := range []struct{ out, tags string }{{"out_oopsflow.so", ""}, {"out_oopsflow_noop.so", "oopsflow_noop"}} {
			args := []string{"build", "-buildmode=c-shared", "-o", filepath.Join(buildDir, b.out)}
			if b.tags != "" {
				args = append(args, "-tags", b.tags)
			}
			cmd := exec.Command("go", append(args, ".")...)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", b.out, err, out)
				return
			}
		}
		cc := os.Getenv("CC")
		if cc == "" {
			cc = "cc"
		}
		if out, err := exec.Command(cc, "-O2", "-Wall", "-o", filepath.Join(buildDir, "harness"), "testdata/harness.c", "-ldl", "-lpthread").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("compile harness: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "out_oopsflow.so"), filepath.Join(buildDir, "out_oopsflow_noop.so"), filepath.Join(buildDir, "harness")
}

// lockedBuffer collects the harness's standard error, which exec copies
// from another goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// harness is a running harness process, driven one command at a time.
type harness struct {
	t      testing.TB
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *lockedBuffer
}

func startHarness(t testing.TB, so string) *harness {
	t.Helper()
	_, _, bin := artifacts(t)
	cmd := exec.Command(bin, so)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	h := &harness{t: t, cmd: cmd, in: in, out: bufio.NewReader(out), stderr: &lockedBuffer{}}
	cmd.Stderr = h.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	return h
}

// do sends one command and returns its answer line.
func (h *harness) do(format string, args ...any) string {
	h.t.Helper()
	fmt.Fprintf(h.in, format+"\n", args...)
	line, err := h.out.ReadString('\n')
	if err != nil {
		h.t.Fatalf("harness died on %q: %v\nstderr:\n%s", fmt.Sprintf(format, args...), err, h.stderr)
	}
	return strings.TrimSpace(line)
}

func (h *harness) expect(want string, format string, args ...any) {
	h.t.Helper()
	if got := h.do(format, args...); got != want {
		h.t.Fatalf("%q: got %q, want %q\nstderr:\n%s", fmt.Sprintf(format, args...), got, want, h.stderr)
	}
}

// mp is a minimal msgpack writer for building Fluent Bit chunks.
type mp struct{ bytes.Buffer }

func (m *mp) arr(n int) { m.WriteByte(0x90 | byte(n)) }
func (m *mp) mapHdr(n int) {
	if n < 16 {
		m.WriteByte(0x80 | byte(n))
		return
	}
	m.WriteByte(0xde)
	binary.Write(m, binary.BigEndian, uint16(n))
}
func (m *mp) str(s string) {
	switch {
	case len(s) < 32:
		m.WriteByte(0xa0 | byte(len(s)))
	case len(s) < 256:
		m.WriteByte(0xd9)
		m.WriteByte(byte(len(s)))
	default:
		m.WriteByte(0xda)
		binary.Write(m, binary.BigEndian, uint16(len(s)))
	}
	m.WriteString(s)
}
func (m *mp) uint(v uint64) {
	switch {
	case v < 128:
		m.WriteByte(byte(v))
	case v < 1<<16:
		m.WriteByte(0xcd)
		binary.Write(m, binary.BigEndian, uint16(v))
	case v < 1<<32:
		m.WriteByte(0xce)
		binary.Write(m, binary.BigEndian, uint32(v))
	default:
		m.WriteByte(0xcf)
		binary.Write(m, binary.BigEndian, v)
	}
}

// eventTime writes Fluent Bit's EventTime: ext 0, fixext8, seconds and nanoseconds.
func (m *mp) eventTime(sec, nsec uint32) {
	m.Write([]byte{0xd7, 0x00})
	binary.Write(m, binary.BigEndian, sec)
	binary.Write(m, binary.BigEndian, nsec)
}

type kv struct {
	k string
	v any // string or uint64
}

// record writes one record: v1 [ts, body] or v2 [[ts, {}], body].
// ts is "event" (EventTime), "int" (integer seconds) or "float".
func (m *mp) record(v2 bool, ts string, t time.Time, body []kv) {
	m.arr(2)
	if v2 {
		m.arr(2)
	}
	switch ts {
	case "event":
		m.eventTime(uint32(t.Unix()), uint32(t.Nanosecond()))
	case "int":
		m.uint(uint64(t.Unix()))
	case "float":
		m.WriteByte(0xcb)
		binary.Write(m, binary.BigEndian, math.Float64bits(float64(t.UnixNano())/1e9))
	}
	if v2 {
		m.mapHdr(0)
	}
	m.mapHdr(len(body))
	for _, f := range body {
		m.str(f.k)
		switch v := f.v.(type) {
		case string:
			m.str(v)
		case uint64:
			m.uint(v)
		}
	}
}

// groupMarker writes an OpenTelemetry group start or end record.
func (m *mp) groupMarker(sec uint32) {
	m.arr(2)
	m.arr(2)
	m.eventTime(sec, 0)
	m.mapHdr(0)
	m.mapHdr(0)
}

// kernelTexts returns the kernel text lines of a signature example.
func kernelTexts(t testing.TB, file string) []string {
	t.Helper()
	data, err := signatures.FS.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	d := logline.Decoder{DefaultHost: "x", Console: true}
	var l logline.Line
	for _, raw := range strings.Split(string(data), "\n") {
		if d.Decode([]byte(raw), &l) == nil && l.Kernel {
			out = append(out, string(l.Text))
		}
	}
	return out
}

func writeChunk(t testing.TB, dir, name string, m *mp) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, m.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// doc is a document as the tests read it back.
type doc = document.Document

func readDocs(t testing.TB, path string) []doc {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []doc
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var d doc
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, d)
	}
	return out
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// acked delivers a chunk until the plugin acknowledges it, as Fluent Bit's
// scheduler retries a chunk answered FLB_RETRY.
func (h *harness) acked(n int, file string) {
	h.t.Helper()
	got := h.do("retry %d %s 300 20", n, file)
	if !strings.HasPrefix(got, fmt.Sprintf("retry %d = 1 after", n)) {
		h.t.Fatalf("%s never acknowledged: %q\nstderr:\n%s", file, got, h.stderr)
	}
}

// code is the answer code of a flush line ("flush 0 = 2" -> 2).
func code(t testing.TB, answer string) int {
	t.Helper()
	var n, c int
	if _, err := fmt.Sscanf(answer, "flush %d = %d", &n, &c); err != nil {
		t.Fatalf("answer %q: %v", answer, err)
	}
	return c
}

// Every input shape, both event formats, EventTime/integer/float
// timestamps, []byte strings, group markers and bad records skipped one by
// one; two instances with separate state; init failures; a flush without
// context; the pre-5.0 definition size respected. Every chunk is
// acknowledged once its report is written.
func TestPluginFormatsAndInstances(t *testing.T) {
	so, _, _ := artifacts(t)
	dir := t.TempDir()
	h := startHarness(t, so)
	h.expect("register = 0 name=oopsflow type=2 proxy=11 canary=intact", "register")
	out0, out1 := filepath.Join(dir, "i0.ndjson"), filepath.Join(dir, "i1.ndjson")
	h.expect("init 0 = 1", "init 0 Id=first;OUTPUT=ndjson;path=%s;Hostname=node-kmsg;Idle=;Wall_Idle=100ms", out0) // keys are case-insensitive; empty values are absent
	h.expect("init 1 = 1", "init 1 Id=second;Output=ndjson;Path=%s;Host_Key=source;Wall_Idle=100ms", out1)
	h.expect("init 2 = 0", "init 2 Output=elasticsearch")                                        // no Es_Url
	h.expect("init 3 = 0", "init 3 Output=ndjson;Idle=soon")                                     // invalid duration
	h.expect("init 3 = 0", "init 3 Output=elasticsearch;Es_Url=http://x:9200;Es_Namespace=Prod") // a namespace Elasticsearch refuses
	h.expect("init 3 = 0", "init 3 Output=elasticsearch;Es_Url=x:9200")                          // no scheme

	// Syslog input records (v2, EventTime): the AKS netfs seed.
	var syslog mp
	for i, text := range kernelTexts(t, "examples/netfs-rreq-unlock-xa-retry/aks-node-1075.log") {
		syslog.record(true, "event", t0.Add(time.Duration(i)*time.Millisecond), []kv{{"pri", "4"}, {"time", "Feb 11 03:12:41"}, {"host", "aks-node-4"}, {"ident", "kernel"}, {"message", text}})
	}
	// kmsg records (v1, EventTime, no host, sequence crossing 128 -> uint64),
	// with a group marker pair, a scalar and a record whose body is not a
	// map in the middle: each skipped alone.
	var kmsg mp
	kmsg.groupMarker(0xFFFFFFFF)
	for i, text := range kernelTexts(t, "examples/overlayfs-dentry-refcount-leak/alinux2-rmdir.log") {
		if i == 5 {
			kmsg.uint(7) // not a record
			kmsg.arr(2)  // [ts, "not a map"]
			kmsg.eventTime(uint32(t0.Unix()), 0)
			kmsg.str("not a map")
		}
		kmsg.record(false, "event", t0.Add(time.Duration(i)*time.Millisecond), []kv{{"priority", uint64(4)}, {"sequence", uint64(120 + i)}, {"sec", uint64(49)}, {"usec", uint64(797561 + i)}, {"msg", text}})
	}
	kmsg.groupMarker(0xFFFFFFFE)
	// systemd records (v2, float timestamps): the hung "ip netns add".
	var journal mp
	for i, text := range kernelTexts(t, "examples/netns-cleanup-inet-frags-spin/hung-ip-netns-add.json") {
		journal.record(true, "float", t0.Add(time.Duration(i)*time.Second), []kv{{"_HOSTNAME", "compute-07"}, {"_TRANSPORT", "kernel"}, {"_BOOT_ID", "b1"}, {"PRIORITY", "3"}, {"MESSAGE", text}})
	}
	// tail records (v1, integer timestamps): raw /var/log/messages lines, and a
	// record with a custom host key for instance 1.
	data, _ := signatures.FS.ReadFile("examples/ceph-aio-read-free-null-page/centos7-nginx.log")
	var tail, custom mp
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		tail.record(false, "int", t0, []kv{{"log", line}})
	}
	for i, text := range kernelTexts(t, "examples/tcp-listener-released-socket/arm64-v7-server.log") {
		custom.record(true, "event", t0.Add(time.Duration(i)*time.Millisecond), []kv{{"source", "bank-app-3"}, {"ident", "kernel"}, {"message", text}})
	}

	chunks := []struct {
		n    int
		file string
	}{
		{0, writeChunk(t, dir, "syslog.mp", &syslog)},
		{1, writeChunk(t, dir, "custom.mp", &custom)},
		{0, writeChunk(t, dir, "kmsg.mp", &kmsg)},
		{0, writeChunk(t, dir, "journal.mp", &journal)},
		{0, writeChunk(t, dir, "tail.mp", &tail)},
	}
	for _, c := range chunks {
		if got := code(t, h.do("flush %d %s", c.n, c.file)); got != 1 && got != 2 {
			t.Fatalf("flush %s: %d", c.file, got)
		}
	}
	for _, c := range chunks { // Fluent Bit retries until each is acknowledged
		h.acked(c.n, c.file)
	}
	h.expect("flushnull = 0", "flushnull %s", filepath.Join(dir, "tail.mp"))
	h.expect("exit 0 = 1", "exit 0")
	h.expect("exit 1 = 1", "exit 1")
	h.expect("unregister = ok", "unregister")

	got := map[string]string{}
	for _, d := range readDocs(t, out0) {
		rule := ""
		if d.Rule != nil {
			rule = d.Rule.ID
		}
		if _, dup := got[d.Host.Name]; dup {
			t.Errorf("two documents for host %s", d.Host.Name)
		}
		got[d.Host.Name] = rule
	}
	want := map[string]string{
		"aks-node-4": "netfs-rreq-unlock-xa-retry",
		"node-kmsg":  "overlayfs-dentry-refcount-leak",
		"compute-07": "netns-cleanup-inet-frags-spin",
		"web-29":     "ceph-aio-read-free-null-page",
	}
	for host, rule := range want {
		if got[host] != rule {
			t.Errorf("instance 0, host %s: rule %q, want %q (all: %v)", host, got[host], rule, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("instance 0 documents: %v", got)
	}
	d1 := readDocs(t, out1)
	if len(d1) != 1 || d1[0].Host.Name != "bank-app-3" || d1[0].Rule == nil || d1[0].Rule.ID != "tcp-listener-released-socket" {
		t.Errorf("instance 1 documents: %+v", d1)
	}
	for _, msg := range []string{"needs Es_Url", `namespace "Prod"`, "scheme must be http"} {
		if !h.logged(msg) {
			t.Errorf("init failure %q not explained in the log:\n%s", msg, h.stderr)
		}
	}
	if !h.logged(" stopped: ") {
		t.Errorf("exit summary missing:\n%s", h.stderr)
	}
}

// chunkFor builds a chunk of one signature example's kernel lines for host.
func chunkFor(t testing.TB, dir, name, file, host string) string {
	t.Helper()
	var m mp
	for i, text := range kernelTexts(t, file) {
		m.record(true, "event", t0.Add(time.Duration(i)*time.Millisecond), []kv{{"host", host}, {"ident", "kernel"}, {"message", text}})
	}
	return writeChunk(t, dir, name, &m)
}

const (
	netfsExample = "examples/netfs-rreq-unlock-xa-retry/aks-node-1075.log"
	cephExample  = "examples/ceph-aio-read-free-null-page/centos7-nginx.log"
)

// storedDocs returns the documents in the test double, failing on a report
// stored twice (two ids for the same host and title).
func storedDocs(t testing.TB, srv *estest.Server) map[string]doc {
	t.Helper()
	index := elastic.DataStreamPrefix + "default"
	out := map[string]doc{}
	for _, id := range srv.IDs(index) {
		var d doc
		if err := json.Unmarshal(srv.Doc(index, id), &d); err != nil {
			t.Fatal(err)
		}
		key := d.Host.Name + " " + d.Oops.Title
		if _, dup := out[key]; dup {
			t.Errorf("stored twice: %s", key)
		}
		out[key] = d
	}
	return out
}

// Elasticsearch down: no chunk is acknowledged (its document is not
// durable); new chunks are refused unread while the in-flight bound is
// full, and no flush waits for the outage. Back up: every chunk is
// acknowledged at its next delivery, every report indexed once, whole; an
// acknowledged chunk delivered again is not read twice.
func TestPluginAcknowledgesOnlyDurable(t *testing.T) {
	so, _, _ := artifacts(t)
	dir := t.TempDir()
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.SetDown(true)
	h := startHarness(t, so)
	h.expect("register = 0 name=oopsflow type=2 proxy=11 canary=intact", "register")
	h.expect("init 0 = 1", "init 0 Id=es;Output=elasticsearch;Es_Url=%s;Es_Max_In_Flight=1;Retry_Wait=100ms;Wall_Idle=100ms", srv.URL)
	a := chunkFor(t, dir, "a.mp", netfsExample, "node-a")
	b := chunkFor(t, dir, "b.mp", cephExample, "node-b")
	for i := 0; i < 10; i++ { // retried while down: its document cannot be durable
		if got := code(t, h.do("flush 0 %s", a)); got != 2 {
			t.Fatalf("delivery %d of a chunk whose document is not indexed: %d, want FLB_RETRY", i, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.expect("flush 0 = 2", "flush 0 %s", b) // the in-flight bound is full: refused unread
	if st := srv.Count(elastic.DataStreamPrefix + "default"); st != 0 {
		t.Fatalf("%d documents stored while down", st)
	}
	srv.SetDown(false)
	h.acked(0, a)
	h.acked(0, b)                            // read now for the first time
	h.expect("flush 0 = 1", "flush 0 %s", a) // acknowledged before: not read twice
	h.expect("exit 0 = 1", "exit 0")
	docs := storedDocs(t, srv)
	if len(docs) != 2 {
		t.Fatalf("%d documents in Elasticsearch, want 2: %v", len(docs), docs)
	}
	for key, d := range docs {
		if d.Oops.Truncated || len(d.Oops.CallTrace) == 0 || d.Rule == nil {
			t.Errorf("%s assembled badly: %+v", key, d.Oops)
		}
	}
	if !h.logged("refused unread") {
		t.Errorf("the refusal is not logged:\n%s", h.stderr)
	}
}

// Elasticsearch down at shutdown: Exit gives up within Exit_Timeout and
// says so; the chunk was never acknowledged, so Fluent Bit (restarted from
// its filesystem buffer) delivers it again to the next run, which indexes
// it. Nothing lost, nothing twice.
func TestPluginOutageAtShutdown(t *testing.T) {
	so, _, _ := artifacts(t)
	dir := t.TempDir()
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.Hang(true) // accepts connections, never answers
	a := chunkFor(t, dir, "a.mp", netfsExample, "node-a")
	h := startHarness(t, so)
	h.do("register")
	h.expect("init 0 = 1", "init 0 Output=elasticsearch;Es_Url=%s;Retry_Wait=100ms;Wall_Idle=50ms;Es_Request_Timeout=200ms;Exit_Timeout=500ms", srv.URL)
	for i := 0; i < 5; i++ {
		if got := code(t, h.do("flush 0 %s", a)); got != 2 {
			t.Fatalf("acknowledged while Elasticsearch does not answer: %d", got)
		}
		time.Sleep(60 * time.Millisecond)
	}
	h.expect("exit 0 = 1", "exit 0")
	if !h.logged("not indexed") {
		t.Errorf("the loss at exit is not logged:\n%s", h.stderr)
	}
	srv.Hang(false)
	// Fluent Bit restarts and delivers the unacknowledged chunk again.
	h2 := startHarness(t, so)
	h2.do("register")
	h2.expect("init 0 = 1", "init 0 Output=elasticsearch;Es_Url=%s;Retry_Wait=200ms;Wall_Idle=50ms", srv.URL)
	h2.acked(0, a)
	h2.expect("exit 0 = 1", "exit 0")
	if docs := storedDocs(t, srv); len(docs) != 1 {
		t.Fatalf("%d documents, want 1", len(docs))
	}
}

// NDJSON on a full disk (/dev/full): no chunk is ever acknowledged, the
// failure is logged; the same chunks to a disk with room are written once.
func TestPluginFullDisk(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	so, _, _ := artifacts(t)
	dir := t.TempDir()
	a := chunkFor(t, dir, "a.mp", netfsExample, "node-a")
	b := chunkFor(t, dir, "b.mp", cephExample, "node-b")
	h := startHarness(t, so)
	h.do("register")
	h.expect("init 0 = 1", "init 0 Output=ndjson;Path=/dev/full;Retry_Wait=50ms;Wall_Idle=50ms")
	for i := 0; i < 5; i++ {
		for _, c := range []string{a, b} {
			if got := code(t, h.do("flush 0 %s", c)); got != 2 {
				t.Fatalf("a chunk acknowledged with nowhere to write it: %d", got)
			}
		}
		time.Sleep(60 * time.Millisecond)
	}
	h.expect("exit 0 = 1", "exit 0")
	if !h.logged("no space left") {
		t.Errorf("the full disk is not logged:\n%s", h.stderr)
	}
	out := filepath.Join(dir, "out.ndjson")
	h2 := startHarness(t, so)
	h2.do("register")
	h2.expect("init 0 = 1", "init 0 Output=ndjson;Path=%s;Wall_Idle=50ms", out)
	h2.acked(0, a)
	h2.acked(0, b)
	h2.expect("exit 0 = 1", "exit 0")
	if docs := readDocs(t, out); len(docs) != 2 || docs[0].Host.Name == docs[1].Host.Name {
		t.Fatalf("documents after the disk has room: %+v", docs)
	}
}

// Concurrent flushes of one instance (workers 2) are safe, and shutdown with
// a report half assembled writes it as shutdown, truncated.
func TestPluginWorkersAndShutdown(t *testing.T) {
	so, _, _ := artifacts(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.ndjson")
	h := startHarness(t, so)
	h.do("register")
	h.expect("init 0 = 1", "init 0 Output=ndjson;Path=%s;Wall_Idle=50ms", out)
	c := chunkFor(t, dir, "c.mp", "examples/netns-cleanup-inet-frags-spin/softlockup-inet-evict-bucket.log", "node-c")
	d := chunkFor(t, dir, "d.mp", "examples/overlayfs-dentry-refcount-leak/alinux2-rmdir.log", "node-d")
	h.do("flushpar 0 %s %s", c, d)
	h.acked(0, c)
	h.acked(0, d)
	var half mp
	lines := kernelTexts(t, netfsExample)
	for i, text := range lines[:12] {
		half.record(true, "event", t0.Add(time.Duration(i)*time.Millisecond), []kv{{"host", "node-e"}, {"ident", "kernel"}, {"message", text}})
	}
	h.do("flush 0 %s", writeChunk(t, dir, "half.mp", &half))
	h.expect("exit 0 = 1", "exit 0")
	h.expect("unregister = ok", "unregister")
	docs := readDocs(t, out)
	byHost := map[string]doc{}
	for _, d := range docs {
		byHost[d.Host.Name] = d
	}
	if len(docs) != 3 || byHost["node-c"].Rule == nil || byHost["node-d"].Rule == nil {
		t.Fatalf("documents: %+v", docs)
	}
	if e := byHost["node-e"]; e.Oops.EndReason != "shutdown" || !e.Oops.Truncated {
		t.Fatalf("half report at shutdown: %+v", e.Oops)
	}
}

// BenchmarkFlush: records per second through FLBPluginFlushCtx with ~2 MB
// chunks of generated fleet syslog records, and the same through a build
// that only decodes records, as a ratio.
func BenchmarkFlush(b *testing.B) {
	so, noop, _ := artifacts(b)
	dir := b.TempDir()
	var chunks []string
	records := 0
	var m mp
	lines := fleetLines(b, 120_000)
	for i, line := range lines {
		m.record(true, "event", t0.Add(time.Duration(i)*time.Microsecond), []kv{{"log", line}})
		records++
		if m.Len() >= 2<<20 || i == len(lines)-1 {
			chunks = append(chunks, writeChunk(b, dir, fmt.Sprintf("c%d.mp", len(chunks)), &m))
			m.Reset()
		}
	}
	run := func(so string) float64 {
		h := startHarness(b, so)
		h.do("register")
		h.expect("init 0 = 1", "init 0 Output=ndjson;Path=%s", filepath.Join(dir, "bench.ndjson"))
		var recs int
		var secs float64
		// One round: the plugin acknowledges chunks it has seen without work.
		fmt.Sscanf(h.do("bench 0 1 %d %s", records, strings.Join(chunks, " ")), "bench records=%d seconds=%f", &recs, &secs)
		h.do("exit 0")
		return float64(recs) / secs
	}
	var ours, base float64
	for b.Loop() {
		ours += run(so)
		base += run(noop)
	}
	b.ReportMetric(ours/float64(b.N), "records/s")
	b.ReportMetric(base/float64(b.N), "decode-only-records/s")
	b.ReportMetric(base/ours, "ratio")
}

func fleetLines(b *testing.B, n int) []string {
	b.Helper()
	out, err := exec.Command("go", "run", "../cmd/oopsflow", "gen", "--lines", fmt.Sprint(n), "--hosts", "2000", "--seed", "5").Output()
	if err != nil {
		b.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// TestMain keeps the plugin away from the user's cache directory, where an
// upstream index may be (Upstream_Index defaults to it).
func TestMain(m *testing.M) { testenv.Main(m) }

// Upstream_Index links documents to the syzbot bug with the same title; a
// damaged index fails the instance's start with the file's name.
func TestPluginUpstreamIndex(t *testing.T) {
	so, _, _ := artifacts(t)
	dir := t.TempDir()
	index := filepath.Join(dir, "index.json")
	os.WriteFile(index, []byte(`{"version": 1, "dashboard": "https://syzkaller.appspot.com", "namespaces": ["linux-5.15"],
  "lists": {"linux-5.15/fixed": {"namespace": "linux-5.15", "status": "fixed", "fetched": "2026-12-01T00:00:00Z",
    "bugs": [{"title": "BUG: unable to handle kernel NULL pointer dereference in netfs_rreq_unlock", "link": "https://syzkaller.appspot.com/bug?extid=1",
              "fix": [{"title": "netfs: fix the retry", "hash": "0123456789abcdef0123"}]}]}}}`), 0o644)
	out := filepath.Join(dir, "out.ndjson")
	c := chunkFor(t, dir, "c.mp", netfsExample, "node-u")
	h := startHarness(t, so)
	h.do("register")
	h.expect("init 0 = 1", "init 0 Output=ndjson;Path=%s;Wall_Idle=50ms;Upstream_Index=%s", out, index)
	h.acked(0, c)
	h.expect("exit 0 = 1", "exit 0")
	docs := readDocs(t, out)
	if len(docs) == 0 || docs[0].Oops.Upstream == nil || docs[0].Oops.Upstream.FixCommits[0].Hash != "0123456789abcdef0123" {
		t.Fatalf("documents: %+v", docs)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("garbage"), 0o644)
	h2 := startHarness(t, so)
	h2.do("register")
	if got := h2.do("init 0 Output=ndjson;Path=%s;Upstream_Index=%s", out, bad); !strings.Contains(got, "= 0") {
		t.Fatalf("damaged index: %q\n%s", got, h2.stderr.String())
	}
	if !h2.logged(bad) {
		t.Fatalf("the damaged index is not named:\n%s", h2.stderr.String())
	}
}

// Signatures directories are watched: a new signature is used within
// seconds, a broken file leaves the set in use and is logged.
func TestPluginReloadsSignatures(t *testing.T) {
	so, _, _ := artifacts(t)
	dir := t.TempDir()
	sigDir := filepath.Join(dir, "fleet-signatures")
	os.MkdirAll(filepath.Join(sigDir, "examples"), 0o755)
	for _, f := range []string{"aks-node-1075.log", "nvme-null-deref.log"} {
		b, err := signatures.FS.ReadFile("examples/netfs-rreq-unlock-xa-retry/" + f)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(sigDir, "examples", f), b, 0o644)
	}
	sig := func(id, function, expect string) string {
		return "id: " + id + "\nname: \"" + id + " (a user's signature)\"\ndescription: a known issue of this fleet\ncategory: filesystem\nseverity: 6\nversion: 1\nreferences: []\nremediation: upgrade the node kernel\nmatch:\n  - name: by function\n    require:\n      - {field: ip.function, equals: " + function + "}\nexamples:\n  - file: examples/aks-node-1075.log\n    expect: " + expect + "\n  - file: examples/nvme-null-deref.log\n    expect: no_match\n"
	}
	os.WriteFile(filepath.Join(sigDir, "other-bug.yaml"), []byte(sig("other-bug", "no_such_function", "no_match")), 0o644)
	out := filepath.Join(dir, "out.ndjson")
	h := startHarness(t, so)
	h.do("register")
	h.expect("init 0 = 1", "init 0 Output=ndjson;Path=%s;Wall_Idle=50ms;Signatures=%s;No_Builtin_Signatures=on", out, sigDir)
	ruleOf := func(host string) string {
		for _, d := range readDocs(t, out) {
			if d.Host.Name == host {
				if d.Rule == nil {
					return "-"
				}
				return d.Rule.ID + "@" + d.Rule.Ruleset
			}
		}
		return ""
	}
	h.acked(0, chunkFor(t, dir, "a.mp", netfsExample, "node-a"))
	if r := ruleOf("node-a"); r != "-" {
		t.Fatalf("before: %s", r)
	}
	os.WriteFile(filepath.Join(sigDir, "my-netfs-bug.yaml"), []byte(sig("my-netfs-bug", "netfs_rreq_unlock", "match")), 0o644)
	if !h.logged("signatures reloaded") {
		t.Fatalf("no reload:\n%s", h.stderr.String())
	}
	h.acked(0, chunkFor(t, dir, "b.mp", netfsExample, "node-b"))
	if r := ruleOf("node-b"); r != "my-netfs-bug@fleet-signatures" {
		t.Fatalf("after the reload: %s", r)
	}
	os.WriteFile(filepath.Join(sigDir, "broken-bug.yaml"), []byte("id: broken-bug\nseverity: [\n"), 0o644)
	if !h.logged("broken-bug.yaml") {
		t.Fatalf("the broken file is not logged:\n%s", h.stderr.String())
	}
	h.acked(0, chunkFor(t, dir, "c.mp", netfsExample, "node-c"))
	if r := ruleOf("node-c"); r != "my-netfs-bug@fleet-signatures" {
		t.Fatalf("after a broken file: %s", r)
	}
	h.expect("exit 0 = 1", "exit 0")
}

// logged waits (up to 10 s) for the harness's stderr, which is read as it
// comes, to contain msg.
func (h *harness) logged(msg string) bool {
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(h.stderr.String(), msg) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// Fluent Bit killed while one node's report had ended and the next node's
// had begun, with the first report's "Kernel panic" trailer in a later
// chunk: the chunk holding the first report's head must not have been
// acknowledged, so that the restarted Fluent Bit delivers it again and the
// trailer is not read alone (a crash counted twice). Nothing lost, nothing
// twice.
func TestPluginKilledBetweenInterleavedReports(t *testing.T) {
	so, _, _ := artifacts(t)
	dir := t.TempDir()
	srv := estest.New("8.15.0")
	defer srv.Close()
	at := 0
	chunk := func(name string, lines ...[2]string) string {
		var m mp
		for _, l := range lines {
			m.record(true, "event", t0.Add(time.Duration(at)*time.Millisecond), []kv{{"host", l[0]}, {"ident", "kernel"}, {"message", l[1]}})
			at++
		}
		return writeChunk(t, dir, name, &m)
	}
	var head [][2]string
	for _, text := range kernelTexts(t, netfsExample) {
		if strings.HasPrefix(text, "Kernel panic") || strings.HasPrefix(text, "---[ end Kernel panic") {
			break
		}
		head = append(head, [2]string{"node-a", text})
	}
	c1 := chunk("1.mp", head...)
	c2 := chunk("2.mp", [2]string{"node-b", "general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] SMP NOPTI"})
	c3 := chunk("3.mp", [2]string{"node-a", "Kernel panic - not syncing: Fatal exception"}, [2]string{"node-a", "---[ end Kernel panic - not syncing: Fatal exception ]---"})
	c4 := chunk("4.mp", [2]string{"node-b", "RIP: 0010:list_del+0x1a/0x40"}, [2]string{"node-b", "Call Trace:"},
		[2]string{"node-b", " release_pages+0x1b4/0x4f0"}, [2]string{"node-b", "---[ end trace 00000000deadbeef ]---"},
		[2]string{"node-b", "Kernel panic - not syncing: Fatal exception"}, [2]string{"node-b", "---[ end Kernel panic - not syncing: Fatal exception ]---"})
	const keys = "Output=elasticsearch;Es_Url=%s;Retry_Wait=100ms;Wall_Idle=300ms"

	h := startHarness(t, so)
	h.do("register")
	h.expect("init 0 = 1", "init 0 "+keys, srv.URL)
	acked := map[string]bool{}
	for _, c := range []string{c1, c2, c3} {
		acked[c] = code(t, h.do("flush 0 %s", c)) == 1
	}
	// node-a's report is complete and indexed; node-b's is open. Fluent
	// Bit asks again for the chunks not yet acknowledged, then dies.
	waitFor(t, "node-a's report indexed", func() bool { return len(srv.IDs(elastic.DataStreamPrefix+"default")) == 1 })
	for _, c := range []string{c1, c2, c3} {
		if !acked[c] {
			acked[c] = code(t, h.do("flush 0 %s", c)) == 1
		}
	}
	if acked[c1] {
		t.Errorf("the chunk with node-a's report head was acknowledged while node-b's report, begun before node-a's trailer, was open")
	}
	h.cmd.Process.Kill()
	h.cmd.Wait()

	// The restarted Fluent Bit delivers what was not acknowledged, then the rest.
	h2 := startHarness(t, so)
	h2.do("register")
	h2.expect("init 0 = 1", "init 0 "+keys, srv.URL)
	for _, c := range []string{c1, c2, c3, c4} {
		if !acked[c] {
			h2.do("flush 0 %s", c)
		}
	}
	for _, c := range []string{c1, c2, c3, c4} {
		if !acked[c] {
			h2.acked(0, c)
		}
	}
	h2.expect("exit 0 = 1", "exit 0")
	docs := storedDocs(t, srv)
	if len(docs) != 2 {
		t.Errorf("%d documents, want node-a's and node-b's reports:", len(docs))
		for k := range docs {
			t.Errorf("  %s", k)
		}
	}
	for k, d := range docs {
		if d.Oops.Truncated {
			t.Errorf("%s truncated (%s)", k, d.Oops.EndReason)
		}
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
