package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/ffsim/ffsim/sim"
	"github.com/ffsim/ffsim/sim/wasmhost"
)

// openedHost is a host and what a user needs to know about it to replay a
// seed (the wasm guest's key).
type openedHost struct {
	sim.Host
	// replayNote is printed after an exploration; empty for native.
	replayNote string
}

// openHost is the one place the CLI turns a host name into a host. The
// wasm host's first build takes tens of seconds, so it says so on stderr.
func openHost(ctx context.Context, name string, sqliteInGuest bool, stderr io.Writer) (*openedHost, error) {
	switch name {
	case sim.HostNative:
		if sqliteInGuest {
			return nil, invalid("--sqlite-in-guest needs --host wasm")
		}
		return &openedHost{Host: sim.Native()}, nil
	case sim.HostWasm:
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
		h, err := wasmhost.New(ctx, wasmhost.NewConfig().WithLogger(log).WithSQLiteInGuest(sqliteInGuest))
		if err != nil {
			return nil, &exitError{code: exitHost, err: err}
		}
		note := fmt.Sprintf("wasm guest %s: a seed replays the same interleaving only with this guest (the same source tree)", h.Info().GuestKey)
		return &openedHost{Host: h, replayNote: note}, nil
	}
	return nil, invalid("unknown host %q: want native or wasm", name)
}
