//go:build !wasip1

package sim_test

// The benchmarks of issue 6: one workload, driven five ways, each row
// reporting wall-clock nanoseconds per simulated tick (ns/simtick) so rows
// that simulate different spans can be compared. docs/PERFORMANCE.md has the
// table, the command and the profiles.
//
// The workload: 100 budgets with one dimension each ("tokens", 10 used),
// all created at t=0 with reset_interval 60s; the budget_reset reconciler
// ticks every 1s from spawn at t=0. All 100 budgets fall due at once, at
// 60s; R1's batch of 20 spreads them over the ticks at 60s..64s, and since a
// reset schedules the next one from the tick's time, the five groups of 20
// stay on those five ticks of every minute. So each minute has 5 ticks that
// reset 20 budgets and 55 that find nothing due. Every row checks it did
// exactly that many resets (soakResets) and ticks, so the rows cannot drift
// apart silently.
//
// Every row's timed operation includes opening the store and creating the
// budgets, because the native row (one sim.Run) cannot exclude them. Natively
// that is 7-55 ms against seconds of ticking; on the wasm host it is ~2 s,
// which is why that row simulates a whole hour.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/ffsim/ffsim/reconcilers"
	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
	"github.com/ffsim/ffsim/sim/wasmhost"
)

// testWasmConfig is the wasm host configuration of the benchmarks: the
// default, with FFSIM_TEST_CACHE as the cache directory when set.
func testWasmConfig() wasmhost.Config {
	if d := os.Getenv("FFSIM_TEST_CACHE"); d != "" {
		return wasmhost.NewConfig().WithCacheDir(d)
	}
	return wasmhost.NewConfig()
}

const (
	soakBudgets       = 100
	soakCadence       = time.Second      // budget_reset interval
	soakResetInterval = 60 * time.Second // every budget's reset_interval
	soakBatch         = 20               // R1's batch size
	soakUsage         = 10               // tokens reported on each budget at t=0
)

// The span each row simulates. Slow rows simulate less; ns/simtick is what
// is compared. FFSIM_BENCH_SPAN (a duration) overrides them all, for a
// quick look or a profile.
var (
	rawSpan      = benchSpan(24 * time.Hour)
	nativeSpan   = benchSpan(24 * time.Hour)
	mockSpan     = benchSpan(10 * time.Minute) // Mock.Add sleeps ~2 ms of real time per tick
	synctestSpan = benchSpan(24 * time.Hour)
	wasmSpan     = benchSpan(time.Hour)
)

func benchSpan(def time.Duration) time.Duration {
	if v := os.Getenv("FFSIM_BENCH_SPAN"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d >= soakCadence {
			return d
		}
		panic("FFSIM_BENCH_SPAN=" + v + ": want a duration of at least 1s")
	}
	return def
}

var discard = slog.New(slog.DiscardHandler)

func soakBudgetID(i int) string { return fmt.Sprintf("b%03d", i) }

// soakTicks is the number of budget_reset ticks in span: the first is one
// period after spawn (S3), the last at span itself.
func soakTicks(span time.Duration) int { return int(span / soakCadence) }

// soakResets is the number of budget resets the workload does in span (see
// the file comment): group g of 20 is first reset at 60s+g·1s, then every
// 60s.
func soakResets(span time.Duration) int {
	total := 0
	for g := 0; g*soakBatch < soakBudgets; g++ {
		size := min(soakBatch, soakBudgets-g*soakBatch)
		first := soakResetInterval + time.Duration(g)*soakCadence
		if span >= first {
			total += size * (int((span-first)/soakResetInterval) + 1)
		}
	}
	return total
}

func soakSpec(i int) reconcilers.BudgetSpec {
	return reconcilers.BudgetSpec{
		ID:              soakBudgetID(i),
		Scope:           reconcilers.Scope{Type: "flow", ID: fmt.Sprintf("flow-%d", i)},
		EnforcementMode: "strict",
		OnHardLimit:     "fail",
		OnSoftLimit:     "warn",
		ResetInterval:   soakResetInterval,
		Dimensions:      []string{"tokens"},
		HardLimits:      []int64{1_000_000},
		SoftLimits:      []int64{0},
	}
}

// openSoakStore opens an in-memory store on clk holding the workload's
// budgets and usage, created at clk.Now().
func openSoakStore(tb testing.TB, clk reconcilers.Clock) *reconcilers.Store {
	tb.Helper()
	st, err := reconcilers.OpenMemory("", reconcilers.WithClock(clk), reconcilers.WithLogger(discard))
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	for i := range soakBudgets {
		if _, err := st.CreateBudget(ctx, soakSpec(i)); err != nil {
			tb.Fatal(err)
		}
		if _, err := st.ReportUsage(ctx, soakBudgetID(i), map[string]int64{"tokens": soakUsage}, ""); err != nil {
			tb.Fatal(err)
		}
	}
	return st
}

