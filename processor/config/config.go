// Package config is the one configuration loader of oopsflow's front ends:
// scan, consume, setup and the Fluent Bit plugin. Every setting is a row of
// one table (Fields): its key in the YAML file, its command-line flag, its
// environment variable and its Fluent Bit key. Load reads the layers in
// order, each over the one before: the front end's defaults, the YAML file,
// the environment, then the flags (or, in the plugin, the [OUTPUT] keys).
// A bad value is an error that names the field where it was written.
//
// The layers are merged by koanf (github.com/knadh/koanf/v2) and decoded by
// its mapstructure decoder; the file is strict: an unknown key is an error.
package config

import (
	"time"

	"github.com/oopsflow/oopsflow/processor/alert"
	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/elastic"
	"github.com/oopsflow/oopsflow/processor/pipeline"
)

// Front is a front end. A field is read by the front ends of its mask.
type Front uint8

// The front ends.
const (
	Scan Front = 1 << iota
	Consume
	Setup
	Plugin
)

// Config is the configuration of a front end: the YAML file's schema.
type Config struct {
	Kafka Kafka `yaml:"kafka"`
	// Output is where documents go: elasticsearch or ndjson.
	Output        string        `yaml:"output"`
	Elasticsearch Elasticsearch `yaml:"elasticsearch"`
	Records       Records       `yaml:"records"`
	Assembly      Assembly      `yaml:"assembly"`
	// Alerts are the alert receivers, grouping and policy.
	Alerts alert.FileConfig `yaml:"alerts"`
	// Webhook is one more receiver: a generic JSON webhook, signed with
	// the environment's OOPSFLOW_WEBHOOK_SECRET when set.
	Webhook string `yaml:"webhook"`
	// Signatures are user knowledge base directories, added to the
	// built-in signatures (NoBuiltinSignatures: instead of them).
	Signatures          []string `yaml:"signatures"`
	NoBuiltinSignatures bool     `yaml:"no_builtin_signatures"`
	// UpstreamIndex is the syzbot bug index (oopsflow upstream sync): a
	// file, auto (the default file if it exists) or off.
	UpstreamIndex string `yaml:"upstream_index"`
	// MetricsAddr serves /metrics, /healthz and /readyz (consume; empty:
	// off).
	MetricsAddr string `yaml:"metrics_addr"`
	// LogLevel is debug, info, warn or error (consume).
	LogLevel  string    `yaml:"log_level"`
	FluentBit FluentBit `yaml:"fluent_bit"`

	// Front is the front end the configuration was loaded for.
	Front Front `yaml:"-"`
	// origin says where each key given was written (for messages).
	origin map[string]string
}

// Kafka is the consumer's Kafka connection.
type Kafka struct {
	Brokers []string `yaml:"brokers"`
	Topic   string   `yaml:"topic"`
	Group   string   `yaml:"group"`
	// Start is where a partition without a committed offset starts:
	// first or last.
	Start string `yaml:"start"`
	TLS   struct {
		Enabled            bool   `yaml:"enabled"`
		CAFile             string `yaml:"ca_file"`
		CertFile           string `yaml:"cert_file"`
		KeyFile            string `yaml:"key_file"`
		InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	} `yaml:"tls"`
	SASL struct {
		Mechanism    string `yaml:"mechanism"`
		Username     string `yaml:"username"`
		Password     string `yaml:"password"`
		PasswordFile string `yaml:"password_file"`
	} `yaml:"sasl"`
}

// Elasticsearch is the sink's cluster and how documents are held for it.
type Elasticsearch struct {
	URLs               []string      `yaml:"urls"`
	CloudID            string        `yaml:"cloud_id"`
	APIKey             string        `yaml:"api_key"`
	APIKeyFile         string        `yaml:"api_key_file"`
	Username           string        `yaml:"username"`
	Password           string        `yaml:"password"`
	PasswordFile       string        `yaml:"password_file"`
	CAFile             string        `yaml:"ca_file"`
	InsecureSkipVerify bool          `yaml:"insecure_skip_verify"`
	Namespace          string        `yaml:"namespace"`
	DeadLetterFile     string        `yaml:"dead_letter_file"`
	MaxInFlight        int           `yaml:"max_in_flight"`
	Timeout            time.Duration `yaml:"timeout"`
	RequestTimeout     time.Duration `yaml:"request_timeout"`
}

