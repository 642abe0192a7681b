package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	kafkago "github.com/segmentio/kafka-go"
	"gopkg.in/yaml.v3"

	"github.com/oopsflow/oopsflow/processor/alert"
	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/elastic"
	"github.com/oopsflow/oopsflow/processor/kafka"
	"github.com/oopsflow/oopsflow/processor/logline"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/ndjson"
	"github.com/oopsflow/oopsflow/processor/pipeline"
)

// consumeConfig is the YAML configuration of "oopsflow consume". Every field
// has a flag; flags win over the environment, which wins over the file.
type consumeConfig struct {
	Kafka struct {
		Brokers []string `yaml:"brokers"`
		Topic   string   `yaml:"topic"`
		Group   string   `yaml:"group"`
		Start   string   `yaml:"start"` // first or last: where a partition without a commit starts
		TLS     struct {
			Enabled            bool   `yaml:"enabled"`
			CAFile             string `yaml:"ca_file"`
			CertFile           string `yaml:"cert_file"`
			KeyFile            string `yaml:"key_file"`
			InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
		} `yaml:"tls"`
		SASL struct {
			Mechanism    string `yaml:"mechanism"`
			Username     string `yaml:"username"`
			PasswordFile string `yaml:"password_file"`
		} `yaml:"sasl"`
	} `yaml:"kafka"`
	Output        string `yaml:"output"` // elasticsearch or ndjson
	Elasticsearch struct {
		URLs           []string `yaml:"urls"`
		CloudID        string   `yaml:"cloud_id"`
		APIKeyFile     string   `yaml:"api_key_file"`
		Username       string   `yaml:"username"`
		PasswordFile   string   `yaml:"password_file"`
		CAFile         string   `yaml:"ca_file"`
		Namespace      string   `yaml:"namespace"`
		DeadLetterFile string   `yaml:"dead_letter_file"`
		MaxInFlight    int      `yaml:"max_in_flight"`
	} `yaml:"elasticsearch"`
	Records struct {
		HostKeys    []string `yaml:"host_keys"`
		MessageKeys []string `yaml:"message_keys"`
		TimeKeys    []string `yaml:"time_keys"`
		IdentKeys   []string `yaml:"ident_keys"`
	} `yaml:"records"`
	Assembly struct {
		MaxReportLines int           `yaml:"max_report_lines"`
		MaxHosts       int           `yaml:"max_hosts"`
		MaxOpenBytes   int64         `yaml:"max_open_bytes"` // per process, over every partition
		Idle           time.Duration `yaml:"idle"`
		WallIdle       time.Duration `yaml:"wall_idle"`
	} `yaml:"assembly"`
	Alerts alert.FileConfig `yaml:"alerts"`
	// Signatures are user knowledge base directories, added to the built-in
	// signatures (NoBuiltinSignatures: instead of them); reloaded on SIGHUP
	// and when their files change.
	Signatures          []string `yaml:"signatures"`
	NoBuiltinSignatures bool     `yaml:"no_builtin_signatures"`
	// UpstreamIndex is the syzbot bug index (oopsflow upstream sync): a
	// file, auto (the default file if it exists) or off.
	UpstreamIndex string `yaml:"upstream_index"`
	MetricsAddr   string `yaml:"metrics_addr"`
	LogLevel      string `yaml:"log_level"`
}

func loadConsumeConfig(path string) (*consumeConfig, error) {
	cfg := &consumeConfig{}
	cfg.Kafka.Group = "oopsflow"
	cfg.Kafka.Start = "first"
	cfg.Output = "elasticsearch"
	cfg.Elasticsearch.Namespace = "default"
	cfg.Elasticsearch.DeadLetterFile = elastic.DefaultDeadLetterPath
	cfg.Assembly.MaxOpenBytes = 256 << 20
	cfg.MetricsAddr = ":9464"
	cfg.UpstreamIndex = "auto"
	cfg.LogLevel = "info"
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	// A bound written in the file must be positive: 0 is not "unlimited"
	// and must not silently become the default.
	var given struct {
		Assembly map[string]any `yaml:"assembly"`
	}
	yaml.Unmarshal(data, &given) //nolint:errcheck // decoded strictly above
	for key, v := range map[string]float64{
		"max_report_lines": float64(cfg.Assembly.MaxReportLines), "max_hosts": float64(cfg.Assembly.MaxHosts),
		"max_open_bytes": float64(cfg.Assembly.MaxOpenBytes), "idle": cfg.Assembly.Idle.Seconds(), "wall_idle": cfg.Assembly.WallIdle.Seconds(),
	} {
		if _, ok := given.Assembly[key]; ok && v <= 0 {
			return nil, fmt.Errorf("config %s: assembly.%s: want a positive value (leave it out for the default)", path, key)
		}
	}
	return cfg, nil
}

