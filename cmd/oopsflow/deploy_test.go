package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// No Docker engine or Kubernetes cluster runs these tests, so they check
// what can be checked without one: every file under deploy/ parses, the
// references between files hold, every oopsflow command line and
// configuration is one the binary accepts, images are pinned, and the
// binary the image contains builds static.

const deployDir = "../../deploy"

// decodeAll returns every YAML document of a file.
func decodeAll(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	return docs
}

func TestDeployFilesParse(t *testing.T) {
	n := 0
	err := filepath.WalkDir(deployDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(path) {
		case ".yaml", ".yml":
			if len(decodeAll(t, path)) == 0 {
				t.Errorf("%s: no YAML document", path)
			}
			n++
		case ".json":
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if !json.Valid(data) {
				t.Errorf("%s: invalid JSON", path)
			}
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 8 {
		t.Fatalf("only %d YAML/JSON files under deploy/", n)
	}
}

// flagRE matches a flag in the output of flag.PrintDefaults.
var flagRE = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)

// acceptedFlags returns the flags `oopsflow <cmd> -h` lists.
func acceptedFlags(t *testing.T, cmd string) map[string]bool {
	t.Helper()
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{cmd, "-h"}, strings.NewReader(""), io.Discard, &stderr); code != exitOK {
		t.Fatalf("oopsflow %s -h: exit %d: %s", cmd, code, stderr.String())
	}
	flags := map[string]bool{}
	for _, m := range flagRE.FindAllStringSubmatch(stderr.String(), -1) {
		flags[m[1]] = true
	}
	if len(flags) == 0 {
		t.Fatalf("oopsflow %s -h lists no flags", cmd)
	}
	return flags
}

// checkCommandLine checks an oopsflow argument vector against the binary's
// own flag sets and returns the value of each flag.
func checkCommandLine(t *testing.T, where string, args []string) map[string]string {
	t.Helper()
	if len(args) == 0 {
		t.Fatalf("%s: empty oopsflow command", where)
	}
	accepted := acceptedFlags(t, args[0])
	values := map[string]string{}
	for i := 1; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			t.Errorf("%s: argument %q is not a flag", where, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !accepted[name] {
			t.Errorf("%s: oopsflow %s does not accept --%s", where, args[0], name)
		}
		if !hasVal && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
			val = args[i]
		}
		values[name] = val
	}
	return values
}

// pinned reports whether an image reference names a version.
func pinned(image string) bool {
	if strings.Contains(image, "@sha256:") {
		return true
	}
	_, tag, ok := strings.Cut(image[strings.LastIndex(image, "/")+1:], ":")
	return ok && tag != "" && tag != "latest" && !strings.Contains(tag, "${")
}

// readEnvFile reads compose's .env.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not KEY=VALUE", path, line)
		}
		env[k] = v
	}
	return env
}

var varRE = regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)\}`)

// composeService is the part of a compose service these tests read.
type composeService struct {
	Image       string `yaml:"image"`
	Build       *struct{ Context, Dockerfile string }
	DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
	Command     []string                              `yaml:"command"`
	Volumes     []string                              `yaml:"volumes"`
	Ports       []string                              `yaml:"ports"`
	Environment map[string]string                     `yaml:"environment"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// fluentBitConfig returns the ports of the tcp inputs, the settings of the
// Kafka outputs and the plugins file of a classic Fluent Bit configuration.
func fluentBitConfig(t *testing.T, path string) (tcpPorts map[string]bool, kafka []map[string]string, pluginsFile string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tcpPorts = map[string]bool{}
	var sections []map[string]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			sections = append(sections, map[string]string{"[": strings.ToUpper(strings.Trim(line, "[]"))})
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || len(sections) == 0 {
			t.Fatalf("%s: malformed line %q", path, line)
		}
		sections[len(sections)-1][strings.ToLower(f[0])] = strings.Join(f[1:], " ")
	}
	for _, s := range sections {
		switch {
		case s["["] == "SERVICE":
			pluginsFile = s["plugins_file"]
		case s["["] == "INPUT" && s["name"] == "tcp":
			tcpPorts[s["port"]] = true
		case s["["] == "OUTPUT" && s["name"] == "kafka":
			kafka = append(kafka, s)
		}
	}
	return tcpPorts, kafka, pluginsFile
}

