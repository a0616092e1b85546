// Package wasmhost is ffsim's wasm host: it runs scenarios as a GOOS=wasip1
// guest (package sim/wasmguest) inside wazero, with virtual time and
// seeded randomness, so that a shutdown race found once replays exactly
// (SPEC §5).
//
// The host owns the guest's clocks, its sleep and its random source. A
// single-threaded Go runtime calls poll_oneoff only when every goroutine
// is blocked, and asks for exactly the time until its earliest timer; the
// host advances the run's virtual clock by that amount and returns at
// once, so time skips to the next event and never past it. The random
// source is ChaCha8 keyed by the seed, so the runtime's own choices
// (select, map order) are fixed by the seed, and the engine perturbs
// scheduling from the seed at the reconcilers' hook points.
//
// [New] builds the guest with the local Go toolchain into a cache keyed by
// its sources (or finds it there) and compiles it once with wazero's
// compilation cache; each [Host.Run] instantiates a fresh guest from the
// compiled module. A Host implements [sim.Host].
package wasmhost