func readSecret(path, env string) (string, error) {
	if v := os.Getenv(env); v != "" {
		return v, nil
	}
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
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

func consumeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("consume", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", os.Getenv("OOPSFLOW_CONFIG"), "YAML configuration file (env OOPSFLOW_CONFIG)")
	brokers := fs.String("brokers", "", "Kafka brokers host:port[,host:port] (env OOPSFLOW_KAFKA_BROKERS)")
	topic := fs.String("topic", "", "topic of fleet syslog, keyed by host (env OOPSFLOW_KAFKA_TOPIC)")
	group := fs.String("group", "", "consumer group (env OOPSFLOW_KAFKA_GROUP; default oopsflow)")
	start := fs.String("start", "", "where a partition without a committed offset starts: first or last")
	useTLS := fs.Bool("kafka-tls", false, "connect to the brokers with TLS")
	caFile := fs.String("kafka-ca", "", "PEM CA bundle for the brokers' certificates")
	certFile := fs.String("kafka-cert", "", "client certificate (mutual TLS)")
	keyFile := fs.String("kafka-key", "", "client key (mutual TLS)")
	mechanism := fs.String("kafka-sasl-mechanism", "", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (password from env OOPSFLOW_KAFKA_PASSWORD)")
	saslUser := fs.String("kafka-sasl-user", "", "SASL user name")
	output := fs.String("output", "", "elasticsearch (default) or ndjson (standard output)")
	deadLetter := fs.String("dead-letter", "", "file for documents Elasticsearch rejects for good (default "+elastic.DefaultDeadLetterPath+", created at the first rejection)")
	metricsAddr := fs.String("metrics-addr", "", "address for /metrics, /healthz and /readyz (default :9464; empty string in the file disables)")
	logLevel := fs.String("log-level", "", "debug, info, warn or error")
	webhook := fs.String("webhook", "", "generic JSON webhook for alerts, signed with env OOPSFLOW_WEBHOOK_SECRET when set (more receivers: alerts in --config)")
	var sigDirs stringList
	fs.Var(&sigDirs, "signatures", "knowledge base directory, added to the built-in signatures (repeatable); reloaded on SIGHUP and when its files change")
	noBuiltin := fs.Bool("no-builtin-signatures", false, "use only the --signatures directories")
	var es esFlags
	es.register(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: oopsflow consume --brokers HOST:PORT --topic T [--group G] [--output elasticsearch|ndjson] [--config FILE]\n\nConsumes fleet syslog from Kafka as a consumer group and indexes kernel reports.\nStops on SIGINT/SIGTERM: hands its partitions over, flushes, commits.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("consume: unexpected argument %q (consume reads Kafka, not files)", fs.Arg(0))
	}
	cfg, err := loadConsumeConfig(*configPath)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	// Environment over file, flags over environment.
	if v := os.Getenv("OOPSFLOW_KAFKA_BROKERS"); v != "" {
		cfg.Kafka.Brokers = splitList(v)
	}
	for env, dst := range map[string]*string{"OOPSFLOW_KAFKA_TOPIC": &cfg.Kafka.Topic, "OOPSFLOW_KAFKA_GROUP": &cfg.Kafka.Group} {
		if v := os.Getenv(env); v != "" {
			*dst = v
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["brokers"] {
		cfg.Kafka.Brokers = splitList(*brokers)
	}
	override := func(name string, dst *string, v string) {
		if set[name] {
			*dst = v
		}
	}
	override("topic", &cfg.Kafka.Topic, *topic)
	override("group", &cfg.Kafka.Group, *group)
	override("start", &cfg.Kafka.Start, *start)
	override("output", &cfg.Output, *output)
	override("metrics-addr", &cfg.MetricsAddr, *metricsAddr)
	override("log-level", &cfg.LogLevel, *logLevel)
	override("kafka-ca", &cfg.Kafka.TLS.CAFile, *caFile)
	override("kafka-cert", &cfg.Kafka.TLS.CertFile, *certFile)
	override("kafka-key", &cfg.Kafka.TLS.KeyFile, *keyFile)
	override("kafka-sasl-mechanism", &cfg.Kafka.SASL.Mechanism, *mechanism)
	override("kafka-sasl-user", &cfg.Kafka.SASL.Username, *saslUser)
	override("dead-letter", &cfg.Elasticsearch.DeadLetterFile, *deadLetter)
	if set["kafka-tls"] {
		cfg.Kafka.TLS.Enabled = *useTLS
	}
	if set["signatures"] {
		cfg.Signatures = sigDirs
	}
	if set["no-builtin-signatures"] {
		cfg.NoBuiltinSignatures = *noBuiltin
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return usageErr("log level %q: %v", cfg.LogLevel, err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	switch {
	case len(cfg.Kafka.Brokers) == 0:
		return usageErr("consume: give --brokers (or kafka.brokers in --config)")
	case cfg.Kafka.Topic == "":
		return usageErr("consume: give --topic")
	case cfg.Output != "elasticsearch" && cfg.Output != "ndjson":
		return usageErr("consume: --output must be elasticsearch or ndjson, not %q", cfg.Output)
	}
	startOffset := kafkago.FirstOffset
	switch cfg.Kafka.Start {
	case "first":
	case "last":
		startOffset = kafkago.LastOffset
	default:
		return usageErr("consume: --start must be first or last, not %q", cfg.Kafka.Start)
	}
	password, err := readSecret(cfg.Kafka.SASL.PasswordFile, "OOPSFLOW_KAFKA_PASSWORD")
	if err != nil {
		return &exitError{code: exitError_, err: err}
	}
	dialer, err := kafka.Security{
		TLS: cfg.Kafka.TLS.Enabled, CAFile: cfg.Kafka.TLS.CAFile, CertFile: cfg.Kafka.TLS.CertFile, KeyFile: cfg.Kafka.TLS.KeyFile,
		InsecureSkipVerify: cfg.Kafka.TLS.InsecureSkipVerify, SASLMechanism: cfg.Kafka.SASL.Mechanism,
		Username: cfg.Kafka.SASL.Username, Password: password,
	}.Dialer()
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	m := matcher.New(nil)
	src := sources(cfg.Signatures, cfg.NoBuiltinSignatures)
	// Watched: signatures may be added later, and a ConfigMap may carry
	// them without their examples.
	src.AllowEmpty, src.ExamplesOptional = true, true
	reloader := &matcher.Reloader{M: m, Sources: src, Log: log}
	up, err := loadUpstream(cfg.UpstreamIndex)
	if err != nil {
		return &exitError{code: exitError_, err: err}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := kafka.NewMetrics(reg)
	sigMetrics := newSignatureMetrics(reg)
	reg.MustRegister(buildInfo())
	reloader.Loaded, reloader.Failed = sigMetrics.loaded, sigMetrics.failed
	if _, err := reloader.Load(); err != nil {
		return &exitError{code: exitError_, err: err}
	}
	kcfg := kafka.Config{
		Brokers: cfg.Kafka.Brokers, Topic: cfg.Kafka.Topic, GroupID: cfg.Kafka.Group, Dialer: dialer,
		StartOffset: startOffset, Logger: log, Metrics: metrics,
		Pipeline: pipeline.Config{
			Assemble: assemble.Config{MaxLines: cfg.Assembly.MaxReportLines, MaxHosts: cfg.Assembly.MaxHosts, Idle: cfg.Assembly.Idle,
				Budget: assemble.NewBudget(cfg.Assembly.MaxOpenBytes)},
			WallIdle: cfg.Assembly.WallIdle,
			Upstream: up,
			Keys:     logline.Keys{Host: cfg.Records.HostKeys, Message: cfg.Records.MessageKeys, Time: cfg.Records.TimeKeys, Ident: cfg.Records.IdentKeys},
		},
	}
	if len(kcfg.Pipeline.Keys.Host)+len(kcfg.Pipeline.Keys.Message)+len(kcfg.Pipeline.Keys.Time)+len(kcfg.Pipeline.Keys.Ident) > 0 {
		def := logline.DefaultKeys()
		for _, k := range []struct{ dst, def *[]string }{{&kcfg.Pipeline.Keys.Host, &def.Host}, {&kcfg.Pipeline.Keys.Message, &def.Message}, {&kcfg.Pipeline.Keys.Time, &def.Time}, {&kcfg.Pipeline.Keys.Ident, &def.Ident}} {
			if len(*k.dst) == 0 {
				*k.dst = *k.def
			}
		}
	}

	notifier, err := buildNotifier(cfg.Alerts, *webhook, log)
	if err != nil {
		return err
	}
	var out pipeline.Output
	var sink *elastic.Sink
	var lines *ndjson.Writer
	if cfg.Output == "elasticsearch" {
		escfg, err := esConsumeConfig(cfg, &es, set)
		if err != nil {
			return err
		}
		escfg.Logger = log
		escfg.ObserveBulk = bulkLatency(reg)
		if sink, err = elastic.NewSink(escfg); err != nil {
			return &exitError{code: exitError_, err: err}
		}
		registerSinkMetrics(reg, sink)
		out = sink
	} else {
		lines = ndjson.New(stdout)
		out = lines
	}
	if notifier != nil {
		out = pipeline.Observe(out, notifier.Observe)
	}
	consumer, err := kafka.New(kcfg, m, out)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}

	if cfg.MetricsAddr != "" {
		var stalled func() (bool, string)
		if sink != nil {
			stalled = watchStall(ctx, sink, es.timeout, reg, log)
		}
		srv, err := serveMetrics(cfg.MetricsAddr, reg, consumer, stalled, log)
		if err != nil {
			return &exitError{code: exitError_, err: err}
		}
		defer srv.Close()
	}
	if notifier != nil {
		go notifier.Run(ctx)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go reloader.Run(ctx, hup) //nolint:errcheck // watching is best effort; SIGHUP still works
	log.Info("consuming", "brokers", cfg.Kafka.Brokers, "topic", cfg.Kafka.Topic, "group", cfg.Kafka.Group, "output", cfg.Output)
	runErr := consumer.Run(ctx)
	if sink != nil {
		closeCtx, cancel := context.WithTimeout(context.Background(), es.timeout)
		if err := sink.Close(closeCtx); err != nil && runErr == nil {
			runErr = err
		}
		cancel()
	}
	if err := closeNotifier(notifier, stderr, false); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return &exitError{code: exitError_, err: runErr}
	}
	log.Info("stopped")
	return nil
}

// esConsumeConfig merges the file's elasticsearch section with the --es-* flags.
func esConsumeConfig(cfg *consumeConfig, es *esFlags, set map[string]bool) (elastic.Config, error) {
	f := *es
	if !set["es-url"] && f.urls == "" {
		f.urls = strings.Join(cfg.Elasticsearch.URLs, ",")
	}
	if !set["es-cloud-id"] && f.cloudID == "" {
		f.cloudID = cfg.Elasticsearch.CloudID
	}
	if !set["es-user"] && f.user == "" {
		f.user = cfg.Elasticsearch.Username
	}
	if !set["es-ca"] && f.caFile == "" {
		f.caFile = cfg.Elasticsearch.CAFile
	}
	if !set["es-namespace"] {
		f.namespace = cfg.Elasticsearch.Namespace
	}
	escfg, err := f.config()
	if err != nil {
		return escfg, err
	}
	if escfg.APIKey == "" {
		if escfg.APIKey, err = readSecret(cfg.Elasticsearch.APIKeyFile, "OOPSFLOW_ES_API_KEY"); err != nil {
			return escfg, &exitError{code: exitError_, err: err}
		}
	}
	if escfg.Password == "" {
		if escfg.Password, err = readSecret(cfg.Elasticsearch.PasswordFile, "OOPSFLOW_ES_PASSWORD"); err != nil {
			return escfg, &exitError{code: exitError_, err: err}
		}
	}
	if cfg.Elasticsearch.MaxInFlight > 0 && !set["es-max-in-flight"] {
		escfg.MaxInFlight = cfg.Elasticsearch.MaxInFlight
	}
	escfg.DeadLetterPath = cfg.Elasticsearch.DeadLetterFile
	return escfg, nil
}

// bulkLatency registers oopsflow_sink_request_duration_seconds, the time
// bulk requests take (answer included), by outcome.
func bulkLatency(reg *prometheus.Registry) func(time.Duration, bool) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "oopsflow_sink_request_duration_seconds",
		Help:    "Bulk requests to Elasticsearch, answer included, by outcome (ok, failed: a transport error or a status of 300 or more).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"outcome"})
	reg.MustRegister(h)
	ok, failed := h.WithLabelValues("ok"), h.WithLabelValues("failed")
	return func(d time.Duration, bad bool) {
		if bad {
			failed.Observe(d.Seconds())
		} else {
			ok.Observe(d.Seconds())
		}
	}
}

// registerSinkMetrics exposes the sink's counters.
func registerSinkMetrics(reg *prometheus.Registry, s *elastic.Sink) {
	counter := func(name, help string, f func(elastic.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f(s.Stats())) })
	}
	reg.MustRegister(
		counter("oopsflow_sink_indexed_total", "Documents indexed in Elasticsearch.", func(st elastic.Stats) uint64 { return st.Indexed }),
		counter("oopsflow_sink_duplicates_total", "Documents already in Elasticsearch (409 on create).", func(st elastic.Stats) uint64 { return st.Duplicates }),
		counter("oopsflow_sink_retries_total", "Document retries (429, 5xx, failed requests).", func(st elastic.Stats) uint64 { return st.Retried }),
		counter("oopsflow_sink_dead_lettered_total", "Documents rejected for good and written to the dead-letter file.", func(st elastic.Stats) uint64 { return st.DeadLettered }),
		counter("oopsflow_sink_requests_total", "Bulk requests sent.", func(st elastic.Stats) uint64 { return st.Requests }),
		counter("oopsflow_sink_sent_bytes_total", "Bulk request bodies sent to Elasticsearch, uncompressed.", func(st elastic.Stats) uint64 { return st.BytesSent }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "oopsflow_sink_in_flight", Help: "Documents waiting to become durable."}, func() float64 { return float64(s.Stats().InFlight) }),
	)
}

// watchStall checks every few seconds whether documents have waited longer
// than d with none indexed; it logs the change both ways with the reason
// (the last Elasticsearch error and what to change), exports
// oopsflow_sink_stalled, and returns the check for /readyz. Commits stop by
// themselves meanwhile: nothing past the waiting documents is durable.
func watchStall(ctx context.Context, s *elastic.Sink, d time.Duration, reg *prometheus.Registry, log *slog.Logger) func() (bool, string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "oopsflow_sink_stalled",
		Help: "1 while documents have waited longer than es_timeout with none indexed (offsets are not committed meanwhile); the log says why."})
	reg.MustRegister(g)
	go func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		was := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now, why := s.Stalled(d)
			switch {
			case now && !was:
				g.Set(1)
				log.Error("elasticsearch: documents are not being indexed; offsets are not committed and /readyz fails until they are", "why", why)
			case !now && was:
				g.Set(0)
				log.Info("elasticsearch: documents are indexed again")
			}
			was = now
		}
	}()
	return func() (bool, string) { return s.Stalled(d) }
}

