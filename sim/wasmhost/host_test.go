package wasmhost

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/ffsim/ffsim/internal/testscenarios"
	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The wasm host's tests build the guest once per test process (cached on
// disk across processes) and share one host. They are skipped with -short.

var (
	wasmOnce sync.Once
	wasmHost *Host
	wasmErr  error
	wasmNew  time.Duration // wall time of New in this process
)

// testConfig is the tests' configuration: the default, with
// FFSIM_TEST_CACHE as the cache directory when set.
func testConfig() Config {
	if d := os.Getenv("FFSIM_TEST_CACHE"); d != "" {
		return NewConfig().WithCacheDir(d)
	}
	return NewConfig()
}

func specExample() *scenario.Scenario  { return testscenarios.SpecExample() }
func racyShutdown() *scenario.Scenario { return testscenarios.RacyShutdown() }

func runNative(sc *scenario.Scenario) *sim.Result {
	return sim.Native().Run(context.Background(), sc, sim.Options{})
}

func testWasmHost(t testing.TB) *Host {
	t.Helper()
	if testing.Short() {
		t.Skip("wasm host: skipped with -short (builds and compiles a wasip1 guest)")
	}
	wasmOnce.Do(func() {
		t0 := time.Now()
		wasmHost, wasmErr = New(context.Background(), testConfig())
		wasmNew = time.Since(t0)
	})
	if wasmErr != nil {
		t.Fatalf("New: %v", wasmErr)
	}
	return wasmHost
}

func logWasmInfo(t testing.TB, h *Host) {
	i := h.Info()
	t.Logf("wasm host ready in %v: guest %s (%.1f MB), built=%v key=%v build=%v compile=%v",
		wasmNew.Round(time.Millisecond), filepath.Base(i.GuestPath), float64(i.GuestSize)/1e6, i.Built,
		i.KeyTime.Round(time.Millisecond), i.BuildTime.Round(time.Millisecond), i.CompileTime.Round(time.Millisecond))
}

// forSeeds runs sc once per seed on h, two runs at a time.
func forSeeds(t *testing.T, h *Host, sc *scenario.Scenario, seeds []uint64, env []string) []*sim.Result {
	t.Helper()
	out := make([]*sim.Result, len(seeds))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, s := range seeds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = h.run(context.Background(), sc, sim.Options{Seed: &s}, env)
		}()
	}
	wg.Wait()
	return out
}

func seedRange(from, n uint64) []uint64 {
	var s []uint64
	for i := range n {
		s = append(s, from+i)
	}
	return s
}

func mustPass(t *testing.T, res *sim.Result) {
	t.Helper()
	if res.Status != sim.Pass {
		t.Fatalf("seed %d: status %s: %+v\n%s", res.Seed, res.Status, res.Failure, dumpTrace(res.Trace))
	}
}

