package fluentbit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LogHandler writes slog records as Fluent Bit writes its own log lines:
//
//	[2026/03/01 12:00:00] [ warn] [output:oopsflow:es] message key=value ...
//
// so that the sink's and the notifier's messages land in Fluent Bit's log
// with the rest. Safe for concurrent use.
type LogHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	name  string
	level slog.Leveler
	attrs string
}

// NewLogHandler writes to w for the instance named name, from level on.
func NewLogHandler(w io.Writer, name string, level slog.Leveler) *LogHandler {
	return &LogHandler{mu: &sync.Mutex{}, w: w, name: name, level: level}
}

// Enabled reports whether records of level l are written.
func (h *LogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// Handle writes one record.
func (h *LogHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	fmt.Fprintf(&b, "[%s] [%5s] [output:oopsflow:%s] %s", t.Format("2006/01/02 15:04:05"), levelName(r.Level), h.name, r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, a)
		return true
	})
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

// WithAttrs returns a handler that adds attrs to every record.
func (h *LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range attrs {
		writeAttr(&b, a)
	}
	c := *h
	c.attrs = b.String()
	return &c
}

// WithGroup is accepted and ignored: the plugin's messages use no groups.
func (h *LogHandler) WithGroup(string) slog.Handler { return h }

func writeAttr(b *strings.Builder, a slog.Attr) {
	v := a.Value.Resolve().String()
	if v == "" || strings.ContainsAny(v, " \t\n\"=") {
		v = strconv.Quote(v)
	}
	b.WriteString(" " + a.Key + "=" + v)
}

func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "error"
	case l >= slog.LevelWarn:
		return "warn"
	case l >= slog.LevelInfo:
		return "info"
	}
	return "debug"
}
