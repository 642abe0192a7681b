package fluentbit

import (
	"os"
	"time"

	"github.com/oopsflow/oopsflow/processor/config"
	"github.com/oopsflow/oopsflow/processor/elastic"
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
	ExitTimeout time.Duration
	// Settings is the configuration the instance was read from (its
	// alerts); nil: no alerts.
	Settings *config.Config
	// UpstreamIndex is the syzbot bug index (oopsflow upstream sync): a
	// file, auto (the default file if it exists) or off.
	UpstreamIndex string
	// Signatures are user knowledge base directories, added to the
	// built-in signatures (NoBuiltinSignatures: instead of them), reloaded
	// when their files change.
	Signatures          []string
	NoBuiltinSignatures bool
}

// ParseConfig reads an instance's configuration from get(key), which
// returns "" for absent keys, with the loader every front end shares: the
// defaults, the YAML file of the Config key, then the [OUTPUT] keys. An
// invalid value is an error naming the key.
func ParseConfig(get func(key string) string) (Config, error) {
	c, err := config.Load(config.Sources{Front: config.Plugin, Plugin: get})
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		ID: c.FluentBit.ID, Output: c.Output, Path: c.FluentBit.Path, RetryWait: c.FluentBit.RetryWait,
		MaxPendingChunks: c.FluentBit.MaxPendingChunks, ExitTimeout: c.FluentBit.ExitTimeout, Settings: c,
		UpstreamIndex: c.UpstreamIndex, Signatures: c.Signatures, NoBuiltinSignatures: c.NoBuiltinSignatures,
		Pipeline: pipeline.Config{Assemble: c.AssembleConfig(), WallIdle: c.Assembly.WallIdle, Keys: c.Keys(), DefaultHost: c.FluentBit.Hostname},
	}
	if cfg.Pipeline.DefaultHost == "" {
		// kmsg records carry no host: Fluent Bit runs on the node they
		// come from.
		cfg.Pipeline.DefaultHost, _ = os.Hostname()
	}
	if cfg.Output == "elasticsearch" {
		if cfg.ES, err = c.ElasticConfig(); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// ConfigKeys lists the configuration keys an instance reads.
func ConfigKeys() []string { return config.PluginKeys() }