// SPEC §5: the spec example passes on the wasm host and ends in the same
// budget state as on the native host.
func TestWasmSpecExample(t *testing.T) {
	h := testWasmHost(t)
	logWasmInfo(t, h)
	t0 := time.Now()
	res := h.Run(context.Background(), specExample(), sim.Options{})
	t.Logf("one wasm run of the spec example: %v", time.Since(t0).Round(time.Millisecond))
	mustPass(t, res)
	if res.Host != sim.HostWasm {
		t.Errorf("host %q, want %q", res.Host, sim.HostWasm)
	}
	if res.SimDuration != 10*time.Second {
		t.Errorf("sim duration %v, want 10s", res.SimDuration)
	}
	native := runNative(specExample())
	mustPass(t, native)
	if !reflect.DeepEqual(res.Final, native.Final) {
		t.Errorf("final state differs:\nwasm:   %s\nnative: %s", jsonString(res.Final), jsonString(native.Final))
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// SPEC §5: same seed, byte-identical trace — 10 runs, two at a time.
func TestWasmSameSeedSameDigest(t *testing.T) {
	h := testWasmHost(t)
	for _, sc := range []*scenario.Scenario{specExample(), racyShutdown()} {
		seeds := make([]uint64, 10)
		for i := range seeds {
			seeds[i] = 3
		}
		res := forSeeds(t, h, sc, seeds, nil)
		for _, r := range res {
			mustPass(t, r)
			if r.Digest != res[0].Digest {
				t.Fatalf("%s: digest %s differs from %s", sc.Name, r.Digest, res[0].Digest)
			}
		}
		t.Logf("%s: seed 3 x10 -> %s", sc.Name, res[0].Digest[:16])
	}
}

// outcome summarises a racy run: Shutdown's timed_out and each budget's
// usage at the end.
func outcome(r *sim.Result) string {
	var parts []string
	for _, e := range r.Trace {
		if e.Kind == sim.EvShutdownReturned && e.Count != nil {
			parts = append(parts, fmt.Sprintf("timed_out=%d", *e.Count))
		}
	}
	for _, b := range r.Final {
		parts = append(parts, fmt.Sprintf("%s=%d", b.Budget, b.Usage["tokens"]))
	}
	return strings.Join(parts, " ")
}

func distinct(res []*sim.Result, key func(*sim.Result) string) map[string]int {
	m := map[string]int{}
	for _, r := range res {
		m[key(r)]++
	}
	return m
}

func keys(m map[string]int) []string {
	var ks []string
	for k, n := range m {
		ks = append(ks, fmt.Sprintf("%s (x%d)", k, n))
	}
	sort.Strings(ks)
	return ks
}

// SPEC §5: different seeds explore different interleavings.
func TestWasmRacySeedsDiverge(t *testing.T) {
	h := testWasmHost(t)
	t0 := time.Now()
	res := forSeeds(t, h, racyShutdown(), seedRange(1, 32), nil)
	t.Logf("32 seeds in %v", time.Since(t0).Round(time.Millisecond))
	for _, r := range res {
		mustPass(t, r)
	}
	digests := distinct(res, func(r *sim.Result) string { return r.Digest[:16] })
	outcomes := distinct(res, outcome)
	t.Logf("%d distinct digests over 32 seeds; outcomes: %s", len(digests), strings.Join(keys(outcomes), ", "))
	if len(digests) < 2 {
		t.Errorf("%d distinct digests over 32 seeds, want >= 2", len(digests))
	}
}

// The seeded perturbation (realWorld.yield) reaches outcomes that the
// unperturbed runtime, whose same-instant wake-ups follow timer-creation
// order whatever the seed, never does.
func TestWasmPerturbationReachesNewOutcomes(t *testing.T) {
	h := testWasmHost(t)
	off := forSeeds(t, h, racyShutdown(), seedRange(1, 32), []string{"FFSIM_GUEST_PERTURB=off"})
	on := forSeeds(t, h, racyShutdown(), seedRange(1, 32), nil)
	for _, r := range append(off, on...) {
		mustPass(t, r)
	}
	offOut, onOut := distinct(off, outcome), distinct(on, outcome)
	t.Logf("unperturbed: %s", strings.Join(keys(offOut), ", "))
	t.Logf("perturbed:   %s", strings.Join(keys(onOut), ", "))
	var fresh []string
	for k := range onOut {
		if offOut[k] == 0 {
			fresh = append(fresh, k)
		}
	}
	if len(fresh) == 0 {
		t.Errorf("perturbation reached no outcome the unperturbed runs did not")
	}
}

// A guest in which every goroutine blocks with no timer pending fails the
// run, saying deadlock, with the guest's stderr.
func TestWasmDeadlockFails(t *testing.T) {
	h := testWasmHost(t)
	res := h.run(context.Background(), specExample(), sim.Options{}, []string{"FFSIM_GUEST_SELFTEST=deadlock"})
	if res.Status != sim.Fail || res.Failure == nil {
		t.Fatalf("status %s, want fail", res.Status)
	}
	msg := res.Failure.Message
	if !strings.Contains(msg, "deadlock") || !strings.Contains(msg, "all goroutines are asleep") {
		t.Errorf("message %q does not say deadlock with the guest's stderr", msg)
	}
	if res.Host != sim.HostWasm || res.Name != specExample().Name || res.Seed != 7 {
		t.Errorf("result %+v", res)
	}
}

// A guest that computes forever fails at the wall-clock timeout: it is
// stopped at its next host call (here, reading the clock).
func TestWasmTimeoutFails(t *testing.T) {
	h := testWasmHost(t)
	short := *h
	short.cfg.timeout = 300 * time.Millisecond
	res := short.run(context.Background(), specExample(), sim.Options{}, []string{"FFSIM_GUEST_SELFTEST=busy"})
	if res.Status != sim.Error || res.Failure == nil || !strings.Contains(res.Failure.Message, "timed out") {
		t.Fatalf("want a timeout failure, got %s %+v", res.Status, res.Failure)
	}
}

// A guest that computes without ever calling the host cannot be stopped
// by a default host: the run reports it and abandons it. (The self-test
// stops on its own after a few seconds, so nothing is left behind.)
//
// The abandonment timer is a host goroutine, and a guest computing without
// host calls holds up any garbage collection that starts meanwhile (and
// with it every goroutine) until it ends. So the collector is finished and
// switched off first: otherwise whether the host gives up before the guest
// ends would depend on when the test binary last allocated.
func TestWasmAbandonsGuestThatNeverCallsTheHost(t *testing.T) {
	h := testWasmHost(t)
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	short := *h
	short.cfg.timeout = 100 * time.Millisecond
	short.abandonAfter = 200 * time.Millisecond
	res := short.run(context.Background(), specExample(), sim.Options{}, []string{"FFSIM_GUEST_SELFTEST=spinfor"})
	if res.Status != sim.Error || res.Failure == nil || !strings.Contains(res.Failure.Message, "did not stop") {
		t.Fatalf("want an abandoned-guest error, got %s %+v", res.Status, res.Failure)
	}
}

// An interruptible host stops even a guest that never calls it.
func TestWasmInterruptibleStopsPureComputation(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the guest a second time, with termination checks")
	}
	h, err := New(context.Background(), testConfig().WithInterruptible(true).WithTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	res := h.run(context.Background(), specExample(), sim.Options{}, []string{"FFSIM_GUEST_SELFTEST=spin"})
	if res.Status != sim.Error || res.Failure == nil || !strings.Contains(res.Failure.Message, "timed out") {
		t.Fatalf("want a timeout failure, got %s %+v", res.Status, res.Failure)
	}
}

// A guest whose simulated time runs away (sleeping forever) fails at the
// simulated-time limit instead of waiting for the wall-clock timeout.
func TestWasmSimTimeLimitFails(t *testing.T) {
	h := testWasmHost(t)
	res := h.run(context.Background(), specExample(), sim.Options{MaxSimTime: 24 * time.Hour}, []string{"FFSIM_GUEST_SELFTEST=sleep"})
	if res.Status != sim.Fail || res.Failure == nil || !strings.Contains(res.Failure.Message, "simulated-time limit") {
		t.Fatalf("want a simulated-time limit failure, got %s %+v", res.Status, res.Failure)
	}
}

// A caller's context ends the run.
func TestWasmContextCancelled(t *testing.T) {
	h := testWasmHost(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := h.Run(ctx, specExample(), sim.Options{})
	if res.Status != sim.Error || res.Failure == nil || !strings.Contains(res.Failure.Message, "stopped") {
		t.Fatalf("want a stopped run, got %s %+v", res.Status, res.Failure)
	}
}

// The guest receives the scenario as JSON: the round trip must not change
// it (checked on the native host).
func TestScenarioJSONRoundTrip(t *testing.T) {
	for _, sc := range []*scenario.Scenario{specExample(), racyShutdown()} {
		data, err := json.Marshal(sc)
		if err != nil {
			t.Fatal(err)
		}
		var back scenario.Scenario
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*sc, back) {
			t.Errorf("%s: scenario changed in a JSON round trip", sc.Name)
		}
		a, b := runNative(sc), runNative(&back)
		if a.Digest != b.Digest {
			t.Errorf("%s: digest changed in a JSON round trip", sc.Name)
		}
	}
}

// BenchmarkWasmRun is one warm wasm run of the spec example (a fresh guest
// instance each time); BenchmarkWasmRunNativeBaseline is the same scenario
// on the native host.
func BenchmarkWasmRun(b *testing.B) {
	h := testWasmHost(b)
	sc := specExample()
	for b.Loop() {
		if res := h.Run(context.Background(), sc, sim.Options{}); res.Status != sim.Pass {
			b.Fatalf("%+v", res.Failure)
		}
	}
}

func BenchmarkWasmRunNativeBaseline(b *testing.B) {
	sc := specExample()
	for b.Loop() {
		if res := runNative(sc); res.Status != sim.Pass {
			b.Fatalf("%+v", res.Failure)
		}
	}
}

// A guest that exhausts its memory limit fails, saying so.
func TestWasmOutOfMemoryFails(t *testing.T) {
	// Reuse the shared host's guest: the sources may have changed since.
	shared := testWasmHost(t)
	bin, err := os.ReadFile(shared.Info().GuestPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := shared.cfg
	cfg.memoryLimitPages = 512
	h := &Host{cfg: cfg, info: shared.info}
	if err := h.start(context.Background(), bin); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if res := h.Run(context.Background(), specExample(), sim.Options{}); res.Status != sim.Pass {
		t.Fatalf("32 MiB must be enough for the spec example: %+v", res.Failure)
	}
	res := h.run(context.Background(), specExample(), sim.Options{}, []string{"FFSIM_GUEST_SELFTEST=oom"})
	if res.Status != sim.Error || res.Failure == nil || !strings.Contains(res.Failure.Message, "out of memory") {
		t.Fatalf("want an out-of-memory failure, got %s %+v", res.Status, res.Failure)
	}
}

// BenchmarkWasmGuestStart is the fixed cost of one guest instance: wazero
// instantiation plus the Go runtime's and the packages' initialisation,
// with no scenario.
func BenchmarkWasmGuestStart(b *testing.B) {
	h := testWasmHost(b)
	for b.Loop() {
		h.run(context.Background(), specExample(), sim.Options{}, []string{"FFSIM_GUEST_SELFTEST=exit"})
	}
}

func dumpTrace(ev []sim.Event) string {
	var b strings.Builder
	for _, e := range ev {
		b.WriteString(e.T.String() + " " + string(e.Kind) + " " + e.Source + " " + e.Step + " " + e.Detail + " " + e.Err + "\n")
	}
	return b.String()
}

// BenchmarkWasmSeedPhases splits one explore seed's wall time into the
// phases of a guest run, for the racy library scenario and the spec
// example: start (wazero instantiation and the Go runtime's start, to the
// guest's main), decode (flags and the scenario's JSON), run (the engine:
// store, setup, steps, snapshots), encode (the result's JSON) and exit.
// Each is reported as ms/seed; their sum is the seed's cost.
func BenchmarkWasmSeedPhases(b *testing.B) {
	for _, c := range []struct {
		name string
		sc   *scenario.Scenario
	}{{"racy", racyShutdown()}, {"spec", specExample()}, {"empty", &scenario.Scenario{Name: "empty", File: "empty.yaml", Start: scenario.DefaultStart}}} {
		b.Run(c.name, func(b *testing.B) {
			h := *testWasmHost(b)
			var last time.Time
			var prev string
			spent := map[string]time.Duration{}
			h.phase = func(name string) {
				now := time.Now()
				if prev != "" {
					spent[prev+"→"+name] += now.Sub(last)
				}
				last, prev = now, name
			}
			seed := uint64(0)
			for b.Loop() {
				seed++
				s := seed
				prev = ""
				if res := h.Run(context.Background(), c.sc, sim.Options{Seed: &s}); res.Status != sim.Pass {
					b.Fatalf("%+v", res.Failure)
				}
			}
			for _, p := range []struct{ metric, span string }{
				{"start-ms", "instantiate→started"}, {"decode-ms", "started→decoded"},
				{"run-ms", "decoded→ran"}, {"encode-ms", "ran→encoded"}, {"exit-ms", "encoded→exited"},
			} {
				b.ReportMetric(float64(spent[p.span].Microseconds())/1000/float64(b.N), p.metric)
			}
		})
	}
}
