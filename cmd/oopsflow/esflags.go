package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/oopsflow/oopsflow/processor/elastic"
)

// esFlags are the Elasticsearch connection flags shared by scan and setup.
// Secrets may come from the environment instead of the command line
// (where they would show in ps and shell history).
type esFlags struct {
	urls, cloudID, apiKey, user, password, caFile, namespace string
	insecure                                                 bool
	timeout, requestTimeout                                  time.Duration
	maxInFlight                                              int
}

func (f *esFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.urls, "es-url", os.Getenv("OOPSFLOW_ES_URL"), "Elasticsearch URL(s), comma-separated (env OOPSFLOW_ES_URL)")
	fs.StringVar(&f.cloudID, "es-cloud-id", os.Getenv("OOPSFLOW_ES_CLOUD_ID"), "Elastic Cloud ID instead of --es-url (env OOPSFLOW_ES_CLOUD_ID)")
	fs.StringVar(&f.apiKey, "es-api-key", "", "API key, base64 id:key (better: env OOPSFLOW_ES_API_KEY)")
	fs.StringVar(&f.user, "es-user", os.Getenv("OOPSFLOW_ES_USER"), "basic auth user (env OOPSFLOW_ES_USER)")
	fs.StringVar(&f.password, "es-password", "", "basic auth password (better: env OOPSFLOW_ES_PASSWORD)")
	fs.StringVar(&f.caFile, "es-ca", os.Getenv("OOPSFLOW_ES_CA"), "PEM file of the CA that signed the cluster's certificate (env OOPSFLOW_ES_CA)")
	fs.BoolVar(&f.insecure, "es-insecure", false, "do not verify the cluster's TLS certificate (testing only)")
	fs.StringVar(&f.namespace, "es-namespace", "default", "data stream namespace: documents go to logs-kernel.oops-<namespace>")
	fs.DurationVar(&f.timeout, "es-timeout", 2*time.Minute, "how long to wait for Elasticsearch to make room for a document, and at the end for documents to be indexed")
	fs.DurationVar(&f.requestTimeout, "es-request-timeout", 30*time.Second, "one request to Elasticsearch, answer included")
	fs.IntVar(&f.maxInFlight, "es-max-in-flight", 5000, "documents held until Elasticsearch has them; reading waits beyond that")
}

func (f *esFlags) config() (elastic.Config, error) {
	cfg := elastic.Config{
		CloudID:            f.cloudID,
		APIKey:             firstNonEmpty(f.apiKey, os.Getenv("OOPSFLOW_ES_API_KEY")),
		Username:           f.user,
		Password:           firstNonEmpty(f.password, os.Getenv("OOPSFLOW_ES_PASSWORD")),
		InsecureSkipVerify: f.insecure,
		Namespace:          f.namespace,
		RequestTimeout:     f.requestTimeout,
		MaxInFlight:        f.maxInFlight,
	}
	cfg.Addresses = splitList(f.urls)
	if len(cfg.Addresses) == 0 && cfg.CloudID == "" {
		return cfg, usageErr("give --es-url or --es-cloud-id")
	}
	for _, a := range cfg.Addresses {
		if err := elastic.CheckURL(a); err != nil {
			return cfg, usageErr("--es-url: %v", err)
		}
	}
	if err := elastic.CheckNamespace(f.namespace); err != nil {
		return cfg, usageErr("--es-namespace: %v", err)
	}
	if f.timeout <= 0 || f.requestTimeout <= 0 || f.maxInFlight <= 0 {
		return cfg, usageErr("--es-timeout, --es-request-timeout and --es-max-in-flight must be positive")
	}
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return cfg, fmt.Errorf("--es-ca: %w", err)
		}
		cfg.CACert = pem
	}
	return cfg, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
