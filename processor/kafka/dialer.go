package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Security describes how to connect to the brokers.
type Security struct {
	TLS                bool
	CAFile             string // PEM CA bundle; system roots when empty
	CertFile, KeyFile  string // client certificate (mutual TLS)
	InsecureSkipVerify bool
	SASLMechanism      string // "", PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
	Username, Password string
}

// Dialer returns the kafka-go dialer for s, nil for plain TCP.
func (s Security) Dialer() (*kafkago.Dialer, error) {
	if !s.TLS && s.SASLMechanism == "" {
		return nil, nil
	}
	d := &kafkago.Dialer{Timeout: 10 * time.Second, DualStack: true}
	if s.TLS {
		cfg := &tls.Config{InsecureSkipVerify: s.InsecureSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // explicit user choice
		if s.CAFile != "" {
			pem, err := os.ReadFile(s.CAFile)
			if err != nil {
				return nil, fmt.Errorf("kafka CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("kafka CA file %s: no PEM certificate", s.CAFile)
			}
			cfg.RootCAs = pool
		}
		if s.CertFile != "" || s.KeyFile != "" {
			cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("kafka client certificate: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		d.TLS = cfg
	}
	if s.SASLMechanism != "" {
		m, err := s.mechanism()
		if err != nil {
			return nil, err
		}
		d.SASLMechanism = m
	}
	return d, nil
}

func (s Security) mechanism() (sasl.Mechanism, error) {
	if s.Username == "" {
		return nil, fmt.Errorf("kafka SASL %s: no user name", s.SASLMechanism)
	}
	switch strings.ToUpper(s.SASLMechanism) {
	case "PLAIN":
		return plain.Mechanism{Username: s.Username, Password: s.Password}, nil
	case "SCRAM-SHA-256":
		return scram.Mechanism(scram.SHA256, s.Username, s.Password)
	case "SCRAM-SHA-512":
		return scram.Mechanism(scram.SHA512, s.Username, s.Password)
	}
	return nil, fmt.Errorf("kafka SASL mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.SASLMechanism)
}
