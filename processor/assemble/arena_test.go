package assemble

import (
	"fmt"
	"testing"
)

// Lines come back as they were put until the buffer goes round; old lines
// are then gone, never corrupted.
func TestArenaWrap(t *testing.T) {
	var charged int
	a := newArena(4096, 1000, func(int) bool { return false }, func(n int) { charged += n })
	type put struct {
		off  int64
		n    int
		text string
	}
	var puts []put
	for i := 0; i < 2000; i++ {
		text := fmt.Sprintf("line %d %s", i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"[:i%40])
		off, n := a.put([]byte(text), 0, 0)
		puts = append(puts, put{off, n, text})
	}
	held := 0
	for i, p := range puts {
		b, ok := a.get(p.off, p.n)
		if !ok {
			if i > len(puts)-10 {
				t.Fatalf("line %d of %d gone already", i, len(puts))
			}
			continue
		}
		held++
		if string(b) != p.text {
			t.Fatalf("line %d: got %q, want %q", i, b, p.text)
		}
	}
	if held == 0 || held == len(puts) || charged != 4096 {
		t.Fatalf("%d of %d lines held, %d bytes charged", held, len(puts), charged)
	}
}

// A buffer about to overwrite recent lines grows while it may, keeping every
// line; once it may not, it overwrites and counts it.
func TestArenaGrowsForRecentLines(t *testing.T) {
	var charged int
	limit := 16384
	a := newArena(4096, int64(1e9), func(n int) bool { return charged+n <= limit }, func(n int) { charged += n })
	now := int64(5e9)
	var offs []int64
	var texts []string
	for i := 0; i < 600; i++ {
		text := fmt.Sprintf("recent line %03d padded to some length", i)
		off, _ := a.put([]byte(text), now, now)
		offs, texts = append(offs, off), append(texts, text)
	}
	if charged != limit || len(a.buf) != limit {
		t.Fatalf("buffer %d bytes, %d charged, want %d", len(a.buf), charged, limit)
	}
	lost := 0
	for i := range offs {
		if b, ok := a.get(offs[i], len(texts[i])); !ok {
			lost++
		} else if string(b) != texts[i] {
			t.Fatalf("line %d corrupted by growing: %q", i, b)
		}
	}
	if lost == 0 || a.lost == 0 {
		t.Fatalf("600 lines of 40 bytes in 16 KiB: %d lost, %d counted", lost, a.lost)
	}
	// Lines older than the window do not make it grow.
	b := newArena(4096, int64(1e9), func(int) bool { return true }, func(int) {})
	for i := 0; i < 1000; i++ {
		t := int64(i) * 1e8 // 10 lines a second
		b.put([]byte("an old line of some forty bytes, more or less"), t, t)
	}
	if len(b.buf) > 8192 {
		t.Fatalf("grew to %d for lines older than the window", len(b.buf))
	}
}
