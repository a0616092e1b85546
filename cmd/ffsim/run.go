package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
	"github.com/ffsim/ffsim/sim/wasmhost"
	"github.com/spf13/cobra"
)

// hostFlags select where scenarios run.
type hostFlags struct {
	host          string
	seed          seedFlag
	sqliteInGuest bool
	maxEvents     int
}

func (h *hostFlags) register(cmd *cobra.Command, seedUsage string) {
	cmd.Flags().StringVar(&h.host, "host", sim.HostNative, "where to run: native (in process) or wasm (a wasip1 guest under wazero)")
	cmd.Flags().Var(&h.seed, "seed", seedUsage)
	cmd.Flags().BoolVar(&h.sqliteInGuest, "sqlite-in-guest", false, "wasm host: run SQLite inside the guest instead of in the host (slower; the results are the same)")
	registerMaxEvents(cmd, &h.maxEvents)
}

// registerMaxEvents adds --max-events to cmd.
func registerMaxEvents(cmd *cobra.Command, n *int) {
	cmd.Flags().IntVar(n, "max-events", 0, fmt.Sprintf("fail a run that records more than `N` trace events (default %d native, %d wasm)",
		sim.DefaultMaxEvents, wasmhost.DefaultMaxEvents))
}

// resolve returns the host to use, from --host and the seed's token.
func (h *hostFlags) resolve(cmd *cobra.Command) (string, error) {
	return resolveHost(h.host, cmd.Flags().Changed("host"), &h.seed)
}

func (h *hostFlags) seedOpt() *uint64 {
	if h.seed.set {
		s := h.seed.seed
		return &s
	}
	return nil
}

// selectFlags are go test's habits: which scenarios, how often, and when
// to stop.
type selectFlags struct {
	run      string
	count    int
	failfast bool
	parallel int
}

func (s *selectFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.run, "run", "", "run only the scenarios whose name or file matches `REGEX`")
	cmd.Flags().IntVar(&s.count, "count", 1, "run each scenario `N` times (a changing digest means nondeterminism)")
	cmd.Flags().BoolVar(&s.failfast, "failfast", false, "stop starting runs after the first failure")
	cmd.Flags().IntVar(&s.parallel, "parallel", 1, "runs in flight at once (results are still printed in order)")
}

// filter keeps the scenarios -run selects.
func (s *selectFlags) filter(scs []*scenario.Scenario) ([]*scenario.Scenario, error) {
	if s.count < 1 {
		return nil, invalid("-count must be at least 1")
	}
	if s.parallel < 1 {
		return nil, invalid("--parallel must be at least 1")
	}
	if s.run == "" {
		return scs, nil
	}
	re, err := regexp.Compile(s.run)
	if err != nil {
		return nil, invalid("-run %q: %v", s.run, err)
	}
	var out []*scenario.Scenario
	for _, sc := range scs {
		if re.MatchString(sc.Name) || re.MatchString(sc.File) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, invalid("-run %q matches none of the %d scenarios (names and file paths are matched)", s.run, len(scs))
	}
	return out, nil
}

func newRunCmd() *cobra.Command {
	var hf hostFlags
	var sf selectFlags
	var out outputs
	cmd := &cobra.Command{
		Use:   "run [PATH...]",
		Short: "Run scenario files or directories (no PATH: the embedded library)",
		Long: `Run scenario files, directories (their *.yaml files) or DIR/... (recursively).
With no PATH, run the embedded library. Each scenario runs with its own seed
unless --seed is given.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			scs, err := loadScenarios(args)
			if err != nil {
				return err
			}
			if scs, err = sf.filter(scs); err != nil {
				return err
			}
			return runAll(cmd, scs, &hf, &sf, &out, args)
		},
	}
	hf.register(cmd, "seed for every run, `[HOST:]N` (wasm:4001 also selects the host; default: each scenario's own seed)")
	sf.register(cmd)
	out.register(cmd.Flags())
	return cmd
}

func newReplayCmd() *cobra.Command {
	var hf hostFlags
	var out outputs
	cmd := &cobra.Command{
		Use:   "replay FILE --seed [HOST:]N",
		Short: "Rerun one scenario with one seed, exactly",
		Long: `Rerun one scenario file with the seed (and host) a failing run printed, e.g.
ffsim replay scenarios/x.yaml --seed wasm:4001. A seed token's host wins over
the default; --host may only repeat it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !hf.seed.set {
				return invalid("replay needs --seed [HOST:]N (the seed a failing run printed, e.g. --seed wasm:4001)")
			}
			if fi, err := os.Stat(args[0]); err == nil && fi.IsDir() {
				return invalid("replay takes one scenario file; %s is a directory (use run or explore for directories)", args[0])
			}
			scs, err := loadScenarios(args)
			if err != nil {
				return err
			}
			return runAll(cmd, scs, &hf, &selectFlags{count: 1, parallel: 1}, &out, args)
		},
	}
	hf.register(cmd, "the seed to replay, `[HOST:]N` as a failure prints it (required; wasm:4001 replays on the wasm host)")
	out.register(cmd.Flags())
	return cmd
}

