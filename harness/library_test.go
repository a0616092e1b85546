package harness_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/sim"
)

const library = "../scenarios"

// TestLibrary runs the built-in library as subtests, the way a user's own
// test suite would run theirs.
func TestLibrary(t *testing.T) {
	harness.RunDir(t, library)
}

// TestLibraryIsDeterministic: on the native host the same scenario and seed
// give a byte-identical trace. Each library scenario runs 20 times.
func TestLibraryIsDeterministic(t *testing.T) {
	scs, err := harness.LoadPaths([]string{library})
	if err != nil {
		t.Fatal(err)
	}
	runs := 20
	if testing.Short() {
		runs = 3
	}
	for _, sc := range scs {
		t.Run(sc.Name, func(t *testing.T) {
			first := sim.Native().Run(context.Background(), sc, sim.Options{})
			for i := 1; i < runs; i++ {
				if d := sim.Native().Run(context.Background(), sc, sim.Options{}).Digest; d != first.Digest {
					t.Fatalf("run %d digest %s, first run %s", i+1, d, first.Digest)
				}
			}
		})
	}
}

func writeScenario(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const base = `name: negative control
supervisor: {budget_reset_interval: 5s}
budgets:
  - id: b1
    scope: {type: flow, id: f}
    enforcement_mode: strict
    on_hard_limit: fail
    on_soft_limit: warn
    reset_interval: 10s
    dimensions: {tokens: {hard: 100, soft: 80}}
steps:
  - report_usage: {budget: b1, usage: {tokens: 50}}
  - spawn: {}
  - advance: 10s
`

// Negative controls: a scenario whose expectation is false must fail, at
// the expectation's line, and a correct one built the same way must pass.
func TestWrongExpectationFails(t *testing.T) {
	for _, c := range []struct {
		name, step string
		pass       bool
	}{
		{"right usage", "  - expect_budget: {b1: {usage: {tokens: 0}, next_reset_at: 20s}}\n", true},
		{"wrong usage", "  - expect_budget: {b1: {usage: {tokens: 50}}}\n", false},
		{"wrong schedule", "  - expect_budget: {b1: {next_reset_at: 15s}}\n", false},
		{"wrong tick count", "  - expect_ticks: {budget_reset: {count: 3}}\n", false},
		{"wrong any_of", "  - expect_budget: {b1: {any_of: [{usage: {tokens: 1}}, {usage: {tokens: 2}}]}}\n", false},
		// A step's own expect is reported at the expect's line.
		{"wrong outcome", "  - report_usage: {budget: b1, usage: {tokens: 500}}\n    expect: ok\n", false},
		{"wrong shutdown", "  - shutdown: {grace: 1s}\n    expect: {timed_out: 1}\n", false},
		{"wrong running", "  - expect_running: 0\n", false},
		{"wrong log", "  - expect_log: {level: warn, contains: tick failed}\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc, err := harness.LoadBytes("neg.yaml", []byte(base+c.step))
			if err != nil {
				t.Fatal(err)
			}
			res := sim.Native().Run(context.Background(), sc, sim.Options{})
			if (res.Status == sim.Pass) != c.pass {
				t.Fatalf("status %s, want pass=%v (failure: %+v)", res.Status, c.pass, res.Failure)
			}
			want := 15
			if strings.Contains(c.step, "expect:") {
				want = 16
			}
			if !c.pass && res.Failure.Pos.Line != want {
				t.Fatalf("failure at line %d, want %d: %+v", res.Failure.Pos.Line, want, res.Failure)
			}
		})
	}
}

// Malformed files are refused before anything runs, with file:line:col.
func TestMalformedScenarioRefused(t *testing.T) {
	p := writeScenario(t, "typo.yaml", base+"  - advnce: 5s\n")
	_, err := harness.Load(p)
	if err == nil {
		t.Fatal("a step name typo was accepted")
	}
	if !strings.Contains(err.Error(), p+":15:5:") || !strings.Contains(err.Error(), "advnce") {
		t.Fatalf("error %q does not name %s:15:5 and the step", err, p)
	}
}

func TestRunReportsFailure(t *testing.T) {
	sc, err := harness.LoadBytes("neg.yaml", []byte(base+"  - expect_budget: {b1: {usage: {tokens: 50}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	res := sim.Native().Run(context.Background(), sc, sim.Options{})
	var b strings.Builder
	harness.WriteFailure(&b, res, 5)
	for _, want := range []string{"neg.yaml:15", "expected: b1: {usage: {tokens: 50}}", "actual:   b1: {usage: {tokens: 0}}", "ffsim replay neg.yaml --seed native:0", "last 5 trace events"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
