//go:build !wasip1

package sim_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/ffsim/ffsim/reconcilers"
	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
)

// Driving the supervisor yourself on virtual time: the clock fires timers in
// order and knows, from the supervisor's events, when every task is idle
// again. Twenty-four hours of ticks take milliseconds.
func ExampleVirtualClock() {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vc := sim.NewVirtualClock(start)
	store, err := reconcilers.OpenMemory("", reconcilers.WithClock(vc))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ticks := 0
	sup, err := reconcilers.Spawn(store, reconcilers.Config{BudgetResetInterval: time.Minute},
		reconcilers.WithClock(vc),
		reconcilers.WithLogger(slog.New(slog.DiscardHandler)),
		reconcilers.WithObserver(func(e reconcilers.Event) {
			if e.Kind == reconcilers.EventTickFinished {
				ticks++ // ticks run one at a time on the virtual clock
			}
			vc.Observe(e) // the clock's books: which tasks are alive
		}))
	if err != nil {
		log.Fatal(err)
	}
	if err := vc.Advance(24 * time.Hour); err != nil {
		log.Fatal(err)
	}
	fmt.Println("ticks:", ticks)

	// Shutdown waits on the clock, so run it as a tracked goroutine and let
	// simulated time pass until it returns.
	var timedOut int
	if err := vc.RunUntil(vc.Go(func() { timedOut = sup.Shutdown(5 * time.Second) })); err != nil {
		log.Fatal(err)
	}
	fmt.Println("timed out:", timedOut, "at", vc.Now().Sub(start))
	// Output:
	// ticks: 1440
	// timed out: 0 at 24h0m0s
}

// Running a scenario built in Go on the native host.
func ExampleNative() {
	interval := 10 * time.Second
	sc := &scenario.Scenario{
		Name:       "resets on cadence",
		Supervisor: scenario.Supervisor{BudgetResetInterval: 5 * time.Second},
		Budgets: []scenario.Budget{{
			ID: "b1", ResetInterval: interval,
			Dimensions: map[string]scenario.Limits{"tokens": {Hard: 1000}},
		}},
		Steps: []scenario.Step{
			{Spawn: &scenario.SpawnStep{}},
			{Advance: &interval},
			{ExpectBudget: []scenario.BudgetExpect{{Budget: "b1", AnyOf: []scenario.BudgetState{{NextResetAt: scenario.At(20 * time.Second)}}}}},
		},
	}
	h := sim.Native()
	defer h.Close()
	res := h.Run(context.Background(), sc, sim.Options{})
	fmt.Println(res.Status, res.SimDuration, res.StepsRun)
	// Output: pass 10s 3
}
