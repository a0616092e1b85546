package fuzz_test

import (
	"context"
	"testing"

	"github.com/ffsim/ffsim/fuzz"
	"github.com/ffsim/ffsim/fuzz/gen"
	"github.com/ffsim/ffsim/sim"
)

// BenchmarkCheckGenerated is one fuzz check on the native host, as ffsim
// fuzz does it: generate a scenario from the next seed, annotate it with the
// model, run it and compare. Its inverse is the single-worker throughput.
func BenchmarkCheckGenerated(b *testing.B) {
	h := sim.Native()
	opts := fuzz.OptionsFor(h)
	seed := uint64(0)
	for b.Loop() {
		seed++
		if v := fuzz.Check(context.Background(), h, gen.Generate(seed, gen.Options{}), opts); v.Status != fuzz.Pass {
			b.Fatalf("seed %d: %s %v", seed, v.Status, v.Err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "scenarios/s")
}
