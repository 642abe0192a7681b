package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/oopsflow/oopsflow/internal/estest"
	"github.com/oopsflow/oopsflow/processor/elastic"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// "oopsflow consume" end to end: config file, flags over it, Kafka (kfake)
// to Elasticsearch (test double), metrics and probes, clean stop on cancel.
func TestConsumeCommand(t *testing.T) {
	kc := syslogBroker(t, 2)
	srv := estest.New("8.15.0")
	defer srv.Close()
	produceExample(t, kc, "syslog", "netfs-rreq-unlock-xa-retry/aks-node-1075.log", "aks-nodepool1-38117407-vmss000004")

	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "oopsflow.yaml")
	os.WriteFile(cfgFile, []byte("kafka:\n  brokers: [nowhere:9092]\n  topic: syslog\n  group: g1\nelasticsearch:\n  urls: ["+srv.URL+"]\n  namespace: test\nassembly:\n  idle: 1s\n"), 0o644)
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"consume", "--config", cfgFile, "--brokers", strings.Join(kc.ListenAddrs(), ","), "--metrics-addr", addr}, strings.NewReader(""), io.Discard, &stderr)
	}()
	index := elastic.DataStreamPrefix + "test"
	deadline := time.Now().Add(30 * time.Second)
	for srv.Count(index) < 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if srv.Count(index) != 1 {
		t.Fatalf("no document indexed; log:\n%s", stderr.String())
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz %d", code)
	}
	// Offsets are committed every second once documents are durable: the
	// per-partition gauges appear with the first commit.
	_, metrics := get("/metrics")
	// (Offsets of lines before the report may be committed before the
	// report is indexed: wait for both.)
	for !(strings.Contains(metrics, "oopsflow_committed_offset") && strings.Contains(metrics, "oopsflow_sink_indexed_total 1")) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		_, metrics = get("/metrics")
	}
	for _, name := range []string{"oopsflow_lines_total", `oopsflow_reports_total{type="null_pointer_dereference"} 1`, `oopsflow_known_issue_matches_total{rule_id="netfs-rreq-unlock-xa-retry"} 1`, "oopsflow_sink_indexed_total 1", "oopsflow_committed_offset", "oopsflow_commit_lag",
		`oopsflow_sink_request_duration_seconds_count{outcome="ok"}`, "oopsflow_sink_sent_bytes_total", "oopsflow_build_info{"} {
		if !strings.Contains(metrics, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d; log:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("consume did not stop on cancel")
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop in the log:\n%s", stderr.String())
	}
}

func TestConsumeUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("kafka:\n  brokrs: [x]\n"), 0o644)
	for _, args := range [][]string{
		{"consume"},
		{"consume", "--brokers", "x:9092"},
		{"consume", "--brokers", "x:9092", "--topic", "t", "--output", "carrier-pigeon"},
		{"consume", "--brokers", "x:9092", "--topic", "t", "--start", "middle"},
		{"consume", "--brokers", "x:9092", "--topic", "t", "--kafka-sasl-mechanism", "GSSAPI", "--kafka-sasl-user", "u"},
		{"consume", "--config", bad},
	} {
		if code, _, errs := runCmd(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errs)
		}
	}
}

// A user signature written into a consumer's signature directory is used
// within seconds; a broken file leaves the set in use working and moves
// the failure metric.
func TestConsumeReloadsSignatures(t *testing.T) {
	kc := syslogBroker(t, 1)
	srv := estest.New("8.15.0")
	defer srv.Close()
	// The report under a host name of our choosing.
	produce := func(host string) {
		t.Helper()
		produceExample(t, kc, "syslog", "netfs-rreq-unlock-xa-retry/aks-node-1075.log", host)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "examples"), 0o755)
	for _, f := range []string{"aks-node-1075.log", "nvme-null-deref.log"} {
		b, _ := os.ReadFile(examples + "netfs-rreq-unlock-xa-retry/" + f)
		os.WriteFile(filepath.Join(dir, "examples", f), b, 0o644)
	}
	sig := func(id, function string) string {
		return "id: " + id + "\nname: \"" + id + " (a user's signature)\"\ndescription: a known issue of this fleet\ncategory: filesystem\nseverity: 6\nversion: 1\nreferences: []\nremediation: upgrade the node kernel\nmatch:\n  - name: by function\n    require:\n      - {field: ip.function, equals: " + function + "}\nexamples:\n  - file: examples/aks-node-1075.log\n    expect: " + map[bool]string{true: "match", false: "no_match"}[function == "netfs_rreq_unlock"] + "\n  - file: examples/nvme-null-deref.log\n    expect: no_match\n"
	}
	os.WriteFile(filepath.Join(dir, "other-bug.yaml"), []byte(sig("other-bug", "no_such_function")), 0o644)

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"consume", "--brokers", strings.Join(kc.ListenAddrs(), ","), "--topic", "syslog", "--group", "g", "--es-url", srv.URL,
			"--es-namespace", "reload", "--signatures", dir, "--no-builtin-signatures", "--metrics-addr", addr}, strings.NewReader(""), io.Discard, &stderr)
	}()
	metrics := func() string {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; log:\n%s", what, stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	index := elastic.DataStreamPrefix + "reload"
	ruleOf := func(host string) string {
		for _, id := range srv.IDs(index) {
			var d doc
			if err := json.Unmarshal(srv.Doc(index, id), &d); err == nil && d.Host.Name == host {
				if d.Rule == nil {
					return "-"
				}
				return d.Rule.ID + "@" + d.Rule.Ruleset
			}
		}
		return ""
	}
	waitFor("the metrics", func() bool { return strings.Contains(metrics(), "oopsflow_signatures_loaded 1") })
	if !regexp.MustCompile(`oopsflow_build_info\{goversion="go[^"]+",revision="[^"]+",version="[^"]+"\} 1`).MatchString(metrics()) {
		t.Errorf("no oopsflow_build_info:\n%s", metrics())
	}
	produce("node-before")
	waitFor("the first document", func() bool { return ruleOf("node-before") != "" })
	if r := ruleOf("node-before"); r != "-" {
		t.Fatalf("matched %s before the signature existed", r)
	}
	os.WriteFile(filepath.Join(dir, "my-netfs-bug.yaml"), []byte(sig("my-netfs-bug", "netfs_rreq_unlock")), 0o644)
	waitFor("the reload", func() bool { return strings.Contains(metrics(), "oopsflow_signatures_loaded 2") })
	produce("node-after")
	waitFor("the second document", func() bool { return ruleOf("node-after") != "" })
	if r := ruleOf("node-after"); r != "my-netfs-bug@"+filepath.Base(dir) {
		t.Fatalf("after the reload: %s", r)
	}
	os.WriteFile(filepath.Join(dir, "broken-bug.yaml"), []byte("id: broken-bug\nseverity: [\n"), 0o644)
	waitFor("the failure metric", func() bool { return strings.Contains(metrics(), "oopsflow_signatures_reload_failures_total 1") })
	if !strings.Contains(stderr.String(), "broken-bug.yaml") {
		t.Errorf("the log does not name the broken file:\n%s", stderr.String())
	}
	produce("node-broken")
	waitFor("the third document", func() bool { return ruleOf("node-broken") != "" })
	if r := ruleOf("node-broken"); r != "my-netfs-bug@"+filepath.Base(dir) {
		t.Fatalf("after a broken file: %s", r)
	}
	cancel()
	<-done
}

