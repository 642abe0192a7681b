// Package alert tells people when a known kernel bug bites or a new crash
// appears, through webhooks (generic JSON, Slack, Alertmanager, or a body
// template), without flooding them.
//
// Documents are grouped by known issue (rule.id) or, for unknown crashes, by
// fingerprint: the same bug on 300 hosts is one message with a host count
// and a sample. Timing follows Alertmanager's model:
//
//   - a new group is notified group_wait after its first report;
//   - a group that gained hosts is notified again, at most every
//     group_interval;
//   - a group that only gained reports on hosts already reported is
//     notified again at most every repeat_interval;
//   - a group with no report for repeat_interval is forgotten.
//
// Alertmanager receivers get alerts the way Prometheus sends them: while a
// group is active (a report in the last resolve_after), its alerts are
// sent again every resend_interval with endsAt four intervals ahead, so
// they stay firing while reports come and resolve on their own when they
// stop or when oopsflow is gone; when a group goes quiet they are sent
// once more, resolved.
//
// Delivery is asynchronous, per receiver: rate-limited, retried with
// backoff honouring Retry-After, given up after a bound and counted. Feed
// the notifier only documents that are durable (the pipeline does when an
// Elasticsearch sink is configured), so replays do not alert twice for a
// report that was not indexed.
package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oopsflow/oopsflow/processor/document"
)

// Alert is one notification: the state of a group when it is sent.
type Alert struct {
	Key         string // "rule:<id>" or "fingerprint:<fp>"
	Known       bool
	RuleID      string
	RuleName    string
	Title       string
	Type        string
	Severity    int
	Fingerprint string
	Reports     int
	HostCount   int
	Hosts       []string          // sample, most recent first, at most MaxHosts
	Kernels     map[string]string // kernel release -> fix status
	Affected    int               // hosts whose kernel is affected
	Remediation string
	References  []string
	// Upstream says which syzbot bug has the same title, and its fix: the
	// same symptom reported upstream, not necessarily the same bug.
	Upstream  string
	FirstSeen time.Time
	LastSeen  time.Time
	Sample    *document.Document // the first report of the group
	Repeat    bool               // not the group's first notification
	// ID identifies this notification, the same on every retry of it
	// (webhook-id): receivers deduplicate on it.
	ID string
	// Resolved is set on the notification that a quiet group ended
	// (Alertmanager receivers only).
	Resolved bool
	// EndsAt is when Alertmanager resolves the alerts unless sent again.
	EndsAt time.Time
	// GeneratorURL links to the group's reports in Kibana, when the
	// Kibana URL is configured.
	GeneratorURL string
	// ActiveHosts are the hosts of Hosts with a report in the last
	// ResolveAfter: Alertmanager keeps only their alerts firing.
	ActiveHosts []string
}

// Summary is a one-line human summary.
func (a *Alert) Summary() string {
	kind := "New kernel crash"
	if a.Known {
		kind = "Known kernel bug " + a.RuleID
	}
	s := fmt.Sprintf("%s: %s on %d host(s), %d report(s)", kind, a.Title, a.HostCount, a.Reports)
	if a.Affected > 0 {
		s += fmt.Sprintf(", %d still on an affected kernel", a.Affected)
	}
	return s
}

// Policy chooses which documents alert. The zero value alerts on every
// known-issue match and every unknown fingerprint.
type Policy struct {
	MinSeverity   int      // documents below it do not alert (0: all)
	IgnoreKnown   bool     // no alerts for known-issue matches
	IgnoreUnknown bool     // no alerts for unknown fingerprints
	IncludeRules  []string // when set, only these rule ids (known issues)
	ExcludeRules  []string
	IncludeTypes  []string // when set, only these oops.type values
	ExcludeTypes  []string
	IncludeHosts  *regexp.Regexp // when set, only matching host names
	ExcludeHosts  *regexp.Regexp
}

