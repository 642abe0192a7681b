package kafka

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/pipeline"
)

// Metrics are the consumer's Prometheus metrics, on a registry of their own
// (no global state: several consumers may live in one process).
type Metrics struct {
	Registry *prometheus.Registry

	lines, undecodable, kernelLines, evictions                   prometheus.Counter
	reports, known                                               *prometheus.CounterVec
	openReports                                                  *prometheus.GaugeVec
	committedOffset, commitLag                                   *prometheus.GaugeVec
	rebalances, commitFailures, fetchFailures, oversizedMessages prometheus.Counter
	outputFailures                                               prometheus.Counter
}

// NewMetrics registers the consumer metrics on reg (a new registry if nil).
func NewMetrics(reg *prometheus.Registry) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		Registry:          reg,
		lines:             prometheus.NewCounter(prometheus.CounterOpts{Name: "oopsflow_lines_total", Help: "Messages (log lines and records) read from Kafka."}),
		undecodable:       prometheus.NewCounter(prometheus.CounterOpts{Name: "oopsflow_lines_undecodable_total", Help: "Messages in no known log format, skipped."}),
		kernelLines:       prometheus.NewCounter(prometheus.CounterOpts{Name: "oopsflow_kernel_lines_total", Help: "Lines the kernel printed."}),
		evictions:         prometheus.NewCounter(prometheus.CounterOpts{Name: "oopsflow_hosts_evicted_total", Help: "Hosts whose assembly state was evicted to honour the host bound."}),
		reports:           prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oopsflow_reports_total", Help: "Kernel reports emitted, by oops.type."}, []string{"type"}),
		known:             prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oopsflow_known_issue_matches_total", Help: "Reports that matched a known issue, by rule.id."}, []string{"rule_id"}),
		openReports:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "oopsflow_open_reports", Help: "Reports being assembled, by partition."}, []string{"partition"}),
		committedOffset:   prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "oopsflow_committed_offset", Help: "Last committed offset, by partition."}, []string{"partition"}),
		commitLag:         prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "oopsflow_commit_lag", Help: "High watermark minus committed offset, by partition: messages not yet durable."}, []string{"partition"}),
		rebalances:        prometheus.NewCounter(prometheus.CounterOpts{Name: "oopsflow_rebalances_total", Help: "Consumer group generations joined."}),
		commitFailures:    prometheus.NewCounter(prometheus.CounterOpts{Name: "oopsflow_commit_failures_total", Help: "Offset commits that failed (retried at the next interval)."}),
		fetchFailures:     prometheus.NewCounter(prometheus.CounterOpts{Name: "oopsflow_fetch_failures_total", Help: "Fetches that failed."}),
		oversizedMessages: prometheus.NewCounter(prometheus.CounterOpts{Name: "oopsflow_messages_oversized_total", Help: "Messages cut to the maximum message size."}),
		outputFailures:    prometheus.NewCounter(prometheus.CounterOpts{Name: "oopsflow_output_failures_total", Help: "Times the output failed (a document it could not take or lost for good): the consumer stopped committing past it and exited."}),
	}
	reg.MustRegister(m.lines, m.undecodable, m.kernelLines, m.evictions, m.reports, m.known, m.openReports,
		m.committedOffset, m.commitLag, m.rebalances, m.commitFailures, m.fetchFailures, m.oversizedMessages, m.outputFailures)
	return m
}

// Methods are no-ops on a nil *Metrics.

func (m *Metrics) report(d *document.Document) {
	if m == nil {
		return
	}
	m.reports.WithLabelValues(d.Oops.Type).Inc()
	if d.Rule != nil {
		m.known.WithLabelValues(d.Rule.ID).Inc()
	}
}

func (m *Metrics) pipeline(partition int, before, now pipeline.Stats, open int) {
	if m == nil {
		return
	}
	m.lines.Add(float64(now.Lines - before.Lines))
	m.undecodable.Add(float64(now.Undecodable - before.Undecodable))
	m.kernelLines.Add(float64(now.KernelLines - before.KernelLines))
	m.evictions.Add(float64(now.Assemble.EvictedHosts - before.Assemble.EvictedHosts))
	m.openReports.WithLabelValues(strconv.Itoa(partition)).Set(float64(open))
}

func (m *Metrics) committed(partition int, offset, highWater int64) {
	if m == nil {
		return
	}
	p := strconv.Itoa(partition)
	m.committedOffset.WithLabelValues(p).Set(float64(offset))
	if highWater >= offset {
		m.commitLag.WithLabelValues(p).Set(float64(highWater - offset))
	}
}

// revoked deletes a partition's series once it is handed over: another
// member exports it now, and a stale gauge would double sums and latch a
// lag alert.
func (m *Metrics) revoked(partition int) {
	if m == nil {
		return
	}
	p := strconv.Itoa(partition)
	m.openReports.DeleteLabelValues(p)
	m.committedOffset.DeleteLabelValues(p)
	m.commitLag.DeleteLabelValues(p)
}

func (m *Metrics) rebalance() {
	if m != nil {
		m.rebalances.Inc()
	}
}

func (m *Metrics) commitFailed() {
	if m != nil {
		m.commitFailures.Inc()
	}
}

func (m *Metrics) fetchFailed() {
	if m != nil {
		m.fetchFailures.Inc()
	}
}

func (m *Metrics) outputFailed() {
	if m != nil {
		m.outputFailures.Inc()
	}
}

func (m *Metrics) oversized() {
	if m != nil {
		m.oversizedMessages.Inc()
	}
}
