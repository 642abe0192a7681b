package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/oopsflow/oopsflow/internal/estest"
	"github.com/oopsflow/oopsflow/processor/elastic"
)

// These tests run the real binary as a separate process, to kill it and
// signal it as an operator or an orchestrator would.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds oopsflow once per test run, static, as the image has it.
func binary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "oopsflow-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "oopsflow")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=test", "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, b)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// SIGTERM to a scan reading an open pipe: it exits 143 after writing the
// report it was assembling, as shutdown.
func TestScanProcessSIGTERM(t *testing.T) {
	data, err := os.ReadFile(examples + "netfs-rreq-unlock-xa-retry/aks-node-1075.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	cmd := exec.Command(binary(t), "scan", "--format", "ndjson", "-")
	stdin, _ := cmd.StdinPipe()
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, strings.Join(lines[:len(lines)/2], "\n")+"\n")
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("scan ignored SIGTERM")
	}
	stdin.Close()
	if code := cmd.ProcessState.ExitCode(); code != exitSIGTERM {
		t.Fatalf("exit %d, want %d: %s", code, exitSIGTERM, errb.String())
	}
	docs := parseNDJSON(t, out.String())
	if len(docs) != 1 || docs[0].Oops.EndReason != "shutdown" {
		t.Fatalf("documents: %+v", docs)
	}
}

// consumer is an "oopsflow consume" process.
type consumer struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

func startConsumer(t *testing.T, args ...string) *consumer {
	t.Helper()
	c := &consumer{cmd: exec.Command(binary(t), append([]string{"consume"}, args...)...), stderr: &syncBuffer{}, done: make(chan error, 1)}
	c.cmd.Stderr = c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() { c.cmd.Process.Kill() })
	return c
}

// stop sends sig and waits for the exit.
func (c *consumer) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	c.cmd.Process.Signal(sig)
	select {
	case <-c.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("consume did not exit after %v; log:\n%s", sig, c.stderr.String())
	}
	return c.cmd.ProcessState.ExitCode()
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// A consumer process killed with SIGKILL mid-stream, restarted, then the
// broker restarted under it, then stopped with SIGTERM: every report is
// indexed exactly once, each the same document scan makes of the same
// lines.
func TestConsumeKilledAndBrokerRestarted(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "fleet.log")
	if code, _, errs := runCmd(t, "", "gen", "--lines", "40000", "--hosts", "60", "--crash-every", "400", "--rate", "400", "--seed", "21", "-o", logFile); code != 0 {
		t.Fatal(errs)
	}
	// A line ten minutes later on every partition: the reports still open
	// at the end close by log time, in scan as in consume.
	data, _ := os.ReadFile(logFile)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	const partitions = 3
	var tails []string
	covered := map[int]bool{}
	for i := 0; len(covered) < partitions; i++ {
		host := fmt.Sprintf("tail-%d", i)
		p := (&kafkago.Hash{}).Balance(kafkago.Message{Key: []byte(host)}, 0, 1, 2)
		if !covered[p] {
			covered[p] = true
			tails = append(tails, "2026-03-01T01:00:00.000000+00:00 "+host+" systemd[1]: Finished.")
		}
	}
	lines = append(lines, tails...)
	os.WriteFile(logFile, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	code, out, errs := runCmd(t, "", "scan", "--format", "ndjson", logFile)
	if code != 0 {
		t.Fatal(errs)
	}
	want := map[string]doc{}
	for _, d := range parseNDJSON(t, out) {
		want[d.Event.ID] = d
	}

	port := freePort(t)
	kdir := filepath.Join(dir, "kafka")
	newCluster := func() *kfake.Cluster {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(kdir), kfake.SeedTopics(partitions, "fleet"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	kc := newCluster()
	defer func() { kc.Close() }()
	brokers := kc.ListenAddrs()
	w := &kafkago.Writer{Addr: kafkago.TCP(brokers...), Topic: "fleet", Balancer: &kafkago.Hash{}, BatchTimeout: 5 * time.Millisecond, BatchSize: 1000, RequiredAcks: kafkago.RequireAll}
	var batch []kafkago.Message
	for _, l := range lines {
		batch = append(batch, kafkago.Message{Key: []byte(hostOf(l)), Value: []byte(l)})
	}
	if err := w.WriteMessages(context.Background(), batch...); err != nil {
		t.Fatal(err)
	}
	w.Close()

	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.SetDelay(5 * time.Millisecond)
	cfgFile := filepath.Join(dir, "consume.yaml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf("kafka:\n  brokers: [%s]\n  topic: fleet\n  group: g\nelasticsearch:\n  urls: [%s]\n  max_in_flight: 20\nassembly:\n  wall_idle: 30s\nmetrics_addr: \"\"\n", brokers[0], srv.URL)), 0o644)
	index := elastic.DataStreamPrefix + "default"
	waitCount := func(n int, within time.Duration, c *consumer) {
		t.Helper()
		deadline := time.Now().Add(within)
		for srv.Count(index) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d documents after %s; log:\n%s", srv.Count(index), n, within, c.stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	a := startConsumer(t, "--config", cfgFile)
	waitCount(len(want)/3, 60*time.Second, a)
	a.cmd.Process.Kill() // SIGKILL: no hand-over, no last commit
	<-a.done
	b := startConsumer(t, "--config", cfgFile)
	waitCount(2*len(want)/3, 60*time.Second, b)
	kc.Close() // the broker goes away, and comes back with its data
	time.Sleep(time.Second)
	kc = newCluster()
	waitCount(len(want), 120*time.Second, b)
	if code := b.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("consume exit %d after SIGTERM; log:\n%s", code, b.stderr.String())
	}
	got := map[string]bool{}
	for _, id := range srv.IDs(index) {
		var d doc
		if err := json.Unmarshal(srv.Doc(index, id), &d); err != nil {
			t.Fatal(err)
		}
		got[id] = true
		w, ok := want[id]
		if !ok {
			t.Errorf("extra document %s: %s %q (%s)", id, d.Host.Name, d.Oops.Title, d.Oops.EndReason)
			continue
		}
		if d.Oops.Title != w.Oops.Title || d.Error.StackTrace != w.Error.StackTrace || d.Oops.EndReason != w.Oops.EndReason {
			t.Errorf("document %s differs from scan's: %q %s vs %q %s", id, d.Oops.Title, d.Oops.EndReason, w.Oops.Title, w.Oops.EndReason)
		}
	}
	for id, d := range want {
		if !got[id] {
			t.Errorf("missing document %s: %s %q", id, d.Host.Name, d.Oops.Title)
		}
	}
}

