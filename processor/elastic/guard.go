package elastic

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// guard is the HTTP transport under the Elasticsearch client. It adds what
// the client and the bulk indexer leave out:
//
//   - every request (answer included) is bounded by timeout, so a cluster
//     that accepts the connection and never answers is a failed request the
//     client retries, not a hang;
//   - a 200 answer to a bulk request must answer every item: a response that
//     leaves items out (or adds some) would make the bulk indexer forget
//     those items (or panic), so it is turned into a 502, which the client
//     retries and the sink then retries item by item;
//   - refused credentials (401) and certificates that do not verify are
//     reported to onFatal: retrying cannot cure them.
type guard struct {
	next    http.RoundTripper
	timeout time.Duration
	onFatal func(error)
	observe func(time.Duration, bool) // bulk request latency, may be nil
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	actions := -1
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/_bulk") {
		actions = bulkActions(req)
	}
	if actions < 0 || g.observe == nil {
		return g.roundTrip(req, actions)
	}
	start := time.Now()
	resp, err := g.roundTrip(req, actions) // a bulk answer is read whole here
	g.observe(time.Since(start), err != nil || resp.StatusCode >= 300)
	return resp, err
}

func (g *guard) roundTrip(req *http.Request, actions int) (*http.Response, error) {
	parent := req.Context()
	ctx, cancel := context.WithTimeout(parent, g.timeout)
	req = req.WithContext(ctx)
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		cancel()
		if certErr(err) {
			g.fatal(fmt.Errorf("elasticsearch: TLS certificate of %s not trusted (give the CA with --es-ca / ca_file / Es_Ca_File): %w", req.URL.Host, err))
		}
		if parent.Err() == nil && (ctx.Err() == context.DeadlineExceeded || strings.Contains(err.Error(), "timeout awaiting response headers")) {
			return nil, fmt.Errorf("elasticsearch: no answer within %s: %w", g.timeout, err)
		}
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		cancel()
		g.fatal(fmt.Errorf("elasticsearch refused the credentials (401 Unauthorized): %s", strings.TrimSpace(string(body))))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	}
	if actions < 0 || resp.StatusCode != http.StatusOK {
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	cancel()
	if err != nil {
		return nil, fmt.Errorf("elasticsearch: reading the bulk answer: %w", err)
	}
	var answer struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || len(answer.Items) != actions {
		why := fmt.Sprintf("bulk answer has %d items for %d actions", len(answer.Items), actions)
		if err != nil {
			why = "bulk answer is not JSON: " + err.Error()
		}
		return badGateway(req, why), nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

func (g *guard) fatal(err error) {
	if g.onFatal != nil {
		g.onFatal(err)
	}
}

// bulkActions counts the actions of a bulk body: the sink sends only
// creates, each an action line and a source line. -1 when the body cannot
// be read again.
func bulkActions(req *http.Request) int {
	if req.GetBody == nil {
		return -1
	}
	rc, err := req.GetBody()
	if err != nil {
		return -1
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return -1
	}
	return bytes.Count(b, []byte{'\n'}) / 2
}

// badGateway is the answer a guard gives in place of a broken bulk answer.
func badGateway(req *http.Request, why string) *http.Response {
	body := fmt.Sprintf(`{"error":{"type":"oopsflow_bad_bulk_answer","reason":%q},"status":502}`, why)
	return &http.Response{
		Status:        "502 Bad Gateway",
		StatusCode:    http.StatusBadGateway,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}, "X-Elastic-Product": {"Elasticsearch"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// certErr reports a TLS certificate that did not verify.
func certErr(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// cancelOnClose ends a request's context when its answer has been read.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// certPool is the system roots plus the PEM certificates in pem.
func certPool(pem []byte) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("elasticsearch: the CA file holds no PEM certificate")
	}
	return pool, nil
}
