//go:build wasip1 && !ffsim_guestsqlite

package sim

import (
	"errors"

	"github.com/ffsim/ffsim/reconcilers"
)

// nativeStore is missing from the wasm guest built without go-sqlite3: the
// guest runs scenarios with RunGuest and its host's SQLite.
var nativeStore StoreOpener = func(string, ...reconcilers.Option) (*reconcilers.Store, error) {
	return nil, errors.New("sim: the native host needs go-sqlite3, which this wasm guest was built without")
}
