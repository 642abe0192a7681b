package config

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func environ(kv ...string) func() []string { return func() []string { return kv } }

func write(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "oopsflow.yaml")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// cli registers front's flags and parses args, as the commands do.
func cli(t *testing.T, front Front, args ...string) *flag.FlagSet {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	Register(fs, front)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return fs
}

// The table names each setting once, and each name leads to a field.
func TestTable(t *testing.T) {
	seen := map[string]string{}
	for _, f := range Fields {
		typ := typeAt(f.Key)
		if typ == nil {
			t.Errorf("%s: no Config field", f.Key)
			continue
		}
		for _, name := range []string{"key " + f.Key, "flag " + f.Flag, "env " + f.Env, "plugin " + strings.ToLower(f.Plugin)} {
			if strings.HasSuffix(name, " ") {
				continue
			}
			if other, dup := seen[name]; dup {
				t.Errorf("%s names both %s and %s", name, other, f.Key)
			}
			seen[name] = f.Key
		}
		if f.Positive && typ.Kind() != reflect.Int && typ.Kind() != reflect.Int64 {
			t.Errorf("%s: Positive on a %s", f.Key, typ)
		}
		if f.Fronts == 0 {
			t.Errorf("%s: read by no front end", f.Key)
		}
	}
}

// The file documenting every setting decodes, strictly, to the golden
// configuration.
func TestFullFile(t *testing.T) {
	text, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Fields {
		leaf := f.Key[strings.LastIndex(f.Key, ".")+1:]
		if !strings.Contains(string(text), leaf+":") {
			t.Errorf("testdata/full.yaml does not show %s", f.Key)
		}
	}
	cfg, err := Load(Sources{Front: Consume, Environ: environ(FileEnv + "=testdata/full.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.MarshalIndent(cfg, "", "  ")
	golden := "testdata/full.golden.json"
	if *update {
		os.WriteFile(golden, append(got, '\n'), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(got)+"\n" {
		t.Errorf("decoded configuration differs from %s (go test -update to accept):\n%s", golden, got)
	}
}

// Flags over environment over file over defaults, and Where says which.
func TestPrecedence(t *testing.T) {
	file := write(t, "assembly:\n  max_hosts: 100\n  idle: 10s\nelasticsearch:\n  urls: [http://file:9200]\nkafka:\n  topic: from-file\n")
	fs := cli(t, Consume, "--config", file, "--max-hosts", "7", "--signatures", "a", "--signatures", "b,c")
	cfg, err := Load(Sources{Front: Consume, Flags: fs, Environ: environ("OOPSFLOW_ES_URL=http://env:9200", "OOPSFLOW_KAFKA_TOPIC=from-env", "OOPSFLOW_KAFKA_GROUP=")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		got, want  any
		key, where string
	}{
		{cfg.Assembly.MaxHosts, 7, "assembly.max_hosts", "--max-hosts"},
		{cfg.Assembly.Idle, 10 * time.Second, "assembly.idle", file + ": assembly.idle"},
		{cfg.Elasticsearch.URLs, []string{"http://env:9200"}, "elasticsearch.urls", "env OOPSFLOW_ES_URL"},
		{cfg.Kafka.Topic, "from-env", "kafka.topic", "env OOPSFLOW_KAFKA_TOPIC"},
		{cfg.Kafka.Group, "oopsflow", "kafka.group", "--group"}, // an empty variable is no setting
		{cfg.Assembly.MaxReportLines, 1000, "assembly.max_report_lines", "--max-report-lines"},
		{cfg.Signatures, []string{"a", "b", "c"}, "signatures", "--signatures"},
		{cfg.Output, "elasticsearch", "output", "--output"},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.key, c.got, c.want)
		}
		if w := cfg.Where(c.key); w != c.where {
			t.Errorf("Where(%s) = %q, want %q", c.key, w, c.where)
		}
	}
}

// A bad value is refused with the name it was written under, in every
// layer.
func TestBadValues(t *testing.T) {
	for _, c := range []struct {
		name    string
		front   Front
		file    string
		env     []string
		args    []string
		plugin  map[string]string
		wantErr string
	}{
		{name: "flag zero", front: Scan, args: []string{"--context-lines", "0"}, wantErr: "--context-lines"},
		{name: "flag negative", front: Scan, args: []string{"--max-report-lines", "-7"}, wantErr: "--max-report-lines"},
		{name: "flag zero duration", front: Consume, args: []string{"--wall-idle", "0s"}, wantErr: "--wall-idle"},
		{name: "flag not an integer", front: Scan, args: []string{"--max-hosts", "many"}, wantErr: `--max-hosts "many": want an integer`},
		{name: "flag duration without unit", front: Scan, args: []string{"--idle", "30"}, wantErr: `--idle "30": want a duration`},
		{name: "flag enum", front: Consume, args: []string{"--start", "middle"}, wantErr: "--start"},
		{name: "flag url", front: Setup, args: []string{"--es-url", "es:9200"}, wantErr: "--es-url"},
		{name: "env url", front: Scan, env: []string{"OOPSFLOW_ES_URL=ftp://x"}, wantErr: "env OOPSFLOW_ES_URL"},
		{name: "env namespace", front: Scan, env: []string{"OOPSFLOW_ES_NAMESPACE=Prod*"}, wantErr: "env OOPSFLOW_ES_NAMESPACE"},
		{name: "file zero", front: Consume, file: "assembly:\n  max_hosts: 0\n", wantErr: "assembly.max_hosts"},
		{name: "file negative duration", front: Consume, file: "assembly:\n  idle: -5s\n", wantErr: "assembly.idle"},
		{name: "file bare number duration", front: Consume, file: "assembly:\n  idle: 30\n", wantErr: "assembly.idle"},
		{name: "file typo", front: Consume, file: "kafka:\n  topc: x\n", wantErr: "kafka.topc: unknown key (did you mean kafka.topic?)"},
		{name: "file typo at the top", front: Scan, file: "signature: [x]\n", wantErr: "did you mean signatures?"},
		{name: "file receiver typo", front: Scan, file: "alerts:\n  receivers:\n    - type: webhook\n      urll: http://x\n", wantErr: "urll"},
		{name: "file wrong type", front: Consume, file: "kafka:\n  topic: [a, b]\n", wantErr: "kafka.topic"},
		{name: "file level", front: Consume, file: "log_level: loud\n", wantErr: "log_level"},
		{name: "file not yaml", front: Consume, file: "kafka: [\n", wantErr: "config"},
		{name: "plugin integer", front: Plugin, plugin: map[string]string{"Max_Hosts": "abc"}, wantErr: "Max_Hosts"},
		{name: "plugin zero", front: Plugin, plugin: map[string]string{"Retry_Wait": "0s"}, wantErr: "Retry_Wait"},
		{name: "plugin output", front: Plugin, plugin: map[string]string{"Output": "kafka"}, wantErr: "Output"},
		{name: "plugin switch", front: Plugin, plugin: map[string]string{"No_Builtin_Signatures": "maybe"}, wantErr: "No_Builtin_Signatures"},
		{name: "plugin namespace", front: Plugin, plugin: map[string]string{"Es_Namespace": "a b"}, wantErr: "Es_Namespace"},
		{name: "plugin file", front: Plugin, file: "assembly:\n  max_hosts: -1\n", wantErr: "assembly.max_hosts"},
		{name: "plugin alerts file missing", front: Plugin, plugin: map[string]string{AlertsFilePlugin: "/nonexistent/alerts.yaml"}, wantErr: "Alerts_Config: config: open /nonexistent/alerts.yaml"},
		{name: "file missing", front: Consume, args: []string{"--config", "/nonexistent/oopsflow.yaml"}, wantErr: "config: open /nonexistent/oopsflow.yaml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := Sources{Front: c.front, Environ: environ(c.env...)}
			if c.file != "" {
				f := write(t, c.file)
				if c.front == Plugin {
					c.plugin = map[string]string{FilePlugin: f}
				} else {
					c.args = append(c.args, "--config", f)
				}
			}
			if c.front == Plugin {
				s.Plugin = func(k string) string { return c.plugin[k] }
			} else {
				fs := flag.NewFlagSet("test", flag.ContinueOnError)
				Register(fs, c.front)
				if err := fs.Parse(c.args); err != nil {
					t.Fatalf("parse: %v", err)
				}
				s.Flags = fs
			}
			_, err := Load(s)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err = %v, want one naming %q", err, c.wantErr)
			}
		})
	}
}

// A setting written as a flag, a plugin key or in the file gives the same
// value: one loader, three spellings.
func TestSpellingsAgree(t *testing.T) {
	checked := 0
	samples := map[reflect.Kind]string{reflect.Int: "17", reflect.Int64: "17", reflect.Bool: "on", reflect.Slice: "x,y", reflect.String: "ndjson"}
	for _, f := range Fields {
		if f.Flag == "" || f.Plugin == "" || f.Fronts&Plugin == 0 {
			continue
		}
		typ := typeAt(f.Key)
		raw := samples[typ.Kind()]
		if typ == durationType {
			raw = "17s"
		}
		if strings.HasPrefix(f.Key, "elasticsearch.urls") {
			raw = "http://a:9200,http://b:9200"
		} else if f.Key == "elasticsearch.namespace" {
			raw = "prod"
		}
		front := Scan
		if f.Fronts&Scan == 0 {
			front = Consume
		}
		fromFlag, err := Load(Sources{Front: front, Flags: cli(t, front, "--"+f.Flag+"="+raw), Environ: environ()})
		if err != nil {
			t.Errorf("--%s=%s: %v", f.Flag, raw, err)
			continue
		}
		fromPlugin, err := Load(Sources{Front: Plugin, Plugin: func(k string) string {
			if k == f.Plugin {
				return raw
			}
			return ""
		}})
		if err != nil {
			t.Errorf("%s %s: %v", f.Plugin, raw, err)
			continue
		}
		checked++
		a, b := valueAt(fromFlag, f.Key).Interface(), valueAt(fromPlugin, f.Key).Interface()
		if !reflect.DeepEqual(a, b) || reflect.ValueOf(a).IsZero() {
			t.Errorf("%s: flag gives %v, plugin key gives %v", f.Key, a, b)
		}
	}
	if checked < 20 {
		t.Errorf("only %d settings have both a flag and a plugin key", checked)
	}
}

// The plugin's Alerts_Config reads only the alerts of a consumer's file;
// Config reads all of it, under the [OUTPUT] keys.
func TestPluginFiles(t *testing.T) {
	file := write(t, "output: elasticsearch\nelasticsearch:\n  urls: [http://es:9200]\nalerts:\n  receivers:\n    - type: webhook\n      url: http://hook\n")
	cfg, err := Load(Sources{Front: Plugin, Plugin: func(k string) string { return map[string]string{AlertsFilePlugin: file}[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Output != "ndjson" || len(cfg.Alerts.Receivers) != 1 || len(cfg.Elasticsearch.URLs) != 0 {
		t.Errorf("Alerts_Config: output %s, %d receivers, urls %v", cfg.Output, len(cfg.Alerts.Receivers), cfg.Elasticsearch.URLs)
	}
	cfg, err = Load(Sources{Front: Plugin, Plugin: func(k string) string {
		return map[string]string{FilePlugin: file, "Es_Url": "http://key:9200"}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Output != "elasticsearch" || !reflect.DeepEqual(cfg.Elasticsearch.URLs, []string{"http://key:9200"}) {
		t.Errorf("Config: output %s, urls %v", cfg.Output, cfg.Elasticsearch.URLs)
	}
	if _, err := cfg.ElasticConfig(); err != nil {
		t.Error(err)
	}
}

// Secrets come from the setting or its file; a missing file names the key.
func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte("c2VjcmV0\n"), 0o600)
	file := write(t, "elasticsearch:\n  urls: [http://es:9200]\n  api_key_file: "+key+"\n  password_file: "+filepath.Join(dir, "missing")+"\n")
	cfg, err := Load(Sources{Front: Scan, Flags: cli(t, Scan, "--config", file), Environ: environ("OOPSFLOW_ES_PASSWORD=pw")})
	if err != nil {
		t.Fatal(err)
	}
	es, err := cfg.ElasticConfig()
	if err != nil || es.APIKey != "c2VjcmV0" || es.Password != "pw" {
		t.Errorf("api key %q, password %q, %v", es.APIKey, es.Password, err)
	}
	cfg, _ = Load(Sources{Front: Scan, Flags: cli(t, Scan, "--config", file), Environ: environ()})
	if _, err := cfg.ElasticConfig(); err == nil || !strings.Contains(err.Error(), "elasticsearch.password_file") {
		t.Errorf("missing password file: %v", err)
	}
	cfg, _ = Load(Sources{Front: Scan, Flags: cli(t, Scan, "--es-url", "http://es:9200", "--es-ca", filepath.Join(dir, "no-ca.pem")), Environ: environ()})
	if _, err := cfg.ElasticConfig(); err == nil || !strings.Contains(err.Error(), "--es-ca") {
		t.Errorf("missing CA file: %v", err)
	}
	cfg, _ = Load(Sources{Front: Consume, Environ: environ("OOPSFLOW_KAFKA_PASSWORD=")})
	cfg.Kafka.SASL.PasswordFile = filepath.Join(dir, "missing")
	if _, err := cfg.KafkaPassword(); err == nil || !strings.Contains(err.Error(), "kafka.sasl.password_file") {
		t.Errorf("missing Kafka password file: %v", err)
	}
	cfg, _ = Load(Sources{Front: Plugin, Plugin: func(string) string { return "" }})
	if _, err := cfg.ElasticConfig(); err == nil || !strings.Contains(err.Error(), "Es_Url or Es_Cloud_Id") {
		t.Errorf("no cluster in the plugin: %v", err)
	}
}
