package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/ffsim/ffsim/sim"
)

// wasmRunner runs scenarios as a wasip1 guest under wazero.
type wasmRunner struct{ h *sim.WasmHost }

// newWasmRunner builds (or finds in the cache) the guest and compiles it.
// The first build takes tens of seconds, so it says so on stderr.
func newWasmRunner(ctx context.Context) (runner, error) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h, err := sim.NewWasmHost(ctx, sim.WasmConfig{Logger: log})
	if err != nil {
		return nil, invalidErr(err)
	}
	return wasmRunner{h}, nil
}

func (w wasmRunner) run(ctx context.Context, sc *sim.Scenario, opts sim.Options) *sim.Result {
	return w.h.Run(ctx, sc, opts)
}

func (w wasmRunner) close(ctx context.Context) error { return w.h.Close(ctx) }
