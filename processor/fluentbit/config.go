package fluentbit

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/oopsflow/oopsflow/processor/alert"
	"github.com/oopsflow/oopsflow/processor/elastic"
	"github.com/oopsflow/oopsflow/processor/logline"
	"github.com/oopsflow/oopsflow/processor/pipeline"
)

// Config is an instance's configuration, read from its [OUTPUT] keys.
type Config struct {
	ID       string
	Output   string // elasticsearch or ndjson
	Path     string // NDJSON file; Fluent Bit's standard output when empty
	ES       elastic.Config
	Pipeline pipeline.Config
	// RetryWait bounds how long a flush waits for a chunk's documents to
	// become durable before it answers FLB_RETRY (default 2s).
	RetryWait time.Duration
	// MaxPendingChunks bounds the chunks read and not yet acknowledged;
	// beyond it new chunks are refused unread (default 1024).
	MaxPendingChunks int
	// ExitTimeout bounds Exit, so that Fluent Bit stops within its Grace
	// (default 4s, under Fluent Bit's default Grace of 5s).
	ExitTimeout  time.Duration
	Webhook      string
	AlertsConfig string
	// UpstreamIndex is the syzbot bug index (oopsflow upstream sync): a
	// file, auto (the default file if it exists) or off.
	UpstreamIndex string
	// Signatures are user knowledge base directories, added to the
	// built-in signatures (NoBuiltinSignatures: instead of them), reloaded
	// when their files change.
	Signatures          []string
	NoBuiltinSignatures bool
}

// Defaults of the plugin's keys.
const (
	DefaultRetryWait        = 2 * time.Second
	DefaultMaxPendingChunks = 1024
	DefaultExitTimeout      = 4 * time.Second
	// DefaultWallIdle closes the last report of a node that went quiet.
	// Shorter than the consumer's: one node's lines come in order and
	// together, and the chunks holding the report wait for it.
	DefaultWallIdle = 10 * time.Second
)

// ParseConfig reads an instance's configuration from get(key), which
// returns "" for absent keys. An invalid value is an error naming the key.
func ParseConfig(get func(key string) string) (Config, error) {
	cfg := Config{ID: get("Id"), Output: strings.ToLower(get("Output")), Path: get("Path")}
	if cfg.ID == "" {
		cfg.ID = "oopsflow"
	}
	var err error
	pc := &cfg.Pipeline
	if pc.Assemble.MaxLines, err = intKey(get, "Max_Report_Lines", 0); err != nil {
		return cfg, err
	}
	if pc.Assemble.MaxHosts, err = intKey(get, "Max_Hosts", 0); err != nil {
		return cfg, err
	}
	var openBytes int
	if openBytes, err = intKey(get, "Max_Open_Bytes", 0); err != nil {
		return cfg, err
	}
	pc.Assemble.MaxOpenBytes = int64(openBytes)
	if pc.Assemble.Idle, err = durKey(get, "Idle", 0); err != nil {
		return cfg, err
	}
	if pc.WallIdle, err = durKey(get, "Wall_Idle", DefaultWallIdle); err != nil {
		return cfg, err
	}
	if cfg.RetryWait, err = durKey(get, "Retry_Wait", DefaultRetryWait); err != nil {
		return cfg, err
	}
	if cfg.ExitTimeout, err = durKey(get, "Exit_Timeout", DefaultExitTimeout); err != nil {
		return cfg, err
	}
	if cfg.MaxPendingChunks, err = intKey(get, "Max_Pending_Chunks", DefaultMaxPendingChunks); err != nil {
		return cfg, err
	}
	keys := logline.DefaultKeys()
	if v := get("Host_Key"); v != "" {
		keys.Host = append(splitList(v), keys.Host...)
	}
	if v := get("Message_Key"); v != "" {
		keys.Message = append(splitList(v), keys.Message...)
	}
	pc.Keys = keys
	pc.DefaultHost = get("Hostname")
	if pc.DefaultHost == "" {
		// kmsg records carry no host: Fluent Bit runs on the node they
		// come from.
		pc.DefaultHost, _ = os.Hostname()
	}
	cfg.Webhook, cfg.AlertsConfig = get("Webhook"), get("Alerts_Config")
	if cfg.UpstreamIndex = get("Upstream_Index"); cfg.UpstreamIndex == "" {
		cfg.UpstreamIndex = "auto"
	}
	cfg.Signatures = splitList(get("Signatures"))
	switch v := strings.ToLower(get("No_Builtin_Signatures")); v {
	case "", "off", "false", "no":
	case "on", "true", "yes":
		cfg.NoBuiltinSignatures = true
	default:
		return cfg, fmt.Errorf("No_Builtin_Signatures: %q: want on or off", v)
	}
	switch cfg.Output {
	case "":
		cfg.Output = "ndjson"
	case "ndjson":
	case "elasticsearch":
		if cfg.ES, err = esConfig(get); err != nil {
			return cfg, err
		}
	default:
		return cfg, fmt.Errorf("Output: %q: want elasticsearch or ndjson", cfg.Output)
	}
	return cfg, nil
}

