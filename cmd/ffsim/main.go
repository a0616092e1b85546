// Command ffsim runs ffsim scenario files against the Go port of
// FlowFabric's scanner supervisor on simulated time.
//
//	ffsim run [PATH...] [-run REGEX] [-count N] [-failfast] [--parallel P]
//	ffsim explore [PATH...] --seeds N [--shard K/M] [--parallel P] [--json]
//	ffsim replay FILE --seed [HOST:]N [--trace FILE]
//	ffsim validate [PATH...]
//	ffsim new NAME
//	ffsim cache dir|clean|prune
//	ffsim version | schema | list
//
// A PATH is a scenario file, a directory (its *.yaml files) or DIR/...
// (recursively); no PATH means the embedded library. Go test's
// single-dash spelling of long flags (-run, -count, -failfast, -json) works
// too.
//
// Exit codes: 0 all passed, 1 a scenario failed, 2 invalid input or usage
// (or results that could not be written), 3 the host could not run a
// scenario, 130 interrupted (SIGINT or SIGTERM: what ran is reported).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ffsim/ffsim/harness"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes (SPEC §6).
const (
	exitFail    = 1
	exitInvalid = 2
	// exitHost: the host could not run a scenario (the wasm guest could not
	// be built or compiled, timed out or ran out of memory): not the
	// scenario's fault.
	exitHost = 3
	// exitInterrupted: a signal stopped the command (128 + SIGINT).
	exitInterrupted = 130
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

// errInterrupted reports a command stopped by a signal; what ran is
// already reported.
var errInterrupted = &exitError{code: exitInterrupted, err: errors.New("interrupted")}

func main() {
	setMemoryLimit()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal the command winds down (stops starting
		// runs, kills a guest build, writes what it has); a second one
		// kills the process at once.
		<-ctx.Done()
		stop()
	}()
	os.Exit(runContext(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command line args, writing reports to stdout and errors to
// stderr, and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext is run under ctx, which a signal cancels.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	out := &checkedWriter{w: stdout}
	root.SetArgs(goTestFlags(root, args))
	root.SetOut(out)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if ctx.Err() != nil {
		// Interrupted: the command reported what it had; whatever failed
		// on the way out (a guest build cut short, a run stopped) is the
		// interruption's doing.
		var ee *exitError
		if err != nil && (!errors.As(err, &ee) || (ee != errInterrupted && ee != errFailed && ee != errHost)) {
			fmt.Fprintln(stderr, "ffsim: interrupted:", err)
		}
		return exitInterrupted
	}
	if err == nil && out.err != nil {
		err = invalid("writing results: %v", out.err)
	}
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee != errFailed && ee != errHost && ee != errInterrupted {
			fmt.Fprintln(stderr, "ffsim:", ee.err)
		}
		if out.err != nil && ee.code != exitInterrupted {
			fmt.Fprintln(stderr, "ffsim: writing results:", out.err)
			return exitInvalid
		}
		return ee.code
	}
	// cobra's own errors: unknown command or flag, wrong arguments.
	fmt.Fprintln(stderr, "ffsim:", err)
	if c, _, ferr := root.Find(args); ferr == nil && c != root {
		fmt.Fprintf(stderr, "run 'ffsim %s --help' for usage\n", c.Name())
	} else {
		fmt.Fprintln(stderr, "run 'ffsim --help' for usage")
	}
	return exitInvalid
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "ffsim",
		Short:         "Deterministic simulator for FlowFabric's SQLite scanner supervisor",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().Int64Var(&maxFileSize, "max-file-size", harness.DefaultMaxFileSize,
		"refuse scenario files larger than `BYTES` (a guard against runaway inputs)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return invalid("%v (run 'ffsim %s --help' for usage)", err, c.Name())
	})
	root.AddCommand(newRunCmd(), newReplayCmd(), newExploreCmd(), newValidateCmd(), newSchemaCmd(), newListCmd(),
		newVersionCmd(), newCacheCmd(), newNewCmd(), newFuzzCmd(), newGenCmd())
	return root
}

// goTestFlags rewrites go test's single-dash long flags (-run X, -count=3,
// -failfast) to the double-dash form the flag parser expects, for the
// flags the named subcommand has. Anything after "--" is left alone, and so
// is a single-dash argument that is not one of its long flags.
func goTestFlags(root *cobra.Command, args []string) []string {
	c, _, err := root.Find(args)
	if err != nil || c == root {
		return args
	}
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if f := c.Flags().Lookup(name); f != nil && len(name) > 1 {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// checkedWriter remembers the first write error: a report that could not
// be written (a full disk, a closed pipe) makes the command fail.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

var _ pflag.Value = (*seedFlag)(nil)
