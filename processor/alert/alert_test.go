package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oopsflow/oopsflow/processor/document"
	"github.com/oopsflow/oopsflow/processor/upstream"
)

// clock is a fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// sink is an HTTP receiver recording bodies; answers pops statuses first.
type sink struct {
	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	answers  []func(http.ResponseWriter)
	requests int
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests++
	var answer func(http.ResponseWriter)
	if len(s.answers) > 0 {
		answer, s.answers = s.answers[0], s.answers[1:]
	}
	if answer == nil {
		s.bodies = append(s.bodies, b)
		s.headers = append(s.headers, r.Header.Clone())
	}
	s.mu.Unlock()
	if answer != nil {
		answer(w)
		return
	}
	io.WriteString(w, "ok")
}

func (s *sink) received() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func doc(host, rule, fp string, sev int) *document.Document {
	d := &document.Document{Timestamp: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	d.Host.Name = host
	d.Host.OS = &document.OS{Kernel: "5.15.0-1075-azure"}
	d.Event.ID = fmt.Sprintf("%032x", len(host)+len(rule))
	d.Event.Severity = sev
	d.Oops.Type = "null_pointer_dereference"
	d.Oops.Title = "BUG: unable to handle kernel NULL pointer dereference in netfs_rreq_unlock"
	d.Oops.Fingerprint = fp
	if rule != "" {
		d.Rule = &document.Rule{ID: rule, Name: "netfs bug", Reference: []string{"https://example.org/fix"}}
		d.Oops.Match = document.Match{Status: "known", FixStatus: "affected", Remediation: "upgrade"}
	}
	return d
}

func fastDelivery() Delivery {
	return Delivery{RatePerSec: 1000, Burst: 1000, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

// The same known issue on 300 hosts is one message; then repeats follow the
// group_interval / repeat_interval rules; quiet groups are forgotten.
func TestGroupingAndRepeatTiming(t *testing.T) {
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	clk := &clock{now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	n := New(Config{
		GroupWait: 30 * time.Second, GroupInterval: 5 * time.Minute, RepeatInterval: 4 * time.Hour,
		Receivers: []Receiver{&Webhook{ID: "w", URL: srv.URL}}, Delivery: fastDelivery(), Now: clk.Now,
	})
	defer n.Close(context.Background())
	for i := 0; i < 300; i++ {
		n.Observe(doc(fmt.Sprintf("node-%03d", i), "netfs-rreq-unlock-xa-retry", "fp1", 8))
	}
	n.Tick(clk.add(29 * time.Second))
	time.Sleep(20 * time.Millisecond)
	if len(s.received()) != 0 {
		t.Fatal("sent before group_wait")
	}
	n.Tick(clk.add(2 * time.Second))
	waitFor(t, "the first notification", func() bool { return len(s.received()) == 1 })
	var p payload
	json.Unmarshal(s.received()[0], &p)
	if p.HostCount != 300 || p.Reports != 300 || len(p.Hosts) != 10 || p.RuleID != "netfs-rreq-unlock-xa-retry" || p.Affected != 1 || p.Repeat {
		t.Fatalf("first notification: %+v", p)
	}

	// More reports on the same hosts: nothing until repeat_interval.
	n.Observe(doc("node-001", "netfs-rreq-unlock-xa-retry", "fp1", 8))
	n.Tick(clk.add(10 * time.Minute))
	time.Sleep(20 * time.Millisecond)
	if len(s.received()) != 1 {
		t.Fatal("repeated before repeat_interval for reports on known hosts")
	}
	// A new host: notified at group_interval after the last notification.
	n.Observe(doc("node-new", "netfs-rreq-unlock-xa-retry", "fp1", 8))
	n.Tick(clk.Now())
	waitFor(t, "the new-host notification", func() bool { return len(s.received()) == 2 })
	json.Unmarshal(s.received()[1], &p)
	if p.HostCount != 301 || !p.Repeat || p.Hosts[0] != "node-new" {
		t.Fatalf("update: host_count %d repeat %v first host %s", p.HostCount, p.Repeat, p.Hosts[0])
	}
	// Quiet for repeat_interval: forgotten; the next sighting starts a new group.
	n.Tick(clk.add(4*time.Hour + time.Minute))
	n.Observe(doc("node-9", "netfs-rreq-unlock-xa-retry", "fp1", 8))
	n.Tick(clk.add(31 * time.Second))
	waitFor(t, "a fresh group", func() bool { return len(s.received()) == 3 })
	json.Unmarshal(s.received()[2], &p)
	if p.HostCount != 1 || p.Repeat {
		t.Fatalf("fresh group: %+v", p)
	}
}

func TestPolicy(t *testing.T) {
	var p Policy
	p.MinSeverity = 5
	p.ExcludeRules = []string{"noisy"}
	p.IncludeHosts = regexp.MustCompile(`^prod-`)
	for _, tc := range []struct {
		d    *document.Document
		want bool
	}{
		{doc("prod-1", "r", "f", 8), true},
		{doc("prod-1", "", "f", 8), true},
		{doc("prod-1", "r", "f", 3), false},
		{doc("prod-1", "noisy", "f", 8), false},
		{doc("dev-1", "r", "f", 8), false},
	} {
		if got := p.allows(tc.d); got != tc.want {
			t.Errorf("%s/%v sev %d: %v", tc.d.Host.Name, tc.d.Rule, tc.d.Event.Severity, got)
		}
	}
	p.IgnoreUnknown = true
	if p.allows(doc("prod-1", "", "f", 8)) {
		t.Error("unknown alerted with unknown: false")
	}
}

func deliverOne(t *testing.T, r Receiver, d Delivery) (*Notifier, Stats) {
	t.Helper()
	clk := &clock{now: time.Now()}
	n := New(Config{GroupWait: time.Second, Receivers: []Receiver{r}, Delivery: d, Now: clk.Now})
	n.Observe(doc("h1", "rule", "fp", 8))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n.Close(ctx)
	return n, n.Stats()
}

// 429 with Retry-After: the wait asked for is honoured, then delivered.
func TestRetryAfter(t *testing.T) {
	s := &sink{answers: []func(http.ResponseWriter){func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
	}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	var waits []time.Duration
	d := fastDelivery()
	d.MaxBackoff = time.Minute
	d.Sleep = func(_ context.Context, dur time.Duration) error { waits = append(waits, dur); return nil }
	_, st := deliverOne(t, &Webhook{ID: "w", URL: srv.URL}, d)
	if st.Sent != 1 || len(s.received()) != 1 || len(waits) != 1 || waits[0] != 7*time.Second {
		t.Fatalf("sent %d, received %d, waits %v", st.Sent, len(s.received()), waits)
	}
}

func TestServerErrorsThenSuccess(t *testing.T) {
	fail := func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }
	s := &sink{answers: []func(http.ResponseWriter){fail, fail}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	_, st := deliverOne(t, &Webhook{ID: "w", URL: srv.URL}, fastDelivery())
	if st.Sent != 1 || st.Retries != 2 || len(s.received()) != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTimeoutThenSuccess(t *testing.T) {
	slow := func(w http.ResponseWriter) { time.Sleep(300 * time.Millisecond); w.WriteHeader(200) }
	s := &sink{answers: []func(http.ResponseWriter){slow}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	d := fastDelivery()
	d.Client = &http.Client{Timeout: 50 * time.Millisecond}
	_, st := deliverOne(t, &Webhook{ID: "w", URL: srv.URL}, d)
	if st.Sent != 1 || st.Retries != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// A receiver down for longer than the retry bound: given up and counted;
// a 4xx is not retried at all.
func TestGiveUp(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	d := fastDelivery()
	d.MaxAttempts = 3
	_, st := deliverOne(t, &Webhook{ID: "w", URL: url}, d)
	if st.Failed != 1 || st.Sent != 0 || st.Retries != 2 {
		t.Fatalf("down: %+v", st)
	}
	bad := &sink{answers: []func(http.ResponseWriter){func(w http.ResponseWriter) { w.WriteHeader(400) }}}
	srv2 := httptest.NewServer(bad)
	defer srv2.Close()
	_, st = deliverOne(t, &Webhook{ID: "w", URL: srv2.URL}, d)
	if st.Failed != 1 || st.Retries != 0 || bad.requests != 1 {
		t.Fatalf("400: %+v, %d requests", st, bad.requests)
	}
}

func TestSignature(t *testing.T) {
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	secret := []byte("s3cret")
	deliverOne(t, &Webhook{ID: "w", URL: srv.URL, Secret: secret}, fastDelivery())
	h, b := s.headers[0], s.received()[0]
	ts, sig := h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if ts == "" || !strings.HasPrefix(sig, "sha256=") || !Verify(secret, ts, sig, b) {
		t.Fatalf("signature %q over ts %q does not verify", sig, ts)
	}
	if Verify([]byte("wrong"), ts, sig, b) || Verify(secret, ts, sig, append(b, ' ')) {
		t.Fatal("a wrong secret or a modified body verified")
	}
}

// hostile is kernel-log text an attacker controls (a module name, a comm).
const hostile = "<!channel> *bold* & <http://evil.example|click> \"quote\"\n\x01 {{.Title}}"

func hostileDoc() *document.Document {
	d := doc("node-<!here>", "rule", "fp", 8)
	d.Oops.Title = hostile
	return d
}

func TestEscaping(t *testing.T) {
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	tmpl, err := NewTemplate("t", srv.URL, "", "application/json", "", `{"text":"{{.Title}} on {{join .Hosts ", "}}","n":{{.HostCount}}}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Now()}
	n := New(Config{GroupWait: time.Second, Receivers: []Receiver{&Slack{ID: "s", URL: srv.URL}, &Webhook{ID: "w", URL: srv.URL}, tmpl}, Delivery: fastDelivery(), Now: clk.Now})
	n.Observe(hostileDoc())
	n.Close(context.Background())
	bodies := s.received()
	if len(bodies) != 3 {
		t.Fatalf("%d bodies", len(bodies))
	}
	for _, b := range bodies {
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("body is not valid JSON: %v\n%s", err, b)
		}
		switch {
		case v["blocks"] != nil: // Slack: no raw <, > or & from the log reaches mrkdwn
			text := v["blocks"].([]any)[1].(map[string]any)["text"].(map[string]any)["text"].(string)
			if strings.Contains(text, "<!channel>") || strings.Contains(text, "<http") || strings.Contains(text, "<!here>") || !strings.Contains(text, "&lt;!channel&gt;") || !strings.Contains(text, "&amp;") {
				t.Errorf("slack text not escaped: %q", text)
			}
		case v["text"] != nil: // template: the title survives exactly, as data
			if want := hostile + " on node-<!here>"; v["text"] != want {
				t.Errorf("template text %q, want %q", v["text"], want)
			}
		default: // generic JSON
			if v["title"] != hostile {
				t.Errorf("webhook title %q", v["title"])
			}
		}
	}
	// Templates only format: no unknown functions, no missing keys.
	if _, err := NewTemplate("x", srv.URL, "", "", "", `{{exec "rm -rf /"}}`, nil); err == nil {
		t.Error("a template calling an undefined function was accepted")
	}
}

func TestAlertmanagerPayload(t *testing.T) {
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	var path string
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { path = r.URL.Path; s.ServeHTTP(w, r) })
	clk := &clock{now: time.Now()}
	n := New(Config{GroupWait: time.Second, Receivers: []Receiver{&Alertmanager{ID: "am", URL: srv.URL}}, Delivery: fastDelivery(), Now: clk.Now})
	n.Observe(doc("h1", "netfs-rreq-unlock-xa-retry", "fp", 8))
	n.Observe(doc("h2", "netfs-rreq-unlock-xa-retry", "fp", 8))
	n.Close(context.Background())
	var alerts []struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(s.received()[0], &alerts); err != nil {
		t.Fatal(err)
	}
	if path != "/api/v2/alerts" || len(alerts) != 2 {
		t.Fatalf("path %s, %d alerts", path, len(alerts))
	}
	l := alerts[0].Labels
	for _, k := range []string{"alertname", "rule_id", "oops_type", "host", "severity", "fingerprint"} {
		if l[k] == "" {
			t.Errorf("label %s missing: %v", k, l)
		}
	}
	if l["severity"] != "critical" || alerts[0].Annotations["remediation"] != "upgrade" || alerts[0].Annotations["references"] == "" {
		t.Errorf("labels %v annotations %v", l, alerts[0].Annotations)
	}
}

func TestFileConfig(t *testing.T) {
	t.Setenv("HOOK", "https://hooks.example/T/B/x")
	f := FileConfig{Receivers: []ReceiverConfig{{Type: "slack", URLEnv: "HOOK"}, {Type: "alertmanager", URL: "http://am:9093"}}}
	cfg, err := f.Build()
	if err != nil || len(cfg.Receivers) != 2 || cfg.Policy.IgnoreKnown || cfg.Policy.IgnoreUnknown {
		t.Fatalf("%+v %v", cfg, err)
	}
	for _, bad := range []ReceiverConfig{
		{Type: "slack", URLEnv: "UNSET_VARIABLE"},
		{Type: "pager", URL: "http://x"},
		{Type: "webhook", URL: "ftp://x"},
		{Type: "template", URL: "http://x"},
		{Type: "template", URL: "http://x", Body: "{{"},
	} {
		if _, err := (&FileConfig{Receivers: []ReceiverConfig{bad}}).Build(); err == nil {
			t.Errorf("%+v accepted", bad)
		} else if strings.Contains(err.Error(), "hooks.example") {
			t.Errorf("error leaks the URL: %v", err)
		}
	}
}

// An upstream link travels with the alert to every receiver, with its
// caveat.
func TestUpstreamInAlerts(t *testing.T) {
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	clk := &clock{now: time.Now()}
	n := New(Config{GroupWait: time.Second, Receivers: []Receiver{&Slack{ID: "s", URL: srv.URL}, &Webhook{ID: "w", URL: srv.URL}, &Alertmanager{ID: "am", URL: srv.URL}},
		Delivery: fastDelivery(), Now: clk.Now})
	d := doc("h1", "", "fp-new", 7)
	d.SetUpstream(upstream.Match{Status: upstream.Fixed, Title: "KASAN: x", Link: "https://syzkaller.appspot.com/bug?extid=1", Namespace: "upstream",
		FixCommits: []upstream.Commit{{Title: "fix the thing", Hash: "0123456789abcdef"}}, Confidence: 0.8})
	n.Observe(d)
	n.Close(context.Background())
	bodies := s.received()
	if len(bodies) != 3 {
		t.Fatalf("%d bodies", len(bodies))
	}
	for _, b := range bodies {
		if !strings.Contains(string(b), `fix the thing`) || !strings.Contains(string(b), "0123456789ab") || !strings.Contains(string(b), "not necessarily the same bug") {
			t.Errorf("no upstream link in %s", b)
		}
	}
}

// amAlert is one alert of an Alertmanager POST.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// Alertmanager receivers get what Prometheus would send: active alerts
// again every resend_interval with endsAt four intervals ahead, a
// resolution when the group goes quiet, and a link to the reports; other
// receivers are not sent the resends.
func TestAlertmanagerResendAndResolve(t *testing.T) {
	am, hook := &sink{}, &sink{}
	amSrv, hookSrv := httptest.NewServer(am), httptest.NewServer(hook)
	defer amSrv.Close()
	defer hookSrv.Close()
	clk := &clock{now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	n := New(Config{
		GroupWait: 30 * time.Second, ResendInterval: time.Minute, ResolveAfter: 10 * time.Minute,
		KibanaURL: "https://kibana.example:5601",
		Receivers: []Receiver{&Alertmanager{ID: "am", URL: amSrv.URL}, &Webhook{ID: "w", URL: hookSrv.URL}},
		Delivery:  fastDelivery(), Now: clk.Now,
	})
	defer n.Close(context.Background())
	n.Observe(doc("h1", "netfs-rreq-unlock-xa-retry", "fp", 8))
	n.Tick(clk.add(30 * time.Second))
	waitFor(t, "the first notification", func() bool { return len(am.received()) == 1 && len(hook.received()) == 1 })
	decode := func(i int) amAlert {
		var as []amAlert
		if err := json.Unmarshal(am.received()[i], &as); err != nil || len(as) != 1 {
			t.Fatalf("alertmanager body %d: %v %s", i, err, am.received()[i])
		}
		return as[0]
	}
	first := decode(0)
	if want := clk.Now().Add(4 * time.Minute); !first.EndsAt.Equal(want) {
		t.Errorf("endsAt %s, want %s", first.EndsAt, want)
	}
	if !strings.HasPrefix(first.GeneratorURL, "https://kibana.example:5601/app/discover#/?") || !strings.Contains(first.GeneratorURL, "netfs-rreq-unlock-xa-retry") {
		t.Errorf("generatorURL %q", first.GeneratorURL)
	}
	// Still active: resent every minute, to Alertmanager only.
	for i := 1; i <= 3; i++ {
		n.Tick(clk.add(time.Minute))
		waitFor(t, "a resend", func() bool { return len(am.received()) == i+1 })
		if a := decode(i); !a.EndsAt.Equal(clk.Now().Add(4*time.Minute)) || a.Labels["host"] != "h1" {
			t.Errorf("resend %d: %+v", i, a)
		}
	}
	if len(hook.received()) != 1 {
		t.Fatalf("the webhook got %d notifications, want 1", len(hook.received()))
	}
	// Quiet for resolve_after: one resolution, endsAt now; then silence.
	n.Tick(clk.add(10 * time.Minute))
	waitFor(t, "the resolution", func() bool { return len(am.received()) == 5 })
	if a := decode(4); !a.EndsAt.Equal(clk.Now()) {
		t.Errorf("resolution endsAt %s, want %s", a.EndsAt, clk.Now())
	}
	for i := 0; i < 5; i++ {
		n.Tick(clk.add(time.Minute))
	}
	time.Sleep(50 * time.Millisecond)
	if len(am.received()) != 5 {
		t.Fatalf("%d posts after the resolution", len(am.received())-5)
	}
	// A new report fires it again.
	n.Observe(doc("h2", "netfs-rreq-unlock-xa-retry", "fp", 8))
	n.Tick(clk.add(5 * time.Minute))
	waitFor(t, "firing again", func() bool { return len(am.received()) == 6 })
	if a := decode(5); !a.EndsAt.After(clk.Now()) {
		t.Errorf("firing again: endsAt %s", a.EndsAt)
	}
}

// Webhooks are signed per Standard Webhooks: the id is the same on every
// retry, the verifier checks the signature and the time window.
func TestStandardWebhookSignature(t *testing.T) {
	s := &sink{answers: []func(http.ResponseWriter){func(w http.ResponseWriter) { w.WriteHeader(503) }}}
	var ids []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids = append(ids, r.Header.Get(HeaderID))
		mu.Unlock()
		s.ServeHTTP(w, r)
	}))
	defer srv.Close()
	secret := []byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	deliverOne(t, &Webhook{ID: "w", URL: srv.URL, Secret: secret}, fastDelivery())
	mu.Lock()
	if len(ids) != 2 || ids[0] == "" || ids[0] != ids[1] {
		t.Fatalf("webhook-id over a retry: %q", ids)
	}
	mu.Unlock()
	h, b := s.headers[0], s.received()[0]
	if !strings.HasPrefix(h.Get(HeaderStdSignature), "v1,") {
		t.Fatalf("webhook-signature %q", h.Get(HeaderStdSignature))
	}
	now := time.Now()
	if err := VerifyRequest(secret, h, b, now, 0); err != nil {
		t.Fatalf("a good request: %v", err)
	}
	for name, err := range map[string]error{
		"wrong secret":    VerifyRequest([]byte("whsec_b3RoZXI="), h, b, now, 0),
		"changed body":    VerifyRequest(secret, h, append(b, ' '), now, 0),
		"replayed late":   VerifyRequest(secret, h, b, now.Add(6*time.Minute), 0),
		"from the future": VerifyRequest(secret, h, b, now.Add(-6*time.Minute), 0),
	} {
		if err == nil {
			t.Errorf("%s verified", name)
		}
	}
	// The reference example of the Standard Webhooks specification.
	ref := http.Header{}
	ref.Set(HeaderID, "msg_p5jXN8AQM9LWM0D4loKWxJek")
	ref.Set(HeaderStdTimestamp, "1614265330")
	ref.Set(HeaderStdSignature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	if err := VerifyRequest([]byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), ref, []byte(`{"test": 2432232314}`), time.Unix(1614265330, 0), 0); err != nil {
		t.Errorf("the specification's example: %v", err)
	}
}

// urls makes one Alertmanager receiver per member; bad values name the field.
func TestAlertsConfigMembersAndBounds(t *testing.T) {
	f := FileConfig{Receivers: []ReceiverConfig{{Type: "alertmanager", URLs: []string{"http://am-0:9093", "http://am-1:9093"}}}}
	cfg, err := f.Build()
	if err != nil || len(cfg.Receivers) != 2 || cfg.Receivers[0].Name() == cfg.Receivers[1].Name() {
		t.Fatalf("members: %v %d", err, len(cfg.Receivers))
	}
	for _, bad := range []FileConfig{
		{Receivers: []ReceiverConfig{{Type: "webhook", URLs: []string{"http://x"}}}},
		{ResendInterval: -time.Second},
		{KibanaURL: "kibana:5601"},
	} {
		if _, err := bad.Build(); err == nil {
			t.Errorf("accepted: %+v", bad)
		}
	}
}
