package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"
)

// payload is the generic webhook body: the group's key fields and a
// human summary.
type payload struct {
	Version     string            `json:"version"`
	Key         string            `json:"key"`
	Status      string            `json:"status"`
	Summary     string            `json:"summary"`
	Known       bool              `json:"known"`
	RuleID      string            `json:"rule_id,omitempty"`
	RuleName    string            `json:"rule_name,omitempty"`
	Title       string            `json:"title"`
	Type        string            `json:"type"`
	Severity    int               `json:"severity"`
	Fingerprint string            `json:"fingerprint"`
	Reports     int               `json:"reports"`
	HostCount   int               `json:"host_count"`
	Hosts       []string          `json:"hosts"`
	Kernels     map[string]string `json:"kernels,omitempty"`
	Affected    int               `json:"affected_hosts"`
	Remediation string            `json:"remediation,omitempty"`
	References  []string          `json:"references,omitempty"`
	Upstream    string            `json:"upstream,omitempty"`
	FirstSeen   time.Time         `json:"first_seen"`
	LastSeen    time.Time         `json:"last_seen"`
	Repeat      bool              `json:"repeat"`
	SampleID    string            `json:"sample_event_id,omitempty"`
}

func newPayload(a *Alert) payload {
	p := payload{
		Version: "1", Key: a.Key, Status: "firing", Summary: a.Summary(), Known: a.Known, RuleID: a.RuleID, RuleName: a.RuleName,
		Title: a.Title, Type: a.Type, Severity: a.Severity, Fingerprint: a.Fingerprint, Reports: a.Reports,
		HostCount: a.HostCount, Hosts: a.Hosts, Kernels: a.Kernels, Affected: a.Affected, Remediation: a.Remediation,
		References: a.References, Upstream: a.Upstream, FirstSeen: a.FirstSeen, LastSeen: a.LastSeen, Repeat: a.Repeat,
	}
	if a.Sample != nil {
		p.SampleID = a.Sample.Event.ID
	}
	return p
}

// Signature headers of the generic webhook. The webhook-* headers follow
// the Standard Webhooks specification (standardwebhooks.com), for which
// receivers have libraries in most languages; the X-Oopsflow-* pair is
// kept for receivers written against earlier versions.
const (
	HeaderID           = "webhook-id"        // the notification's id, the same on every retry
	HeaderStdTimestamp = "webhook-timestamp" // Unix seconds
	HeaderStdSignature = "webhook-signature" // "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body))

	HeaderSignature = "X-Oopsflow-Signature" // "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body))
	HeaderTimestamp = "X-Oopsflow-Timestamp" // Unix seconds, signed with the body against replays
)

// DefaultTolerance is how far a signed request's timestamp may be from the
// receiver's clock (the Standard Webhooks reference value).
const DefaultTolerance = 5 * time.Minute

// signingKey is the HMAC key of a secret: a Standard Webhooks secret
// ("whsec_" + base64) is its decoded bytes, any other the secret's bytes.
func signingKey(secret []byte) []byte {
	if rest, ok := bytes.CutPrefix(secret, []byte("whsec_")); ok {
		if k, err := base64.StdEncoding.DecodeString(string(rest)); err == nil {
			return k
		}
	}
	return secret
}

// SignStandard returns the webhook-signature value for a notification.
func SignStandard(secret []byte, id, ts string, body []byte) string {
	m := hmac.New(sha256.New, signingKey(secret))
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifyRequest checks a signed webhook request as a receiver should: the
// Standard Webhooks signature over id, timestamp and body, and a timestamp
// within tolerance of now (DefaultTolerance when 0), which bounds replays;
// receivers also drop ids they have seen.
func VerifyRequest(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderStdTimestamp), h.Get(HeaderStdSignature)
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("webhook: missing %s, %s or %s", HeaderID, HeaderStdTimestamp, HeaderStdSignature)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook: bad timestamp %q", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook: timestamp %s is %s from now, outside %s", ts, d.Round(time.Second), tolerance)
	}
	want := SignStandard(secret, id, ts, body)
	for _, sig := range strings.Fields(sigs) { // several during a key rotation
		if hmac.Equal([]byte(sig), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("webhook: no valid signature")
}

// Sign returns the signature header value for body at timestamp ts.
func Sign(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a generic webhook request's signature (for receivers written
// in Go; others recompute Sign).
func Verify(secret []byte, ts, signature string, body []byte) bool {
	return hmac.Equal([]byte(signature), []byte(Sign(secret, ts, body)))
}

// Webhook posts the generic JSON payload, signed when Secret is set.
type Webhook struct {
	ID      string
	URL     string
	Secret  []byte
	Headers map[string]string
	Now     func() time.Time
}

// Name identifies the receiver in logs (never the URL, which may be secret).
func (w *Webhook) Name() string { return "webhook " + w.ID }

// Request builds the POST.
func (w *Webhook) Request(ctx context.Context, a *Alert) (*http.Request, error) {
	body, err := json.Marshal(newPayload(a))
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "oopsflow")
	for k, v := range w.Headers {
		req.Header.Set(k, v)
	}
	if len(w.Secret) > 0 {
		now := time.Now
		if w.Now != nil {
			now = w.Now
		}
		ts := strconv.FormatInt(now().Unix(), 10)
		id := a.ID
		if id == "" {
			id = notificationID(a.Key, a.FirstSeen, 0)
		}
		req.Header.Set(HeaderID, id)
		req.Header.Set(HeaderStdTimestamp, ts)
		req.Header.Set(HeaderStdSignature, SignStandard(w.Secret, id, ts, body))
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(w.Secret, ts, body))
	}
	return req, nil
}

