package main

import (
	"context"

	"github.com/ffsim/ffsim/sim"
)

func newWasmRunner(ctx context.Context) (runner, error) {
	return nil, invalid("the wasm host is not wired yet")
}

var _ = sim.HostWasm
