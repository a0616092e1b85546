package main

import (
	"context"
	"fmt"

	"github.com/ffsim/ffsim/sim"
	"github.com/spf13/cobra"
)

// hostFlags select where scenarios run.
type hostFlags struct {
	host string
	seed uint64
}

func (h *hostFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&h.host, "host", sim.HostNative, "where to run: native (in process) or wasm (a wasip1 guest under wazero)")
	cmd.Flags().Uint64Var(&h.seed, "seed", 0, "seed for every run (default: each scenario's own seed)")
}

func (h *hostFlags) seedOpt(cmd *cobra.Command) *uint64 {
	if cmd.Flags().Changed("seed") {
		s := h.seed
		return &s
	}
	return nil
}

// runner runs one scenario on the chosen host.
type runner interface {
	run(ctx context.Context, sc *sim.Scenario, opts sim.Options) *sim.Result
	close(ctx context.Context) error
}

type nativeRunner struct{}

func (nativeRunner) run(_ context.Context, sc *sim.Scenario, opts sim.Options) *sim.Result {
	return sim.Run(sc, opts)
}
func (nativeRunner) close(context.Context) error { return nil }

func newRunner(ctx context.Context, host string) (runner, error) {
	switch host {
	case sim.HostNative:
		return nativeRunner{}, nil
	case sim.HostWasm:
		return newWasmRunner(ctx)
	}
	return nil, invalid("unknown host %q: want native or wasm", host)
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

func runAll(cmd *cobra.Command, scs []*sim.Scenario, hf *hostFlags, out *outputs) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	r, err := newRunner(ctx, hf.host)
	if err != nil {
		return err
	}
	defer r.close(ctx)
	opts := sim.Options{Seed: hf.seedOpt(cmd)}
	var results []*sim.Result
	failed := 0
	for _, sc := range scs {
		res := r.run(ctx, sc, opts)
		results = append(results, res)
		if res.Status != sim.Pass {
			failed++
		}
		if err := out.result(cmd.OutOrStdout(), cmd.ErrOrStderr(), res); err != nil {
			return err
		}
	}
	if err := out.finish(results); err != nil {
		return err
	}
	if !out.json {
		fmt.Fprintf(cmd.OutOrStdout(), "%d passed, %d failed\n", len(results)-failed, failed)
	}
	if failed > 0 {
		return errFailed
	}
	return nil
}
