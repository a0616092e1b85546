//go:build wasip1

// Command wasmguest is the ffsim wasm guest: it runs one scenario with
// [sim.RunGuest] inside a GOOS=wasip1 module whose clocks, sleep and
// randomness the host (package sim/wasmhost) provides, and writes the
// [sim.Result] as JSON to stdout.
//
// Usage (the host supplies these; nobody runs the guest by hand):
//
//	wasmguest [-scenario /scenario.json] [-seed N] [-max-sim-time D] [-trace-tail N] [-full-trace] [-max-events N]
//
// A scenario that fails is still exit status 0, with "status": "fail" in
// the result, and so is a panic in the engine's goroutine, which becomes a
// failed result naming it. A non-zero exit means the guest itself could
// not run: 3 for bad input, 2 for what the Go runtime stops on its own (a
// deadlock, running out of memory, a panic in another goroutine).
//
// FFSIM_GUEST_PHASES, for the host's benchmarks, marks the phases of a run
// on stderr (see phaseMark).
//
// FFSIM_GUEST_SELFTEST, for the host's tests only, replaces the run with a
// misbehaving guest: "deadlock" blocks every goroutine with no timer pending
// (the runtime reports "all goroutines are asleep"), "spin" computes forever
// without blocking or calling the host, "busy" computes forever reading the
// clock, "spinfor" computes for a few seconds without calling the host and
// exits, "sleep" sleeps in a loop forever (simulated time runs
// away), "panic" panics, "oom" allocates until memory runs out, and "exit"
// exits at once with status 0 and no output (the cost of a guest's start).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ffsim guest:", err)
		os.Exit(3)
	}
}

func run() error {
	// Read once, at start, whatever it says, so that the guest's work (and
	// with it its scheduling) is the same with and without phase marks.
	phases := os.Getenv("FFSIM_GUEST_PHASES") != ""
	phase := func(name string) {
		if phases {
			fmt.Fprintf(os.Stderr, "%s%s\n", phaseMark, name)
		}
	}
	phase("started")
	path := flag.String("scenario", "/scenario.json", "path of the scenario JSON")
	seed := flag.Uint64("seed", 0, "seed (overrides the scenario's when -seed is given)")
	maxSim := flag.Duration("max-sim-time", 0, "simulated-time limit (0: the engine's default)")
	tail := flag.Int("trace-tail", 0, "trace events kept in the result (0: the engine's default)")
	full := flag.Bool("full-trace", false, "keep every trace event in the result")
	maxEvents := flag.Int("max-events", 0, "trace events a run may record (0: the engine's default)")
	flag.Parse()

	if selftest(os.Getenv("FFSIM_GUEST_SELFTEST")) {
		return fmt.Errorf("selftest %q returned", os.Getenv("FFSIM_GUEST_SELFTEST"))
	}

	data, err := os.ReadFile(*path)
	if err != nil {
		return err
	}
	var sc scenario.Scenario
	if err := json.Unmarshal(data, &sc); err != nil {
		return fmt.Errorf("decoding %s: %w", *path, err)
	}
	opts := sim.Options{MaxSimTime: *maxSim, TraceTail: *tail, FullTrace: *full, MaxEvents: *maxEvents}
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "seed" {
			opts.Seed = seed
		}
	})
	phase("decoded")
	res := runGuarded(&sc, opts)
	phase("ran")
	err = json.NewEncoder(os.Stdout).Encode(res)
	phase("encoded")
	return err
}

// phaseMark starts the lines the guest writes to stderr, with
// FFSIM_GUEST_PHASES set, as it passes each phase of a run (started,
// decoded, ran, encoded), so that a host can time them (the guest's own
// clock is virtual and does not move while it computes).
const phaseMark = "ffsim-phase "

// runGuarded runs the scenario, turning a panic in this goroutine into a
// failed result: a panic in the system under test is a finding, which the
// host must report with its seed like any other failure.
func runGuarded(sc *scenario.Scenario, opts sim.Options) (res *sim.Result) {
	defer func() {
		if r := recover(); r != nil {
			res = &sim.Result{
				Name: sc.Name, File: sc.File, Host: sim.HostWasm, Seed: opts.SeedFor(sc), Status: sim.Fail,
				Failure: &sim.Failure{Pos: scenario.Pos{File: sc.File}, Message: fmt.Sprintf("panic: %v", r)},
			}
		}
	}()
	return sim.RunGuest(context.Background(), sc, opts, openStore)
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
	case "busy":
		for {
			_ = time.Now()
		}
	case "spinfor":
		n := 0
		for i := 0; i < 3_000_000_000; i++ {
			n += i & 7
		}
		sink = append(sink, make([]byte, n&1))
		os.Exit(0)
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
