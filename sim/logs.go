package sim

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// logCapture is an slog handler that keeps the records, for expect_log.
// It keeps each distinct line once, in the order first seen: a tick that
// fails every second for a simulated day logs the same warning 86,400
// times, and a run's memory must not grow with simulated time.
type logCapture struct {
	mu    sync.Mutex
	lines []logLine
	seen  map[logLine]bool
}

type logLine struct {
	level slog.Level
	text  string
}

func (c *logCapture) logger() *slog.Logger { return slog.New(&captureHandler{c: c}) }

// has reports whether a line at level (debug, info, warn, error) contains
// text in its message or attributes.
func (c *logCapture) has(level, text string) bool {
	var want slog.Level
	if err := want.UnmarshalText([]byte(level)); err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.lines {
		if l.level == want && strings.Contains(l.text, text) {
			return true
		}
	}
	return false
}

func (c *logCapture) summary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lines) == 0 {
		return "no log lines"
	}
	var b strings.Builder
	for i, l := range c.lines {
		if i == 8 {
			fmt.Fprintf(&b, "; … %d more", len(c.lines)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %s", l.level, l.text)
	}
	return b.String()
}

type captureHandler struct {
	c     *logCapture
	attrs []slog.Attr
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	line := logLine{level: r.Level, text: b.String()}
	h.c.mu.Lock()
	if !h.c.seen[line] {
		if h.c.seen == nil {
			h.c.seen = map[logLine]bool{}
		}
		h.c.seen[line] = true
		h.c.lines = append(h.c.lines, line)
	}
	h.c.mu.Unlock()
	return nil
}

func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &captureHandler{c: h.c, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}

// WithGroup flattens groups: expectations match on text.
func (h *captureHandler) WithGroup(string) slog.Handler { return h }
