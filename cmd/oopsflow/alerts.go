package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/oopsflow/oopsflow/processor/alert"
)

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
