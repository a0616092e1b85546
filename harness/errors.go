package harness

import (
	"fmt"
	"sort"
	"strings"
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

// Error returns every error's text, one after the other, separated by a
// newline.
func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

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

// excerpt renders the source around line:col: the previous line for
// context, the line itself and a caret under the column. Lines are numbered
// in a gutter; tabs before the column are kept so the caret lines up.
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
		fmt.Fprintf(&b, " %*d | %s\n", width, line-1, lines[line-2])
	}
	text := lines[line-1]
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