func (p *Policy) allows(d *document.Document) bool {
	known := d.Rule != nil
	if known && p.IgnoreKnown || !known && p.IgnoreUnknown {
		return false
	}
	if d.Event.Severity < p.MinSeverity {
		return false
	}
	in := func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	}
	if known {
		if len(p.IncludeRules) > 0 && !in(p.IncludeRules, d.Rule.ID) || in(p.ExcludeRules, d.Rule.ID) {
			return false
		}
	}
	if len(p.IncludeTypes) > 0 && !in(p.IncludeTypes, d.Oops.Type) || in(p.ExcludeTypes, d.Oops.Type) {
		return false
	}
	if p.IncludeHosts != nil && !p.IncludeHosts.MatchString(d.Host.Name) {
		return false
	}
	if p.ExcludeHosts != nil && p.ExcludeHosts.MatchString(d.Host.Name) {
		return false
	}
	return true
}

// Config configures a Notifier.
type Config struct {
	GroupWait      time.Duration // default 30s
	GroupInterval  time.Duration // default 5m
	RepeatInterval time.Duration // default 4h
	MaxHosts       int           // hosts listed in a notification (default 10)
	// ResendInterval is how often active alerts are sent to Alertmanager
	// receivers again (default 1m, Prometheus' resend_delay); EndsAt is
	// four of them ahead.
	ResendInterval time.Duration
	// ResolveAfter is how long a group stays active after its last report
	// (default 1h); then Alertmanager receivers get it resolved.
	ResolveAfter time.Duration
	// KibanaURL, when set, makes GeneratorURL a Kibana Discover link to
	// the group's reports.
	KibanaURL string
	Policy    Policy
	Receivers []Receiver
	Delivery  Delivery
	Now       func() time.Time // default time.Now
	Logger    *slog.Logger
}

// Notifier groups documents and hands notifications to the receivers.
type Notifier struct {
	cfg     Config
	log     *slog.Logger
	mu      sync.Mutex
	groups  map[string]*group
	workers []*worker
	dropped atomic.Uint64
}

type group struct {
	alert     Alert
	hosts     map[string]time.Time
	observed  time.Time // wall clock of the last report
	resent    time.Time // last send to Alertmanager receivers
	resolved  bool      // the resolved notification was sent
	sends     int       // notifications sent, for their ids
	due       time.Time // next notification; zero when nothing to send
	lastSent  time.Time
	sentHosts int
	sentRep   int
	sent      bool
}

