package reconcilers

import (
	"errors"

	"github.com/ncruces/go-sqlite3"
)

// Errors a caller must be able to tell apart. They are wrapped, so test them
// with errors.Is.
var (
	// ErrNotFound: the budget does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidInput: the request is malformed (e.g. dimension and limit
	// lists of different lengths, a negative delta, a negative interval).
	ErrInvalidInput = errors.New("invalid input")
	// ErrBusy: a write transaction could not take SQLite's write lock
	// (SQLITE_BUSY or SQLITE_LOCKED, any extended code). It is retried (R3);
	// a fault hook may return an error wrapping it to simulate contention.
	ErrBusy = errors.New("database is busy")
)

// isBusy reports whether err is a contention error that R3 retries.
func isBusy(err error) bool {
	return errors.Is(err, ErrBusy) || errors.Is(err, sqlite3.BUSY) || errors.Is(err, sqlite3.LOCKED)
}