func TestDeployCompose(t *testing.T) {
	dir := filepath.Join(deployDir, "compose")
	data, err := os.ReadFile(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]composeService `yaml:"services"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(false)
	if err := dec.Decode(&compose); err != nil {
		t.Fatal(err)
	}
	env := readEnvFile(t, filepath.Join(dir, ".env"))
	for _, m := range varRE.FindAllStringSubmatch(string(data), -1) {
		if env[m[1]] == "" {
			t.Errorf("compose.yaml uses ${%s}, which .env does not set", m[1])
		}
	}
	expand := func(s string) string {
		return varRE.ReplaceAllStringFunc(s, func(v string) string { return env[v[2:len(v)-1]] })
	}

	want := []string{"kafka", "kafka-topic", "elasticsearch", "kibana", "oopsflow-setup", "oopsflow-consume", "fluent-bit", "gen-kafka", "gen-plugin"}
	for _, name := range want {
		if _, ok := compose.Services[name]; !ok {
			t.Errorf("no service %q", name)
		}
	}
	// Images an oopsflow build produces, by tag.
	built := map[string]string{}
	for name, s := range compose.Services {
		if s.Image == "" {
			t.Errorf("%s: no image", name)
			continue
		}
		if img := expand(s.Image); !pinned(img) {
			t.Errorf("%s: image %q is not pinned to a version", name, img)
		}
		if s.Build != nil {
			built[s.Image] = name
			if _, err := os.Stat(filepath.Join(dir, s.Build.Context, s.Build.Dockerfile)); err != nil {
				t.Errorf("%s: build: %v", name, err)
			}
		}
	}
	for name, s := range compose.Services {
		for dep, c := range s.DependsOn {
			d, ok := compose.Services[dep]
			if !ok {
				t.Errorf("%s depends on unknown service %q", name, dep)
				continue
			}
			switch c.Condition {
			case "service_healthy":
				if d.Healthcheck == nil {
					t.Errorf("%s waits for %s to be healthy, which has no health check", name, dep)
				}
			case "service_started":
				if d.Healthcheck != nil {
					t.Errorf("%s starts when %s has started; it has a health check, wait for service_healthy", name, dep)
				}
			case "service_completed_successfully":
			default:
				t.Errorf("%s: depends_on %s: condition %q", name, dep, c.Condition)
			}
		}
		if s.Build == nil && built[s.Image] == "" && strings.HasPrefix(s.Image, "oopsflow:") {
			t.Errorf("%s: image %s is built by no service", name, s.Image)
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
					t.Errorf("%s: volume %s: %v", name, v, err)
				}
			}
		}
	}
	// Services must come up without manual steps: everything that talks
	// to Elasticsearch, Kibana or Kafka waits for them, transitively.
	var reaches func(from, to string, seen map[string]bool) bool
	reaches = func(from, to string, seen map[string]bool) bool {
		if from == to {
			return true
		}
		if seen[from] {
			return false
		}
		seen[from] = true
		for dep := range compose.Services[from].DependsOn {
			if reaches(dep, to, seen) {
				return true
			}
		}
		return false
	}
	for from, tos := range map[string][]string{
		"oopsflow-setup":   {"elasticsearch", "kibana"},
		"oopsflow-consume": {"kafka-topic", "oopsflow-setup"},
		"fluent-bit":       {"kafka-topic", "oopsflow-setup"},
		"gen-kafka":        {"fluent-bit"},
		"gen-plugin":       {"fluent-bit"},
		"kibana":           {"elasticsearch"},
	} {
		for _, to := range tos {
			if !reaches(from, to, map[string]bool{}) {
				t.Errorf("%s does not wait for %s", from, to)
			}
		}
	}

	// Fluent Bit: the inputs the generators write to, the Kafka output.
	tcpPorts, kafkaOuts, pluginsFile := fluentBitConfig(t, filepath.Join(dir, "fluent-bit.conf"))
	if pluginsFile == "" {
		t.Error("fluent-bit.conf loads no plugins file")
	}
	dockerfile, err := os.ReadFile(filepath.Join(deployDir, "docker", "Dockerfile.fluent-bit"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dockerfile), " "+pluginsFile+"\n") {
		t.Errorf("Dockerfile.fluent-bit does not install %s", pluginsFile)
	}
	if len(kafkaOuts) != 1 {
		t.Fatalf("fluent-bit.conf: %d Kafka outputs, want 1", len(kafkaOuts))
	}

	// oopsflow commands, and what they point at.
	consumeYAML := ""
	for name, s := range compose.Services {
		if !strings.HasPrefix(s.Image, "oopsflow:") {
			continue
		}
		where := "compose service " + name
		values := checkCommandLine(t, where, s.Command)
		switch s.Command[0] {
		case "gen":
			addr, ok := strings.CutPrefix(values["o"], "tcp://")
			if !ok {
				t.Errorf("%s: writes to %q, not to Fluent Bit", where, values["o"])
				continue
			}
			host, port, _ := strings.Cut(addr, ":")
			if _, ok := compose.Services[host]; !ok {
				t.Errorf("%s: writes to unknown service %q", where, host)
			}
			if !tcpPorts[port] {
				t.Errorf("%s: Fluent Bit has no tcp input on port %s", where, port)
			}
			if values["json"] != "" && values["json"] != "true" {
				t.Errorf("%s: --json %q", where, values["json"])
			}
		case "setup":
			for _, k := range []string{"es-url", "kibana-url"} {
				if host := urlHost(values[k]); compose.Services[host].Image == "" {
					t.Errorf("%s: --%s points at unknown service %q", where, k, host)
				}
			}
		case "consume":
			path := values["config"]
			for _, v := range s.Volumes {
				src, dst, _ := strings.Cut(v, ":")
				if strings.TrimSuffix(dst, ":ro") == path {
					consumeYAML = filepath.Join(dir, src)
				}
			}
			if consumeYAML == "" {
				t.Errorf("%s: --config %s is not mounted", where, path)
			}
		}
	}
	if consumeYAML == "" {
		t.Fatal("no oopsflow consume service with a mounted configuration")
	}
	cfg, err := loadConsumeConfig(consumeYAML)
	if err != nil {
		t.Fatalf("the consumer rejects its compose configuration: %v", err)
	}
	topicArgs := strings.Join(compose.Services["kafka-topic"].Command, " ")
	if !strings.Contains(topicArgs, "--topic "+cfg.Kafka.Topic+" ") {
		t.Errorf("kafka-topic does not create the consumer's topic %q: %s", cfg.Kafka.Topic, topicArgs)
	}
	if kafkaOuts[0]["topics"] != cfg.Kafka.Topic {
		t.Errorf("Fluent Bit writes topic %q, the consumer reads %q", kafkaOuts[0]["topics"], cfg.Kafka.Topic)
	}
	kafkaEnv := compose.Services["kafka"].Environment
	for _, b := range append(cfg.Kafka.Brokers, strings.Split(kafkaOuts[0]["brokers"], ",")...) {
		if !strings.Contains(kafkaEnv["KAFKA_ADVERTISED_LISTENERS"], "//"+b) {
			t.Errorf("broker %s is not a listener Kafka advertises (%s)", b, kafkaEnv["KAFKA_ADVERTISED_LISTENERS"])
		}
	}
	for _, u := range cfg.Elasticsearch.URLs {
		if host := urlHost(u); compose.Services[host].Image == "" {
			t.Errorf("consume.yaml: Elasticsearch %s is no service", u)
		}
	}
	if cfg.Elasticsearch.Username != "" && compose.Services["oopsflow-consume"].Environment["OOPSFLOW_ES_PASSWORD"] == "" {
		t.Error("the consumer has a user name but no OOPSFLOW_ES_PASSWORD")
	}
	if _, port, _ := strings.Cut(cfg.MetricsAddr, ":"); !containsPrefix(compose.Services["oopsflow-consume"].Ports, port+":") {
		t.Errorf("the consumer's metrics port %s is not published", port)
	}
}

func urlHost(u string) string {
	_, rest, _ := strings.Cut(u, "://")
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, ":")
	return host
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// k8sObject is the part of a Kubernetes object these tests read.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name   string            `yaml:"name"`
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []struct {
					Name  string   `yaml:"name"`
					Image string   `yaml:"image"`
					Args  []string `yaml:"args"`
					Ports []struct {
						Name string `yaml:"name"`
					} `yaml:"ports"`
					LivenessProbe  *httpProbe `yaml:"livenessProbe"`
					ReadinessProbe *httpProbe `yaml:"readinessProbe"`
					VolumeMounts   []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name      string `yaml:"name"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func TestDeployKubernetes(t *testing.T) {
	dir := filepath.Join(deployDir, "kubernetes")
	var kust struct {
		Resources []string `yaml:"resources"`
		Images    []struct {
			Name   string `yaml:"name"`
			NewTag string `yaml:"newTag"`
		} `yaml:"images"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &kust); err != nil {
		t.Fatal(err)
	}
	var objs []k8sObject
	for _, r := range kust.Resources {
		data, err := os.ReadFile(filepath.Join(dir, r))
		if err != nil {
			t.Fatalf("kustomization resource: %v", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var o k8sObject
			if err := dec.Decode(&o); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", r, err)
			}
			objs = append(objs, o)
		}
	}
	// Every manifest in the directory is in the kustomization.
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, f := range files {
		base := filepath.Base(f)
		found := base == "kustomization.yaml"
		for _, r := range kust.Resources {
			found = found || r == base
		}
		if !found {
			t.Errorf("%s is not in kustomization.yaml", base)
		}
	}
	configMaps := map[string]map[string]string{}
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.Kind]++
		if o.Kind == "ConfigMap" {
			configMaps[o.Metadata.Name] = o.Data
		}
	}
	for _, k := range []string{"Namespace", "ConfigMap", "Deployment", "DaemonSet", "PodDisruptionBudget", "Service"} {
		if kinds[k] == 0 {
			t.Errorf("no %s in the kustomization", k)
		}
	}
	tags := map[string]string{}
	for _, im := range kust.Images {
		tags[im.Name] = im.NewTag
	}
	var deployment *k8sObject
	for i, o := range objs {
		if o.Kind != "Deployment" && o.Kind != "DaemonSet" {
			continue
		}
		if o.Kind == "Deployment" {
			deployment = &objs[i]
		}
		if !subset(o.Spec.Selector.MatchLabels, o.Spec.Template.Metadata.Labels) {
			t.Errorf("%s %s: selector does not match its pods", o.Kind, o.Metadata.Name)
		}
		mountedCM := map[string]string{} // mount path -> config map
		vols := map[string]string{}
		for _, v := range o.Spec.Template.Spec.Volumes {
			if v.ConfigMap != nil {
				if configMaps[v.ConfigMap.Name] == nil {
					t.Errorf("%s: volume %s: no ConfigMap %s", o.Metadata.Name, v.Name, v.ConfigMap.Name)
				}
				vols[v.Name] = v.ConfigMap.Name
			}
		}
		for _, c := range o.Spec.Template.Spec.Containers {
			if !pinned(c.Image) {
				t.Errorf("%s: image %s is not pinned", o.Metadata.Name, c.Image)
			}
			name, tag, _ := strings.Cut(c.Image, ":")
			if tags[name] == "" {
				t.Errorf("%s: image %s is not in the kustomization's images", o.Metadata.Name, name)
			} else if tags[name] != tag {
				t.Errorf("%s: image tag %s, kustomization sets %s", o.Metadata.Name, tag, tags[name])
			}
			for _, m := range c.VolumeMounts {
				if cm, ok := vols[m.Name]; ok {
					mountedCM[m.MountPath] = cm
				}
			}
			ports := map[string]bool{}
			for _, p := range c.Ports {
				ports[p.Name] = true
			}
			for _, p := range []any{probePort(c.LivenessProbe), probePort(c.ReadinessProbe)} {
				if s, ok := p.(string); ok && !ports[s] {
					t.Errorf("%s: probe on unknown port %q", o.Metadata.Name, s)
				}
			}
			if o.Kind != "Deployment" {
				// The plugin's Signatures directory is a mounted ConfigMap.
				for _, text := range configMaps[mountedCM["/fluent-bit/etc/oopsflow"]] {
					for _, line := range strings.Split(text, "\n") {
						if f := strings.Fields(line); len(f) == 2 && f[0] == "Signatures" && mountedCM[f[1]] == "" {
							t.Errorf("%s: Signatures %s is not a mounted ConfigMap", o.Metadata.Name, f[1])
						}
					}
				}
				continue
			}
			if c.LivenessProbe == nil || c.ReadinessProbe == nil {
				t.Errorf("%s: the consumer needs liveness and readiness probes", o.Metadata.Name)
			}
			values := checkCommandLine(t, "Deployment "+o.Metadata.Name, c.Args)
			path := values["config"]
			cm, ok := mountedCM[filepath.Dir(path)]
			if !ok {
				t.Fatalf("%s: --config %s is not in a mounted ConfigMap", o.Metadata.Name, path)
			}
			text, ok := configMaps[cm][filepath.Base(path)]
			if !ok {
				t.Fatalf("ConfigMap %s has no key %s", cm, filepath.Base(path))
			}
			f := filepath.Join(t.TempDir(), "oopsflow.yaml")
			if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadConsumeConfig(f)
			if err != nil {
				t.Errorf("the consumer rejects ConfigMap %s: %v", cm, err)
			} else if len(cfg.Signatures) == 0 {
				t.Errorf("the consumer loads no user signatures")
			}
			for _, dir := range cfg.Signatures {
				if mountedCM[dir] == "" {
					t.Errorf("signatures %s: no ConfigMap mounted there", dir)
				}
			}
		}
	}
	if deployment == nil {
		t.Fatal("no consumer Deployment")
	}
	for _, o := range objs {
		if o.Kind == "PodDisruptionBudget" && !subset(o.Spec.Selector.MatchLabels, deployment.Spec.Template.Metadata.Labels) {
			t.Errorf("PodDisruptionBudget %s selects no consumer pod", o.Metadata.Name)
		}
	}
}

// httpProbe is a probe on an HTTP path.
type httpProbe struct {
	HTTPGet struct {
		Port any `yaml:"port"`
	} `yaml:"httpGet"`
}

func probePort(p *httpProbe) any {
	if p == nil {
		return nil
	}
	return p.HTTPGet.Port
}

func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// The images: pinned bases, a non-root final stage, sources that exist,
// a builder as new as go.mod asks, and a Fluent Bit image tag that says
// which Fluent Bit it contains.
func TestDeployDockerfiles(t *testing.T) {
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if goVersion == nil {
		t.Fatal("go.mod has no go directive")
	}
	files, _ := filepath.Glob(filepath.Join(deployDir, "docker", "Dockerfile*"))
	if len(files) != 2 {
		t.Fatalf("want 2 Dockerfiles, found %v", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var lastFrom, user string
		for _, line := range strings.Split(string(data), "\n") {
			fields := strings.Fields(line)
			if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			switch fields[0] {
			case "FROM":
				lastFrom, user = fields[1], ""
				if !pinned(lastFrom) {
					t.Errorf("%s: FROM %s is not pinned", f, lastFrom)
				}
				if strings.HasPrefix(lastFrom, "golang:") && !strings.HasPrefix(strings.TrimPrefix(lastFrom, "golang:"), string(goVersion[1])) {
					t.Errorf("%s: builder %s, go.mod wants go %s", f, lastFrom, goVersion[1])
				}
			case "USER":
				user = fields[1]
			case "COPY":
				if strings.HasPrefix(fields[1], "--from") {
					continue
				}
				for _, src := range fields[1 : len(fields)-1] {
					if src == "." {
						continue
					}
					if _, err := os.Stat(filepath.Join("../..", src)); err != nil {
						t.Errorf("%s: COPY %s: %v", f, src, err)
					}
				}
			case "RUN":
				for _, pkg := range regexp.MustCompile(`\./[a-z/]+`).FindAllString(line, -1) {
					if _, err := os.Stat(filepath.Join("../..", pkg)); err != nil {
						t.Errorf("%s: builds %s: %v", f, pkg, err)
					}
				}
			}
		}
		switch filepath.Base(f) {
		case "Dockerfile":
			if !strings.HasPrefix(lastFrom, "gcr.io/distroless/static") || !strings.Contains(user, "nonroot") {
				t.Errorf("%s: final stage %s as user %q, want distroless static as nonroot", f, lastFrom, user)
			}
		case "Dockerfile.fluent-bit":
			fbVersion := strings.TrimPrefix(lastFrom, "fluent/fluent-bit:")
			// The harness (plugin/testdata/harness.c) follows Fluent Bit 5.
			if !strings.HasPrefix(fbVersion, "5.") {
				t.Errorf("%s: final stage %s; the plugin is tested against the Fluent Bit 5 ABI", f, lastFrom)
			}
			for _, manifest := range []string{"compose/compose.yaml", "kubernetes/kustomization.yaml", "kubernetes/fluent-bit-daemonset.yaml"} {
				m, err := os.ReadFile(filepath.Join(deployDir, manifest))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(m, []byte(fbVersion+"-oopsflow")) {
					t.Errorf("%s does not use the image built on Fluent Bit %s", manifest, fbVersion)
				}
			}
		}
	}
}

// The image's binary: built as the Dockerfile builds it, it must be static
// (distroless/static has no libc) and run.
func TestStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("checks an ELF binary")
	}
	out := binary(t) // built as the Dockerfile builds it
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("the binary is dynamically linked (%v)", p.Type)
		}
	}
	b, err := exec.Command(out, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(b), "oopsflow test") {
		t.Fatalf("oopsflow version: %v: %s", err, b)
	}
}

// The compose generators start at "now" so the dashboards show recent time.
func TestParseStart(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 4, 5, 600, time.FixedZone("X", 3600))
	for _, tc := range []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"now", time.Date(2026, 11, 22, 2, 4, 5, 0, time.UTC), false},
		{"2026-03-01T00:00:00Z", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), false},
		{"yesterday", time.Time{}, true},
	} {
		got, err := parseStart(tc.in, now)
		if (err != nil) != tc.err || !got.Equal(tc.want) {
			t.Errorf("parseStart(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}
