package harness

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ffsim/ffsim/scenario"
)

// Error is one problem found in a scenario file: where it is and what is
// wrong. Line and Col are 1-based (Col counts characters); they are 0 only
// for errors that concern a whole file, such as one that cannot be read.
type Error struct {
	File string
	Line int
	Col  int
	Msg  string
	// Source is the annotated excerpt: the offending source line (after one
	// line of context) and a line with a '^' under the column. Empty when
	// Line is 0.
	Source string
	// Err is the underlying error, if any (an I/O error, for example).
	Err error
}

// Error returns "file:line:col: message", then a newline and Source.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Source != "" {
		b.WriteString("\n")
		b.WriteString(e.Source)
	}
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Errors is a list of scenario errors, in file then position order. Load
// functions return it when they find more than one error.
type Errors []*Error

// MaxErrorsShown is how many errors [Errors.Error] prints before it says
// how many more there are: a file with 100,000 mistakes printed 13 MB. The
// list itself keeps every error.
const MaxErrorsShown = scenario.MaxErrorsShown

// Error returns the first [MaxErrorsShown] errors' text, one after the
// other, separated by a newline, then "… and N more errors" if there are
// more.
func (es Errors) Error() string { return scenario.JoinErrors(es) }

// Unwrap returns the errors, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// errorOf returns nil for no errors, the error itself for one, and Errors
// for more.
func errorOf(es []*Error) error {
	switch len(es) {
	case 0:
		return nil
	case 1:
		return es[0]
	}
	return Errors(es)
}

// sortErrors orders errors by file, line and column, keeping the order of
// errors at the same position.
func sortErrors(es []*Error) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// excerptWidth bounds the text of an excerpt line, in characters: a longer
// line is cut to a window around the column, marked with "…".
const excerptWidth = 160

// clip cuts text to at most excerptWidth characters around col, returning
// the text and col within it.
func clip(text string, col int) (string, int) {
	runes := []rune(text)
	if len(runes) <= excerptWidth {
		return text, col
	}
	from := max(0, min(col-1-excerptWidth/2, len(runes)-excerptWidth))
	to := min(len(runes), from+excerptWidth)
	out := string(runes[from:to])
	if from > 0 {
		out = "…" + out
		col = col - from + 1
	}
	if to < len(runes) {
		out += "…"
	}
	return out, col
}

// excerpt renders the source around line:col: the previous line for
// context, the line itself and a caret under the column. Lines are numbered
// in a gutter; tabs before the column are kept so the caret lines up. A
// line longer than excerptWidth characters is shown around the column only.
func excerpt(lines []string, line, col int) string {
	if line < 1 || len(lines) == 0 {
		return ""
	}
	if line > len(lines) {
		line = len(lines)
		col = len([]rune(lines[line-1])) + 1
	}
	if col < 1 {
		col = 1
	}
	width := len(fmt.Sprint(line))
	if width < 3 {
		width = 3
	}
	var b strings.Builder
	if line > 1 && strings.TrimSpace(lines[line-2]) != "" {
		prev, _ := clip(lines[line-2], col)
		fmt.Fprintf(&b, " %*d | %s\n", width, line-1, prev)
	}
	text, col := clip(lines[line-1], col)
	fmt.Fprintf(&b, " %*d | %s\n", width, line, text)
	fmt.Fprintf(&b, " %*s | ", width, "")
	runes := []rune(text)
	for i := 0; i < col-1; i++ {
		if i < len(runes) && runes[i] == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteByte('^')
	return b.String()
}

// splitLines splits source text into lines without their line endings.
func splitLines(src []byte) []string {
	lines := strings.Split(string(src), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}
