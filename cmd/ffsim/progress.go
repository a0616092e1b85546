package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress redraw and print intervals.
const (
	barEvery  = 100 * time.Millisecond // a terminal bar is redrawn at most this often
	lineEvery = 5 * time.Second        // a plain line is printed at most this often
	barWidth  = 30
)

// progress reports a long exploration: a bar redrawn in place on a
// terminal, a plain line every few seconds otherwise (CI logs). It is told
// of each finished run; it does not print on its own, so on a log a line
// comes with the first run to finish at least lineEvery after the last
// line.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	now      func() time.Time
	total    int
	n, fails int
	started  time.Time
	last     time.Time
}

// newProgress reports to w, drawing a bar if w is a terminal.
func newProgress(w io.Writer, total int) *progress {
	return newProgressWith(w, isTerminal(w), total, time.Now)
}

// newProgressWith is newProgress with the terminal test and the clock
// given.
func newProgressWith(w io.Writer, tty bool, total int, now func() time.Time) *progress {
	t := now()
	return &progress{w: w, tty: tty, now: now, total: total, started: t, last: t}
}

// done records one finished run.
func (p *progress) done(failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if failed {
		p.fails++
	}
	now := p.now()
	switch {
	case p.tty && (now.Sub(p.last) >= barEvery || p.n == p.total):
		filled := barWidth * p.n / max(p.total, 1)
		bar := strings.Repeat("#", filled) + strings.Repeat(".", barWidth-filled)
		fmt.Fprintf(p.w, "\r[%s] %d/%d runs, %d failed, %s\033[K", bar, p.n, p.total, p.fails, now.Sub(p.started).Round(time.Second))
		p.last = now
	case !p.tty && now.Sub(p.last) >= lineEvery:
		fmt.Fprintf(p.w, "explore: %d/%d runs, %d failed, %s elapsed\n", p.n, p.total, p.fails, now.Sub(p.started).Round(time.Second))
		p.last = now
	}
}

// clear erases the bar, so that a line printed next starts clean; the next
// run redraws it.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// finish ends the report: on a terminal, the bar gives way to a final line.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprintf(p.w, "\r%d/%d runs, %d failed, %s\033[K\n", p.n, p.total, p.fails, p.now().Sub(p.started).Round(time.Millisecond))
	}
}
