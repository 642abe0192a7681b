package config

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/oopsflow/oopsflow/processor/alert"
	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/elastic"
	"github.com/oopsflow/oopsflow/processor/logline"
)

// ElasticConfig is the Elasticsearch connection and sink of the
// configuration: secrets from the settings or their files, the CA read.
// It needs elasticsearch.urls or elasticsearch.cloud_id.
func (c *Config) ElasticConfig() (elastic.Config, error) {
	e := c.Elasticsearch
	cfg := elastic.Config{
		Addresses: e.URLs, CloudID: e.CloudID, Username: e.Username, InsecureSkipVerify: e.InsecureSkipVerify,
		Namespace: e.Namespace, MaxInFlight: e.MaxInFlight, RequestTimeout: e.RequestTimeout, DeadLetterPath: e.DeadLetterFile,
	}
	if len(cfg.Addresses) == 0 && cfg.CloudID == "" {
		who := c.Name("output") + " elasticsearch"
		if c.Front == Setup {
			who = "setup"
		}
		return cfg, fmt.Errorf("%s needs %s or %s", who, c.Name("elasticsearch.urls"), c.Name("elasticsearch.cloud_id"))
	}
	var err error
	if cfg.APIKey, err = secret(e.APIKey, e.APIKeyFile, c.Where("elasticsearch.api_key_file")); err != nil {
		return cfg, err
	}
	if cfg.Password, err = secret(e.Password, e.PasswordFile, c.Where("elasticsearch.password_file")); err != nil {
		return cfg, err
	}
	if e.CAFile != "" {
		if cfg.CACert, err = os.ReadFile(e.CAFile); err != nil {
			return cfg, fmt.Errorf("%s: %w", c.Where("elasticsearch.ca_file"), err)
		}
	}
	return cfg, nil
}

// KafkaPassword is the SASL password: the setting, or its file.
func (c *Config) KafkaPassword() (string, error) {
	return secret(c.Kafka.SASL.Password, c.Kafka.SASL.PasswordFile, c.Where("kafka.sasl.password_file"))
}

func secret(direct, file, where string) (string, error) {
	if direct != "" || file == "" {
		return direct, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// AssembleConfig is the assembly bounds. The byte bound is left to the
// caller (a consumer shares one budget over its partitions).
func (c *Config) AssembleConfig() assemble.Config {
	a := c.Assembly
	return assemble.Config{MaxLines: a.MaxReportLines, MaxHosts: a.MaxHosts, MaxOpenBytes: a.MaxOpenBytes, ContextLines: a.ContextLines, Idle: a.Idle}
}

// Keys are the record keys: those configured first, then the usual ones.
func (c *Config) Keys() logline.Keys {
	k := logline.DefaultKeys()
	r := c.Records
	k.Host = append(append([]string(nil), r.HostKeys...), k.Host...)
	k.Message = append(append([]string(nil), r.MessageKeys...), k.Message...)
	k.Time = append(append([]string(nil), r.TimeKeys...), k.Time...)
	k.Ident = append(append([]string(nil), r.IdentKeys...), k.Ident...)
	return k
}

// Notifier is the alert notifier of the alerts section plus the webhook
// (signed with the environment's OOPSFLOW_WEBHOOK_SECRET when set), or nil
// when no receiver is configured.
func (c *Config) Notifier(log *slog.Logger) (*alert.Notifier, error) {
	f := c.Alerts
	f.Receivers = append([]alert.ReceiverConfig(nil), f.Receivers...)
	if c.Webhook != "" {
		r := alert.ReceiverConfig{Type: "webhook", Name: "webhook", URL: c.Webhook}
		if os.Getenv("OOPSFLOW_WEBHOOK_SECRET") != "" {
			r.SecretEnv = "OOPSFLOW_WEBHOOK_SECRET"
		}
		f.Receivers = append(f.Receivers, r)
	}
	if len(f.Receivers) == 0 {
		return nil, nil
	}
	cfg, err := f.Build()
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	cfg.Logger = log
	return alert.New(cfg), nil
}
