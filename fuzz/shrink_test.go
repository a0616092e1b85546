package fuzz_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/ffsim/ffsim/fuzz"
	"github.com/ffsim/ffsim/fuzz/gen"
	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
)

// buggyHost stands for a simulator with a planted bug, without building
// one: it fails a run at its first scan_tick that comes after a
// report_usage, as a scan that resets a budget it should not would.
// Otherwise it passes.
type buggyHost struct{}

func (buggyHost) Name() string { return sim.HostNative }
func (buggyHost) Close() error { return nil }

func (buggyHost) Run(_ context.Context, sc *scenario.Scenario, _ sim.Options) *sim.Result {
	reported := false
	for i := range sc.Steps {
		group := []scenario.Step{sc.Steps[i]}
		if c := sc.Steps[i].Concurrently; c != nil {
			group = c
		}
		for _, st := range group {
			if st.ScanTick != nil && reported {
				return &sim.Result{Name: sc.Name, Host: sim.HostNative, Status: sim.Fail, StepsRun: i + 1,
					Failure: &sim.Failure{Pos: st.Pos, Step: "scan_tick", Message: "scan_tick: unexpected outcome",
						Expected: "{processed: 0, errors: 0}", Actual: "{processed: 1, errors: 0}"}}
			}
			reported = reported || st.ReportUsage != nil
		}
	}
	return &sim.Result{Name: sc.Name, Host: sim.HostNative, Status: sim.Pass, StepsRun: len(sc.Steps)}
}

// failingSeed finds a seed the buggy host fails, with a scenario of at
// least min steps.
func failingSeed(t *testing.T, min int) (uint64, *fuzz.Verdict) {
	t.Helper()
	for seed := uint64(1); seed < 500; seed++ {
		sc := gen.Generate(seed, gen.Options{})
		if len(sc.Steps) < min {
			continue
		}
		if v := fuzz.Check(context.Background(), buggyHost{}, sc, fuzz.Options{Native: true}); v.Status == fuzz.Fail {
			return seed, v
		}
	}
	t.Fatal("no seed fails on the buggy host")
	return 0, nil
}

// TestShrink: a failure shrinks to the two steps that show it, with one
// plainly named budget, and the same signature; its file names the seed,
// loads, and fails the same way on the buggy host.
func TestShrink(t *testing.T) {
	seed, v := failingSeed(t, 12)
	if got := v.Disagreement.Signature(); got != "scan_tick / processed" {
		t.Fatalf("signature %q", got)
	}
	s := fuzz.Shrink(context.Background(), buggyHost{}, v, fuzz.ShrinkOptions{})
	sc := s.Verdict.Scenario
	if s.Steps() != 2 || sc.Steps[0].ReportUsage == nil || sc.Steps[1].ScanTick == nil {
		text, _ := harness.Marshal(sc)
		t.Fatalf("shrunk to %d steps, want report_usage then scan_tick:\n%s", s.Steps(), text)
	}
	if len(sc.Budgets) != 1 || sc.Budgets[0].ID != "b1" || sc.Steps[0].ReportUsage.Budget != "b1" {
		t.Errorf("budgets %+v: want one, named b1", sc.Budgets)
	}
	if s.Verdict.Disagreement.Signature() != v.Disagreement.Signature() {
		t.Errorf("signature changed: %s", s.Verdict.Disagreement.Signature())
	}
	file := string(s.File)
	for _, want := range []string{fuzz.SchemaComment, "--first-seed " + itoa(seed), "generator version", "scan_tick / processed", "expected: {processed: 0, errors: 0}"} {
		if !strings.Contains(file, want) {
			t.Errorf("the file does not say %q:\n%s", want, file)
		}
	}
	loaded, err := harness.LoadBytes("shrunk.yaml", s.File)
	if err != nil {
		t.Fatalf("%v\n%s", err, file)
	}
	res := buggyHost{}.Run(context.Background(), loaded, sim.Options{})
	if res.Status != sim.Fail {
		t.Fatalf("the file passes on the buggy host:\n%s", file)
	}
	// The header's line number is the file's.
	line := strings.Split(file, "\n")[res.Failure.Pos.Line-1]
	if !strings.Contains(line, "scan_tick") || !strings.Contains(file, "at line "+itoa(uint64(res.Failure.Pos.Line))) {
		t.Errorf("the header names another line than %d (%q):\n%s", res.Failure.Pos.Line, line, file)
	}
}

// TestShrinkKeepsTheSignature: a candidate that fails another way is not
// kept, however small.
func TestShrinkKeepsTheSignature(t *testing.T) {
	_, v := failingSeed(t, 8)
	v.Disagreement.Class = "errors" // pretend the original differed in errors
	s := fuzz.Shrink(context.Background(), buggyHost{}, v, fuzz.ShrinkOptions{MaxChecks: 50})
	if s.Verdict != v {
		t.Errorf("kept a candidate failing with %s, not %s", s.Verdict.Disagreement.Signature(), v.Disagreement.Signature())
	}
}

// TestRunShrinksFirstOfEachSignature: Run shrinks the first failure of a
// signature, not the next ones, and stops at MaxFailures.
func TestRunShrinksFirstOfEachSignature(t *testing.T) {
	var shrunk, unshrunk int
	sum := fuzz.Run(context.Background(), fuzz.RunOptions{
		Host: buggyHost{}, FirstSeed: 1, Seeds: 200, Parallel: 1, MaxFailures: 3,
		Shrink: &fuzz.ShrinkOptions{MaxChecks: 200},
		OnVerdict: func(v *fuzz.Verdict, s *fuzz.Shrunk) {
			switch {
			case v.Status == fuzz.Fail && s != nil:
				shrunk++
			case v.Status == fuzz.Fail:
				unshrunk++
			}
		},
	})
	if sum.Failed != 3 || shrunk != 1 || unshrunk != 2 || len(sum.Signatures) != 1 || sum.FirstFailure <= 0 {
		t.Errorf("summary %+v, %d shrunk, %d not", sum, shrunk, unshrunk)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
