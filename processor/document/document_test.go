package document

import (
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/oops"
	"github.com/oopsflow/oopsflow/signatures"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func report() *assemble.Report {
	text := `BUG: unable to handle kernel NULL pointer dereference at 0000000000000088
Oops: 0002 [#1] SMP PTI
CPU: 6 PID: 2318 Comm: dockerd Not tainted 4.19.91-21.al7.x86_64 #1
Hardware name: Alibaba Cloud Alibaba Cloud ECS, BIOS 8c24b4c 04/01/2014
RIP: 0010:_raw_spin_lock+0xc/0x20
Call Trace:
 d_delete+0x2c/0xb0
 vfs_rmdir+0xfd/0x120
 do_rmdir+0x14f/0x1a0
Modules linked in: pvpanic cirrusfb
CR2: 0000000000000088
---[ end trace 4e652b8aa299aa2d ]---`
	return &assemble.Report{
		Host: "ecs-1", Boot: "b1", Lines: strings.Split(text, "\n"), Context: []string{"------------[ cut here ]------------"},
		Time: time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC), Uptime: 49797561 * time.Microsecond, HasUptime: true,
		EndReason: assemble.EndMarker,
	}
}

func build(t *testing.T) *Document {
	sigs, err := matcher.Load(signatures.FS)
	if err != nil {
		t.Fatal(err)
	}
	r := report()
	o := oops.Parse(r.Context, r.Lines)
	m := matcher.New(sigs).Match(o, r.Lines)
	return Build(r, o, m, Source{Format: "rfc3164", File: "kern.log", Offsets: []int64{10, 22}}, time.Date(2025, 5, 1, 12, 0, 1, 0, time.UTC))
}

func TestGoldenDocument(t *testing.T) {
	got, err := json.MarshalIndent(build(t), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/known_issue.golden.json"
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(want)) != string(got) {
		t.Fatalf("document differs from %s:\n%s", golden, got)
	}
}

// The field names of DESIGN.md's document contract are present.
func TestContractFields(t *testing.T) {
	b, _ := json.Marshal(build(t))
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"@timestamp", "ecs.version", "event.kind", "event.category", "event.type", "event.dataset", "event.module",
		"event.id", "event.severity", "host.name", "host.os.kernel", "host.architecture", "host.boot.id",
		"process.pid", "process.name", "message", "error.type", "error.message", "error.stack_trace",
		"oops.type", "oops.title", "oops.function", "oops.ip.function", "oops.ip.offset", "oops.ip.size",
		"oops.fault_address", "oops.cpu", "oops.hardware", "oops.call_trace", "oops.modules",
		"oops.context", "oops.panic", "oops.truncated", "oops.end_reason", "oops.fingerprint", "oops.match.status",
		"oops.match.confidence", "oops.match.reasons", "oops.match.fix_status", "oops.match.remediation",
		"rule.id", "rule.name", "rule.description", "rule.category", "rule.version", "oops.source.format",
	} {
		var cur any = doc
		for _, k := range strings.Split(path, ".") {
			if k == "" {
				continue
			}
			m, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			if path == "@timestamp" {
				cur = m["@timestamp"]
				break
			}
			cur = m[k]
		}
		if cur == nil {
			t.Errorf("contract field %s missing", path)
		}
	}
	if doc["event"].(map[string]any)["kind"] != "alert" {
		t.Error("a known issue is event.kind alert")
	}
}

// The id is the same on replay and differs between reports.
func TestIDDeterministic(t *testing.T) {
	a, b := report(), report()
	if ID(a) != ID(b) {
		t.Fatal("same report, different ids")
	}
	b.Uptime += time.Second
	if ID(a) == ID(b) {
		t.Fatal("a later report with the same header has the same id")
	}
	c := report()
	c.Host = "ecs-2"
	if ID(a) == ID(c) {
		t.Fatal("two hosts share an id")
	}
	d := report()
	d.HasUptime = false // a source without printk times: the wall-clock time decides
	e := report()
	e.HasUptime = false
	e.Time = e.Time.Add(time.Minute)
	if ID(d) == ID(e) {
		t.Fatal("reports at different times share an id")
	}
}

// Two different reports printed in the same second by one host, with no
// printk times and the same header line (a WARN_ON in a loop, say), get two
// ids: Elasticsearch would otherwise keep the first and drop the second as
// "already there".
func TestIDSameSecondSameHeader(t *testing.T) {
	a, b := report(), report()
	a.HasUptime, b.HasUptime = false, false
	b.Lines = append([]string(nil), b.Lines...)
	b.Lines[4] = "RIP: 0010:_raw_spin_lock+0xd/0x20" // same header, another report
	if ID(a) == ID(b) {
		t.Fatal("two different reports in the same second share an id")
	}
	c := report()
	c.HasUptime = false
	if ID(a) != ID(c) {
		t.Fatal("the same report read twice has two ids")
	}
}

func TestBootID(t *testing.T) {
	for in, want := range map[string]string{
		"5c8e0f4a2b9d4e61a7c3d2f1e0b9a8c7":     "5c8e0f4a-2b9d-4e61-a7c3-d2f1e0b9a8c7",
		"5C8E0F4A2B9D4E61A7C3D2F1E0B9A8C7":     "5c8e0f4a-2b9d-4e61-a7c3-d2f1e0b9a8c7",
		"5c8e0f4a-2b9d-4e61-a7c3-d2f1e0b9a8c7": "5c8e0f4a-2b9d-4e61-a7c3-d2f1e0b9a8c7",
		"not-a-uuid":                           "not-a-uuid",
		"5c8e0f4a2b9d4e61a7c3d2f1e0b9a8cz":     "5c8e0f4a2b9d4e61a7c3d2f1e0b9a8cz",
	} {
		if got := BootID(in); got != want {
			t.Errorf("BootID(%q) = %q, want %q", in, got, want)
		}
	}
}