// soakScenario is the workload as a scenario: the budgets, the usage (one
// concurrently step, so the per-step invariant check runs once for all 100
// reports rather than 100 times), spawn, advance span, and a check that the
// ticks and resets happened.
func soakScenario(span time.Duration) *scenario.Scenario {
	sc := &scenario.Scenario{
		Name:       "bench soak",
		File:       "bench_soak.yaml",
		Start:      scenario.DefaultStart,
		Seed:       1,
		Supervisor: scenario.Supervisor{BudgetResetInterval: soakCadence},
	}
	var reports []scenario.Step
	for i := range soakBudgets {
		s := soakSpec(i)
		sc.Budgets = append(sc.Budgets, scenario.Budget{
			ID: s.ID, Scope: scenario.Scope{Type: s.Scope.Type, ID: s.Scope.ID}, EnforcementMode: s.EnforcementMode,
			OnHardLimit: s.OnHardLimit, OnSoftLimit: s.OnSoftLimit, ResetInterval: s.ResetInterval,
			Dimensions: map[string]scenario.Limits{"tokens": {Hard: s.HardLimits[0], Soft: s.SoftLimits[0]}},
		})
		reports = append(reports, scenario.Step{Pos: scenario.Pos{Line: 2}, ReportUsage: &scenario.ReportUsageStep{
			Budget: s.ID, Usage: map[string]int64{"tokens": soakUsage}}})
	}
	ticks, resets, zero, grace := soakTicks(span), soakResets(span), 0, time.Second
	sc.Steps = []scenario.Step{
		{Pos: scenario.Pos{Line: 1}, Concurrently: reports},
		{Pos: scenario.Pos{Line: 3}, Spawn: &scenario.SpawnStep{}},
		{Pos: scenario.Pos{Line: 4}, Advance: &span},
		{Pos: scenario.Pos{Line: 5}, ExpectTicks: []scenario.TicksExpect{{Pos: scenario.Pos{Line: 5}, Reconciler: "budget_reset",
			Count: &ticks, Processed: &resets, Errors: &zero}}},
		{Pos: scenario.Pos{Line: 6}, Shutdown: &scenario.ShutdownStep{Grace: grace},
			Expect: &scenario.Expect{Pos: scenario.Pos{Line: 7}, AnyOf: []scenario.Outcome{{TimedOut: &zero}}}},
	}
	return sc
}

// reportSoak reports the per-tick figures of a benchmark whose every
// operation simulated span.
func reportSoak(b *testing.B, span time.Duration) {
	ticks := soakTicks(span)
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(ticks)
	reportPerTick(b, ns, ticks)
}

func reportPerTick(b *testing.B, nsPerTick float64, ticks int) {
	b.ReportMetric(nsPerTick, "ns/simtick")
	b.ReportMetric(float64(ticks), "simticks")
	// Simulated time per unit of wall time: the "speed-up".
	b.ReportMetric(float64(soakCadence)/nsPerTick, "x-realtime")
}

// manualClock is the raw floor's clock: it reads what the loop set and
// never waits in this workload (waits only happen on SQLITE_BUSY retries).
type manualClock struct{ now time.Time }

func (c *manualClock) Now() time.Time { return c.now }
func (c *manualClock) WithTimeout(p context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(p, d)
}

// BenchmarkRawScanTick is the floor: the same scan/apply SQL work as every
// other row, with no supervisor, no goroutines and no simulator, just
// Store.ScanTick in a loop with now moving 1s per call.
func BenchmarkRawScanTick(b *testing.B) {
	ctx := context.Background()
	ticks, want := soakTicks(rawSpan), soakResets(rawSpan)
	for b.Loop() {
		clk := &manualClock{now: scenario.DefaultStart}
		st := openSoakStore(b, clk)
		processed := 0
		for i := 1; i <= ticks; i++ {
			clk.now = scenario.DefaultStart.Add(time.Duration(i) * soakCadence)
			rep, err := st.ScanTick(ctx, clk.now)
			if err != nil || rep.Errors != 0 {
				b.Fatalf("tick %d: %+v %v", i, rep, err)
			}
			processed += rep.Processed
		}
		if processed != want {
			b.Fatalf("%d resets, want %d", processed, want)
		}
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
	}
	reportSoak(b, rawSpan)
}