// A destination error that lasts (here a writer without auto_configure)
// stops commits, turns /readyz not ready with the reason and the fix,
// moves oopsflow_sink_stalled and is logged; nothing is dead-lettered.
// Granting the privilege lets the waiting document in, and it recovers.
func TestConsumeStallsOnMissingPrivilege(t *testing.T) {
	kc := syslogBroker(t, 1)
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.Grant(estest.Privileges{Index: map[string][]string{"logs-kernel.oops-*": {"create_doc"}}})
	produceExample(t, kc, "syslog", "netfs-rreq-unlock-xa-retry/aks-node-1075.log", "node")
	dir := t.TempDir()
	dead := filepath.Join(dir, "dead.ndjson")
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"consume", "--brokers", strings.Join(kc.ListenAddrs(), ","), "--topic", "syslog", "--group", "g-stall",
			"--es-url", srv.URL, "--es-timeout", "1s", "--dead-letter", dead, "--metrics-addr", addr}, strings.NewReader(""), io.Discard, &stderr)
	}()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := get("/readyz")
		_, metrics := get("/metrics")
		if code == 503 && strings.Contains(body, "auto_configure") && strings.Contains(metrics, "oopsflow_sink_stalled 1") && strings.Contains(stderr.String(), "not being indexed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stall reported: /readyz %d %q\nlog:\n%s", code, body, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Nothing past the waiting report is committed: the lag stays above 0.
	if _, metrics := get("/metrics"); strings.Contains(metrics, "oopsflow_commit_lag{partition=\"0\"} 0\n") {
		t.Errorf("offsets committed past the waiting document:\n%s", metrics)
	}
	srv.Grant(estest.Privileges{Index: map[string][]string{"logs-kernel.oops-*": {"auto_configure", "create_doc"}}})
	for {
		code, _ := get("/readyz")
		if code == 200 && srv.Count(elastic.DataStreamPrefix+"default") == 1 {
			break
		}
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("no recovery: /readyz %d, %d stored\nlog:\n%s", code, srv.Count(elastic.DataStreamPrefix+"default"), stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(dead); err == nil {
		t.Error("a document was dead-lettered for a missing privilege")
	}
	cancel()
	if code := <-done; code != 0 && code != exitSIGTERM {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
}

// produceExample writes an example log to a topic of the in-process broker,
// one message per line, keyed and renamed to host.
func produceExample(t *testing.T, kc *kfake.Cluster, topic, file, host string) {
	t.Helper()
	data, err := os.ReadFile(examples + file)
	if err != nil {
		t.Fatal(err)
	}
	w := &kafkago.Writer{Addr: kafkago.TCP(kc.ListenAddrs()...), Topic: topic, Balancer: &kafkago.Hash{}, BatchTimeout: 5 * time.Millisecond}
	defer w.Close()
	var msgs []kafkago.Message
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		msgs = append(msgs, kafkago.Message{Key: []byte(host), Value: []byte(strings.Replace(l, "aks-nodepool1-38117407-vmss000004", host, 1))})
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

// syslogBroker starts an in-process Kafka broker with a topic "syslog" of
// the given partitions, closed when the test ends.
func syslogBroker(t *testing.T, partitions int) *kfake.Cluster {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), "syslog"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	return kc
}
