package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/oopsflow/oopsflow/processor/config"
	"github.com/oopsflow/oopsflow/processor/fluentbit"
)

// Keys Fluent Bit's core handles for every output.
var coreKeys = []string{"name", "match", "match_regex", "alias", "log_level", "workers", "retry_limit", "storage.total_limit_size"}

func knownKey(k string) bool {
	k = strings.ToLower(k)
	for _, c := range coreKeys {
		if c == k {
			return true
		}
	}
	for _, c := range fluentbit.ConfigKeys() {
		if strings.ToLower(c) == k {
			return true
		}
	}
	return false
}

// checkValues loads an [OUTPUT] section with the plugin's loader, as
// Fluent Bit would after expanding ${VAR}: every value must be accepted.
func checkValues(t *testing.T, where string, keys map[string]string) {
	t.Helper()
	vars := map[string]string{"OOPSFLOW_ES_URL": "https://es.example:9200"}
	lower := map[string]string{}
	for k, v := range keys {
		lower[strings.ToLower(k)] = os.Expand(v, func(name string) string {
			if x, ok := vars[name]; ok {
				return x
			}
			return "secret"
		})
	}
	_, err := config.Load(config.Sources{Front: config.Plugin, Plugin: func(k string) string { return lower[strings.ToLower(k)] }})
	if err != nil {
		t.Errorf("%s: the plugin refuses its configuration: %v", where, err)
	}
}

// classicOutputs returns the oopsflow [OUTPUT] sections of a classic config.
func classicOutputs(t *testing.T, text string) []map[string]string {
	t.Helper()
	var out []map[string]string
	var cur map[string]string
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			section = strings.ToUpper(strings.Trim(line, "[]"))
			cur = map[string]string{}
			if section == "OUTPUT" {
				out = append(out, cur)
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Fatalf("malformed line %q", line)
		}
		if cur != nil {
			cur[strings.ToLower(f[0])] = strings.Join(f[1:], " ")
		}
	}
	var mine []map[string]string
	for _, o := range out {
		if strings.EqualFold(o["name"], "oopsflow") {
			mine = append(mine, o)
		}
	}
	return mine
}

func yamlOutputs(t *testing.T, data []byte) []map[string]string {
	t.Helper()
	var doc struct {
		Pipeline struct {
			Outputs []map[string]any `yaml:"outputs"`
		} `yaml:"pipeline"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var mine []map[string]string
	for _, o := range doc.Pipeline.Outputs {
		m := map[string]string{}
		for k, v := range o {
			m[strings.ToLower(k)] = strings.TrimSpace(strings.ReplaceAll(yamlString(v), "\n", " "))
		}
		if strings.EqualFold(m["name"], "oopsflow") {
			mine = append(mine, m)
		}
	}
	return mine
}

func yamlString(v any) string {
	b, _ := yaml.Marshal(v)
	return strings.TrimSpace(string(b))
}

// The Fluent Bit configurations use only keys the plugin reads (or Fluent
// Bit's own), each classic file has a YAML twin with the same output keys,
// and the DaemonSet embeds a configuration of the same kind.
func TestDeployFluentBitConfigs(t *testing.T) {
	files, _ := filepath.Glob("../deploy/fluent-bit/*.conf")
	if len(files) < 5 {
		t.Fatalf("only %d configs", len(files))
	}
	for _, f := range files {
		if strings.HasSuffix(f, "plugins.conf") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		classic := classicOutputs(t, string(data))
		ydata, err := os.ReadFile(strings.TrimSuffix(f, ".conf") + ".yaml")
		if err != nil {
			t.Fatalf("%s has no YAML twin: %v", f, err)
		}
		ys := yamlOutputs(t, ydata)
		if len(classic) != len(ys) {
			t.Fatalf("%s: %d oopsflow outputs, YAML has %d", f, len(classic), len(ys))
		}
		for i, o := range classic {
			var keys, ykeys []string
			for k := range o {
				if !knownKey(k) {
					t.Errorf("%s: key %q is not read by the plugin", f, k)
				}
				keys = append(keys, k)
			}
			for k := range ys[i] {
				if !knownKey(k) {
					t.Errorf("%s YAML: key %q is not read by the plugin", f, k)
				}
				ykeys = append(ykeys, k)
			}
			checkValues(t, f, o)
			checkValues(t, f+" YAML", ys[i])
			sort.Strings(keys)
			sort.Strings(ykeys)
			if strings.Join(keys, ",") != strings.Join(ykeys, ",") {
				t.Errorf("%s: classic keys %v, YAML keys %v", f, keys, ykeys)
			}
		}
	}
	// The compose stack's configuration, which has no YAML twin.
	data, err := os.ReadFile("../deploy/compose/fluent-bit.conf")
	if err != nil {
		t.Fatal(err)
	}
	outs := classicOutputs(t, string(data))
	if len(outs) != 1 {
		t.Fatalf("compose config: %d oopsflow outputs", len(outs))
	}
	for k := range outs[0] {
		if !knownKey(k) {
			t.Errorf("compose config: key %q is not read by the plugin", k)
		}
	}
	checkValues(t, "compose config", outs[0])
	// The DaemonSet's embedded configuration.
	data, err = os.ReadFile("../deploy/kubernetes/fluent-bit-daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	found := false
	for {
		var obj struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
		}
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if obj.Kind == "ConfigMap" {
			outs := classicOutputs(t, obj.Data["fluent-bit.conf"])
			if len(outs) != 1 {
				t.Fatalf("DaemonSet config: %d oopsflow outputs", len(outs))
			}
			for k := range outs[0] {
				if !knownKey(k) {
					t.Errorf("DaemonSet config: key %q is not read by the plugin", k)
				}
			}
			checkValues(t, "DaemonSet config", outs[0])
			found = true
		}
	}
	if !found {
		t.Fatal("no ConfigMap in the DaemonSet manifest")
	}
}