// BenchmarkNativeSoak is the product as users run it: the workload as a
// scenario, through sim.Run on the native host, with its trace, digest,
// fault hooks and per-step invariant checks.
func BenchmarkNativeSoak(b *testing.B) {
	sc := soakScenario(nativeSpan)
	for b.Loop() {
		if res := sim.Native().Run(context.Background(), sc, sim.Options{}); res.Status != sim.Pass {
			b.Fatalf("%+v", res.Failure)
		}
	}
	reportSoak(b, nativeSpan)
}

// parkSignalClock is a *clock.Mock that signals each time someone starts a
// wait on it. A hand-written mock-clock loop needs it to be race-free:
// after a tick the supervisor reads Now() and then registers its next
// timer; a Mock.Add that lands between the two moves time before the
// timer exists, so the timer is set a whole period late and the loop waits
// forever. benbjohnson/clock has no "wait until a timer is registered", so
// a careful user writes this; a careless one relies on Add's 1 ms sleeps.
type parkSignalClock struct {
	*clock.Mock
	parked chan struct{}
}

func (c *parkSignalClock) WithTimeout(p context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := c.Mock.WithTimeout(p, d)
	select {
	case c.parked <- struct{}{}:
	default:
	}
	return ctx, cancel
}

// BenchmarkMockClockSoak drives the same supervisor with benbjohnson/clock's
// Mock, tick by tick, as a user would by hand: Add(1s), wait for the tick
// to finish (observer channel) and for the supervisor to wait again. Mock
// sleeps 1 ms of real time after firing each timer and again at the end of
// each Add, so it simulates a shorter span.
func BenchmarkMockClockSoak(b *testing.B) {
	ticks, want := soakTicks(mockSpan), soakResets(mockSpan)
	for b.Loop() {
		mock := clock.NewMock()
		mock.Set(scenario.DefaultStart)
		clk := &parkSignalClock{Mock: mock, parked: make(chan struct{}, 1)}
		st := openSoakStore(b, mock)
		finished := make(chan reconcilers.Event, 1)
		sup, err := reconcilers.Spawn(st, reconcilers.Config{BudgetResetInterval: soakCadence},
			reconcilers.WithClock(clk), reconcilers.WithLogger(discard),
			reconcilers.WithObserver(func(e reconcilers.Event) {
				if e.Kind == reconcilers.EventTickFinished {
					finished <- e
				}
			}))
		if err != nil {
			b.Fatal(err)
		}
		<-clk.parked
		processed := 0
		for i := 1; i <= ticks; i++ {
			mock.Add(soakCadence)
			e := <-finished
			if e.Err != nil || e.Report.Errors != 0 || e.Tick != i {
				b.Fatalf("tick %d: %+v", i, e)
			}
			processed += e.Report.Processed
			<-clk.parked
		}
		if processed != want {
			b.Fatalf("%d resets, want %d", processed, want)
		}
		if n := sup.Shutdown(time.Second); n != 0 {
			b.Fatalf("shutdown timed out %d tasks", n)
		}
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
	}
	reportSoak(b, mockSpan)
}

// BenchmarkSynctestSoak runs the same supervisor on the real clock,
// clock.New(), inside a testing/synctest bubble, where time is fake and
// jumps forward whenever every goroutine in the bubble is blocked.
//
// synctest.Test needs a *testing.T and Go 1.26 has no other way into a
// bubble (synctest.Run is gone), so a benchmark cannot enter one itself.
// Instead it runs this test binary again, selecting only
// TestSynctestSoakChild, which runs b.N bubbles and prints the wall time
// they took, measured outside the bubbles with the real clock. That figure
// is reported as ns/op and ns/simtick; the child's process start is not in
// it.
//
// step=tick steps the bubble as a user checking every tick would:
// time.Sleep(1s) then synctest.Wait(), 86,400 times. step=span sleeps the
// whole span at once and lets the bubble run every tick (the cheapest use
// of a bubble, like the native host's single advance).
func BenchmarkSynctestSoak(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"tick", "span"} {
		b.Run("step="+mode, func(b *testing.B) {
			// The child gets this benchmark's GOMAXPROCS (-cpu) too.
			cmd := exec.Command(exe, "-test.run=^TestSynctestSoakChild$", "-test.count=1", "-test.v=false",
				"-test.cpu="+strconv.Itoa(runtime.GOMAXPROCS(0)))
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d,%s,%s", synctestChildEnv, b.N, mode, synctestSpan))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				b.Fatalf("child: %v\n%s%s", err, out, stderr.Bytes())
			}
			ns := int64(-1)
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), synctestResultPrefix); ok {
					ns, _ = strconv.ParseInt(v, 10, 64)
				}
			}
			if ns < 0 {
				b.Fatalf("child printed no %q line:\n%s%s", synctestResultPrefix, out, stderr.Bytes())
			}
			ticks := soakTicks(synctestSpan)
			b.ReportMetric(float64(ns)/float64(b.N), "ns/op")
			reportPerTick(b, float64(ns)/float64(b.N)/float64(ticks), ticks)
		})
	}
}

