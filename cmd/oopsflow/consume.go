package main

import (
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
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/oopsflow/oopsflow/processor/assemble"
	"github.com/oopsflow/oopsflow/processor/config"
	"github.com/oopsflow/oopsflow/processor/elastic"
	"github.com/oopsflow/oopsflow/processor/kafka"
	"github.com/oopsflow/oopsflow/processor/matcher"
	"github.com/oopsflow/oopsflow/processor/ndjson"
	"github.com/oopsflow/oopsflow/processor/pipeline"
)

func consumeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("consume", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config.Register(fs, config.Consume)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: oopsflow consume --brokers HOST:PORT --topic T [--group G] [--output elasticsearch|ndjson] [--config FILE]\n\nConsumes fleet syslog from Kafka as a consumer group and indexes kernel reports.\nSettings come from the defaults, then --config, then the environment, then the flags.\nStops on SIGINT/SIGTERM: hands its partitions over, flushes, commits.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("consume: unexpected argument %q (consume reads Kafka, not files)", fs.Arg(0))
	}
	cfg, err := config.Load(config.Sources{Front: config.Consume, Flags: fs})
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel)) //nolint:errcheck // one of the levels, checked by config.Load
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	switch {
	case len(cfg.Kafka.Brokers) == 0:
		return usageErr("consume: give %s (or kafka.brokers in --config)", cfg.Name("kafka.brokers"))
	case cfg.Kafka.Topic == "":
		return usageErr("consume: give %s (or kafka.topic in --config)", cfg.Name("kafka.topic"))
	}
	startOffset := kafkago.FirstOffset
	if cfg.Kafka.Start == "last" {
		startOffset = kafkago.LastOffset
	}
	password, err := cfg.KafkaPassword()
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
	acfg := cfg.AssembleConfig()
	acfg.Budget = assemble.NewBudget(cfg.Assembly.MaxOpenBytes)
	kcfg := kafka.Config{
		Brokers: cfg.Kafka.Brokers, Topic: cfg.Kafka.Topic, GroupID: cfg.Kafka.Group, Dialer: dialer,
		StartOffset: startOffset, Logger: log, Metrics: metrics,
		Pipeline: pipeline.Config{Assemble: acfg, WallIdle: cfg.Assembly.WallIdle, Upstream: up, Keys: cfg.Keys()},
	}
	notifier, err := cfg.Notifier(log)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	var out pipeline.Output
	var sink *elastic.Sink
	var lines *ndjson.Writer
	if cfg.Output == "elasticsearch" {
		escfg, err := cfg.ElasticConfig()
		if err != nil {
			return &exitError{code: exitUsage, err: err}
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
			stalled = watchStall(ctx, sink, cfg.Elasticsearch.Timeout, reg, log)
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
		closeCtx, cancel := context.WithTimeout(context.Background(), cfg.Elasticsearch.Timeout)
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