func runAll(cmd *cobra.Command, scs []*scenario.Scenario, hf *hostFlags, sf *selectFlags, out *outputs, inputs []string) error {
	ctx := cmd.Context()
	hostName, err := hf.resolve(cmd)
	if err != nil {
		return err
	}
	if err := out.check(inputs, scs); err != nil {
		return err
	}
	h, err := openHost(ctx, hostName, hf.sqliteInGuest, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer h.Close()
	stdout := cmd.OutOrStdout()
	r := &runner{
		host: h,
		// A verbose listing or a trace file shows every event; otherwise
		// the run keeps only the tail a failure report prints.
		opts:     sim.Options{Seed: hf.seedOpt(), FullTrace: out.verbose || out.trace != "", MaxEvents: hf.maxEvents},
		parallel: capParallel(sf.parallel, cmd.ErrOrStderr()),
		ordered:  true,
	}
	total := len(scs) * sf.count
	i := 0
	next := func() (job, bool) {
		if i == total {
			return job{}, false
		}
		j := job{sc: scs[i/sf.count]}
		i++
		return j, true
	}
	var results []*sim.Result
	failed, errored := 0, 0
	width := nameWidth(scs)
	st := newStyle(stdout)
	t0 := time.Now()
	stopped := r.run(ctx, next, func(_ job, res *sim.Result, took time.Duration) bool {
		out.collect(res)
		results = append(results, res)
		switch res.Status {
		case sim.Fail:
			failed++
		case sim.Error:
			errored++
		}
		out.result(stdout, cmd.ErrOrStderr(), res, took, width, st)
		return !sf.failfast || res.Status == sim.Pass
	})
	if err := out.finish(); err != nil {
		return err
	}
	if !out.json {
		summary(stdout, st, len(results)-failed-errored, failed, errored, time.Since(t0))
		if stopped {
			fmt.Fprintf(stdout, "interrupted: %d of %d runs finished\n", len(results), total)
		} else if len(results) < total {
			fmt.Fprintf(stdout, "-failfast: stopped after the first failure; %d of %d runs not started\n", total-len(results), total)
		}
	}
	if stopped {
		return errInterrupted
	}
	return verdict(failed, errored)
}

// summary prints the last line of a run.
func summary(w io.Writer, st style, passed, failed, errored int, took time.Duration) {
	fmt.Fprintf(w, "%d passed, %s", passed, st.count(failed, "failed", colorRed))
	if errored > 0 {
		fmt.Fprintf(w, ", %s", st.count(errored, "could not run", colorYellow))
	}
	fmt.Fprintf(w, " in %s\n", took.Round(time.Millisecond))
}

// nameWidth is the column width of scenario names in a summary: the
// longest, within reason, so that columns stay aligned.
func nameWidth(scs []*scenario.Scenario) int {
	w := 20
	for _, sc := range scs {
		w = max(w, len([]rune(sc.Name)))
	}
	return min(w, 100)
}

// verdict is the exit of a command that ran scenarios: a scenario that
// failed is exit 1, a host that could not run one is exit 3 (and wins: the
// failures it hides may be its own).
func verdict(failed, errored int) error {
	switch {
	case errored > 0:
		return errHost
	case failed > 0:
		return errFailed
	}
	return nil
}
