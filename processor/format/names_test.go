package format

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The name set answers exactly as the joined regular expression it
// replaces, on the skip lists of the table and on names built to hit the
// edges (anchors, prefixes and suffixes of patterns).
func TestNameSetAgreesWithRegexp(t *testing.T) {
	lists := [][]string{genericSkip}
	for _, g := range Groups() {
		for _, f := range g.Formats {
			if f.Stack != nil && len(f.Stack.Skip) > 0 {
				lists = append(lists, f.Stack.Skip)
			}
		}
	}
	names := []string{"", "a", "kfree", "kfree_skb", "__kfree", "kmalloc_node", "vmalloc", "kvzalloc", "down",
		"down_write_killable", "lockdown", "iput", "iput_final", "xiput", "crc32c_le", "mycrc32", "readl", "readl_relaxed",
		"read_once_word_nocheck", "atomic64_fetch_add", "test_and_set_bit", "rb_next", "__rb_insert", "xrb_next",
		"smp_call_function_many", "process_one_work", "__dev_queue_xmit", "dev_err_probe", "usb_submit_urb"}
	r := rand.New(rand.NewPCG(1, 2))
	for _, list := range lists {
		for _, p := range list {
			lits, ok := literals(p)
			if !ok {
				continue
			}
			for _, l := range lits {
				names = append(names, l.s, "x"+l.s, l.s+"x", "_"+l.s+"_", l.s[:len(l.s)/2])
			}
		}
	}
	for i := 0; i < 2000; i++ { // random names from fragments of real ones
		a, b := names[r.IntN(len(names))], names[r.IntN(len(names))]
		names = append(names, a[:r.IntN(len(a)+1)]+b[r.IntN(len(b)+1):])
	}
	for _, list := range lists {
		ns := newNameSet(list)
		re := regexp.MustCompile(`(?:` + strings.Join(list, `|`) + `)`)
		for _, n := range names {
			if got, want := ns.match(n), re.MatchString(n); got != want {
				t.Errorf("%q: name set %v, regexp %v (list starting %q)", n, got, want, list[0])
			}
		}
	}
}

func TestLiterals(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    []anchored
	}{
		{`kfree_skb`, []anchored{{s: "kfree_skb"}}},
		{`^kfree$`, []anchored{{s: "kfree", start: true, end: true}}},
		{`_trap$`, []anchored{{s: "_trap", end: true}}},
		{`(?:set|clear)_bit`, []anchored{{s: "set_bit"}, {s: "clear_bit"}}},
		{`k?alloc`, []anchored{{s: "alloc"}, {s: "kalloc"}}},
	} {
		got, ok := literals(tc.pattern)
		if !ok || len(got) != len(tc.want) {
			t.Errorf("%s: %v %v", tc.pattern, got, ok)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: %v, want %v", tc.pattern, got, tc.want)
			}
		}
	}
	for _, p := range []string{`(?:read|write)_once_.*nocheck`, `^crc[0-9]+`, `a*`} {
		if lits, ok := literals(p); ok {
			t.Errorf("%s expanded to %v: it is not a finite set", p, lits)
		}
	}
}

// frameName and armFrames answer as syzkaller's frame expressions do, on
// every line of the test cases and on edge cases.
func TestFrameScannersAgreeWithPatterns(t *testing.T) {
	frameRe := re(`^ *(?:{{PC}} ){0,2}{{FUNC}}`)
	armRe := re(`^ *{{PC}} *\(([a-zA-Z0-9_.]+)\) from {{PC}} *\({{FUNC}}`)
	lines := []string{"", " ", "f+", "f.", "? f+0x1/0x2", " [<ffff>] f+0x1", " [<ffff>] [<eeee>] f+0x1", "[<0xff>] f.isra.0+0x1",
		"[ffff] [eeee] [dddd] f+0x1", "[<ffff>]f+0x1", "f file.c:12 [inline]", "[<c0421a34>] (pcie_enable_msi) from [<c0421c20>] (pcie_host_init+0x1a8/0x2b0)",
		"[<c0421a34>] (f+0x0/0x10) from [<c0421c20>] (g+0x1a8/0x2b0)", "[<c0421a34>] (a.constprop.0) from [<c0421c20>] (b.part.1+0x1a8/0x2b0)",
		"[<c0421a34>]  (a) from [<c0421c20>]  (b+0x1)", "[<c0421a34>] (a) from [<c0421c20>] ( b+0x1)", " [<zz>] f+0x1"}
	files, _ := filepath.Glob("testdata/*.txt")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(string(data), "\n")...)
	}
	for _, l := range lines {
		name, ok := frameName(l)
		m := frameRe.FindStringSubmatch(l)
		if ok != (m != nil) || ok && name != m[1] {
			t.Errorf("frameName(%q) = %q %v, pattern %q", l, name, ok, m)
		}
		a, b, ok := armFrames(l)
		m = armRe.FindStringSubmatch(l)
		if ok != (m != nil) || ok && (a != m[1] || b != m[2]) {
			t.Errorf("armFrames(%q) = %q %q %v, pattern %q", l, a, b, ok, m)
		}
	}
}

func TestNormalize(t *testing.T) {
	if !strings.Contains(normalizers[addrRule].rep, "ADDR") {
		t.Fatalf("addrRule points at %q", normalizers[addrRule].re)
	}
	for in, want := range map[string]string{
		"WARNING in foo": "WARNING in foo",
		"BUG: Bad page state in process cafebabe":   "BUG: Bad page state in process ADDR",
		"kernel BUG at fs/ext4/inode.c:2720!":       "kernel BUG at fs/ext4/inode.c:LINE!",
		"INFO: task syz-executor.3:1234 blocked":    "INFO: task syz-executor blocked",
		"BUG: soft lockup - CPU#3 stuck for 23s!":   "BUG: soft lockup - CPU stuck for 23s!",
		"kernel panic: VFS: unknown-block(0,0)":     "kernel panic: VFS: unknown-block(NUM,NUM)",
		"general protection fault at 10.1.2.3 in f": "general protection fault at IP in f",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
