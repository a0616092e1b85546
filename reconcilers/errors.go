package reconcilers

import "errors"

// Errors a caller must be able to tell apart. They are wrapped, so test them
// with errors.Is.
var (
	// ErrNotFound: the budget does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidInput: the request is malformed (e.g. dimension and limit
	// lists of different lengths, a negative delta, a negative interval).
	ErrInvalidInput = errors.New("invalid input")
	// ErrBusy: a write transaction could not take SQLite's write lock
	// (SQLITE_BUSY or SQLITE_LOCKED, any extended code) in R3's attempts;
	// it wraps the last attempt's error. A fault hook may also return an
	// error wrapping it, retried like SQLITE_BUSY.
	ErrBusy = errors.New("database is busy or locked")
)
