package format

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// naiveMatch is what the index must answer: the first group, in table
// order, whose keyword the line contains and which does not suppress it.
func naiveMatch(text []byte) (*Group, bool) {
	for _, g := range groups {
		if bytes.Contains(text, []byte(g.Keyword)) && g.accepts(text) {
			return g, true
		}
	}
	return nil, false
}

// The index never misses and never invents a header: it agrees with the
// naive matcher on every line of the test cases, of syzkaller's corpus when
// it is there, and on lines with each keyword at every offset.
func TestIndexAgreesWithNaiveMatch(t *testing.T) {
	var lines [][]byte
	files, _ := filepath.Glob("testdata/*.txt")
	if corpus, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "corpus", "syzkaller", "*")); len(corpus) > 0 {
		files = append(files, corpus...)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines = append(lines, append([]byte(nil), sc.Bytes()...))
		}
		fh.Close()
	}
	r := rand.New(rand.NewPCG(3, 4))
	noise := []byte("abcdefgh ijkl: [ ] BUG WARN INFO: int3 ker nel 0123456789")
	for _, g := range groups {
		for pad := 0; pad < 2*maxStride; pad++ { // every offset modulo the stride
			for trail := 0; trail < 3; trail++ {
				l := append(bytes.Repeat([]byte{'x'}, pad), g.Keyword...)
				lines = append(lines, append(l, bytes.Repeat([]byte{' '}, trail)...))
			}
		}
		for i := 0; i < 200; i++ {
			var b []byte
			for j := r.IntN(40); j > 0; j-- {
				b = append(b, noise[r.IntN(len(noise))])
			}
			kw := g.Keyword
			if r.IntN(3) == 0 { // a near miss
				kw = kw[:len(kw)-1]
			}
			b = append(b, kw...)
			for j := r.IntN(40); j > 0; j-- {
				b = append(b, noise[r.IntN(len(noise))])
			}
			lines = append(lines, b)
		}
	}
	if len(lines) < 1000 {
		t.Fatalf("only %d lines to check", len(lines))
	}
	for _, l := range lines {
		g1, ok1 := index.match(l)
		g2, ok2 := naiveMatch(l)
		if ok1 != ok2 || g1 != g2 {
			t.Fatalf("%q: index %v %v, naive %v %v", l, name(g1), ok1, name(g2), ok2)
		}
	}
}

func name(g *Group) string {
	if g == nil {
		return "-"
	}
	return g.Name
}

func BenchmarkMatchNoise(b *testing.B) {
	line := []byte("IPv6: ADDRCONF(NETDEV_CHANGE): veth1a2b3c: link becomes ready and the rest of a typical kernel line here")
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		Match(line)
	}
}

// BenchmarkMatchFleet matches the kernel lines a fleet prints most (none
// starts a report): op is one line.
func BenchmarkMatchFleet(b *testing.B) {
	lines := [][]byte{
		[]byte("IPv6: ADDRCONF(NETDEV_CHANGE): veth7a3f21: link becomes ready"),
		[]byte(`audit: type=1400 audit(1700012345.123:482913): apparmor="DENIED" operation="open" profile="cri-containerd.apparmor.d" name="/proc/sys/kernel/random/boot_id" pid=23456 comm="node" requested_mask="r" denied_mask="r" fsuid=1000 ouid=0`),
		[]byte("EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro. Quota mode: none."),
		[]byte("nf_conntrack: nf_conntrack: table full, dropping packet"),
		[]byte("TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.  Check SNMP counters."),
		[]byte("python3[4242]: segfault at 0 ip 00007f3ecc5b2c4d sp 00007fff64cd5d58 error 4 in libc.so.6[7f3ecc400000+195000] likely on CPU 3 (core 3, socket 0)"),
		[]byte("device veth9c2e4d entered promiscuous mode"),
	}
	i := 0
	for b.Loop() {
		Match(lines[i])
		if i++; i == len(lines) {
			i = 0
		}
	}
}

// An index without a short keyword reads no byte before a line's start at a
// colon early in the line.
func TestIndexWithoutColonKeywords(t *testing.T) {
	x := newIndex([]*Group{{Keyword: "a long keyword"}})
	for _, l := range []string{":", "::", "a:", ":a long keyword", "x: a long keyword"} {
		x.match([]byte(l))
	}
	if _, ok := x.match([]byte("::: no keyword here")); ok {
		t.Fatal("matched a line without the keyword")
	}
}
