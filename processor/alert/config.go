package alert

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// FileConfig is the "alerts:" section of the YAML configuration.
type FileConfig struct {
	GroupWait      time.Duration    `yaml:"group_wait"`
	GroupInterval  time.Duration    `yaml:"group_interval"`
	RepeatInterval time.Duration    `yaml:"repeat_interval"`
	ResendInterval time.Duration    `yaml:"resend_interval"` // Alertmanager receivers (default 1m)
	ResolveAfter   time.Duration    `yaml:"resolve_after"`   // Alertmanager receivers (default 1h)
	KibanaURL      string           `yaml:"kibana_url"`      // generatorURL links to Discover
	MinSeverity    int              `yaml:"min_severity"`
	Known          *bool            `yaml:"known"`   // default true
	Unknown        *bool            `yaml:"unknown"` // default true
	IncludeRules   []string         `yaml:"include_rules"`
	ExcludeRules   []string         `yaml:"exclude_rules"`
	IncludeTypes   []string         `yaml:"include_types"`
	ExcludeTypes   []string         `yaml:"exclude_types"`
	IncludeHosts   string           `yaml:"include_hosts"` // regular expression
	ExcludeHosts   string           `yaml:"exclude_hosts"`
	RatePerSecond  float64          `yaml:"rate_per_second"`
	MaxAttempts    int              `yaml:"max_attempts"`
	Timeout        time.Duration    `yaml:"timeout"`
	Receivers      []ReceiverConfig `yaml:"receivers"`
}

// ReceiverConfig is one receiver. Secrets (the URL of a Slack webhook, the
// signing secret) come from url_env/url_file and secret_env/secret_file.
type ReceiverConfig struct {
	Type        string            `yaml:"type"` // webhook, slack, alertmanager, template
	Name        string            `yaml:"name"`
	URL         string            `yaml:"url"`
	URLs        []string          `yaml:"urls"` // alertmanager: every member of an HA cluster
	URLEnv      string            `yaml:"url_env"`
	URLFile     string            `yaml:"url_file"`
	SecretEnv   string            `yaml:"secret_env"`
	SecretFile  string            `yaml:"secret_file"`
	Headers     map[string]string `yaml:"headers"`
	Method      string            `yaml:"method"`       // template
	ContentType string            `yaml:"content_type"` // template
	Escape      string            `yaml:"escape"`       // template: json or none
	Body        string            `yaml:"body"`         // template
}

// secret reads a value from an environment variable or a file.
func secret(direct, env, file, what string) (string, error) {
	switch {
	case direct != "":
		return direct, nil
	case env != "":
		v := os.Getenv(env)
		if v == "" {
			return "", fmt.Errorf("%s: environment variable %s is empty", what, env)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

// Build resolves secrets and returns the notifier configuration.
func (f *FileConfig) Build() (Config, error) {
	cfg := Config{GroupWait: f.GroupWait, GroupInterval: f.GroupInterval, RepeatInterval: f.RepeatInterval,
		ResendInterval: f.ResendInterval, ResolveAfter: f.ResolveAfter, KibanaURL: f.KibanaURL}
	for name, d := range map[string]time.Duration{"group_wait": f.GroupWait, "group_interval": f.GroupInterval,
		"repeat_interval": f.RepeatInterval, "resend_interval": f.ResendInterval, "resolve_after": f.ResolveAfter, "timeout": f.Timeout} {
		if d < 0 {
			return cfg, fmt.Errorf("alerts: %s %s: want a positive duration (or leave it out for the default)", name, d)
		}
	}
	if f.KibanaURL != "" {
		if u, err := url.Parse(f.KibanaURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, fmt.Errorf("alerts: kibana_url %q: want http(s)://host:port", f.KibanaURL)
		}
	}
	cfg.Policy.MinSeverity = f.MinSeverity
	cfg.Policy.IgnoreKnown = f.Known != nil && !*f.Known
	cfg.Policy.IgnoreUnknown = f.Unknown != nil && !*f.Unknown
	cfg.Policy.IncludeRules, cfg.Policy.ExcludeRules = f.IncludeRules, f.ExcludeRules
	cfg.Policy.IncludeTypes, cfg.Policy.ExcludeTypes = f.IncludeTypes, f.ExcludeTypes
	for _, p := range []struct {
		src string
		dst **regexp.Regexp
	}{{f.IncludeHosts, &cfg.Policy.IncludeHosts}, {f.ExcludeHosts, &cfg.Policy.ExcludeHosts}} {
		if p.src == "" {
			continue
		}
		re, err := regexp.Compile(p.src)
		if err != nil {
			return cfg, fmt.Errorf("alerts: host pattern %q: %w", p.src, err)
		}
		*p.dst = re
	}
	cfg.Delivery = Delivery{RatePerSec: f.RatePerSecond, MaxAttempts: f.MaxAttempts}
	if f.Timeout > 0 {
		cfg.Delivery.Client = newClient(f.Timeout)
	}
	for i, rc := range f.Receivers {
		if len(rc.URLs) > 0 {
			if rc.Type != "alertmanager" || rc.URL != "" || rc.URLEnv != "" || rc.URLFile != "" {
				return cfg, fmt.Errorf("alerts: receiver %d: urls is for alertmanager receivers, instead of url", i+1)
			}
			// One receiver per member: each gets every alert, as from
			// Prometheus, and fails or succeeds on its own.
			for j, u := range rc.URLs {
				member := rc
				member.URLs, member.URL = nil, u
				if member.Name == "" {
					member.Name = fmt.Sprintf("alertmanager-%d", i+1)
				}
				member.Name = fmt.Sprintf("%s-%d", member.Name, j+1)
				r, err := member.build(i)
				if err != nil {
					return cfg, err
				}
				cfg.Receivers = append(cfg.Receivers, r)
			}
			continue
		}
		r, err := rc.build(i)
		if err != nil {
			return cfg, err
		}
		cfg.Receivers = append(cfg.Receivers, r)
	}
	return cfg, nil
}

func (rc ReceiverConfig) build(i int) (Receiver, error) {
	name := rc.Name
	if name == "" {
		name = fmt.Sprintf("%s-%d", rc.Type, i+1)
	}
	what := fmt.Sprintf("alerts: receiver %s", name)
	u, err := secret(rc.URL, rc.URLEnv, rc.URLFile, what+" url")
	if err != nil {
		return nil, err
	}
	if u == "" {
		return nil, fmt.Errorf("%s: no url (url, url_env or url_file)", what)
	}
	if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		return nil, fmt.Errorf("%s: the url is not an http(s) URL", what) // never echo it: it may be secret
	}
	sec, err := secret("", rc.SecretEnv, rc.SecretFile, what+" secret")
	if err != nil {
		return nil, err
	}
	switch rc.Type {
	case "webhook":
		return &Webhook{ID: name, URL: u, Secret: []byte(sec), Headers: rc.Headers}, nil
	case "slack":
		return &Slack{ID: name, URL: u}, nil
	case "alertmanager":
		return &Alertmanager{ID: name, URL: u, Headers: rc.Headers}, nil
	case "template":
		if rc.Body == "" {
			return nil, fmt.Errorf("%s: template receivers need a body", what)
		}
		return NewTemplate(name, u, rc.Method, rc.ContentType, rc.Escape, rc.Body, rc.Headers)
	}
	return nil, fmt.Errorf("%s: type %q: want webhook, slack, alertmanager or template", what, rc.Type)
}
