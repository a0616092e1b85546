package harness_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ffsim/ffsim/scenario"

	"go.uber.org/goleak"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/reconcilers"
	"github.com/ffsim/ffsim/sim"
)

// Limits that keep one fuzz iteration in the milliseconds: simulated time is
// capped at an hour, and further so that no supervisor in the scenario can
// tick more than fuzzMaxTicks times (a 1ns budget_reset interval would
// otherwise mean 3.6e12 ticks). A scenario that needs more time fails with
// "simulated-time limit reached", which is an allowed outcome.
const (
	fuzzMaxSimTime = time.Hour
	fuzzMaxTicks   = 500
	// fuzzStall turns a world that never becomes idle into a failure
	// quickly; every such failure is a bug.
	fuzzStall = 10 * time.Second
)

// FuzzRunNative runs whatever the loader accepts on the native host, twice.
// A run may fail only the way a scenario is allowed to fail: an expectation
// that does not hold, a step whose operation returns an error (SQLITE_BUSY
// after the retries, say), a time travel request, or the fuzz cap on
// simulated time. An invariant violation, a deadlock, a stall, a teardown
// error, an "invalid input" from the store (the loader let through what the
// store refuses), a panic, a hang, or two runs of the same input that
// differ are bugs.
//
// Keep -fuzzminimizetime short: Go otherwise spends up to a minute
// minimizing each new interesting input, which at milliseconds per run
// looks like a hung fuzzer.
//
//	go test -run '^$' -fuzz '^FuzzRunNative$' -fuzztime 60s -fuzzminimizetime 5s ./harness/
func FuzzRunNative(f *testing.F) {
	for _, pattern := range []string{"../scenarios/*.yaml", "testdata/ok/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	// Run as a unit test (the seeds), each run must also leave no goroutine
	// behind. Not while fuzzing: a goroutine dump per input would dominate.
	checkLeaks := flag.Lookup("test.fuzz").Value.String() == ""
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := harness.LoadBytes("fuzz.yaml", data)
		if err != nil {
			return // FuzzLoadBytes covers refusals
		}
		if checkLeaks {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		}
		opts := fuzzOptions(sc)
		res := sim.Native().Run(context.Background(), sc, opts)
		checkFuzzResult(t, sc, opts, res)
		again := sim.Native().Run(context.Background(), sc, opts)
		if again.Status != res.Status || again.Digest != res.Digest {
			t.Fatalf("the same scenario and seed ran twice differently: %s %s vs %s %s\nfirst failure: %+v\nsecond failure: %+v",
				res.Status, res.Digest, again.Status, again.Digest, res.Failure, again.Failure)
		}
	})
}

// fuzzOptions caps the run's simulated time (see fuzzMaxTicks).
func fuzzOptions(sc *scenario.Scenario) sim.Options {
	limit := fuzzMaxSimTime
	if p := shortestInterval(sc); p > 0 && p < limit/fuzzMaxTicks {
		limit = p * fuzzMaxTicks
	}
	return sim.Options{MaxSimTime: limit, StallTimeout: fuzzStall}
}

// shortestInterval is the shortest non-zero budget_reset interval any spawn
// in sc can use, or 0 if none ticks.
func shortestInterval(sc *scenario.Scenario) time.Duration {
	var p time.Duration
	consider := func(d time.Duration) {
		if d > 0 && (p == 0 || d < p) {
			p = d
		}
	}
	var walk func([]scenario.Step)
	walk = func(steps []scenario.Step) {
		for i := range steps {
			s := &steps[i]
			if s.Spawn != nil {
				if s.Spawn.BudgetResetInterval != nil {
					consider(*s.Spawn.BudgetResetInterval)
				} else {
					consider(sc.Supervisor.BudgetResetInterval)
				}
			}
			walk(s.Concurrently)
		}
	}
	walk(sc.Steps)
	return p
}

// allowedFailure matches the failure messages a valid scenario may end
// with. Everything else the engine reports (invariant violated, deadlock,
// the world never became idle, teardown, open store, a step that cannot
// run) means the simulator or the loader is wrong.
var allowedFailure = []*regexp.Regexp{
	// An expectation that does not hold.
	regexp.MustCompile(`^[a-z_]+: (unexpected outcome|expectation not met)$`),
	// A step's own operation returned an error, e.g. SQLITE_BUSY after R3's
	// three attempts, or a second hold_write_lock while one is held.
	regexp.MustCompile(`^[a-z_]+ failed: `),
	// advance_to an offset the scenario has already passed.
	regexp.MustCompile(`^advance_to \S+ is in the past: `),
	// The fuzz cap on simulated time (fuzzOptions).
	regexp.MustCompile(`^simulated-time limit reached: `),
	regexp.MustCompile(`^teardown: simulated-time limit reached: `),
}

func checkFuzzResult(t *testing.T, sc *scenario.Scenario, opts sim.Options, res *sim.Result) {
	t.Helper()
	if res == nil {
		t.Fatal("sim.Run returned nil")
	}
	if res.Name != sc.Name || res.Host != sim.HostNative || len(res.Digest) != 64 {
		t.Fatalf("malformed result: name %q host %q digest %q", res.Name, res.Host, res.Digest)
	}
	if res.StepsRun > len(sc.Steps) || res.SimDuration < 0 || res.SimDuration > opts.MaxSimTime {
		t.Fatalf("steps run %d of %d, simulated %v (limit %v)", res.StepsRun, len(sc.Steps), res.SimDuration, opts.MaxSimTime)
	}
	switch res.Status {
	case sim.Pass:
		if res.Failure != nil {
			t.Fatalf("passed with a failure: %+v", res.Failure)
		}
		if res.StepsRun != len(sc.Steps) {
			t.Fatalf("passed after %d of %d steps", res.StepsRun, len(sc.Steps))
		}
	case sim.Fail:
		if res.Failure == nil || res.Failure.Message == "" {
			t.Fatalf("failed without saying why: %+v", res.Failure)
		}
		// The loader must refuse what the store would: a run-time invalid
		// input means a bad scenario got past it (SPEC §4: nothing runs).
		if !strings.Contains(res.Failure.Message, reconcilers.ErrInvalidInput.Error()) {
			for _, re := range allowedFailure {
				if re.MatchString(res.Failure.Message) {
					return
				}
			}
		}
		var b strings.Builder
		harness.WriteFailure(&b, res, 20)
		t.Fatalf("the run failed in a way no scenario may make it fail:\n%s", b.String())
	default:
		t.Fatalf("status %q", res.Status)
	}
}
