// Command wasmguest is the ffsim wasm guest: it runs one scenario with
// [sim.RunOnRealClock] inside a GOOS=wasip1 module whose clocks, sleep and
// randomness the host ([sim.WasmHost]) provides, and writes the
// [sim.Result] as JSON to stdout.
//
// Usage (the host supplies these; nobody runs the guest by hand):
//
//	wasmguest [-scenario /scenario.json] [-seed N] [-max-sim-time D]
//
// A scenario that fails is still exit status 0 with "status": "fail" in the
// result; a non-zero exit means the guest itself could not run (bad input,
// a panic, a deadlock detected by the Go runtime).
//
// FFSIM_GUEST_SELFTEST, for the host's tests only, replaces the run with a
// misbehaving guest: "deadlock" blocks every goroutine with no timer pending
// (the runtime reports "all goroutines are asleep"), "spin" computes forever
// without blocking, "sleep" sleeps in a loop forever (simulated time runs
// away), "panic" panics, "oom" allocates until memory runs out, and "exit"
// exits at once with status 0 and no output (the cost of a guest's start).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/ffsim/ffsim/sim"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ffsim guest:", err)
		os.Exit(1)
	}
}

func run() error {
	scenario := flag.String("scenario", "/scenario.json", "path of the scenario JSON")
	seed := flag.Uint64("seed", 0, "seed (overrides the scenario's when -seed is given)")
	maxSim := flag.Duration("max-sim-time", 0, "simulated-time limit (0: the engine's default)")
	flag.Parse()

	if selftest(os.Getenv("FFSIM_GUEST_SELFTEST")) {
		return fmt.Errorf("selftest %q returned", os.Getenv("FFSIM_GUEST_SELFTEST"))
	}

	data, err := os.ReadFile(*scenario)
	if err != nil {
		return err
	}
	var sc sim.Scenario
	if err := json.Unmarshal(data, &sc); err != nil {
		return fmt.Errorf("decoding %s: %w", *scenario, err)
	}
	opts := sim.Options{MaxSimTime: *maxSim}
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "seed" {
			opts.Seed = seed
		}
	})
	res := sim.RunOnRealClock(&sc, opts)
	enc := json.NewEncoder(os.Stdout)
	return enc.Encode(res)
}

// sink keeps the "oom" selftest's allocations alive.
var sink [][]byte

// selftest misbehaves as asked; it returns false for "".
func selftest(mode string) bool {
	switch mode {
	case "":
		return false
	case "deadlock":
		ch := make(chan struct{})
		<-ch
	case "spin":
		n := 0
		for {
			n++
		}
	case "sleep":
		for {
			time.Sleep(time.Hour)
		}
	case "panic":
		panic("ffsim guest selftest panic")
	case "oom":
		for {
			sink = append(sink, make([]byte, 1<<20))
		}
	case "exit":
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "ffsim guest: unknown FFSIM_GUEST_SELFTEST %q\n", mode)
		os.Exit(3)
	}
	return true
}
