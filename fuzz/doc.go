// Package fuzz is ffsim's fuzzer (issue 13): it generates scenarios
// (package fuzz/gen), asks the reference model (package fuzz/model) what
// every step must produce, runs them on a host and reports where the
// simulator and the model disagree; a failing scenario is shrunk to a
// small one that fails the same way, and written out as a ready regression
// scenario.
//
//	check.go      Check: annotate one scenario, run it, judge it (Verdict)
//	classify.go   Disagreement and Signature: what failed, and what "the same failure" means
//	run.go        Run: many seeds on parallel workers, streamed verdicts
//	shrink.go     Shrink: the loop that keeps the smallest scenario still failing the same way
//	simplify.go   the candidate simplifications the shrinker tries
//	repro.go      Repro: the shrunk scenario as a commented YAML file
//
// A verdict is deterministic: the same seed, generator version and host
// give the same scenario, the same annotation and the same run.
package fuzz
