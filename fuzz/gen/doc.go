// Package gen generates random, valid ffsim scenarios for the fuzzer
// (issue 13): [Generate] turns a seed into a scenario, deterministically
// (the same seed and [Version] give the same scenario).
//
// A generated scenario has no expectations: the fuzzer asks the reference
// model (package fuzz/model) what every step must produce and checks the
// simulator against that. So the generator's only jobs are to produce
// scenarios that are valid, that the model can interpret, and that are
// interesting: most of what it does is aim steps at the instants where two
// things happen at once (a tick and a budget's reset, a grace deadline and
// a slow tick's end, a lock release and a busy-wait poll, a worker's expiry
// and a sweep) and at the boundaries SPEC draws (strict and non-strict
// comparisons, the batch of 20, a reason of 256 bytes).
//
// It keeps a rough view of the world as it goes ([state]): the bounds of the
// current simulated time, the supervisor's schedule, the budgets, the
// workers and the armed faults. That view is only used to aim; it is never
// a prediction.
//
// # Files
//
//	gen.go          Generate, Options, Version, the main loop and the weights
//	rand.go         the random source (a PCG from a seed, or fuzzer bytes)
//	state.go        the generator's rough view of the world
//	time.go         advances aimed at tie instants
//	budgets.go      budgets, usage reports, admin steps and scan ticks
//	supervisor.go   spawn, shutdown, close and tick faults
//	workers.go      the worker registry around TTL boundaries
//	faults.go       busy, db_error and hold_write_lock
//	macros.go       short sequences that set up a race
//	concurrent.go   concurrently groups
package gen
