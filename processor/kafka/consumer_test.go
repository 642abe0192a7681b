package kafka

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/oopsflow/oopsflow/internal/estest"
	"github.com/oopsflow/oopsflow/internal/fleetgen"
	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/elastic"
	"github.com/oopsflow/oopsflow/processor/logline"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/pipeline"
	"github.com/oopsflow/oopsflow/signatures"
)

const topic = "fleet-syslog"

// cluster is an in-process Kafka wire-protocol broker (kfake).
func cluster(t testing.TB, partitions int) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), topic),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(16 << 20)}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

type msg struct{ key, value string }

func produce(t testing.TB, brokers []string, msgs []msg) {
	t.Helper()
	w := &kafkago.Writer{Addr: kafkago.TCP(brokers...), Topic: topic, Balancer: &kafkago.Hash{}, BatchTimeout: 5 * time.Millisecond, BatchSize: 1000, BatchBytes: 16 << 20, RequiredAcks: kafkago.RequireAll}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	batch := make([]kafkago.Message, 0, 1000)
	for i, m := range msgs {
		batch = append(batch, kafkago.Message{Key: []byte(m.key), Value: []byte(m.value)})
		if len(batch) == cap(batch) || i == len(msgs)-1 {
			if err := w.WriteMessages(ctx, batch...); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// fleet generates fleet syslog and keys each line by its host, as Fluent
// Bit's or rsyslog's Kafka output would.
func fleet(t testing.TB, lines int64, seed uint64) ([]msg, int64) {
	t.Helper()
	var buf bytes.Buffer
	st, err := fleetgen.Generate(&buf, fleetgen.Config{Lines: lines, Hosts: 60, CrashEvery: 300, Seed: seed, CutRate: -1 /* default */, Examples: signatures.FS})
	if err != nil {
		t.Fatal(err)
	}
	d := logline.Decoder{}
	var l logline.Line
	var out []msg
	for _, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if err := d.Decode([]byte(line), &l); err != nil {
			t.Fatalf("generated line undecodable: %q", line)
		}
		out = append(out, msg{l.Host, line})
	}
	return append(out, tail(l.Time.Add(10*time.Minute))...), st.Crashes
}

// tail is one line at time at on every partition of a topic of up to 8
// partitions: log time moves on everywhere, and the reports still open
// close by log time, as they would in a stream that goes on.
func tail(at time.Time) []msg {
	var out []msg
	need := map[[2]int]bool{}
	for n := 1; n <= 8; n++ {
		for p := 0; p < n; p++ {
			need[[2]int{n, p}] = true
		}
	}
	for i := 0; len(need) > 0; i++ {
		host := fmt.Sprintf("tail-%d", i)
		useful := false
		for n := 1; n <= 8; n++ {
			p := (&kafkago.Hash{}).Balance(kafkago.Message{Key: []byte(host)}, seq(n)...)
			if need[[2]int{n, p}] {
				delete(need, [2]int{n, p})
				useful = true
			}
		}
		if useful {
			out = append(out, msg{host, at.Format(time.RFC3339Nano) + " " + host + " systemd[1]: Finished."})
		}
	}
	return out
}

func newES(t testing.TB, srv *estest.Server, maxInFlight int) *elastic.Sink {
	t.Helper()
	s, err := elastic.NewSink(elastic.Config{
		Addresses: []string{srv.URL}, FlushInterval: 20 * time.Millisecond, RetryBase: 10 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		MaxRetries: 1, MaxInFlight: maxInFlight, RequestTimeout: 2 * time.Second,
		DeadLetter: elastic.NewFileDeadLetter(nopWriteCloser{&bytes.Buffer{}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type nopWriteCloser struct{ *bytes.Buffer }

func (nopWriteCloser) Close() error { return nil }

// member is one consumer process: consumer + ES sink.
type member struct {
	c      *Consumer
	sink   *elastic.Sink
	cancel context.CancelFunc
	done   chan error
}

func testConfig(brokers []string) Config {
	return Config{
		Brokers: brokers, Topic: topic, GroupID: "oopsflow-test",
		CommitInterval: 50 * time.Millisecond, HandOverTimeout: 2 * time.Second,
		HeartbeatInterval: 100 * time.Millisecond, SessionTimeout: 6 * time.Second,
		RebalanceTimeout: 3 * time.Second, JoinGroupBackoff: 200 * time.Millisecond, MaxWait: 100 * time.Millisecond,
		// Reports still open when the input stops close after 10 s of
		// silence (5 minutes by default); the test inputs end with a line
		// far ahead in log time, which closes them sooner.
		Pipeline: pipeline.Config{WallIdle: 10 * time.Second},
	}
}

func start(t testing.TB, cfg Config, srv *estest.Server, maxInFlight int) *member {
	t.Helper()
	sigs, err := matcher.Load(signatures.FS)
	if err != nil {
		t.Fatal(err)
	}
	m := &member{done: make(chan error, 1)}
	m.sink = newES(t, srv, maxInFlight)
	c, err := New(cfg, matcher.New(sigs), m.sink)
	if err != nil {
		t.Fatal(err)
	}
	m.c = c
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() { m.done <- c.Run(ctx) }()
	return m
}

// stop shuts the member down gracefully.
func (m *member) stop(t testing.TB) {
	t.Helper()
	m.cancel()
	if err := <-m.done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.sink.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func index() string { return elastic.DataStreamPrefix + "default" }

// expected runs the messages through one plain pipeline, as if a single
// consumer had read them without interruption: the documents every run
// must end up with.
func expected(msgs []msg) map[string]*document.Document {
	out := map[string]*document.Document{}
	sigs, err := matcher.Load(signatures.FS)
	if err != nil {
		panic(err)
	}
	p := pipeline.New(pipeline.Config{}, matcher.New(sigs), pipeline.OutputFunc(func(d *document.Document) error { out[d.Event.ID] = d; return nil }))
	ctx := context.Background()
	for i, m := range msgs {
		p.LineHost(ctx, []byte(m.value), []byte(m.key), int64(i))
	}
	p.Close(ctx, assemble.EOF)
	return out
}

// checkStored compares the stored documents with the expected ones, by id:
// none missing, none extra (a report split in two would have two ids), and
// none cut by the consumer (the generator cuts some crashes itself; those
// end idle).
func checkStored(t testing.TB, srv *estest.Server, msgs []msg, crashes int64) {
	t.Helper()
	want := expected(msgs)
	if int64(len(want)) != crashes {
		t.Fatalf("reference pipeline: %d documents for %d generated crashes", len(want), crashes)
	}
	stored := map[string]bool{}
	for _, id := range srv.IDs(index()) {
		stored[id] = true
		var d document.Document
		if err := json.Unmarshal(srv.Doc(index(), id), &d); err != nil {
			t.Fatal(err)
		}
		if want[id] == nil {
			part := -1
			if d.Oops.Source.Partition != nil {
				part = *d.Oops.Source.Partition
			}
			t.Errorf("extra document %s: host %s %q end %s, partition %d offsets %v", id, d.Host.Name, d.Oops.Title, d.Oops.EndReason, part, d.Oops.Source.Offsets)
		}
		switch d.Oops.EndReason {
		case string(assemble.Shutdown), string(assemble.Evicted), string(assemble.MaxLines):
			t.Errorf("document %s ended %s: a report was cut by the consumer", id, d.Oops.EndReason)
		}
		if d.Oops.Source.Topic != topic || d.Oops.Source.Partition == nil || len(d.Oops.Source.Offsets) != 2 {
			t.Errorf("document %s: source %+v", id, d.Oops.Source)
		}
	}
	for id, d := range want {
		if !stored[id] {
			t.Errorf("missing document %s: host %s %q", id, d.Host.Name, d.Oops.Title)
		}
	}
}

// Many hosts' interleaved oopses across several partitions: every report
// indexed once.
func TestEveryReportOnce(t *testing.T) {
	brokers := cluster(t, 4)
	srv := estest.New("8.15.0")
	defer srv.Close()
	msgs, crashes := fleet(t, 30_000, 1)
	produce(t, brokers, msgs)
	cfg := testConfig(brokers)
	m := start(t, cfg, srv, 1000)
	waitFor(t, "all reports", 60*time.Second, func() bool { return int64(srv.Count(index())) >= crashes })
	m.stop(t)
	checkStored(t, srv, msgs, crashes)
}

// Scale out and in (1 -> 3 -> 1) while producing: nothing lost, nothing
// split into two documents.
func TestScaleOutAndIn(t *testing.T) {
	brokers := cluster(t, 6)
	srv := estest.New("8.15.0")
	defer srv.Close()
	msgs, crashes := fleet(t, 45_000, 2)
	third := len(msgs) / 3
	cfg := testConfig(brokers)

	a := start(t, cfg, srv, 1000)
	produce(t, brokers, msgs[:third])
	cfgB := cfg
	cfgB.Metrics = NewMetrics(nil)
	b := start(t, cfgB, srv, 1000)
	c := start(t, cfg, srv, 1000)
	produce(t, brokers, msgs[third:2*third])
	waitFor(t, "the second member to read", 30*time.Second, func() bool { return len(b.c.Positions()) > 0 || len(c.c.Positions()) > 0 })
	b.stop(t)
	c.stop(t)
	// A member that handed its partitions over exports none of them.
	if n := partitionSeries(t, cfgB.Metrics); len(b.c.Positions()) > 0 && n != 0 {
		t.Errorf("%d per-partition series left after the hand-over", n)
	}
	produce(t, brokers, msgs[2*third:])
	waitFor(t, fmt.Sprintf("all %d reports", crashes), 90*time.Second, func() bool { return int64(srv.Count(index())) >= crashes })
	a.stop(t)
	checkStored(t, srv, msgs, crashes)
}

// A consumer killed mid-report (no hand-over, no commit): the next owner
// reads the report again and indexes it whole.
func TestKilledMidReport(t *testing.T) {
	brokers := cluster(t, 1)
	srv := estest.New("8.15.0")
	defer srv.Close()
	report := []string{
		"BUG: kernel NULL pointer dereference, address: 0000000000000402",
		"CPU: 4 PID: 2688731 Comm: kworker/4:2 Not tainted 5.15.0-1075-azure #84-Ubuntu",
		"RIP: 0010:netfs_rreq_unlock+0xf7/0x3c0 [netfs]",
		"Call Trace:",
		" netfs_rreq_assess+0x1b4/0x4f0 [netfs]",
		" process_one_work+0x225/0x3d0",
		"Modules linked in: ceph libceph netfs",
		"---[ end trace 2b1f6f5c7fa3d6a1 ]---",
	}
	line := func(i int, text string) msg {
		return msg{"aks-node-4", fmt.Sprintf("Feb 11 03:12:41 aks-node-4 kernel: [1843221.%06d] %s", i, text)}
	}
	var first, second []msg
	for i, l := range report {
		if i < 4 {
			first = append(first, line(i, l))
		} else {
			second = append(second, line(i, l))
		}
	}
	produce(t, brokers, []msg{{"aks-node-4", "Feb 11 03:12:40 aks-node-4 systemd[1]: Started Session 1."}})
	produce(t, brokers, first)
	cfg := testConfig(brokers)
	cfg.Pipeline.WallIdle = time.Second // the report's end marker is the last line: close it soon
	a := start(t, cfg, srv, 100)
	waitFor(t, "the first half to be read", 30*time.Second, func() bool { return a.c.Positions()[0] >= int64(len(first)) })
	time.Sleep(3 * cfg.CommitInterval) // commits happen; they must stop before the report
	a.c.Abort()
	a.cancel()
	<-a.done
	produce(t, brokers, second)
	b := start(t, cfg, srv, 100)
	waitFor(t, "the report", 30*time.Second, func() bool { return srv.Count(index()) == 1 })
	b.stop(t)
	var d document.Document
	json.Unmarshal(srv.Doc(index(), srv.IDs(index())[0]), &d)
	if d.Oops.Truncated || d.Oops.EndReason != "end_marker" || d.Oops.Function != "netfs_rreq_unlock" || len(d.Oops.CallTrace) != 2 {
		t.Fatalf("the report is not whole: truncated %v end %s function %s frames %d", d.Oops.Truncated, d.Oops.EndReason, d.Oops.Function, len(d.Oops.CallTrace))
	}
}

// committedOffset asks the broker for the group's committed offset.
func committedOffset(t testing.TB, brokers []string, group string) int64 {
	t.Helper()
	cl := &kafkago.Client{Addr: kafkago.TCP(brokers...), Timeout: 5 * time.Second}
	res, err := cl.OffsetFetch(context.Background(), &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {0}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Topics[topic] {
		if p.Partition == 0 {
			return p.CommittedOffset
		}
	}
	return -1
}

// The sink failing: commits stop before the first undelivered report,
// memory stays bounded, nothing is lost when it recovers.
func TestSinkDown(t *testing.T) {
	brokers := cluster(t, 1)
	srv := estest.New("8.15.0")
	defer srv.Close()
	msgs, crashes := fleet(t, 6000, 3)
	cfg := testConfig(brokers)
	srv.SetDown(true)
	m := start(t, cfg, srv, 5)
	produce(t, brokers, msgs)
	time.Sleep(2 * time.Second)
	if st := m.sink.Stats(); st.InFlight > 5 || st.Indexed != 0 {
		t.Fatalf("while down: %+v", st)
	}
	stalled := committedOffset(t, brokers, cfg.GroupID)
	if stalled >= int64(len(msgs)) {
		t.Fatalf("committed %d of %d messages while nothing was durable", stalled, len(msgs))
	}
	srv.SetDown(false)
	waitFor(t, "all reports after recovery", 60*time.Second, func() bool { return int64(srv.Count(index())) >= crashes })
	waitFor(t, "commits to reach the end", 30*time.Second, func() bool { return committedOffset(t, brokers, cfg.GroupID) == int64(len(msgs)) })
	m.stop(t)
	checkStored(t, srv, msgs, crashes)
}

// Poison input is counted and skipped; the consumer keeps going, and the
// message key names the host of lines that carry none (kmsg).
func TestPoisonInput(t *testing.T) {
	brokers := cluster(t, 1)
	srv := estest.New("8.15.0")
	defer srv.Close()
	metrics := NewMetrics(nil)
	cfg := testConfig(brokers)
	cfg.Metrics = metrics
	cfg.MaxMessageBytes = 4096
	cfg.Pipeline.WallIdle = time.Second // kmsg lines carry no time: the wall clock closes the report
	produce(t, brokers, []msg{
		{"x", "\x00\x01\x02\xff binary \xfe"},
		{"x", `{"MESSAGE": broken`},
		{"x", strings.Repeat("Z", 5<<20)},
		{"node-9", "4,100,1843221000,-;BUG: kernel NULL pointer dereference, address: 0000000000000402"},
		{"node-9", "4,101,1843221001,-;RIP: 0010:netfs_rreq_unlock+0xf7/0x3c0 [netfs]"},
		{"node-9", "4,102,1843221002,-;---[ end trace 2b1f6f5c7fa3d6a1 ]---"},
	})
	m := start(t, cfg, srv, 10)
	waitFor(t, "the report after the poison", 30*time.Second, func() bool { return srv.Count(index()) == 1 })
	m.stop(t)
	var d document.Document
	json.Unmarshal(srv.Doc(index(), srv.IDs(index())[0]), &d)
	if d.Host.Name != "node-9" {
		t.Errorf("host %q, want the message key node-9", d.Host.Name)
	}
	if got := counterValue(t, metrics, "oopsflow_lines_undecodable_total"); got < 2 {
		t.Errorf("undecodable counted %v", got)
	}
	if got := counterValue(t, metrics, "oopsflow_messages_oversized_total"); got != 1 {
		t.Errorf("oversized counted %v", got)
	}
}

func counterValue(t testing.TB, m *Metrics, name string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			v := 0.0
			for _, metric := range mf.GetMetric() {
				v += metric.GetCounter().GetValue()
			}
			return v
		}
	}
	return 0
}

// partitionSeries counts the per-partition series a registry exports.
func partitionSeries(t *testing.T, m *Metrics) int {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == "partition" {
					n++
				}
			}
		}
	}
	return n
}