// Slack posts to an incoming webhook: a header and a section in blocks,
// and the summary as the notification fallback text.
type Slack struct {
	ID  string
	URL string
}

// Name identifies the receiver.
func (s *Slack) Name() string { return "slack " + s.ID }

// slackEscape escapes the three characters Slack's mrkdwn interprets
// (<, >, &): log text cannot mention @channel, link, or format.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 1
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Request builds the POST.
func (s *Slack) Request(ctx context.Context, a *Alert) (*http.Request, error) {
	head := "New kernel crash"
	if a.Known {
		head = "Known kernel bug: " + a.RuleID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*\n", slackEscape(a.Title))
	if a.Known {
		fmt.Fprintf(&b, "%s\n", slackEscape(a.RuleName))
	}
	fmt.Fprintf(&b, "*%d* report(s) on *%d* host(s): %s", a.Reports, a.HostCount, slackEscape(strings.Join(a.Hosts, ", ")))
	if a.HostCount > len(a.Hosts) {
		fmt.Fprintf(&b, " and %d more", a.HostCount-len(a.Hosts))
	}
	b.WriteString("\n")
	if len(a.Kernels) > 0 {
		var ks []string
		for k, st := range a.Kernels {
			if a.Known {
				ks = append(ks, k+" ("+st+")")
			} else {
				ks = append(ks, k)
			}
		}
		sort.Strings(ks)
		fmt.Fprintf(&b, "Kernels: %s\n", slackEscape(strings.Join(ks, ", ")))
	}
	if a.Remediation != "" {
		fmt.Fprintf(&b, "*Fix:* %s\n", slackEscape(a.Remediation))
	}
	if a.Upstream != "" {
		fmt.Fprintf(&b, "*Upstream:* %s\n", slackEscape(a.Upstream))
	}
	for _, r := range a.References {
		fmt.Fprintf(&b, "%s\n", slackEscape(r))
	}
	msg := map[string]any{
		"text": truncate(slackEscape(a.Summary()), 3000),
		"blocks": []any{
			map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": truncate(head, 150)}},
			map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": truncate(b.String(), 3000)}},
			map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn", "text": truncate(fmt.Sprintf("%s · severity %d · fingerprint %s", slackEscape(a.Type), a.Severity, a.Fingerprint), 3000)}}},
		},
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// Alertmanager posts to an Alertmanager's /api/v2/alerts, one alert per
// host listed, so that existing routing (PagerDuty, Opsgenie, ...) applies.
// Like Prometheus, oopsflow sends to every member of a highly available
// Alertmanager: configure one receiver per member (urls: in the file).
type Alertmanager struct {
	ID      string
	URL     string // base URL, e.g. http://alertmanager:9093
	Headers map[string]string
}

// Name identifies the receiver.
func (am *Alertmanager) Name() string { return "alertmanager " + am.ID }

// Request builds the POST.
func (am *Alertmanager) Request(ctx context.Context, a *Alert) (*http.Request, error) {
	refs := strings.Join(a.References, " ")
	var alerts []any
	hosts := a.Hosts
	if !a.Resolved && a.ActiveHosts != nil {
		hosts = a.ActiveHosts // quiet hosts' alerts resolve at their endsAt
	}
	for _, h := range hosts {
		labels := map[string]string{
			"alertname":   "KernelOops",
			"oops_type":   a.Type,
			"host":        h,
			"severity":    severityName(a.Severity),
			"fingerprint": a.Fingerprint,
		}
		if a.Known {
			labels["alertname"] = "KernelKnownIssue"
			labels["rule_id"] = a.RuleID
		}
		al := map[string]any{
			"labels": labels,
			"annotations": map[string]string{
				"title": a.Title, "summary": a.Summary(), "remediation": a.Remediation, "references": refs,
				"host_count": strconv.Itoa(a.HostCount), "upstream": a.Upstream,
			},
			"startsAt": a.FirstSeen.UTC().Format(time.RFC3339),
		}
		// Without endsAt Alertmanager resolves an alert resolve_timeout
		// (5m) after it last heard of it: paging integrations would close
		// the incident while reports still come.
		if !a.EndsAt.IsZero() {
			al["endsAt"] = a.EndsAt.UTC().Format(time.RFC3339)
		}
		if a.GeneratorURL != "" {
			al["generatorURL"] = a.GeneratorURL
		}
		alerts = append(alerts, al)
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(am.URL, "/")+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range am.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}

// severityName maps the 1..10 severity to Alertmanager's usual labels.
func severityName(s int) string {
	switch {
	case s >= 8:
		return "critical"
	case s >= 5:
		return "warning"
	}
	return "info"
}

// Template renders the body from a Go text/template. The data's strings
// are escaped for Escape ("json": safe inside a JSON string; "none").
// Templates can only format: the data holds no functions and the function
// map is a few string helpers.
type Template struct {
	ID          string
	URL         string
	Method      string
	ContentType string
	Headers     map[string]string
	Escape      string
	tmpl        *template.Template
}

// NewTemplate parses body.
func NewTemplate(id, url, method, contentType, escape, body string, headers map[string]string) (*Template, error) {
	if method == "" {
		method = http.MethodPost
	}
	if contentType == "" {
		contentType = "application/json"
	}
	if escape == "" {
		escape = "none"
		if strings.Contains(contentType, "json") {
			escape = "json"
		}
	}
	if escape != "json" && escape != "none" {
		return nil, fmt.Errorf("template receiver %s: escape must be json or none, not %q", id, escape)
	}
	t, err := template.New(id).Option("missingkey=error").Funcs(template.FuncMap{
		"join": strings.Join, "upper": strings.ToUpper, "lower": strings.ToLower,
		"truncate": func(n int, s string) string { return truncate(s, n) },
	}).Parse(body)
	if err != nil {
		return nil, fmt.Errorf("template receiver %s: %w", id, err)
	}
	return &Template{ID: id, URL: url, Method: method, ContentType: contentType, Headers: headers, Escape: escape, tmpl: t}, nil
}

// Name identifies the receiver.
func (t *Template) Name() string { return "template " + t.ID }

// TemplateData is what a body template sees.
type TemplateData struct {
	Key, Status, Summary, RuleID, RuleName, Title, Type, Fingerprint, Remediation, Upstream string
	Known, Repeat                                                                           bool
	Severity, Reports, HostCount, Affected                                                  int
	Hosts, Kernels, References                                                              []string
	FirstSeen, LastSeen                                                                     string
}

// Request renders and builds the request.
func (t *Template) Request(ctx context.Context, a *Alert) (*http.Request, error) {
	esc := func(s string) string { return s }
	if t.Escape == "json" {
		esc = func(s string) string {
			b, _ := json.Marshal(s)
			return string(b[1 : len(b)-1])
		}
	}
	escAll := func(in []string) []string {
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = esc(s)
		}
		return out
	}
	var kernels []string
	for k, st := range a.Kernels {
		kernels = append(kernels, k+" ("+st+")")
	}
	sort.Strings(kernels)
	data := TemplateData{
		Key: esc(a.Key), Status: "firing", Summary: esc(a.Summary()), RuleID: esc(a.RuleID), RuleName: esc(a.RuleName),
		Title: esc(a.Title), Type: esc(a.Type), Fingerprint: esc(a.Fingerprint), Remediation: esc(a.Remediation),
		Upstream: esc(a.Upstream), Known: a.Known, Repeat: a.Repeat, Severity: a.Severity, Reports: a.Reports, HostCount: a.HostCount, Affected: a.Affected,
		Hosts: escAll(a.Hosts), Kernels: escAll(kernels), References: escAll(a.References),
		FirstSeen: a.FirstSeen.UTC().Format(time.RFC3339), LastSeen: a.LastSeen.UTC().Format(time.RFC3339),
	}
	var body bytes.Buffer
	if err := t.tmpl.Execute(&body, data); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, t.Method, t.URL, &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", t.ContentType)
	for k, v := range t.Headers {
		req.Header.Set(k, v)
	}
	return req, nil
}