// New starts a notifier and one delivery worker per receiver. Close stops them.
func New(cfg Config) *Notifier {
	if cfg.GroupWait <= 0 {
		cfg.GroupWait = 30 * time.Second
	}
	if cfg.GroupInterval <= 0 {
		cfg.GroupInterval = 5 * time.Minute
	}
	if cfg.RepeatInterval <= 0 {
		cfg.RepeatInterval = 4 * time.Hour
	}
	if cfg.MaxHosts <= 0 {
		cfg.MaxHosts = 10
	}
	if cfg.ResendInterval <= 0 {
		cfg.ResendInterval = time.Minute
	}
	if cfg.ResolveAfter <= 0 {
		cfg.ResolveAfter = time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{cfg: cfg, log: cfg.Logger, groups: map[string]*group{}}
	for _, r := range cfg.Receivers {
		n.workers = append(n.workers, newWorker(r, cfg.Delivery, cfg.Logger))
	}
	return n
}

func groupKey(d *document.Document) string {
	if d.Rule != nil {
		return "rule:" + d.Rule.ID
	}
	return "fingerprint:" + d.Oops.Fingerprint
}

// Observe takes one durable document.
func (n *Notifier) Observe(d *document.Document) {
	if !n.cfg.Policy.allows(d) {
		return
	}
	now := n.cfg.Now()
	key := groupKey(d)
	n.mu.Lock()
	defer n.mu.Unlock()
	g := n.groups[key]
	if g == nil {
		g = &group{hosts: map[string]time.Time{}, due: now.Add(n.cfg.GroupWait)}
		g.alert = Alert{
			Key: key, Known: d.Rule != nil, Title: d.Oops.Title, Type: d.Oops.Type, Severity: d.Event.Severity,
			Fingerprint: d.Oops.Fingerprint, FirstSeen: d.Timestamp, Sample: d, Kernels: map[string]string{},
		}
		if d.Rule != nil {
			g.alert.RuleID, g.alert.RuleName = d.Rule.ID, d.Rule.Name
			g.alert.Remediation, g.alert.References = d.Oops.Match.Remediation, d.Rule.Reference
		}
		if d.Oops.Upstream != nil {
			g.alert.Upstream = d.Oops.Upstream.Summary()
		}
		n.groups[key] = g
	}
	a := &g.alert
	a.Reports++
	if d.Timestamp.After(a.LastSeen) {
		a.LastSeen = d.Timestamp
	}
	if d.Event.Severity > a.Severity {
		a.Severity = d.Event.Severity
	}
	g.hosts[d.Host.Name] = now
	g.observed, g.resolved = now, false
	if d.Host.OS != nil && d.Host.OS.Kernel != "" {
		a.Kernels[d.Host.OS.Kernel] = d.Oops.Match.FixStatus
	}
	if g.sent {
		// Changed since the last notification: new hosts at group_interval,
		// more of the same at repeat_interval; the earlier wins.
		next := g.lastSent.Add(n.cfg.RepeatInterval)
		if len(g.hosts) > g.sentHosts {
			next = g.lastSent.Add(n.cfg.GroupInterval)
		}
		if g.due.IsZero() || next.Before(g.due) {
			g.due = next
		}
	}
}

// Tick sends the notifications due at now and forgets quiet groups. Run
// calls it every second; tests call it with a fake clock.
func (n *Notifier) Tick(now time.Time) {
	n.mu.Lock()
	var due, resend []Alert
	for key, g := range n.groups {
		active := now.Sub(g.observed) < n.cfg.ResolveAfter
		switch {
		case !g.due.IsZero() && !now.Before(g.due):
			due = append(due, n.snapshot(g, now, false))
			g.sent, g.lastSent, g.due, g.resent = true, now, time.Time{}, now
			g.sentHosts, g.sentRep = len(g.hosts), g.alert.Reports
			continue
		case g.sent && active && now.Sub(g.resent) >= n.cfg.ResendInterval:
			resend = append(resend, n.snapshot(g, now, false))
			g.resent = now
		case g.sent && !active && !g.resolved:
			resend = append(resend, n.snapshot(g, now, true))
			g.resolved = true
		}
		if g.due.IsZero() && now.Sub(g.lastSent) >= n.cfg.RepeatInterval && (g.resolved || !n.stateful()) {
			delete(n.groups, key)
		}
	}
	n.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].Key < due[j].Key })
	sort.Slice(resend, func(i, j int) bool { return resend[i].Key < resend[j].Key })
	for i := range due {
		n.deliver(&due[i], false)
	}
	for i := range resend {
		n.deliver(&resend[i], true)
	}
}

// stateful reports an Alertmanager receiver among the receivers: groups
// are then kept until they are resolved there.
func (n *Notifier) stateful() bool {
	for _, w := range n.workers {
		if _, ok := w.r.(*Alertmanager); ok {
			return true
		}
	}
	return false
}

