package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
	"github.com/spf13/cobra"
)

type exploreFlags struct {
	host          string
	sqliteInGuest bool
	seeds         uint64
	first         uint64
	shard         string
	parallel      int
	junit         string
	json          bool
	verbose       bool
	failfast      bool
	maxFailures   int
	maxEvents     int
}

func newExploreCmd() *cobra.Command {
	var f exploreFlags
	cmd := &cobra.Command{
		Use:   "explore [PATH...] --seeds N [--shard K/M] [--parallel P]",
		Short: "Run each scenario once per seed (wasm host by default) and group the failures",
		Long: `Run each scenario once per seed, first-seed … first-seed+seeds-1. On the wasm
host (the default) a seed fixes the guest's goroutine scheduling, so seeds
explore interleavings; on the native host they change only the simulator's own
choices. Failures are printed as they are found and grouped at the end by what
failed (step, expected, actual), with their count and smallest seed.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, m, err := parseShard(f.shard)
			if err != nil {
				return err
			}
			if f.seeds == 0 {
				return invalid("--seeds must be at least 1")
			}
			if f.seeds-1 > math.MaxUint64-f.first {
				return invalid("--first-seed %d with --seeds %d goes past the largest seed %d", f.first, f.seeds, uint64(math.MaxUint64))
			}
			if shardSize(f.seeds, k, m) == 0 {
				return invalid("--shard %d/%d selects none of the %d seeds (shard K takes every M-th seed, starting with the K-th)", k, m, f.seeds)
			}
			if f.parallel < 1 {
				return invalid("--parallel must be at least 1")
			}
			if f.maxFailures < 0 {
				return invalid("--max-failures must not be negative")
			}
			if f.failfast {
				f.maxFailures = 1
			}
			scs, err := loadScenarios(args)
			if err != nil {
				return err
			}
			if err := checkReportPaths(args, scs, map[string]string{"--junit": f.junit}); err != nil {
				return err
			}
			return explore(cmd, scs, &f, k, m)
		},
	}
	cmd.Flags().StringVar(&f.host, "host", sim.HostWasm, "where to run: wasm (seeds change goroutine interleavings) or native (seeds change only the simulator's own choices)")
	cmd.Flags().Uint64Var(&f.seeds, "seeds", 0, "number of seeds to run per scenario")
	cmd.Flags().BoolVar(&f.sqliteInGuest, "sqlite-in-guest", false, "wasm host: run SQLite inside the guest instead of in the host (slower; the results are the same)")
	cmd.Flags().Uint64Var(&f.first, "first-seed", 1, "first seed; seeds are first-seed … first-seed+seeds-1")
	cmd.Flags().StringVar(&f.shard, "shard", "1/1", "run only shard `K/M` of the seeds (seed index ≡ K-1 mod M), for a CI matrix of M jobs")
	cmd.Flags().IntVar(&f.parallel, "parallel", runtime.GOMAXPROCS(0), "runs in flight at once (at most 2 per CPU)")
	cmd.Flags().StringVar(&f.junit, "junit", "", "write a JUnit XML report (a testcase per scenario and per distinct failure) to `FILE`")
	cmd.Flags().BoolVar(&f.json, "json", false, "write JSON lines to stdout: one per failing run as found, then a summary")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "print every failing run in full (trace tail included), not only the first of each kind")
	cmd.Flags().BoolVar(&f.failfast, "failfast", false, "stop at the first failing run (same as --max-failures 1)")
	cmd.Flags().IntVar(&f.maxFailures, "max-failures", 0, "stop starting runs after `N` failing runs (0: no limit)")
	registerMaxEvents(cmd, &f.maxEvents)
	return cmd
}

func parseShard(s string) (k, m uint64, err error) {
	a, b, ok := strings.Cut(s, "/")
	k, err1 := strconv.ParseUint(a, 10, 64)
	m, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || m == 0 || k == 0 || k > m {
		return 0, 0, invalid("--shard %q: want K/M with 1 <= K <= M", s)
	}
	return k, m, nil
}

// shardSize is how many of n seed indices shard k/m takes.
func shardSize(n, k, m uint64) uint64 {
	if k-1 >= n {
		return 0
	}
	return (n-(k-1)-1)/m + 1
}

// maxGroups bounds the distinct failures explore keeps; more are counted.
const maxGroups = 1000

// maxDigests bounds the distinct traces counted per scenario.
const maxDigests = 1 << 16

// failureGroup is one distinct way runs failed: the same scenario, step,
// message, expected and actual.
type failureGroup struct {
	key      string
	count    int
	minSeed  uint64
	example  *sim.Result
	firstIdx int // order found
}

// scenarioTally is one scenario's runs.
type scenarioTally struct {
	file           string
	runs, failures int
	errors         int
	digests        map[string]bool
}

// explore is ffsim explore for shard k of m: it runs every scenario under
// its seeds, tallies each run as it ends (the callback keeps the tallies in
// locals it shares with the summary), and reports. Left whole: it reads top
// to bottom as the command's story.
func explore(cmd *cobra.Command, scs []*scenario.Scenario, f *exploreFlags, k, m uint64) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	h, err := openHost(ctx, f.host, f.sqliteInGuest, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer h.Close()

	per := make([]*scenarioTally, len(scs))
	index := map[*scenario.Scenario]int{}
	for i, sc := range scs {
		per[i] = &scenarioTally{file: sc.File, digests: map[string]bool{}}
		index[sc] = i
	}
	next, total := shardJobs(scs, f.first, shardSize(f.seeds, k, m), k, m)

	tail := 16
	if f.verbose {
		tail = sim.DefaultTraceTail
	}
	r := &runner{
		host:     h,
		opts:     sim.Options{TraceTail: tail, MaxEvents: f.maxEvents},
		parallel: capParallel(f.parallel, cmd.ErrOrStderr()),
	}
	var groups failureGroups
	ran, failed, errored := 0, 0, 0
	prog := newProgress(os.Stderr, int(min(total, math.MaxInt)))
	t0 := time.Now()
	stopped := r.run(ctx, next, func(j job, res *sim.Result, _ time.Duration) bool {
		ran++
		t := per[index[j.sc]]
		t.runs++
		if len(t.digests) < maxDigests {
			t.digests[res.Digest] = true
		}
		prog.done(res.Status != sim.Pass)
		switch res.Status {
		case sim.Error:
			errored++
			t.errors++
			if f.json {
				writeJSONLine(out, exploreEvent{Event: "error", File: res.File, Seed: res.Seed, Host: res.Host, Message: res.Failure.Message})
			} else {
				prog.clear()
				harness.WriteFailure(out, res, 0)
			}
		case sim.Fail:
			failed++
			t.failures++
			g := groups.add(res)
			switch {
			case f.json:
				writeJSONLine(out, failureEvent(res))
			case f.verbose:
				prog.clear()
				harness.WriteFailure(out, res, tail)
			case g != nil && g.count == 1:
				prog.clear()
				printFailure(out, res, "new failure")
			}
		}
		return f.maxFailures == 0 || failed < f.maxFailures
	})
	prog.finish()
	took := time.Since(t0)

	if f.junit != "" {
		if err := writeFile(f.junit, func(w io.Writer) error { return harness.WriteJUnit(w, junitResults(scs, per, groups.order, h)) }); err != nil {
			return invalid("--junit: %v", err)
		}
	}
	if f.json {
		writeJSONLine(out, exploreSummary(per, groups.order, groups.overflow, ran, failed, errored, total, stopped, took))
	} else {
		printExploreSummary(out, per, groups.order, groups.overflow, h.replayNote)
		st := newStyle(out)
		summary(out, st, ran-failed-errored, failed, errored, took)
		switch {
		case stopped:
			fmt.Fprintf(out, "interrupted: %d of %d runs finished\n", ran, total)
		case uint64(ran) < total:
			fmt.Fprintf(out, "stopped after %d failing runs (--max-failures); %d of %d runs done\n", failed, ran, total)
		}
	}
	if stopped {
		return errInterrupted
	}
	return verdict(failed, errored)
}

// shardJobs returns the runs of shard k of m, perShard seeds of each
// scenario, one scenario after another, and how many there are.
func shardJobs(scs []*scenario.Scenario, first, perShard, k, m uint64) (next func() (job, bool), total uint64) {
	var s int
	var n uint64 // index within the shard
	next = func() (job, bool) {
		if s == len(scs) {
			return job{}, false
		}
		seed := first + (k - 1) + n*m
		j := job{sc: scs[s], seed: &seed}
		if n++; n == perShard {
			s, n = s+1, 0
		}
		return j, true
	}
	return next, uint64(len(scs)) * perShard
}

// failureGroups groups failing runs by what failed, in the order first
// found, up to maxGroups groups (overflow counts the runs beyond them).
type failureGroups struct {
	byKey    map[string]*failureGroup
	order    []*failureGroup
	overflow int
}

// add counts res in its group and returns the group, or nil when res
// would start a group past maxGroups.
func (gs *failureGroups) add(res *sim.Result) *failureGroup {
	key := groupKey(res)
	if g := gs.byKey[key]; g != nil {
		g.count++
		g.minSeed = min(g.minSeed, res.Seed)
		return g
	}
	if len(gs.order) >= maxGroups {
		gs.overflow++
		return nil
	}
	if gs.byKey == nil {
		gs.byKey = map[string]*failureGroup{}
	}
	g := &failureGroup{key: key, count: 1, minSeed: res.Seed, example: res, firstIdx: len(gs.order)}
	gs.byKey[key] = g
	gs.order = append(gs.order, g)
	return g
}

// groupKey is what makes two failures the same: the scenario, where, and
// what was expected and found.
func groupKey(res *sim.Result) string {
	fl := res.Failure
	return strings.Join([]string{res.File, fl.Pos.String(), fl.Step, fl.Message, fl.Expected, fl.Actual}, "\x00")
}

// printFailure prints one failing run briefly: where, expected vs actual,
// and how to replay it.
func printFailure(w io.Writer, res *sim.Result, label string) {
	fl := res.Failure
	where := fl.Pos.String()
	if fl.Step != "" {
		where += " (" + fl.Step + ")"
	}
	fmt.Fprintf(w, "FAIL %s seed %d (%s): %s: %s\n", res.File, res.Seed, label, where, oneLine(fl.Message))
	if fl.Expected != "" || fl.Actual != "" {
		fmt.Fprintf(w, "    expected: %s\n    actual:   %s\n", fl.Expected, fl.Actual)
	}
	fmt.Fprintf(w, "    replay: %s\n", harness.ReplayCommand(res))
}

// printExploreSummary prints the per-scenario table and the distinct
// failures, each with its count and smallest seed.
func printExploreSummary(w io.Writer, per []*scenarioTally, order []*failureGroup, overflow int, note string) {
	width := 20
	for _, t := range per {
		width = max(width, len(t.file))
	}
	for _, t := range per {
		d := strconv.Itoa(len(t.digests))
		if len(t.digests) == maxDigests {
			d = "≥" + d
		}
		fmt.Fprintf(w, "%s %6d runs %6d failed %7s distinct traces\n", pad(t.file, width), t.runs, t.failures, d)
	}
	if len(order) > 0 {
		fmt.Fprintf(w, "%d distinct failure(s):\n", len(order))
		for _, g := range order {
			fl := g.example.Failure
			res := *g.example
			res.Seed = g.minSeed
			fmt.Fprintf(w, "  %d× %s: %s\n", g.count, fl.Pos, oneLine(fl.Message))
			if fl.Expected != "" || fl.Actual != "" {
				fmt.Fprintf(w, "      expected: %s\n      actual:   %s\n", fl.Expected, fl.Actual)
			}
			fmt.Fprintf(w, "      smallest seed %d: %s\n", g.minSeed, harness.ReplayCommand(&res))
		}
	}
	if overflow > 0 {
		fmt.Fprintf(w, "  and %d more failing runs of other kinds (more than %d distinct failures)\n", overflow, maxGroups)
	}
	if note != "" {
		fmt.Fprintln(w, note)
	}
}

// exploreEvent is one --json line.
type exploreEvent struct {
	Event    string `json:"event"`
	File     string `json:"file,omitempty"`
	Seed     uint64 `json:"seed"`
	Host     string `json:"host,omitempty"`
	Pos      string `json:"pos,omitempty"`
	Step     string `json:"step,omitempty"`
	Message  string `json:"message,omitempty"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	Digest   string `json:"digest,omitempty"`
	Replay   string `json:"replay,omitempty"`
}

func failureEvent(res *sim.Result) exploreEvent {
	fl := res.Failure
	return exploreEvent{Event: "failure", File: res.File, Seed: res.Seed, Host: res.Host, Pos: fl.Pos.String(), Step: fl.Step,
		Message: fl.Message, Expected: fl.Expected, Actual: fl.Actual, Digest: res.Digest, Replay: harness.ReplayCommand(res)}
}

// exploreSummaryJSON is the last --json line.
type exploreSummaryJSON struct {
	Event       string             `json:"event"`
	Runs        int                `json:"runs"`
	Planned     uint64             `json:"planned"`
	Passed      int                `json:"passed"`
	Failed      int                `json:"failed"`
	Errors      int                `json:"errors"`
	Interrupted bool               `json:"interrupted"`
	WallMs      int64              `json:"wall_ms"`
	Scenarios   []scenarioJSON     `json:"scenarios"`
	Failures    []failureGroupJSON `json:"failures"`
	Overflow    int                `json:"other_failing_runs,omitempty"`
}

type scenarioJSON struct {
	File           string `json:"file"`
	Runs           int    `json:"runs"`
	Failed         int    `json:"failed"`
	Errors         int    `json:"errors"`
	DistinctTraces int    `json:"distinct_traces"`
}

type failureGroupJSON struct {
	Count        int    `json:"count"`
	SmallestSeed uint64 `json:"smallest_seed"`
	File         string `json:"file"`
	Pos          string `json:"pos"`
	Step         string `json:"step,omitempty"`
	Message      string `json:"message"`
	Expected     string `json:"expected,omitempty"`
	Actual       string `json:"actual,omitempty"`
	Replay       string `json:"replay"`
}

func exploreSummary(per []*scenarioTally, order []*failureGroup, overflow, ran, failed, errored int, total uint64, stopped bool, took time.Duration) exploreSummaryJSON {
	s := exploreSummaryJSON{Event: "summary", Runs: ran, Planned: total, Passed: ran - failed - errored, Failed: failed, Errors: errored,
		Interrupted: stopped, WallMs: took.Milliseconds(), Overflow: overflow, Scenarios: []scenarioJSON{}, Failures: []failureGroupJSON{}}
	for _, t := range per {
		s.Scenarios = append(s.Scenarios, scenarioJSON{t.file, t.runs, t.failures, t.errors, len(t.digests)})
	}
	for _, g := range order {
		fl := g.example.Failure
		res := *g.example
		res.Seed = g.minSeed
		s.Failures = append(s.Failures, failureGroupJSON{g.count, g.minSeed, res.File, fl.Pos.String(), fl.Step, fl.Message,
			fl.Expected, fl.Actual, harness.ReplayCommand(&res)})
	}
	return s
}

func writeJSONLine(w io.Writer, v any) {
	if b, err := json.Marshal(v); err == nil {
		fmt.Fprintf(w, "%s\n", b)
	}
}

// junitResults is explore's JUnit report as results: per scenario, a
// passing case when nothing failed, and one case per distinct failure
// (its smallest seed).
func junitResults(scs []*scenario.Scenario, per []*scenarioTally, order []*failureGroup, h *openedHost) []*sim.Result {
	byFile := map[string][]*failureGroup{}
	sort.SliceStable(order, func(i, j int) bool { return order[i].firstIdx < order[j].firstIdx })
	for _, g := range order {
		byFile[g.example.File] = append(byFile[g.example.File], g)
	}
	var out []*sim.Result
	for i, sc := range scs {
		gs := byFile[sc.File]
		if len(gs) == 0 && per[i].runs > 0 && per[i].errors == 0 {
			out = append(out, &sim.Result{Name: fmt.Sprintf("%s (%d seeds)", sc.Name, per[i].runs), File: sc.File, Host: h.Name(), Status: sim.Pass})
		}
		for _, g := range gs {
			res := *g.example
			res.Seed = g.minSeed
			res.Name = fmt.Sprintf("%s (%d failing seeds, smallest %d)", res.Name, g.count, g.minSeed)
			out = append(out, &res)
		}
		delete(byFile, sc.File)
	}
	return out
}
