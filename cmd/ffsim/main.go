// Command ffsim runs ffsim scenario files against the Go port of
// FlowFabric's scanner supervisor on simulated time.
//
//	ffsim run [PATH...]          # files or dirs; no PATH: the embedded library
//	ffsim explore [PATH...] --seeds N [--shard K/M] [--parallel P]
//	ffsim replay FILE --seed N [--trace FILE]
//	ffsim validate [PATH...]
//	ffsim schema
//	ffsim list
//
// Exit codes: 0 all passed, 1 a scenario failed, 2 invalid input or usage,
// 3 the host could not run a scenario.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes (SPEC §6).
const (
	exitFail    = 1
	exitInvalid = 2
	// exitHost: the host could not run a scenario (the wasm guest could not
	// be built or compiled, timed out or ran out of memory): not the
	// scenario's fault.
	exitHost = 3
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func invalid(format string, args ...any) error {
	return &exitError{code: exitInvalid, err: fmt.Errorf(format, args...)}
}

func invalidErr(err error) error { return &exitError{code: exitInvalid, err: err} }

// errFailed reports that at least one scenario failed; the details are
// already printed.
var errFailed = &exitError{code: exitFail, err: errors.New("some scenarios failed")}

// errHost reports that the host could not run some scenarios; the details
// are already printed.
var errHost = &exitError{code: exitHost, err: errors.New("the host could not run some scenarios")}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command line args, writing reports to stdout and errors to
// stderr, and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee != errFailed && ee != errHost {
			fmt.Fprintln(stderr, "ffsim:", ee.err)
		}
		return ee.code
	}
	// cobra's own errors: unknown command or flag, wrong arguments.
	fmt.Fprintln(stderr, "ffsim:", err)
	return exitInvalid
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "ffsim",
		Short:         "Deterministic simulator for FlowFabric's SQLite scanner supervisor",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return invalidErr(err) })
	root.AddCommand(newRunCmd(), newReplayCmd(), newExploreCmd(), newValidateCmd(), newSchemaCmd(), newListCmd())
	return root
}
