package main

import (
	"context"
	"fmt"

	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
	"github.com/spf13/cobra"
)

// hostFlags select where scenarios run.
type hostFlags struct {
	host          string
	seed          uint64
	sqliteInGuest bool
}

func (h *hostFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&h.host, "host", sim.HostNative, "where to run: native (in process) or wasm (a wasip1 guest under wazero)")
	cmd.Flags().Uint64Var(&h.seed, "seed", 0, "seed for every run (default: each scenario's own seed)")
	cmd.Flags().BoolVar(&h.sqliteInGuest, "sqlite-in-guest", false, "wasm host: run SQLite inside the guest instead of in the host (slower; the results are the same)")
}

func (h *hostFlags) seedOpt(cmd *cobra.Command) *uint64 {
	if cmd.Flags().Changed("seed") {
		s := h.seed
		return &s
	}
	return nil
}

func newRunCmd() *cobra.Command {
	return newRunningCmd(&cobra.Command{
		Use:   "run [PATH...]",
		Short: "Run scenario files or directories (no PATH: the embedded library)",
	}, nil)
}

func newReplayCmd() *cobra.Command {
	return newRunningCmd(&cobra.Command{
		Use:   "replay FILE --seed N",
		Short: "Rerun one scenario with one seed, exactly",
		Args:  cobra.ExactArgs(1),
	}, func(cmd *cobra.Command) error {
		if !cmd.Flags().Changed("seed") {
			return invalid("replay needs --seed N (the seed a failing run printed)")
		}
		return nil
	})
}

// newRunningCmd completes cmd as a command that loads its arguments and
// runs them with the host and output flags; check vets the flags first.
func newRunningCmd(cmd *cobra.Command, check func(*cobra.Command) error) *cobra.Command {
	var hf hostFlags
	var out outputs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if check != nil {
			if err := check(cmd); err != nil {
				return err
			}
		}
		scs, err := loadScenarios(args)
		if err != nil {
			return err
		}
		return runAll(cmd, scs, &hf, &out)
	}
	hf.register(cmd)
	out.register(cmd.Flags())
	return cmd
}

func runAll(cmd *cobra.Command, scs []*scenario.Scenario, hf *hostFlags, out *outputs) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	h, err := openHost(ctx, hf.host, hf.sqliteInGuest, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer h.Close()
	// A verbose listing or a trace file shows every event; otherwise the
	// run keeps only the tail a failure report prints.
	opts := sim.Options{Seed: hf.seedOpt(cmd), FullTrace: out.verbose || out.trace != ""}
	var results []*sim.Result
	failed, errored := 0, 0
	for _, sc := range scs {
		res := h.Run(ctx, sc, opts)
		results = append(results, res)
		switch res.Status {
		case sim.Fail:
			failed++
		case sim.Error:
			errored++
		}
		if err := out.result(cmd.OutOrStdout(), cmd.ErrOrStderr(), res); err != nil {
			return err
		}
	}
	if err := out.finish(results); err != nil {
		return err
	}
	if !out.json {
		fmt.Fprintf(cmd.OutOrStdout(), "%d passed, %d failed", len(results)-failed-errored, failed)
		if errored > 0 {
			fmt.Fprintf(cmd.OutOrStdout(), ", %d could not run", errored)
		}
		fmt.Fprintln(cmd.OutOrStdout())
	}
	return verdict(failed, errored)
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