func intKey(get func(string) string, key string, def int) (int, error) {
	v := get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive integer", key, v)
	}
	return n, nil
}

func durKey(get func(string) string, key string, def time.Duration) (time.Duration, error) {
	v := get(key)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: %q is not a duration such as 30s", key, v)
	}
	return d, nil
}

func esConfig(get func(string) string) (elastic.Config, error) {
	cfg := elastic.Config{
		Addresses: splitList(get("Es_Url")), CloudID: get("Es_Cloud_Id"), APIKey: get("Es_Api_Key"),
		Username: get("Es_User"), Password: get("Es_Password"), Namespace: get("Es_Namespace"),
	}
	if len(cfg.Addresses) == 0 && cfg.CloudID == "" {
		return cfg, fmt.Errorf("Output elasticsearch needs Es_Url or Es_Cloud_Id")
	}
	for _, a := range cfg.Addresses {
		if err := elastic.CheckURL(a); err != nil {
			return cfg, fmt.Errorf("Es_Url: %w", err)
		}
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	if err := elastic.CheckNamespace(cfg.Namespace); err != nil {
		return cfg, fmt.Errorf("Es_Namespace: %w", err)
	}
	switch v := strings.ToLower(get("Es_Insecure")); v {
	case "", "off", "false", "no":
	case "on", "true", "yes":
		cfg.InsecureSkipVerify = true
	default:
		return cfg, fmt.Errorf("Es_Insecure: %q: want on or off", v)
	}
	if f := get("Es_Ca_File"); f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return cfg, fmt.Errorf("Es_Ca_File: %w", err)
		}
		cfg.CACert = pem
	}
	var err error
	if cfg.MaxInFlight, err = intKey(get, "Es_Max_In_Flight", 5000); err != nil {
		return cfg, err
	}
	if cfg.RequestTimeout, err = durKey(get, "Es_Request_Timeout", 30*time.Second); err != nil {
		return cfg, err
	}
	cfg.DeadLetterPath = get("Dead_Letter")
	return cfg, nil
}

func buildNotifier(webhook, configFile string, log *slog.Logger) (*alert.Notifier, error) {
	var f alert.FileConfig
	if configFile != "" {
		data, err := os.ReadFile(configFile)
		if err != nil {
			return nil, fmt.Errorf("Alerts_Config: %w", err)
		}
		var doc struct {
			Alerts alert.FileConfig `yaml:"alerts"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("Alerts_Config %s: %w", configFile, err)
		}
		f = doc.Alerts
	}
	if webhook != "" {
		f.Receivers = append(f.Receivers, alert.ReceiverConfig{Type: "webhook", Name: "fluent-bit", URL: webhook})
	}
	if len(f.Receivers) == 0 {
		return nil, nil
	}
	cfg, err := f.Build()
	if err != nil {
		return nil, err
	}
	cfg.Logger = log
	return alert.New(cfg), nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// ConfigKeys lists the configuration keys an instance reads. Fluent Bit's
// core keeps "Host" (and Match, Workers, Retry_Limit, ...) for itself, so
// the fallback host name is "Hostname".
func ConfigKeys() []string {
	return []string{
		"Id", "Output", "Path", "Es_Url", "Es_Cloud_Id", "Es_Api_Key", "Es_User", "Es_Password", "Es_Ca_File",
		"Es_Insecure", "Es_Namespace", "Es_Max_In_Flight", "Es_Request_Timeout", "Dead_Letter", "Host_Key",
		"Message_Key", "Hostname", "Max_Report_Lines", "Max_Hosts", "Max_Open_Bytes", "Idle", "Wall_Idle",
		"Retry_Wait", "Max_Pending_Chunks", "Exit_Timeout", "Webhook", "Alerts_Config", "Upstream_Index",
		"Signatures", "No_Builtin_Signatures",
	}
}
