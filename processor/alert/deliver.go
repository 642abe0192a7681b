package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Receiver turns an alert into an HTTP request for one destination.
type Receiver interface {
	Name() string
	Request(ctx context.Context, a *Alert) (*http.Request, error)
}

// Delivery says how notifications are sent.
type Delivery struct {
	Client      *http.Client  // default: 10s timeout, TLS verification on
	MaxAttempts int           // default 5; then the notification is given up and counted
	BaseBackoff time.Duration // default 1s
	MaxBackoff  time.Duration // default 1m; also caps Retry-After
	RatePerSec  float64       // per receiver (default 1, Slack's limit)
	Burst       int           // default 3
	QueueSize   int           // per receiver (default 1000); beyond it notifications are dropped and counted
	// Sleep waits between attempts; tests replace it. Default: a timer
	// honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (d Delivery) withDefaults() Delivery {
	if d.Client == nil {
		d.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 5
	}
	if d.BaseBackoff <= 0 {
		d.BaseBackoff = time.Second
	}
	if d.MaxBackoff <= 0 {
		d.MaxBackoff = time.Minute
	}
	if d.RatePerSec <= 0 {
		d.RatePerSec = 1
	}
	if d.Burst <= 0 {
		d.Burst = 3
	}
	if d.QueueSize <= 0 {
		d.QueueSize = 1000
	}
	if d.Sleep == nil {
		d.Sleep = func(ctx context.Context, dur time.Duration) error {
			t := time.NewTimer(dur)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
	return d
}

// worker delivers one receiver's notifications in order.
type worker struct {
	r       Receiver
	d       Delivery
	log     *slog.Logger
	limiter *rate.Limiter
	queue   chan *Alert
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	sent, failed, retries atomic.Uint64
}

func newWorker(r Receiver, d Delivery, log *slog.Logger) *worker {
	d = d.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{r: r, d: d, log: log, limiter: rate.NewLimiter(rate.Limit(d.RatePerSec), d.Burst),
		queue: make(chan *Alert, d.QueueSize), ctx: ctx, cancel: cancel}
	w.wg.Add(1)
	go w.run()
	return w
}

func (w *worker) enqueue(a *Alert) bool {
	select {
	case w.queue <- a:
		return true
	default:
		return false
	}
}

func (w *worker) run() {
	defer w.wg.Done()
	for a := range w.queue {
		if err := w.send(a); err != nil {
			w.failed.Add(1)
			// Never log the receiver's URL: it is a secret for Slack.
			w.log.Error("alert not delivered", "receiver", w.r.Name(), "group", a.Key, "err", err)
			continue
		}
		w.sent.Add(1)
	}
}

// close stops accepting, then waits for the queue to drain or ctx to end
// (then pending notifications are abandoned and counted as failed).
func (w *worker) close(ctx context.Context) error {
	close(w.queue)
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		w.cancel()
		<-done
		return fmt.Errorf("alert receiver %s: stopped with notifications undelivered", w.r.Name())
	}
}

// errPermanent marks an answer not worth retrying (4xx other than 429).
var errPermanent = errors.New("permanent failure")

// send delivers one notification, retrying with backoff and honouring
// Retry-After, up to MaxAttempts.
func (w *worker) send(a *Alert) error {
	var last error
	for attempt := 1; attempt <= w.d.MaxAttempts; attempt++ {
		if err := w.limiter.Wait(w.ctx); err != nil {
			return fmt.Errorf("rate limiter: %w", err)
		}
		retryAfter, err := w.attempt(a)
		if err == nil {
			return nil
		}
		last = err
		if errors.Is(err, errPermanent) || attempt == w.d.MaxAttempts {
			break
		}
		wait := w.backoff(attempt)
		if retryAfter > 0 {
			wait = min(retryAfter, w.d.MaxBackoff)
		}
		w.retries.Add(1)
		if err := w.d.Sleep(w.ctx, wait); err != nil {
			return fmt.Errorf("%w (stopped while waiting to retry)", last)
		}
	}
	return fmt.Errorf("gave up after %d attempt(s): %w", w.d.MaxAttempts, last)
}

func (w *worker) backoff(attempt int) time.Duration {
	d := w.d.BaseBackoff << min(attempt-1, 16)
	if d > w.d.MaxBackoff || d <= 0 {
		d = w.d.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// attempt makes one request; it returns the server's Retry-After, if any.
func (w *worker) attempt(a *Alert) (time.Duration, error) {
	req, err := w.r.Request(w.ctx, a)
	if err != nil {
		return 0, fmt.Errorf("%w: build request: %v", errPermanent, err)
	}
	resp, err := w.d.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("request: %w", redactURL(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return retryAfter(resp.Header.Get("Retry-After")), fmt.Errorf("%s: %s", resp.Status, body)
	default:
		return 0, fmt.Errorf("%w: %s: %s", errPermanent, resp.Status, body)
	}
}

// retryAfter parses Retry-After: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// redactURL drops the URL from net/http errors: webhook URLs carry secrets.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

func newClient(timeout time.Duration) *http.Client { return &http.Client{Timeout: timeout} }