// serveMetrics serves /metrics, /healthz (the process answers) and /readyz
// (a member of a consumer group generation whose output works).
func serveMetrics(addr string, reg *prometheus.Registry, c *kafka.Consumer, stalled func() (bool, string), log *slog.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := c.Failure(); err != nil {
			http.Error(w, "output failed: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if !c.Ready() {
			http.Error(w, "not a member of a consumer group generation yet", http.StatusServiceUnavailable)
			return
		}
		if stalled != nil {
			if bad, why := stalled(); bad {
				http.Error(w, "elasticsearch: "+why, http.StatusServiceUnavailable)
				return
			}
		}
		io.WriteString(w, "ready\n")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics address: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return srv, nil
}

// signatureMetrics expose the knowledge base: how many signatures are in
// use, which set (its hash, as an info metric), and failed reloads.
type signatureMetrics struct {
	loadedN  prometheus.Gauge
	info     *prometheus.GaugeVec
	failures prometheus.Counter
	hash     string
}

// buildInfo is oopsflow_build_info: 1, labelled with what runs, so a
// dashboard can tell the versions of a fleet of consumers apart.
func buildInfo() prometheus.Collector {
	rev := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value
			}
		}
	}
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "oopsflow_build_info",
		Help: "1, labelled with the oopsflow version, its source revision and the Go version it was built with."},
		[]string{"version", "revision", "goversion"})
	g.WithLabelValues(version, rev, runtime.Version()).Set(1)
	return g
}

func newSignatureMetrics(reg prometheus.Registerer) *signatureMetrics {
	m := &signatureMetrics{
		loadedN: prometheus.NewGauge(prometheus.GaugeOpts{Name: "oopsflow_signatures_loaded", Help: "Signatures in the knowledge base in use."}),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "oopsflow_signatures_info",
			Help: "The knowledge base in use: 1 for the hash of its files (alert when replicas differ)."}, []string{"hash"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "oopsflow_signatures_reload_failures_total",
			Help: "Reloads of the knowledge base rejected (the set in use stays); the log names the file and field."}),
	}
	reg.MustRegister(m.loadedN, m.info, m.failures)
	return m
}

func (m *signatureMetrics) loaded(set *matcher.Set) {
	m.loadedN.Set(float64(len(set.Signatures)))
	if m.hash != "" && m.hash != set.Hash {
		m.info.DeleteLabelValues(m.hash)
	}
	m.hash = set.Hash
	m.info.WithLabelValues(set.Hash).Set(1)
}

func (m *signatureMetrics) failed(error) { m.failures.Inc() }