// hostOf is the Kafka key a log shipper gives a line: its host name.
func hostOf(line string) string {
	if strings.HasPrefix(line, "{") {
		var rec struct {
			Host string `json:"_HOSTNAME"`
		}
		json.Unmarshal([]byte(line), &rec)
		return rec.Host
	}
	f := strings.Fields(line)
	switch {
	case strings.HasPrefix(line, "<") && len(f) > 2: // RFC 5424: <pri>1 time host
		return f[2]
	case len(f) > 3 && len(f[0]) == 3: // RFC 3164: Mon dd hh:mm:ss host
		return f[3]
	case len(f) > 1:
		return f[1]
	}
	return ""
}

// Standard output on a full disk: consume exits 1 with the reason instead
// of committing past documents it never wrote.
func TestConsumeOutputFailsExit1(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full")
	}
	defer full.Close()
	kc := syslogBroker(t, 1)
	data, _ := os.ReadFile(examples + "netfs-rreq-unlock-xa-retry/aks-node-1075.log")
	w := &kafkago.Writer{Addr: kafkago.TCP(kc.ListenAddrs()...), Topic: "syslog", BatchTimeout: 5 * time.Millisecond}
	var msgs []kafkago.Message
	first := int64(-1) // offset of the report's first line
	for i, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if first < 0 && strings.Contains(l, " kernel: ") {
			first = int64(i)
		}
		msgs = append(msgs, kafkago.Message{Key: []byte("aks-node"), Value: []byte(l)})
	}
	msgs = append(msgs, kafkago.Message{Key: []byte("aks-node"), Value: []byte("Feb 11 04:12:41 aks-node-4 sshd[1]: much later")})
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, errs := runOut(t, ctx, strings.NewReader(""), full, "consume", "--brokers", strings.Join(kc.ListenAddrs(), ","), "--topic", "syslog", "--output", "ndjson", "--metrics-addr", "")
	if ctx.Err() != nil {
		t.Fatal("consume did not stop when its output failed")
	}
	if code != 1 || !strings.Contains(errs, "no space left") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	cl := &kafkago.Client{Addr: kafkago.TCP(kc.ListenAddrs()...), Timeout: 5 * time.Second}
	res, err := cl.OffsetFetch(context.Background(), &kafkago.OffsetFetchRequest{GroupID: "oopsflow", Topics: map[string][]int{"syslog": {0}}})
	if err != nil {
		t.Fatal(err)
	}
	if off := res.Topics["syslog"][0].CommittedOffset; off > first {
		t.Fatalf("committed offset %d: past the report that was never written (offset %d)", off, first)
	}
}
