package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress reports a long exploration: a bar redrawn in place on a
// terminal, a plain line every few seconds otherwise (CI logs).
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	total    int
	n, fails int
	started  time.Time
	last     time.Time
}

func newProgress(w io.Writer, total int) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	now := time.Now()
	return &progress{w: w, tty: tty, total: total, started: now, last: now}
}

func (p *progress) done(failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if failed {
		p.fails++
	}
	now := time.Now()
	switch {
	case p.tty && now.Sub(p.last) >= 100*time.Millisecond:
		const width = 30
		filled := width * p.n / max(p.total, 1)
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = '.'
			if i < filled {
				bar[i] = '#'
			}
		}
		fmt.Fprintf(p.w, "\r[%s] %d/%d runs, %d failed, %s", bar, p.n, p.total, p.fails, now.Sub(p.started).Round(time.Second))
		p.last = now
	case !p.tty && now.Sub(p.last) >= 5*time.Second:
		fmt.Fprintf(p.w, "explore: %d/%d runs, %d failed, %s elapsed\n", p.n, p.total, p.fails, now.Sub(p.started).Round(time.Second))
		p.last = now
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintf(p.w, "\r%d/%d runs, %d failed, %s\033[K\n", p.n, p.total, p.fails, time.Since(p.started).Round(time.Millisecond))
	}
}
