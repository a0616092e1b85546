// Package testscenarios holds scenarios built in Go that several packages'
// tests run: SPEC §4's example and a deliberately racy shutdown.
package testscenarios

import (
	"time"

	"github.com/ffsim/ffsim/scenario"
)

func line(n int) scenario.Pos { return scenario.Pos{Line: n} }

func ptr[T any](v T) *T { return &v }

// SpecExample is SPEC §4's example scenario, built by hand (file
// example.yaml, seed 7; it ends at 10s).
func SpecExample() *scenario.Scenario {
	return &scenario.Scenario{
		Name:       "budget resets on cadence",
		File:       "example.yaml",
		Seed:       7,
		Supervisor: scenario.Supervisor{BudgetResetInterval: 5 * time.Second},
		Budgets: []scenario.Budget{{
			ID: "b1", Scope: scenario.Scope{Type: "flow", ID: "flow-1"}, EnforcementMode: "strict",
			OnHardLimit: "fail", OnSoftLimit: "warn", ResetInterval: 10 * time.Second,
			Dimensions: map[string]scenario.Limits{"tokens": {Hard: 1000, Soft: 800}},
		}},
		Steps: []scenario.Step{
			{Pos: line(17), ReportUsage: &scenario.ReportUsageStep{Budget: "b1", Usage: map[string]int64{"tokens": 200}, DedupKey: "r1"},
				Expect: &scenario.Expect{Pos: line(18), AnyOf: []scenario.Outcome{{Result: "ok"}}}},
			{Pos: line(19), Spawn: &scenario.SpawnStep{}},
			{Pos: line(20), Advance: ptr(9 * time.Second)},
			{Pos: line(21), ExpectBudget: []scenario.BudgetExpect{{Budget: "b1", Pos: line(21), AnyOf: []scenario.BudgetState{{
				Usage: map[string]int64{"tokens": 200}, NextResetAt: scenario.At(10 * time.Second)}}}}},
			{Pos: line(22), Advance: ptr(time.Second)},
			{Pos: line(23), ExpectBudget: []scenario.BudgetExpect{{Budget: "b1", Pos: line(23), AnyOf: []scenario.BudgetState{{
				Usage: map[string]int64{"tokens": 0}, NextResetAt: scenario.At(20 * time.Second), BreachCount: ptr(int64(0))}}}}},
			{Pos: line(24), Shutdown: &scenario.ShutdownStep{Grace: 2 * time.Second},
				Expect: &scenario.Expect{Pos: line(25), AnyOf: []scenario.Outcome{{TimedOut: ptr(0)}}}},
		},
	}
}

// RacyShutdown is S5's tie: tick 1 of budget_reset starts at t=5s and
// sleeps 2s inside its reset transaction; Shutdown(grace 2s) is issued at
// t=5s, so the task's commit and exit land on the grace deadline, t=7s,
// exactly. Whether it counts as drained (0) or aborted (1), and whether an
// aborted tick's reset was committed or rolled back, is the runtime's
// choice: on the wasm host, the seed's. A second due budget gives the tick
// a scheduling point after the first commit.
func RacyShutdown() *scenario.Scenario {
	budget := func(id string) scenario.Budget {
		return scenario.Budget{ID: id, Scope: scenario.Scope{Type: "flow", ID: "f-" + id}, EnforcementMode: "strict",
			OnHardLimit: "fail", OnSoftLimit: "warn", ResetInterval: 5 * time.Second,
			Dimensions: map[string]scenario.Limits{"tokens": {Hard: 1000}}}
	}
	report := func(n int, id string) scenario.Step {
		return scenario.Step{Pos: line(n), ReportUsage: &scenario.ReportUsageStep{Budget: id, Usage: map[string]int64{"tokens": 100}},
			Expect: &scenario.Expect{Pos: line(n), AnyOf: []scenario.Outcome{{Result: "ok"}}}}
	}
	either := func(n int, id string) scenario.Step {
		return scenario.Step{Pos: line(n), ExpectBudget: []scenario.BudgetExpect{{Budget: id, Pos: line(n), AnyOf: []scenario.BudgetState{
			{Usage: map[string]int64{"tokens": 0}, NextResetAt: scenario.At(10 * time.Second)},
			{Usage: map[string]int64{"tokens": 100}, NextResetAt: scenario.At(5 * time.Second)},
		}}}}
	}
	return &scenario.Scenario{
		Name:       "shutdown grace deadline lands on a slow tick's commit",
		File:       "racy.yaml",
		Seed:       1,
		Supervisor: scenario.Supervisor{BudgetResetInterval: 5 * time.Second},
		Budgets:    []scenario.Budget{budget("b1"), budget("b2")},
		Steps: []scenario.Step{
			report(10, "b1"),
			report(11, "b2"),
			{Pos: line(12), SlowTick: &scenario.SlowTickStep{Reconciler: scenario.BudgetReset, Tick: 1, Duration: 2 * time.Second, Where: scenario.InsideTx}},
			{Pos: line(13), Spawn: &scenario.SpawnStep{}},
			{Pos: line(14), Advance: ptr(5 * time.Second)},
			{Pos: line(15), Shutdown: &scenario.ShutdownStep{Grace: 2 * time.Second},
				Expect: &scenario.Expect{Pos: line(16), AnyOf: []scenario.Outcome{{TimedOut: ptr(0)}, {TimedOut: ptr(1)}}}},
			{Pos: line(17), ExpectRunning: ptr(0)},
			either(18, "b1"),
			either(19, "b2"),
		},
	}
}