// Records names the keys of structured records (JSON lines in Kafka,
// Fluent Bit records) that carry the host, the message, the time and the
// program. The keys given are tried first, then the usual ones.
type Records struct {
	HostKeys    []string `yaml:"host_keys"`
	MessageKeys []string `yaml:"message_keys"`
	TimeKeys    []string `yaml:"time_keys"`
	IdentKeys   []string `yaml:"ident_keys"`
}

// Assembly bounds report assembly: the memory it may hold, and when an
// unfinished report is closed.
type Assembly struct {
	MaxReportLines int           `yaml:"max_report_lines"`
	MaxHosts       int           `yaml:"max_hosts"`
	MaxOpenBytes   int64         `yaml:"max_open_bytes"` // per process, over every partition
	ContextLines   int           `yaml:"context_lines"`
	MaxLineBytes   int           `yaml:"max_line_bytes"`
	Idle           time.Duration `yaml:"idle"`
	WallIdle       time.Duration `yaml:"wall_idle"`
}

// FluentBit are the plugin's own settings.
type FluentBit struct {
	// ID names the instance in logs (several may run in one Fluent Bit).
	ID string `yaml:"id"`
	// Path is the NDJSON file of Output ndjson (Fluent Bit's standard
	// output when empty).
	Path string `yaml:"path"`
	// Hostname names the host of records that carry none (kmsg); default:
	// the node's name.
	Hostname string `yaml:"hostname"`
	// RetryWait bounds how long a flush waits for a chunk's documents to
	// become durable before it answers FLB_RETRY.
	RetryWait time.Duration `yaml:"retry_wait"`
	// MaxPendingChunks bounds the chunks read and not yet acknowledged;
	// beyond it new chunks are refused unread.
	MaxPendingChunks int `yaml:"max_pending_chunks"`
	// ExitTimeout bounds the instance's exit, so that Fluent Bit stops
	// within its Grace.
	ExitTimeout time.Duration `yaml:"exit_timeout"`
}

// Defaults that differ from one front end to another, or belong to one.
const (
	// DefaultRetryWait bounds a flush's wait for a chunk's documents.
	DefaultRetryWait = 2 * time.Second
	// DefaultMaxPendingChunks bounds the chunks read and not acknowledged.
	DefaultMaxPendingChunks = 1024
	// DefaultExitTimeout is under Fluent Bit's default Grace of 5s.
	DefaultExitTimeout = 4 * time.Second
	// DefaultPluginWallIdle closes the last report of a node that went
	// quiet. Shorter than the consumer's: one node's lines come in order
	// and together, and the chunks holding the report wait for it.
	DefaultPluginWallIdle = 10 * time.Second
	// DefaultConsumeOpenBytes is the consumer's memory bound over every
	// partition it owns.
	DefaultConsumeOpenBytes = 256 << 20
)

// Defaults returns the configuration of front before any layer.
func Defaults(front Front) Config {
	a := assemble.DefaultConfig()
	c := Config{
		Front:         front,
		Output:        "ndjson",
		UpstreamIndex: "auto",
		MetricsAddr:   ":9464",
		LogLevel:      "info",
		Assembly: Assembly{
			MaxReportLines: a.MaxLines, MaxHosts: a.MaxHosts, MaxOpenBytes: a.MaxOpenBytes,
			ContextLines: a.ContextLines, MaxLineBytes: pipeline.DefaultMaxLine, Idle: a.Idle,
			WallIdle: pipeline.DefaultWallIdle,
		},
		Elasticsearch: Elasticsearch{
			Namespace: "default", DeadLetterFile: elastic.DefaultDeadLetterPath, MaxInFlight: 5000,
			Timeout: 2 * time.Minute, RequestTimeout: 30 * time.Second,
		},
		FluentBit: FluentBit{ID: "oopsflow", RetryWait: DefaultRetryWait, MaxPendingChunks: DefaultMaxPendingChunks, ExitTimeout: DefaultExitTimeout},
	}
	c.Kafka.Group, c.Kafka.Start = "oopsflow", "first"
	switch front {
	case Consume:
		c.Output = "elasticsearch"
		c.Assembly.MaxOpenBytes = DefaultConsumeOpenBytes
	case Plugin:
		c.Assembly.WallIdle = DefaultPluginWallIdle
	}
	return c
}
