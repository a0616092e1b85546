package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/scenario"
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
	results []*sim.Result // for the report files
}

func (o *outputs) register(fs *pflag.FlagSet) {
	fs.BoolVar(&o.json, "json", false, "write one JSON result object per run to stdout (instead of the human summary)")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "write each run's whole trace to stderr")
	fs.StringVar(&o.junit, "junit", "", "write a JUnit XML report to `FILE`")
	fs.StringVar(&o.trace, "trace", "", "write a Chrome trace-event JSON file (opens in Perfetto) to `FILE`")
}

// check refuses report files that would overwrite an input (a scenario file
// or a path given on the command line) or each other.
func (o *outputs) check(inputs []string, scs []*scenario.Scenario) error {
	return checkReportPaths(inputs, scs, map[string]string{"--junit": o.junit, "--trace": o.trace})
}

// checkReportPaths is check for any set of report flags (flag → path).
func checkReportPaths(inputs []string, scs []*scenario.Scenario, reports map[string]string) error {
	var ins []string
	ins = append(ins, inputs...)
	for _, sc := range scs {
		ins = append(ins, sc.File)
	}
	seen := map[string]string{}
	for _, flag := range []string{"--junit", "--trace", "--out"} {
		p := reports[flag]
		if p == "" {
			continue
		}
		for _, in := range ins {
			if samePath(p, in) {
				return invalid("%s %s would overwrite the input %s", flag, p, in)
			}
		}
		for other, q := range seen {
			if samePath(p, q) {
				return invalid("%s and %s name the same file %s", other, flag, p)
			}
		}
		seen[flag] = p
	}
	return nil
}

// samePath reports whether a and b name the same file: the same file on
// disk when both exist, else the same cleaned absolute path.
func samePath(a, b string) bool {
	fa, ea := os.Stat(a)
	fb, eb := os.Stat(b)
	if ea == nil && eb == nil {
		return os.SameFile(fa, fb)
	}
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// jsonResult is the --json object: the result, its replay command when it
// did not pass, and its wall time.
type jsonResult struct {
	*sim.Result
	// Trace hides the result's trace tail: one line per run stays short
	// (-v prints the trace on stderr).
	Trace  []sim.Event `json:"trace,omitempty"`
	Replay string      `json:"replay,omitempty"`
	WallMs float64     `json:"wall_ms"`
}

// collect keeps a result for the report files.
func (o *outputs) collect(res *sim.Result) {
	if o.junit != "" || o.trace != "" {
		o.results = append(o.results, res)
	}
}

// result reports one finished run as it completes.
func (o *outputs) result(stdout, stderr io.Writer, res *sim.Result, took time.Duration, width int, st style) {
	if o.verbose {
		fmt.Fprintf(stderr, "trace of %s (%s, seed %d, %s, %d events):\n", oneLine(res.Name), res.File, res.Seed, res.Host, res.Events)
		for _, e := range res.Trace {
			fmt.Fprintf(stderr, "  %s\n", harness.FormatEvent(e))
		}
	}
	if o.json {
		jr := jsonResult{Result: res, WallMs: float64(took.Microseconds()) / 1000}
		if res.Status != sim.Pass {
			jr.Replay = harness.ReplayCommand(res)
		}
		b, err := json.Marshal(jr)
		if err == nil {
			fmt.Fprintf(stdout, "%s\n", b)
		}
		return
	}
	if res.Status == sim.Pass {
		fmt.Fprintf(stdout, "%s %s %4d steps %12v simulated  %s  %s\n", st.status(res.Status), pad(oneLine(res.Name), width),
			res.StepsRun, res.SimDuration, res.Digest[:16], took.Round(time.Millisecond))
		return
	}
	harness.WriteFailure(stdout, res, 12)
}

// finish writes the report files, each atomically.
func (o *outputs) finish() error {
	if o.junit != "" {
		if err := writeFile(o.junit, func(w io.Writer) error { return harness.WriteJUnit(w, o.results) }); err != nil {
			return invalid("--junit: %v", err)
		}
	}
	if o.trace != "" {
		if err := writeFile(o.trace, func(w io.Writer) error { return harness.WriteChromeTrace(w, o.results) }); err != nil {
			return invalid("--trace: %v", err)
		}
	}
	return nil
}

// writeFile writes a report through a temporary file in the same directory
// and renames it into place, so a failed write never leaves a truncated
// report (or a half-overwritten file) behind.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// oneLine is s with line breaks and other control characters made visible,
// so a name cannot forge a line of output.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	q := fmt.Sprintf("%q", s)
	return q[1 : len(q)-1]
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// pad left-aligns s in width columns (longer names overflow, keeping the
// rest of the line readable).
func pad(s string, width int) string {
	if n := len([]rune(s)); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}
