package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/ffsim/ffsim/fuzz"
	"github.com/ffsim/ffsim/fuzz/gen"
	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/sim"
	"github.com/spf13/cobra"
)

type fuzzFlags struct {
	seeds       uint64
	dur         time.Duration
	first       uint64
	host        string
	parallel    int
	out         string
	json        bool
	junit       string
	maxFailures int
	shrink      bool
	shrinkTime  time.Duration
}

// defaultFuzzSeeds is how many seeds a fuzz run checks when neither
// --seeds nor --time is given.
const defaultFuzzSeeds = 1000

// fuzzGCPercent is the garbage collector's target while fuzzing (unless
// GOGC says otherwise): a check allocates a short-lived scenario, world
// and store after another and keeps none, so collecting less often saves
// about a tenth of the time for a few tens of MB.
const fuzzGCPercent = 400

func newFuzzCmd() *cobra.Command {
	var f fuzzFlags
	cmd := &cobra.Command{
		Use:   "fuzz [--seeds N | --time D] [--first-seed S] [--host native|wasm] [--parallel P] [--out DIR]",
		Short: "Check generated scenarios against the reference model; shrink each failure to a regression scenario",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			seedsSet, timeSet := cmd.Flags().Changed("seeds"), cmd.Flags().Changed("time")
			switch {
			case seedsSet && timeSet:
				return invalid("--seeds and --time are exclusive: give one")
			case seedsSet && f.seeds == 0:
				return invalid("--seeds must be at least 1")
			case timeSet && f.dur <= 0:
				return invalid("--time must be positive")
			case !seedsSet && !timeSet:
				f.seeds = defaultFuzzSeeds
			}
			if f.parallel < 1 {
				return invalid("--parallel must be at least 1")
			}
			f.parallel = capParallel(f.parallel, cmd.ErrOrStderr())
			if f.seeds > 0 && f.seeds-1 > math.MaxUint64-f.first {
				return invalid("--first-seed %d with --seeds %d goes past the largest seed %d", f.first, f.seeds, uint64(math.MaxUint64))
			}
			if f.maxFailures < 0 {
				return invalid("--max-failures must not be negative")
			}
			if os.Getenv("GOGC") == "" {
				defer debug.SetGCPercent(debug.SetGCPercent(fuzzGCPercent))
			}
			return fuzzRun(cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.Uint64Var(&f.seeds, "seeds", 0, fmt.Sprintf("number of seeds to check (default %d when --time is not given)", defaultFuzzSeeds))
	fl.DurationVar(&f.dur, "time", 0, "check seeds until this much wall-clock time has passed (e.g. 60s)")
	fl.Uint64Var(&f.first, "first-seed", 1, "first seed; seeds are checked in order from it")
	fl.StringVar(&f.host, "host", sim.HostNative, "where to run: native (ties in timer order, fastest) or wasm (the seed decides ties)")
	fl.IntVar(&f.parallel, "parallel", runtime.GOMAXPROCS(0), "checks in flight at once")
	fl.StringVar(&f.out, "out", "ffsim-fuzz", "directory the shrunk scenarios are written to")
	fl.BoolVar(&f.json, "json", false, "write one JSON object per failure, then a summary object, to stdout (instead of the human report)")
	fl.StringVar(&f.junit, "junit", "", "write a JUnit XML report (one testcase per failing seed, one for the rest) to `FILE`")
	fl.IntVar(&f.maxFailures, "max-failures", 20, "stop after this many failing seeds (0: no limit)")
	fl.BoolVar(&f.shrink, "shrink", true, "shrink the first failure of each kind")
	fl.DurationVar(&f.shrinkTime, "shrink-time", 2*time.Minute, "wall-clock bound on shrinking one failure")
	return cmd
}

// fuzzFailure is a failing seed as --json reports it.
type fuzzFailure struct {
	Seed     uint64 `json:"seed"`
	Status   string `json:"status"`
	Step     int    `json:"step,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Class    string `json:"class,omitempty"`
	Message  string `json:"message"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	Replay   string `json:"replay"`
	Shrunk   string `json:"shrunk_file,omitempty"`
	Steps    int    `json:"shrunk_steps,omitempty"`
}

// fuzzSummary is the --json summary object.
type fuzzSummary struct {
	Summary struct {
		Host         string   `json:"host"`
		Generator    int      `json:"generator_version"`
		FirstSeed    uint64   `json:"first_seed"`
		Seeds        int      `json:"seeds"`
		Passed       int      `json:"passed"`
		Failed       int      `json:"failed"`
		Unmodellable int      `json:"unmodellable"`
		Errors       int      `json:"errors"`
		Seconds      float64  `json:"seconds"`
		PerSecond    float64  `json:"per_second"`
		FirstFailure float64  `json:"first_failure_seconds,omitempty"`
		Signatures   []string `json:"signatures,omitempty"`
	} `json:"summary"`
}

// fuzzRun is ffsim fuzz: it checks seeds on the chosen host with the
// runner, shrinks the first failure of each kind, and reports in text or
// JSON. It reads top to bottom as the command's story (set up, run,
// report), which is why it is left whole.
func fuzzRun(cmd *cobra.Command, f *fuzzFlags) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	h, err := openHost(ctx, f.host, false, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer h.Close()
	stdout := cmd.OutOrStdout()
	prog := newFuzzProgress(cmd.ErrOrStderr())
	var failures []*sim.Result
	var writeErr error
	o := fuzz.RunOptions{
		Host: h, FirstSeed: f.first, Seeds: f.seeds, Duration: f.dur, Parallel: f.parallel,
		MaxFailures: f.maxFailures,
		OnVerdict: func(v *fuzz.Verdict, s *fuzz.Shrunk) {
			prog.done(v.Status != fuzz.Pass)
			if v.Status == fuzz.Pass {
				return
			}
			prog.clear()
			path := ""
			if s != nil {
				p, werr := writeShrunk(f.out, v.Seed, s.File)
				if werr != nil && writeErr == nil {
					writeErr = werr
				}
				path = p
			}
			if v.Result != nil {
				r := *v.Result
				r.File = path
				failures = append(failures, &r)
			}
			if f.json {
				writeFuzzJSON(stdout, v, s, path, h.Name())
				return
			}
			writeFuzzFailure(stdout, v, s, path, h.Name())
		},
	}
	if f.shrink {
		o.Shrink = &fuzz.ShrinkOptions{Timeout: f.shrinkTime}
	}
	sum := fuzz.Run(ctx, o)
	prog.finish()
	if writeErr != nil {
		return invalid("writing a shrunk scenario: %v", writeErr)
	}
	rate := float64(sum.Seeds) / max(sum.Elapsed.Seconds(), 1e-9)
	if f.json {
		var js fuzzSummary
		s := &js.Summary
		s.Host, s.Generator, s.FirstSeed = h.Name(), gen.Version, f.first
		s.Seeds, s.Passed, s.Failed, s.Unmodellable, s.Errors = sum.Seeds, sum.Passed, sum.Failed, sum.Unmodellable, sum.Errors
		s.Seconds, s.PerSecond, s.FirstFailure, s.Signatures = sum.Elapsed.Seconds(), rate, sum.FirstFailure.Seconds(), sum.Signatures
		b, _ := json.Marshal(js)
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		workers := "workers"
		if f.parallel == 1 {
			workers = "worker"
		}
		fmt.Fprintf(stdout, "fuzz: %d seeds (%d…) on the %s host in %s: %.1f/s with %d %s; generator version %d\n",
			sum.Seeds, f.first, h.Name(), sum.Elapsed.Round(time.Millisecond), rate, f.parallel, workers, gen.Version)
		fmt.Fprintf(stdout, "%d passed, %d failed", sum.Passed, sum.Failed)
		if sum.Unmodellable > 0 {
			fmt.Fprintf(stdout, ", %d the model could not interpret", sum.Unmodellable)
		}
		if sum.Errors > 0 {
			fmt.Fprintf(stdout, ", %d could not run", sum.Errors)
		}
		if sum.FirstFailure > 0 {
			fmt.Fprintf(stdout, "; first failure after %s", sum.FirstFailure.Round(time.Millisecond))
		}
		fmt.Fprintln(stdout)
	}
	if f.junit != "" {
		rest := &sim.Result{Name: fmt.Sprintf("%d generated scenarios (seeds from %d)", sum.Passed, f.first),
			Host: h.Name(), Status: sim.Pass, Digest: fmt.Sprintf("generator version %d", gen.Version)}
		all := append(failures, rest)
		if err := writeFile(f.junit, func(w io.Writer) error { return harness.WriteJUnit(w, all) }); err != nil {
			return invalid("--junit: %v", err)
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintf(stdout, "interrupted after %d seeds\n", sum.Seeds)
		return errInterrupted
	}
	return verdict(sum.Failed+sum.Unmodellable, sum.Errors)
}

// replayHint is the command that checks one seed again.
func replayHint(seed uint64, host string) string {
	hint := fmt.Sprintf("ffsim fuzz --first-seed %d --seeds 1", seed)
	if host != sim.HostNative {
		hint += " --host " + host
	}
	return hint
}

// writeShrunk writes a shrunk scenario as DIR/seed-N.yaml.
func writeShrunk(dir string, seed uint64, file []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("seed-%d.yaml", seed))
	return path, os.WriteFile(path, file, 0o644)
}

// writeFuzzFailure reports one failing seed: what disagreed, how to
// replay it, and where its shrunk form is.
func writeFuzzFailure(w io.Writer, v *fuzz.Verdict, s *fuzz.Shrunk, path, host string) {
	switch v.Status {
	case fuzz.Unmodellable:
		fmt.Fprintf(w, "MODEL seed %d: the model cannot interpret the generated scenario (a fuzzer bug): %v\n    see it with: ffsim gen --seed %d\n", v.Seed, v.Err, v.Seed)
		return
	case fuzz.Error:
		fmt.Fprintf(w, "ERROR seed %d: %v (this says nothing about the scenario)\n", v.Seed, v.Err)
		return
	}
	d := v.Disagreement
	fmt.Fprintf(w, "FAIL seed %d: step %d (%s): %s\n", v.Seed, d.Step+1, d.Kind, strings.ReplaceAll(d.Message, "\n", "\n    "))
	if d.Expected != "" || d.Actual != "" {
		fmt.Fprintf(w, "    expected: %s\n    actual:   %s\n", d.Expected, d.Actual)
	}
	fmt.Fprintf(w, "    replay: %s   (the scenario: ffsim gen --seed %d --annotate%s)\n", replayHint(v.Seed, host), v.Seed, map[bool]string{true: " --native"}[host == sim.HostNative])
	if s == nil {
		fmt.Fprintf(w, "    not shrunk: the same kind of failure (%s) was shrunk already\n", d.Signature())
		return
	}
	fmt.Fprintf(w, "    shrunk from %d to %d steps (%d candidates checked): %s\n", len(v.Scenario.Steps), s.Steps(), s.Checks, path)
	fmt.Fprintf(w, "    check it: ffsim run %s\n", path)
}

func writeFuzzJSON(w io.Writer, v *fuzz.Verdict, s *fuzz.Shrunk, path, host string) {
	out := fuzzFailure{Seed: v.Seed, Status: string(v.Status), Replay: replayHint(v.Seed, host), Shrunk: path}
	if v.Err != nil {
		out.Message = v.Err.Error()
	}
	if d := v.Disagreement; d != nil {
		out.Step, out.Kind, out.Class = d.Step+1, d.Kind, d.Class
		out.Message, out.Expected, out.Actual = d.Message, d.Expected, d.Actual
	}
	if s != nil {
		out.Steps = s.Steps()
	}
	b, _ := json.Marshal(out)
	fmt.Fprintf(w, "%s\n", b)
}

// fuzzProgress shows a fuzz run's progress on a terminal: seeds checked,
// failures, rate. Off a terminal it shows nothing (the summary says it
// all).
type fuzzProgress struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool
	n, bad int
	start  time.Time
	last   time.Time
	drawn  bool
}

func newFuzzProgress(w io.Writer) *fuzzProgress {
	now := time.Now()
	return &fuzzProgress{w: w, tty: isTerminal(w), start: now, last: now}
}

func (p *fuzzProgress) done(failed bool) {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if failed {
		p.bad++
	}
	now := time.Now()
	if now.Sub(p.last) < barEvery {
		return
	}
	p.last = now
	el := now.Sub(p.start)
	fmt.Fprintf(p.w, "\rfuzz: %d seeds, %d failed, %.0f/s, %s\033[K", p.n, p.bad, float64(p.n)/max(el.Seconds(), 1e-9), el.Round(time.Second))
	p.drawn = true
}

// clear removes the progress line before a report is printed.
func (p *fuzzProgress) clear() {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

func (p *fuzzProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}
