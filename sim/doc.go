// Package sim runs ffsim scenarios against the reconcilers port on simulated
// time, deterministically.
//
// The native host ([Run] with [Native]) drives the supervisor with an
// event-driven virtual clock: it fires one timer at a time, in deadline then
// creation order, and runs the world to idle after each, so a scenario and a
// seed give a byte-identical trace. The wasm host runs the same engine as a
// GOOS=wasip1 guest inside wazero, where the host owns the guest's clocks,
// sleep and randomness, so the Go runtime's own scheduling choices are fixed
// by the seed too.
package sim
