//go:build wasip1 && !ffsim_guestsqlite

package main

import (
	"github.com/ffsim/ffsim/internal/sqlbridge"
	"github.com/ffsim/ffsim/reconcilers"
)

// openStore opens the run's store on the host's SQLite: one database per
// guest instance, which the host creates; the name is the host's business.
func openStore(_ string, opts ...reconcilers.Option) (*reconcilers.Store, error) {
	return reconcilers.Open(sqlbridge.Connector(), opts...)
}