const (
	synctestChildEnv     = "FFSIM_BENCH_SYNCTEST_CHILD"
	synctestResultPrefix = "synctest-soak-ns "
)

// TestSynctestSoakChild is BenchmarkSynctestSoak's child process; it skips
// unless FFSIM_BENCH_SYNCTEST_CHILD is "N,MODE,SPAN". Run it by hand to
// profile the synctest row, e.g.
//
//	FFSIM_BENCH_SYNCTEST_CHILD=1,tick,24h go test -run '^TestSynctestSoakChild$' -cpuprofile /tmp/synctest.prof ./sim/
func TestSynctestSoakChild(t *testing.T) {
	spec := os.Getenv(synctestChildEnv)
	if spec == "" {
		t.Skip("the child process of BenchmarkSynctestSoak; set " + synctestChildEnv + "=N,tick|span,SPAN to run it")
	}
	parts := strings.Split(spec, ",")
	if len(parts) != 3 {
		t.Fatalf("%s=%q: want N,MODE,SPAN", synctestChildEnv, spec)
	}
	n, err := strconv.Atoi(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	mode := parts[1]
	span, err := time.ParseDuration(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	// SQLite's wasm module is compiled once per process; do it here, not in
	// the first bubble, as the other rows do it before their timed loops.
	if err := openSoakStore(t, clock.New()).Close(); err != nil {
		t.Fatal(err)
	}
	var total time.Duration
	for range n {
		t0 := time.Now()
		synctest.Test(t, func(t *testing.T) { soakInBubble(t, mode, span) })
		total += time.Since(t0)
	}
	fmt.Printf("%s%d\n", synctestResultPrefix, total.Nanoseconds())
}

// soakInBubble runs the workload inside a synctest bubble.
func soakInBubble(t *testing.T, mode string, span time.Duration) {
	clk := clock.New() // fake inside the bubble
	st := openSoakStore(t, clk)
	var ticks, processed, errs atomic.Int64
	sup, err := reconcilers.Spawn(st, reconcilers.Config{BudgetResetInterval: soakCadence},
		reconcilers.WithClock(clk), reconcilers.WithLogger(discard),
		reconcilers.WithObserver(func(e reconcilers.Event) {
			if e.Kind == reconcilers.EventTickFinished {
				ticks.Add(1)
				processed.Add(int64(e.Report.Processed))
				if e.Err != nil || e.Report.Errors != 0 {
					errs.Add(1)
				}
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "tick":
		for range soakTicks(span) {
			time.Sleep(soakCadence)
			synctest.Wait()
		}
	case "span":
		time.Sleep(span)
		synctest.Wait()
	default:
		t.Fatalf("mode %q: want tick or span", mode)
	}
	if got, want := ticks.Load(), int64(soakTicks(span)); got != want {
		t.Errorf("%d ticks, want %d", got, want)
	}
	if got, want := processed.Load(), int64(soakResets(span)); got != want {
		t.Errorf("%d resets, want %d", got, want)
	}
	if errs.Load() != 0 {
		t.Errorf("%d ticks failed", errs.Load())
	}
	if n := sup.Shutdown(time.Second); n != 0 {
		t.Errorf("shutdown timed out %d tasks", n)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkWasmSoak is the workload on the wasm host, warm: the host (guest
// build or cache lookup, wazero compilation) is created before the timed
// loop; each operation is one Run, i.e. a fresh guest instance, as `ffsim
// run --host wasm` does per scenario. Skipped with -short.
func BenchmarkWasmSoak(b *testing.B) {
	if testing.Short() {
		b.Skip("wasm host: skipped with -short (builds and compiles a wasip1 guest)")
	}
	for _, mode := range []struct {
		name    string
		inGuest bool
	}{{"sqlite=host", false}, {"sqlite=guest", true}} {
		b.Run(mode.name, func(b *testing.B) {
			ctx := context.Background()
			h, err := wasmhost.New(ctx, testWasmConfig().WithSQLiteInGuest(mode.inGuest))
			if err != nil {
				b.Fatalf("wasmhost.New: %v", err)
			}
			defer h.Close()
			sc := soakScenario(wasmSpan)
			for b.Loop() {
				if res := h.Run(ctx, sc, sim.Options{}); res.Status != sim.Pass {
					b.Fatalf("%+v", res.Failure)
				}
			}
			reportSoak(b, wasmSpan)
		})
	}
}
