package matcher

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/signatures"
)

// userSig is a valid signature with the given id and name, whose example
// are examples/a.log and examples/b.log in the same directory.
func userSig(id, name string) string {
	return `id: ` + id + `
name: "` + name + `"
description: a user's known issue
category: filesystem
severity: 5
version: 3
references: []
remediation: upgrade the kernel
match:
  - name: by function
    require:
      - {field: function, equals: some_function}
examples:
  - file: examples/a.log
    expect: no_match
  - file: examples/b.log
    expect: no_match
`
}

func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Built-in and user signatures merge by id, the user's winning; each
// carries where it came from; a set with an error anywhere is not loaded.
func TestLoadSet(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"my-own-bug.yaml":                   userSig("my-own-bug", "my own bug"),
		"ceph-aio-read-free-null-page.yaml": userSig("ceph-aio-read-free-null-page", "my version of the ceph bug"),
		"examples/a.log":                    "nothing here\n", "examples/b.log": "",
	})
	set, err := LoadSet(Sources{Builtin: signatures.FS, Dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*Signature{}
	for _, s := range set.Signatures {
		byID[s.ID] = s
	}
	if len(set.Signatures) != 6 || byID["my-own-bug"].Ruleset != filepath.Base(dir) || byID["netfs-rreq-unlock-xa-retry"].Ruleset != Builtin {
		t.Fatalf("%d signatures: %+v", len(set.Signatures), byID)
	}
	if s := byID["ceph-aio-read-free-null-page"]; s.Name != "my version of the ceph bug" || len(set.Overridden) != 1 {
		t.Fatalf("override: %q, %v", s.Name, set.Overridden)
	}
	if set.Hash == "" {
		t.Fatal("no hash")
	}
	only, err := LoadSet(Sources{Builtin: signatures.FS, NoBuiltin: true, Dirs: []string{dir}})
	if err != nil || len(only.Signatures) != 2 || only.Hash == set.Hash {
		t.Fatalf("without the built-in set: %v, %d", err, len(only.Signatures))
	}
	bad := writeDir(t, map[string]string{"typo-bug.yaml": strings.Replace(userSig("typo-bug", "typo bug"), "severity: 5", "severity: five", 1), "examples/a.log": "", "examples/b.log": ""})
	if _, err := LoadSet(Sources{Builtin: signatures.FS, Dirs: []string{dir, bad}}); err == nil || !strings.Contains(err.Error(), "typo-bug.yaml") || !strings.Contains(err.Error(), "severity") {
		t.Fatalf("a typo: %v", err)
	}
	if _, err := LoadSet(Sources{NoBuiltin: true}); err == nil {
		t.Fatal("an empty knowledge base loaded")
	}
}

// A new signature written into a watched directory is in use within
// seconds; a broken one leaves the set in use as it was and says so.
func TestReloaderWatchesFiles(t *testing.T) {
	dir := writeDir(t, map[string]string{"first-bug.yaml": userSig("first-bug", "first bug"), "examples/a.log": "", "examples/b.log": ""})
	m := New(nil)
	var mu sync.Mutex
	var failures []error
	var loads int
	r := &Reloader{M: m, Sources: Sources{Builtin: signatures.FS, Dirs: []string{dir}}, Debounce: 50 * time.Millisecond,
		Loaded: func(*Set) { mu.Lock(); loads++; mu.Unlock() },
		Failed: func(err error) { mu.Lock(); failures = append(failures, err); mu.Unlock() }}
	if _, err := r.Load(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { r.Run(ctx, nil); close(done) }()
	time.Sleep(100 * time.Millisecond) // the watcher is set up
	has := func(id string) bool {
		for _, s := range m.Signatures() {
			if s.ID == id {
				return true
			}
		}
		return false
	}
	os.WriteFile(filepath.Join(dir, "second-bug.yaml"), []byte(userSig("second-bug", "second bug")), 0o644)
	deadline := time.Now().Add(10 * time.Second)
	for !has("second-bug") {
		if time.Now().After(deadline) {
			t.Fatal("a new signature file was not picked up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A broken file: the set in use stays, the failure is reported.
	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("id: [not, a, string\n"), 0o644)
	deadline = time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(failures)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a broken file was not reported")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !has("second-bug") || !has("first-bug") || !has("netfs-rreq-unlock-xa-retry") {
		t.Fatal("a failed reload changed the set in use")
	}
	mu.Lock()
	if !strings.Contains(failures[0].Error(), "broken.yaml") {
		t.Errorf("failure does not name the file: %v", failures[0])
	}
	mu.Unlock()
	// A signal reloads too.
	os.Remove(filepath.Join(dir, "broken.yaml"))
	hup := make(chan os.Signal, 1)
	cancel()
	<-done
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go r.Run(ctx2, hup)
	mu.Lock()
	before := loads
	mu.Unlock()
	hup <- os.Interrupt
	deadline = time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := loads
		mu.Unlock()
		if n > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a signal did not reload")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A ConfigMap mounted as a volume is updated the way the kubelet's atomic
// writer does it: the files are written into a new timestamped directory,
// a ..data symbolic link is renamed over the old one, and the visible names
// are links through ..data. The reloader sees that swap.
func TestReloaderFollowsConfigMapUpdates(t *testing.T) {
	dir := t.TempDir()
	version := 0
	publish := func(files map[string]string) {
		version++
		ts := filepath.Join(dir, "..2026_12_02_10_00_0"+string(rune('0'+version)))
		for name, content := range files {
			p := filepath.Join(ts, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		for name := range files {
			top := strings.SplitN(name, "/", 2)[0]
			link := filepath.Join(dir, top)
			if _, err := os.Lstat(link); err != nil {
				os.Symlink(filepath.Join("..data", top), link)
			}
		}
	}
	base := map[string]string{"first-bug.yaml": userSig("first-bug", "first bug"), "examples/a.log": "", "examples/b.log": ""}
	publish(base)
	m := New(nil)
	r := &Reloader{M: m, Sources: Sources{NoBuiltin: true, Dirs: []string{dir}}, Debounce: 50 * time.Millisecond}
	if _, err := r.Load(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.Run(ctx, nil)
	time.Sleep(100 * time.Millisecond)
	base["second-bug.yaml"] = userSig("second-bug", "second bug")
	publish(base)
	deadline := time.Now().Add(10 * time.Second)
	for len(m.Signatures()) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the ConfigMap update was not picked up: %d signatures", len(m.Signatures()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := r.Current().Signatures[0].Ruleset; got != filepath.Base(dir) {
		t.Errorf("ruleset %q", got)
	}
	// Another node's volume, mounted under the same name, holds the same
	// files under another timestamped directory: the same hash.
	other := filepath.Join(t.TempDir(), filepath.Base(dir))
	ts := filepath.Join(other, "..2026_12_02_11_11_11")
	for name, content := range base {
		p := filepath.Join(ts, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	os.Symlink(filepath.Base(ts), filepath.Join(other, "..data"))
	for _, top := range []string{"first-bug.yaml", "second-bug.yaml", "examples"} {
		os.Symlink(filepath.Join("..data", top), filepath.Join(other, top))
	}
	a, err1 := LoadSet(Sources{NoBuiltin: true, Dirs: []string{dir}})
	b, err2 := LoadSet(Sources{NoBuiltin: true, Dirs: []string{other}})
	if err1 != nil || err2 != nil || a.Hash != b.Hash {
		t.Errorf("same files, hashes %v %v (%v %v)", a, b, err1, err2)
	}
}

// An empty directory is an error, unless the caller watches it (AllowEmpty).
func TestLoadSetEmptyDirectory(t *testing.T) {
	empty := t.TempDir()
	if _, err := LoadSet(Sources{Builtin: signatures.FS, Dirs: []string{empty}}); err == nil || !strings.Contains(err.Error(), "no signature") {
		t.Fatalf("empty directory: %v", err)
	}
	set, err := LoadSet(Sources{Builtin: signatures.FS, Dirs: []string{empty}, AllowEmpty: true})
	if err != nil || len(set.Signatures) != 5 || len(set.Warnings) != 1 {
		t.Fatalf("allowed: %v %+v", err, set)
	}
	if _, err := LoadSet(Sources{Builtin: signatures.FS, Dirs: []string{filepath.Join(empty, "nope")}, AllowEmpty: true}); err == nil {
		t.Fatal("a missing directory was allowed")
	}
	if _, err := LoadSet(Sources{NoBuiltin: true, Dirs: []string{empty}, AllowEmpty: true}); err == nil {
		t.Fatal("an empty knowledge base was loaded")
	}
}

// A watched directory may hold signatures without their examples (a flat
// ConfigMap): a warning, where rules lint and rules test see an error.
func TestLoadSetExamplesOptional(t *testing.T) {
	dir := writeDir(t, map[string]string{"first-bug.yaml": userSig("first-bug", "first bug")})
	if _, err := LoadSet(Sources{Dirs: []string{dir}}); err == nil || !strings.Contains(err.Error(), "examples/a.log") {
		t.Fatalf("strict: %v", err)
	}
	set, err := LoadSet(Sources{Dirs: []string{dir}, ExamplesOptional: true})
	if err != nil || len(set.Signatures) != 1 || len(set.Warnings) != 2 || !strings.Contains(set.Warnings[0], "rules test needs it") {
		t.Fatalf("optional: %v %+v", err, set)
	}
}