// snapshot copies the group's state into an Alert.
func (n *Notifier) snapshot(g *group, now time.Time, resolved bool) Alert {
	a := g.alert
	a.Repeat = g.sent
	g.sends++
	a.ID = notificationID(a.Key, g.alert.FirstSeen, g.sends)
	a.Resolved = resolved
	a.EndsAt = now.Add(4 * n.cfg.ResendInterval)
	if resolved {
		a.EndsAt = now
	}
	a.GeneratorURL = discoverURL(n.cfg.KibanaURL, &a)
	a.HostCount = len(g.hosts)
	type hs struct {
		name string
		at   time.Time
	}
	var hosts []hs
	for h, at := range g.hosts {
		hosts = append(hosts, hs{h, at})
	}
	sort.Slice(hosts, func(i, j int) bool {
		if !hosts[i].at.Equal(hosts[j].at) {
			return hosts[i].at.After(hosts[j].at)
		}
		return hosts[i].name < hosts[j].name
	})
	a.Hosts, a.ActiveHosts = nil, nil
	for i := 0; i < len(hosts) && i < n.cfg.MaxHosts; i++ {
		a.Hosts = append(a.Hosts, hosts[i].name)
		if now.Sub(hosts[i].at) < n.cfg.ResolveAfter {
			a.ActiveHosts = append(a.ActiveHosts, hosts[i].name)
		}
	}
	a.Kernels = make(map[string]string, len(g.alert.Kernels))
	for k, v := range g.alert.Kernels {
		a.Kernels[k] = v
	}
	a.Affected = 0
	if a.Known {
		for _, st := range a.Kernels {
			if st == "affected" {
				a.Affected++
			}
		}
	}
	return a
}

// deliver hands a notification to every receiver, or with stateOnly to the
// Alertmanager receivers only (resends and resolutions).
func (n *Notifier) deliver(a *Alert, stateOnly bool) {
	for _, w := range n.workers {
		if _, ok := w.r.(*Alertmanager); stateOnly && !ok {
			continue
		}
		if !w.enqueue(a) {
			n.dropped.Add(1)
			n.log.Error("alert queue full; notification dropped", "receiver", w.r.Name(), "group", a.Key)
		}
	}
}

// Run ticks every second until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.Tick(n.cfg.Now())
		}
	}
}

// Flush sends every group with something unsent now, without waiting for
// its timer (end of a batch scan).
func (n *Notifier) Flush() {
	n.mu.Lock()
	now := n.cfg.Now()
	for _, g := range n.groups {
		if !g.due.IsZero() {
			g.due = now
		}
	}
	n.mu.Unlock()
	n.Tick(now)
}

// Close flushes, then waits for the receivers to deliver (or give up) until
// ctx ends.
func (n *Notifier) Close(ctx context.Context) error {
	n.Flush()
	var err error
	for _, w := range n.workers {
		if werr := w.close(ctx); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// Stats counts deliveries.
type Stats struct {
	Sent, Failed, Retries, Dropped uint64
}

// Stats sums the receivers' counters.
func (n *Notifier) Stats() Stats {
	s := Stats{Dropped: n.dropped.Load()}
	for _, w := range n.workers {
		s.Sent += w.sent.Load()
		s.Failed += w.failed.Load()
		s.Retries += w.retries.Load()
	}
	return s
}

// notificationID is a notification's stable id: the group, its first
// report and the notification's number.
func notificationID(key string, first time.Time, n int) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%d", key, first.UnixNano(), n)))
	return "msg_" + hex.EncodeToString(h[:12])
}

// discoverURL links to the group's reports in Kibana Discover, from an
// hour before its first report; "" without a Kibana URL.
func discoverURL(kibana string, a *Alert) string {
	if kibana == "" {
		return ""
	}
	query := `oops.fingerprint:"` + a.Fingerprint + `"`
	if a.Known {
		query = `rule.id:"` + a.RuleID + `"`
	}
	from := a.FirstSeen.Add(-time.Hour).UTC().Format(time.RFC3339)
	g := "(time:(from:'" + from + "',to:now))"
	st := "(query:(language:kuery,query:'" + risonEscape(query) + "'))"
	return strings.TrimRight(kibana, "/") + "/app/discover#/?_g=" + url.QueryEscape(g) + "&_a=" + url.QueryEscape(st)
}

// risonEscape escapes a string for a single-quoted rison string.
func risonEscape(s string) string {
	return strings.NewReplacer("!", "!!", "'", "!'").Replace(s)
}
