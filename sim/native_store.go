//go:build !wasip1 || ffsim_guestsqlite

package sim

import "github.com/ffsim/ffsim/reconcilers"

// nativeStore opens the native host's stores: go-sqlite3's in-memory
// databases.
var nativeStore StoreOpener = reconcilers.OpenMemory
