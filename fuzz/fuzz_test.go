package fuzz_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ffsim/ffsim/fuzz"
	"github.com/ffsim/ffsim/fuzz/gen"
	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/sim"
)

// FuzzGenerated drives the generator from the fuzzing engine's bytes, so
// that coverage guidance steers generation: every scenario must be valid,
// modellable, and pass on the native host (the simulator agrees with the
// model). Its seed corpus runs in plain `go test`:
//
//	go test ./fuzz -run '^$' -fuzz FuzzGenerated -fuzztime 5m
func FuzzGenerated(f *testing.F) {
	for _, seed := range []string{"", "\x00", "\x01\x02\x03", "\xff\xff\xff\xff", "spawn then shut down",
		"\x10\x80\x40\x20\x90\x33\x07\xee\x01\x55\xaa\x12\x34\x56\x78\x9a\xbc\xde\xf0"} {
		f.Add([]byte(seed))
	}
	h := sim.Native()
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := gen.GenerateBytes(data, gen.Options{})
		if err := sc.Validate(); err != nil {
			t.Fatalf("invalid scenario: %v", err)
		}
		v := fuzz.Check(context.Background(), h, sc, fuzz.OptionsFor(h))
		if v.Status != fuzz.Pass {
			text, _ := harness.Marshal(sc)
			t.Fatalf("%s: %v %v\n%s", v.Status, v.Err, v.Disagreement, text)
		}
	})
}

// cleanSeeds is how many seeds TestCleanRun checks: 400 (100 with
// -short), or FFSIM_FUZZ_SEEDS (the 10^4-seed run of docs/fuzzing.md).
func cleanSeeds(t *testing.T) uint64 {
	if s := os.Getenv("FFSIM_FUZZ_SEEDS"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if testing.Short() {
		return 100
	}
	return 400
}

// TestCleanRun: on the unmodified tree the simulator agrees with the model
// on every generated scenario (zero false alarms).
func TestCleanRun(t *testing.T) {
	n := cleanSeeds(t)
	sum := fuzz.Run(context.Background(), fuzz.RunOptions{
		Host: sim.Native(), FirstSeed: 1, Seeds: n, Parallel: 2,
		OnVerdict: func(v *fuzz.Verdict, _ *fuzz.Shrunk) {
			if v.Status != fuzz.Pass {
				t.Errorf("seed %d: %s: %v %v", v.Seed, v.Status, v.Err, v.Disagreement)
			}
		},
	})
	if sum.Seeds != int(n) || sum.Passed != int(n) {
		t.Errorf("summary %+v, want %d seeds passed", sum, n)
	}
}

// TestCheckIsDeterministic: the same seed gives the same verdict and the
// same trace.
func TestCheckIsDeterministic(t *testing.T) {
	h := sim.Native()
	for seed := uint64(1); seed <= 20; seed++ {
		a := fuzz.Check(context.Background(), h, gen.Generate(seed, gen.Options{}), fuzz.OptionsFor(h))
		b := fuzz.Check(context.Background(), h, gen.Generate(seed, gen.Options{}), fuzz.OptionsFor(h))
		if a.Status != b.Status || a.Result.Digest != b.Result.Digest {
			t.Fatalf("seed %d: %s %s vs %s %s", seed, a.Status, a.Result.Digest, b.Status, b.Result.Digest)
		}
	}
}

// TestAnnotateNumbersSteps: every step of an annotated scenario has the
// line of its index, and origin maps checks to the step they follow.
func TestAnnotateNumbersSteps(t *testing.T) {
	sc := gen.Generate(5, gen.Options{})
	a, origin, err := fuzz.Annotate(sc, fuzz.Options{Native: true, AllChecks: true})
	if err != nil {
		t.Fatal(err)
	}
	last := -1
	for i, st := range a.Steps {
		if st.Pos.Line != i+1 {
			t.Fatalf("step %d has line %d", i, st.Pos.Line)
		}
		if origin[i] < last || origin[i] >= len(sc.Steps) {
			t.Fatalf("step %d: origin %d after %d", i, origin[i], last)
		}
		last = origin[i]
		if !st.Kind().Info().Check && st.Kind() != sc.Steps[origin[i]].Kind() {
			t.Fatalf("step %d is %s, its origin %s", i, st.Kind(), sc.Steps[origin[i]].Kind())
		}
	}
	pruned, _, err := fuzz.Annotate(sc, fuzz.Options{Native: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(pruned.Steps) >= len(a.Steps) {
		t.Errorf("pruning kept %d of %d steps", len(pruned.Steps), len(a.Steps))
	}
}

// TestGeneratedMarshalLoads: what ffsim gen prints loads back.
func TestGeneratedMarshalLoads(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		text, err := harness.Marshal(gen.Generate(seed, gen.Options{}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := harness.LoadBytes("gen.yaml", []byte(fuzz.SchemaComment+"\n"+string(text))); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if !strings.Contains(string(text), "name: gen seed "+strconv.FormatUint(seed, 10)) {
			t.Fatalf("seed %d: no name", seed)
		}
	}
}
