//go:build wasip1 && !ffsim_guestsqlite

package reconcilers

// In the wasm guest built without go-sqlite3 the store runs only on a
// driver given to Open, whose errors are *SQLiteError.

func nativeCode(error) (int, bool) { return 0, false }

func releaseMemName(string) {}
