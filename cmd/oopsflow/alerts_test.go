package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/oopsflow/oopsflow/processor/alert"
)

// scan of a generated fleet log delivers exactly one alert per known issue
// and per unknown fingerprint, signed, with the right host counts.
func TestScanAlertsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "fleet.log")
	if code, _, errs := runCmd(t, "", "gen", "--lines", "60000", "--hosts", "80", "--crash-every", "800", "--seed", "4", "-o", log); code != 0 {
		t.Fatal(errs)
	}
	// What the alerts must say: the documents, grouped.
	code, out, _ := runCmd(t, "", "scan", "--format", "json", log)
	if code != 0 {
		t.Fatal("scan")
	}
	var docs []struct {
		Host struct{ Name string }        `json:"host"`
		Rule *struct{ ID string }         `json:"rule"`
		Oops struct{ Fingerprint string } `json:"oops"`
	}
	if err := json.Unmarshal([]byte(out), &docs); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]bool{}
	for _, d := range docs {
		key := "fingerprint:" + d.Oops.Fingerprint
		if d.Rule != nil {
			key = "rule:" + d.Rule.ID
		}
		if want[key] == nil {
			want[key] = map[string]bool{}
		}
		want[key][d.Host.Name] = true
	}

	var mu sync.Mutex
	got := map[string]int{}
	var bad []string
	secret := []byte("hook-secret")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var p struct {
			Key       string `json:"key"`
			HostCount int    `json:"host_count"`
		}
		json.Unmarshal(b, &p)
		mu.Lock()
		defer mu.Unlock()
		if !alert.Verify(secret, r.Header.Get(alert.HeaderTimestamp), r.Header.Get(alert.HeaderSignature), b) {
			bad = append(bad, "unsigned "+p.Key)
		}
		if len(want[p.Key]) != p.HostCount {
			bad = append(bad, p.Key)
		}
		got[p.Key]++
	}))
	defer srv.Close()
	t.Setenv("OOPSFLOW_WEBHOOK_SECRET", string(secret))
	cfg := filepath.Join(dir, "alerts.yaml")
	os.WriteFile(cfg, []byte("alerts:\n  rate_per_second: 1000\n"), 0o644)
	if code, _, errs := runCmd(t, "", "scan", "--format", "ndjson", "--config", cfg, "--webhook", srv.URL, "--stats", log); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("bad notifications: %v", bad)
	}
	var missing []string
	for key := range want {
		if got[key] != 1 {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 || len(got) != len(want) {
		t.Fatalf("want one alert per group (%d groups), got %d; wrong: %v", len(want), len(got), missing)
	}
	known := 0
	for k := range want {
		if k[:5] == "rule:" {
			known++
		}
	}
	if known == 0 {
		t.Fatal("the fleet log produced no known issue")
	}
}
