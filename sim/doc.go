// Package sim runs ffsim scenarios against the reconcilers port on
// simulated time, deterministically.
//
// A [Host] runs a [scenario.Scenario] and returns a [Result]. [Native]
// runs it in this process on a [VirtualClock]: an event-driven clock that
// fires one timer at a time, in deadline then creation order, and runs the
// world to idle after each, so a scenario and a seed give a byte-identical
// trace. The wasm host (package sim/wasmhost) runs the same engine as a
// GOOS=wasip1 guest inside wazero, where the host owns the guest's clocks,
// sleep and randomness, so the Go runtime's own scheduling choices are
// fixed by the seed too.
//
// How `advance: 5s` becomes time passing: the engine's advance step calls
// [VirtualClock.AdvanceTo], which fires every pending timer due by the
// target in order (a reconciler task's wait for its next tick is such a
// timer), waiting after each until every tracked goroutine is parked on
// the clock again, and then sets the clock to the target.
//
// A run is bounded whatever its scenario asks: its memory does not grow
// with simulated time (the trace is hashed as it is recorded and only a
// tail is kept, see [Options.TraceTail]), simulated time stops at
// [Options.MaxSimTime], and the number of trace events at
// [Options.MaxEvents], past which the run fails at the step that was
// running. Counts and durations that add up (two faults on one tick, the
// largest durations a scenario can write) saturate rather than wrap.
//
// The engine is split by concern: engine.go runs the steps and owns the
// run's lifecycle, actions.go performs each kind of step, faults.go arms
// and serves the fault steps through the reconcilers' hooks, tally.go
// keeps the books of the supervisor's lifecycle events, expect.go matches
// expectations and renders their diffs, and invariants.go checks what must
// hold after every step.
package sim
