package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/internal/estest"
	"github.com/oopsflow/oopsflow/processor/elastic"
)

// runOut runs a command with the given standard output (a file: /dev/full)
// and returns the exit code and standard error.
func runOut(t *testing.T, ctx context.Context, stdin io.Reader, stdout io.Writer, args ...string) (int, string) {
	t.Helper()
	var errb syncBuffer
	code := run(ctx, args, stdin, stdout, &errb)
	return code, errb.String()
}

// Standard output on a full disk: scan stops at the first document it cannot
// write and exits 1 saying why; it does not read on and exit 0.
func TestScanStdoutFullDisk(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full")
	}
	defer full.Close()
	code, errs := runOut(t, context.Background(), strings.NewReader(""), full, "scan", "--format", "ndjson", examples+"netfs-rreq-unlock-xa-retry/aks-node-1075.log")
	if code != 1 || !strings.Contains(errs, "no space left") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// A signal while reading a pipe that stays open: scan stops reading at once,
// writes the report it was assembling (end_reason shutdown, truncated) and
// exits 143.
func TestScanSignalFlushesAndExits143(t *testing.T) {
	data, err := os.ReadFile(examples + "netfs-rreq-unlock-xa-retry/aks-node-1075.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancelCause(context.Background())
	var out syncBuffer
	done := make(chan int, 1)
	go func() {
		code, _ := runOut(t, ctx, pr, &out, "scan", "--format", "ndjson", "-")
		done <- code
	}()
	io.WriteString(pw, strings.Join(lines[:len(lines)/2], "\n")+"\n") // half a report, and the pipe stays open
	time.Sleep(100 * time.Millisecond)
	cancel(&signalError{syscall.SIGTERM})
	var code int
	select {
	case code = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("scan did not stop on SIGTERM while its input was open")
	}
	if code != exitSIGTERM {
		t.Fatalf("exit %d, want %d", code, exitSIGTERM)
	}
	docs := parseNDJSON(t, out.String())
	if len(docs) != 1 || docs[0].Oops.EndReason != "shutdown" || !docs[0].Oops.Truncated {
		t.Fatalf("documents at the signal: %+v", docs)
	}
}

// Elasticsearch unreachable with more documents than the in-flight bound:
// scan gives up after --es-timeout with a message, instead of waiting for
// ever.
func TestScanElasticsearchUnreachable(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "fleet.log")
	if code, _, errs := runCmd(t, "", "gen", "--lines", "20000", "--hosts", "20", "--crash-every", "500", "--seed", "4", "-o", log); code != 0 {
		t.Fatal(errs)
	}
	srv := estest.New("8.15.0")
	srv.SetDown(true)
	defer srv.Close()
	start := time.Now()
	code, _, errs := runCmd(t, "", "scan", "--output", "elasticsearch", "--es-url", srv.URL, "--es-max-in-flight", "3", "--es-timeout", "1s", "--es-request-timeout", "500ms", "--format", "ndjson", log)
	if code != 1 || !strings.Contains(errs, "documents waiting to be indexed") {
		t.Fatalf("exit %d after %s: %s", code, time.Since(start), errs)
	}
}

// Documents Elasticsearch rejects for good: exit 4, naming the file, which
// holds them with the reason; the rest is indexed.
func TestScanDeadLetterExit4(t *testing.T) {
	srv := estest.New("8.15.0")
	defer srv.Close()
	srv.SetMappingError(func(map[string]any) bool { return true })
	dl := filepath.Join(t.TempDir(), "rejected.ndjson")
	code, _, errs := runCmd(t, "", "scan", "--output", "elasticsearch", "--es-url", srv.URL, "--dead-letter", dl, "--format", "ndjson", examples+"netfs-rreq-unlock-xa-retry/aks-node-1075.log")
	if code != exitDeadLetter || !strings.Contains(errs, dl) {
		t.Fatalf("exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(dl)
	if err != nil {
		t.Fatal(err)
	}
	var line struct {
		Reason   string          `json:"reason"`
		Document json.RawMessage `json:"document"`
	}
	if err := json.Unmarshal(data, &line); err != nil || !strings.Contains(line.Reason, "document_parsing_exception") {
		t.Fatalf("dead letter %q: %v", data, err)
	}
	// Without a rejection no file is left behind.
	srv.SetMappingError(nil)
	dl2 := filepath.Join(t.TempDir(), "none.ndjson")
	if code, _, errs := runCmd(t, "", "scan", "--output", "elasticsearch", "--es-url", srv.URL, "--es-namespace", "other", "--dead-letter", dl2, "--format", "ndjson", examples+"netfs-rreq-unlock-xa-retry/aks-node-1075.log"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, err := os.Stat(dl2); err == nil {
		t.Fatal("an empty dead-letter file was created")
	}
}

// A mistyped or empty --signatures directory is an error, not a run with an
// empty knowledge base.
func TestSignaturesDirectoryErrors(t *testing.T) {
	empty := t.TempDir()
	for _, dir := range []string{filepath.Join(empty, "nope"), empty, examples + "netfs-rreq-unlock-xa-retry/aks-node-1075.log"} {
		code, _, errs := runCmd(t, "", "scan", "--signatures", dir, "--format", "ndjson", examples+"netfs-rreq-unlock-xa-retry/aks-node-1075.log")
		if code != 1 || !strings.Contains(errs, "signatures directory") {
			t.Errorf("%s: exit %d: %s", dir, code, errs)
		}
		if code, _, _ := runCmd(t, "", "rules", "lint", "--signatures", dir); code != 1 {
			t.Errorf("rules lint %s: exit %d", dir, code)
		}
	}
}

// Credentials written in a URL never show in a message.
func TestCredentialsRedacted(t *testing.T) {
	srv := estest.New("8.15.0")
	srv.RequireBasic("elastic", "right")
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://elastic:s3cret-pw@", 1)
	for _, args := range [][]string{
		{"setup", "--es-url", u},
		{"setup", "--es-url", "http://elastic:s3cret-pw@127.0.0.1:1", "--es-timeout", "2s"},
		{"setup", "--es-url", srv.URL, "--es-user", "elastic", "--es-password", "right", "--kibana-url", "http://kibana:s3cret-pw@127.0.0.1:1"},
		{"scan", "--output", "elasticsearch", "--es-url", "elastic:s3cret-pw@es:9200", examples + "netfs-rreq-unlock-xa-retry/aks-node-1075.log"},
	} {
		code, out, errs := runCmd(t, "", args...)
		if code == 0 {
			t.Errorf("%v: exit 0", args)
		}
		if strings.Contains(out+errs, "s3cret-pw") {
			t.Errorf("%v: the password is printed:\n%s%s", args, out, errs)
		}
	}
}

// 401 fails at once with exit 1 and the reason, instead of retrying until
// --es-timeout.
func TestScanWrongCredentialsFailFast(t *testing.T) {
	srv := estest.New("8.15.0")
	srv.RequireAPIKey("right")
	defer srv.Close()
	t.Setenv("OOPSFLOW_ES_API_KEY", "wrong")
	code, _, errs := runCmd(t, "", "scan", "--output", "elasticsearch", "--es-url", srv.URL, "--es-timeout", "10m", "--format", "ndjson", examples+"netfs-rreq-unlock-xa-retry/aks-node-1075.log")
	if code != 1 || !strings.Contains(errs, "401") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

var _ = elastic.DataStreamPrefix
