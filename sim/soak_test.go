package sim_test

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/sim"
)

// soakRuns is how many times TestSoakLibraryDigests runs each library
// scenario in a plain `go test ./...`; soakRunsRace is the count under the
// race detector, which makes a run ~15x slower. The full soak (issue 6:
// 100 runs) is a step of its own in .ci/run, with FFSIM_SOAK_RUNS=100,
// which overrides both: the README's test command stays quick.
const (
	soakRuns     = 10
	soakRunsRace = 5
)

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// TestSoakLibraryDigests is the determinism soak: every library scenario,
// soakRuns times on the native host, must pass every time with one and the
// same trace digest. It catches what a handful of runs does not: an order
// that depends on the Go scheduler once in a few dozen runs. Runs share the
// process (as `ffsim run` does) and one worker per core runs them, so runs
// overlap in time and contend for the CPU as in CI.
//
// At 100 runs it takes about 14 s on 2 cores; it is skipped with -short.
func TestSoakLibraryDigests(t *testing.T) {
	if testing.Short() {
		t.Skip("determinism soak: skipped with -short")
	}
	runs := soakRuns
	if raceEnabled() {
		runs = soakRunsRace
	}
	if v := os.Getenv("FFSIM_SOAK_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			t.Fatalf("FFSIM_SOAK_RUNS=%q: want an integer >= 2", v)
		}
		runs = n
	}
	scs, err := harness.LoadPaths([]string{"../scenarios"})
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) == 0 {
		t.Fatal("no library scenarios")
	}
	// Every goroutine a run starts (reconciler tasks, actors, the store's
	// pool) must be gone once the runs are over.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	type verdict struct {
		digest map[string]int // digest -> runs
		failed *sim.Result    // the first failed run
	}
	verdicts := make([]verdict, len(scs))
	for i := range verdicts {
		verdicts[i].digest = map[string]int{}
	}
	// (scenario, run) pairs, scenario-major, fed to one worker per core.
	type job struct{ sc, run int }
	jobs := make(chan job)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for j := range jobs {
				res := sim.Native().Run(context.Background(), scs[j.sc], sim.Options{})
				mu.Lock()
				v := &verdicts[j.sc]
				v.digest[res.Digest]++
				if res.Status != sim.Pass && v.failed == nil {
					v.failed = res
				}
				mu.Unlock()
			}
		})
	}
	for s := range scs {
		for r := range runs {
			jobs <- job{s, r}
		}
	}
	close(jobs)
	wg.Wait()
	t.Logf("%d scenarios × %d runs in %v", len(scs), runs, time.Since(start).Round(time.Millisecond))

	for i, sc := range scs {
		v := verdicts[i]
		if v.failed != nil {
			t.Errorf("%s (%s): failed in at least one run: %+v", sc.Name, sc.File, v.failed.Failure)
		}
		if len(v.digest) != 1 {
			t.Errorf("%s (%s): %d distinct digests over %d runs: %v", sc.Name, sc.File, len(v.digest), runs, v.digest)
		}
	}
}

// TestNativeRunsLeaveNoGoroutines: a native run, passed or failed, leaves
// nothing running: not the reconciler tasks, not the step actors, not the
// store's connection pool. Each library scenario runs once to the end and
// once cut short by a simulated-time limit at half its length, which fails
// it wherever it happens to be (mid-tick, mid-shutdown, a write lock held,
// a retry sleeping), so teardown is exercised from many states.
func TestNativeRunsLeaveNoGoroutines(t *testing.T) {
	scs, err := harness.LoadPaths([]string{"../scenarios"})
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs {
		t.Run(sc.Name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			full := sim.Native().Run(context.Background(), sc, sim.Options{})
			if full.Status != sim.Pass {
				t.Fatalf("%+v", full.Failure)
			}
			goleak.VerifyNone(t, ignore)
			if half := full.SimDuration / 2; half > 0 {
				cut := sim.Native().Run(context.Background(), sc, sim.Options{MaxSimTime: half})
				if cut.Status != sim.Fail || cut.Failure == nil {
					t.Fatalf("cut at %v of %v and still passed", half, full.SimDuration)
				}
				// A leak here means teardown gave up on actors still
				// parked on the clock past the limit (a retry sleep, a held
				// lock's release) and left the store they use open.
				if err := goleak.Find(ignore); err != nil {
					t.Errorf("run cut at %v (%s) leaked: %v", half, cut.Failure.Message, err)
				}
			}
		})
	}
}
