package scenario

import (
	"fmt"
	"strings"
)

// Error is one rule a scenario breaks, with where.
type Error struct {
	// Pos is where the offending value is written; zero for scenarios
	// built in Go, which Path then locates.
	Pos Pos
	// Path locates the value in the Go value, e.g. "steps[2].concurrently[0]".
	Path string
	Msg  string
}

// Errors is every rule a scenario breaks, in the order found.
type Errors []*Error

// MaxErrorsShown is how many errors [Errors.Error] lists; it then says how
// many more there are. The list itself keeps them all.
const MaxErrorsShown = 50

// Error returns "file:line:col: message" for a value read from a file, and
// "path: message" for one built in Go.
func (e *Error) Error() string {
	switch {
	case e.Pos.File != "" && e.Pos.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.Pos.File, e.Pos.Line, e.Pos.Col, e.Msg)
	case e.Path != "" && e.Pos.Line > 0:
		return fmt.Sprintf("%s (line %d): %s", e.Path, e.Pos.Line, e.Msg)
	case e.Path != "":
		return e.Path + ": " + e.Msg
	}
	return e.Msg
}

// Error lists the errors, one per line: the first [MaxErrorsShown], then
// "… and N more errors".
func (es Errors) Error() string { return JoinErrors(es) }

// JoinErrors is the text of a list of errors, one per line: the first
// [MaxErrorsShown], then "… and N more errors" when there are more. The
// list itself keeps every error; only its text is cut short, since a file
// with 100,000 mistakes printed 13 MB.
func JoinErrors[E error](es []E) string {
	shown := es[:min(len(es), MaxErrorsShown)]
	parts := make([]string, len(shown), len(shown)+1)
	for i, e := range shown {
		parts[i] = e.Error()
	}
	switch more := len(es) - len(shown); {
	case more == 1:
		parts = append(parts, "… and 1 more error")
	case more > 1:
		parts = append(parts, fmt.Sprintf("… and %d more errors", more))
	}
	return strings.Join(parts, "\n")
}
