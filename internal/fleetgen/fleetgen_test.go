package fleetgen

import (
	"bytes"
	"testing"

	"github.com/oopsflow/oopsflow/signatures"
)

func TestDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	cfg := Config{Lines: 20000, Hosts: 20, CrashEvery: 500, Seed: 5, Examples: signatures.FS}
	sa, err := Generate(&a, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(&b, cfg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed, different output")
	}
	if sa.Lines != 20000 || sa.Crashes == 0 || int64(bytes.Count(a.Bytes(), []byte("\n"))) != sa.Lines {
		t.Fatalf("stats %+v", sa)
	}
	var c bytes.Buffer
	cfg.Seed = 6
	Generate(&c, cfg)
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("different seeds, same output")
	}
}

func TestAllFormatsAndBodies(t *testing.T) {
	bodies, err := crashBodies(signatures.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) < len(builtinCrashes)+15 {
		t.Fatalf("%d crash bodies", len(bodies))
	}
	var buf bytes.Buffer
	_, err = Generate(&buf, Config{Lines: 5000, Hosts: 40, Seed: 2, Examples: signatures.FS})
	if err != nil {
		t.Fatal(err)
	}
	for _, marker := range []string{" kernel: [", "<4>1 20", `"_TRANSPORT":"kernel"`, "+00:00 "} {
		if !bytes.Contains(buf.Bytes(), []byte(marker)) {
			t.Errorf("no %q line in the mix", marker)
		}
	}
}
