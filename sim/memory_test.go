package sim

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// A run's memory does not grow with simulated time: a day of 1s ticks,
// each failing and logging, holds no more live heap at its end than after
// its first hours. (Keeping the whole trace did: ~170,000 events.)
// It measures live heap after a forced GC, not time, so it is not a timing
// test; the bound is loose (twice the early figure plus 2 MiB) because the
// only growth it must catch is proportional to the run's length.
func TestRunMemoryDoesNotGrowWithSimulatedTime(t *testing.T) {
	if testing.Short() || raceBuild() {
		t.Skip("simulates a day of ticks (seconds natively, minutes under -race)")
	}
	hour := time.Hour
	sc := &scenario.Scenario{
		Name: "day of ticks", File: "memory.yaml", Start: scenario.DefaultStart,
		Supervisor: scenario.Supervisor{BudgetResetInterval: time.Second, WorkerRegistryTTLInterval: time.Second},
		Budgets:    []scenario.Budget{{ID: "b1", ResetInterval: time.Second, Dimensions: map[string]scenario.Limits{"tokens": {Hard: 10}}}},
	}
	sc.Steps = append(sc.Steps, scenario.Step{Pos: scenario.Pos{Line: 1}, Spawn: &scenario.SpawnStep{}})
	for i := range 24 {
		sc.Steps = append(sc.Steps, scenario.Step{Pos: scenario.Pos{Line: 2 + i}, Advance: &hour})
	}
	var heap []uint64
	testHookAfterStep = func() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap = append(heap, ms.HeapAlloc)
	}
	defer func() { testHookAfterStep = nil }()
	res := Native().Run(context.Background(), sc, Options{})
	if res.Status != Pass {
		t.Fatalf("%s: %+v", res.Status, res.Failure)
	}
	if res.Events < 2*86400 || len(res.Trace) > DefaultTraceTail {
		t.Fatalf("%d events, %d kept: want a day of ticks and the default tail", res.Events, len(res.Trace))
	}
	early, end := heap[3], heap[len(heap)-1]
	t.Logf("live heap after 2h %d KiB, after 24h %d KiB (%d events)", early>>10, end>>10, res.Events)
	if end > 2*early+2<<20 {
		t.Errorf("live heap grew from %d KiB after 2h to %d KiB after 24h", early>>10, end>>10)
	}
}

// raceBuild reports whether the test binary was built with -race.
func raceBuild() bool {
	bi, _ := debug.ReadBuildInfo()
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
