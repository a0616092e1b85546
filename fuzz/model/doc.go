// Package model is an independent, executable model of ffsim's contract
// (SPEC S1–S7, R1–R5, R3b, W1–W5) used as the oracle of the fuzzer: given a
// scenario, [Annotate] predicts what every step must produce and writes it
// into the scenario as expectations.
//
// It is written from SPEC and the scenario format alone, never from the
// reconcilers, the simulator or the harness, so that their bugs cannot leak
// into it. It is plain Go: no SQL, no goroutines.
//
// # How it works
//
// A [world] is one possible history of the system under test: the budget
// store, the worker registry, the supervisor and its tasks, the armed
// faults, the write lock, and the processes that are waiting for something
// (a reconciler task between ticks, a tick stuck in a slow fault, a write
// polling for the lock, a Shutdown waiting out its grace). Processes are
// explicit state machines, so a world can be cloned at any instant.
//
// Time is event-driven: the model jumps from one timer to the next (SPEC
// §5: timers due at the same instant fire one at a time and the world runs
// to idle after each), never millisecond by millisecond.
//
// Where SPEC leaves the outcome open, the model forks: the order of a
// concurrently group, the order of timers due at one instant (the wasm host
// lets the seed decide; [Options.Native] keeps only the native host's
// creation order), on the wasm host whether a write at an instant meets
// another transaction of that instant still open, and a few details SPEC
// does not fix (listed in
// DISAGREEMENTS.md and on the functions that fork). It follows every fork
// and merges worlds that reach the same state, so a step's prediction is
// the set of outcomes over all worlds: an any_of.
//
// # Files, by SPEC item
//
//	supervisor.go   S1 config, S2 spawn, S3 loop, S4 Delay, S5 shutdown and abort, S6 close, S7 tallies
//	tick_reset.go   R1 scan, R2 apply, R4 report (budget_reset's tick)
//	budget.go       R5 create_budget, report_usage and dedup, reset_budget, status
//	writetx.go      R3 retry and R3b busy wait: how a write gets the lock
//	inflight.go     the wasm host: a write meeting another's transaction still open
//	workers.go      W1 register, W2 heartbeat, W3 mark dead, W5 list
//	tick_sweep.go   W4 the TTL sweep's tick
//	faults.go       busy, db_error, slow_tick, tick_error, hold_write_lock
//	ops.go          the scenario's action steps as actors
//	world.go        the world, its processes and timers
//	explore.go      forks (choices) and merging worlds
//	predict.go      turning worlds into expectations
//	annotate.go     Annotate, Options, check insertion
package model
