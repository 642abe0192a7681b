package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/oopsflow/oopsflow/processor/alert"
)

// buildNotifier returns the notifier for the config file's alerts section
// plus --webhook (a generic receiver; its signing secret from
// OOPSFLOW_WEBHOOK_SECRET), or nil when no receiver is configured.
func buildNotifier(f alert.FileConfig, webhook string, log *slog.Logger) (*alert.Notifier, error) {
	if webhook != "" {
		f.Receivers = append(f.Receivers, alert.ReceiverConfig{Type: "webhook", Name: "cli", URL: webhook, SecretEnv: envIfSet("OOPSFLOW_WEBHOOK_SECRET")})
	}
	if len(f.Receivers) == 0 {
		return nil, nil
	}
	cfg, err := f.Build()
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	cfg.Logger = log
	return alert.New(cfg), nil
}

func envIfSet(name string) string {
	if os.Getenv(name) != "" {
		return name
	}
	return ""
}

// closeNotifier flushes pending groups and waits for delivery.
func closeNotifier(n *alert.Notifier, stderr io.Writer, verbose bool) error {
	if n == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := n.Close(ctx)
	st := n.Stats()
	if verbose || st.Failed > 0 || st.Dropped > 0 {
		fmt.Fprintf(stderr, "oopsflow: alerts: %d sent, %d failed, %d retries, %d dropped\n", st.Sent, st.Failed, st.Retries, st.Dropped)
	}
	if err == nil && st.Failed+st.Dropped > 0 {
		err = fmt.Errorf("%d alert notification(s) not delivered", st.Failed+st.Dropped)
	}
	return err
}
