//go:build wasip1 && ffsim_guestsqlite

package main

import "github.com/ffsim/ffsim/reconcilers"

// openStore opens the run's store on go-sqlite3 inside the guest.
func openStore(name string, opts ...reconcilers.Option) (*reconcilers.Store, error) {
	return reconcilers.OpenMemory(name, opts...)
}
