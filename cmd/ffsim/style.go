package main

import (
	"fmt"
	"io"
	"os"

	"github.com/ffsim/ffsim/sim"
)

// ANSI colours of the human summary.
const (
	colorRed    = "\033[31m"
	colorGreen  = "\033[32m"
	colorYellow = "\033[33m"
	colorReset  = "\033[0m"
)

// style colours the human summary on a terminal; never when the output is
// piped or a file, or when NO_COLOR is set (https://no-color.org).
type style struct{ color bool }

func newStyle(w io.Writer) style {
	return style{color: isTerminal(w) && os.Getenv("NO_COLOR") == ""}
}

func (s style) paint(color, text string) string {
	if !s.color {
		return text
	}
	return color + text + colorReset
}

// status is a run's status as the summary prints it, padded to one width.
func (s style) status(st sim.Status) string {
	switch st {
	case sim.Pass:
		return s.paint(colorGreen, "PASS ")
	case sim.Fail:
		return s.paint(colorRed, "FAIL ")
	}
	return s.paint(colorYellow, "ERROR")
}

// count is "N what", coloured when N is not zero.
func (s style) count(n int, what, color string) string {
	text := fmt.Sprintf("%d %s", n, what)
	if n == 0 {
		return text
	}
	return s.paint(color, text)
}

// isTerminal reports whether w (or the writer it wraps) is a terminal.
func isTerminal(w io.Writer) bool {
	if c, ok := w.(*checkedWriter); ok {
		w = c.w
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
