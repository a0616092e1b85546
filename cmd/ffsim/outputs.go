package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/sim"
	"github.com/spf13/pflag"
)

// outputs are the machine-readable reports a run can write besides its
// human summary.
type outputs struct {
	json    bool
	verbose bool
	junit   string
	trace   string
}

func (o *outputs) register(fs *pflag.FlagSet) {
	fs.BoolVar(&o.json, "json", false, "write one JSON result object per scenario to stdout (instead of the human summary)")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "write each run's trace to stderr")
	fs.StringVar(&o.junit, "junit", "", "write a JUnit XML report to `FILE`")
	fs.StringVar(&o.trace, "trace", "", "write a Chrome trace-event JSON file (opens in Perfetto) to `FILE`")
}

// jsonResult is the --json object: the result without its trace, plus the
// replay command of a failure.
type jsonResult struct {
	*sim.Result
	Trace  []sim.Event `json:"trace,omitempty"`
	Replay string      `json:"replay,omitempty"`
}

// result reports one finished run as it completes.
func (o *outputs) result(stdout, stderr io.Writer, res *sim.Result) error {
	if o.verbose {
		fmt.Fprintf(stderr, "trace of %s (%s, seed %d, %s):\n", res.Name, res.File, res.Seed, res.Host)
		for _, e := range res.Trace {
			fmt.Fprintf(stderr, "  %s\n", harness.FormatEvent(e))
		}
	}
	if o.json {
		jr := jsonResult{Result: res}
		if res.Status != sim.Pass {
			jr.Replay = harness.ReplayCommand(res)
		}
		b, err := json.Marshal(jr)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	if res.Status == sim.Pass {
		fmt.Fprintf(stdout, "PASS %-48s %3d steps %10v simulated  %s\n", res.Name, res.StepsRun, res.SimDuration, res.Digest[:16])
		return nil
	}
	harness.WriteFailure(stdout, res, 12)
	return nil
}

// finish writes the whole-run reports.
func (o *outputs) finish(results []*sim.Result) error {
	if o.junit != "" {
		if err := writeFile(o.junit, func(w io.Writer) error { return harness.WriteJUnit(w, results) }); err != nil {
			return err
		}
	}
	if o.trace != "" {
		if err := writeFile(o.trace, func(w io.Writer) error { return harness.WriteChromeTrace(w, results) }); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
