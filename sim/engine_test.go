package sim

import (
	"strings"
	"testing"
	"time"
)

func dur(d time.Duration) *time.Duration { return &d }
func i64(v int64) *int64                 { return &v }
func intp(v int) *int                    { return &v }

// specExample is SPEC §4's example scenario, built by hand.
func specExample() *Scenario {
	return &Scenario{
		Name:       "budget resets on cadence",
		File:       "example.yaml",
		Start:      DefaultStart,
		Seed:       7,
		Supervisor: Supervisor{BudgetResetInterval: 5 * time.Second},
		Budgets: []Budget{{
			ID: "b1", ScopeType: "flow", ScopeID: "flow-1", EnforcementMode: "strict",
			OnHardLimit: "fail", OnSoftLimit: "warn", ResetInterval: 10 * time.Second,
			Dimensions: []Dimension{{Name: "tokens", Hard: 1000, Soft: 800}},
		}},
		Steps: []Step{
			{Pos: Pos{Line: 17}, ReportUsage: &ReportUsageStep{Budget: "b1", Usage: map[string]int64{"tokens": 200}, DedupKey: "r1"},
				Expect: &Expect{Pos: Pos{Line: 18}, AnyOf: []StepOutcome{{Result: "ok"}}}},
			{Pos: Pos{Line: 19}, Spawn: &SpawnStep{}},
			{Pos: Pos{Line: 20}, Advance: dur(9 * time.Second)},
			{Pos: Pos{Line: 21}, ExpectBudget: []BudgetExpect{{Budget: "b1", Pos: Pos{Line: 21}, AnyOf: []BudgetState{{
				Usage: map[string]int64{"tokens": 200}, NextResetAt: &Offset{At: 10 * time.Second}}}}}},
			{Pos: Pos{Line: 22}, Advance: dur(time.Second)},
			{Pos: Pos{Line: 23}, ExpectBudget: []BudgetExpect{{Budget: "b1", Pos: Pos{Line: 23}, AnyOf: []BudgetState{{
				Usage: map[string]int64{"tokens": 0}, NextResetAt: &Offset{At: 20 * time.Second}, BreachCount: i64(0)}}}}},
			{Pos: Pos{Line: 24}, Shutdown: &ShutdownStep{Grace: 2 * time.Second},
				Expect: &Expect{Pos: Pos{Line: 25}, AnyOf: []StepOutcome{{TimedOut: intp(0)}}}},
		},
	}
}

func TestRunSpecExample(t *testing.T) {
	res := Run(specExample(), Options{})
	if res.Status != Pass {
		t.Fatalf("status %s: %+v\n%s", res.Status, res.Failure, dumpTrace(res.Trace))
	}
	if res.SimDuration != 10*time.Second {
		t.Errorf("sim duration %v, want 10s", res.SimDuration)
	}
	again := Run(specExample(), Options{})
	if again.Digest != res.Digest {
		t.Errorf("digest differs between runs: %s vs %s", res.Digest, again.Digest)
	}
}

// A wrong expectation must fail, naming its line (negative control).
func TestRunWrongExpectationFails(t *testing.T) {
	sc := specExample()
	sc.Steps[5].ExpectBudget[0].AnyOf[0].NextResetAt = &Offset{At: 25 * time.Second}
	res := Run(sc, Options{})
	if res.Status != Fail || res.Failure == nil {
		t.Fatalf("status %s, want fail", res.Status)
	}
	if res.Failure.Pos.Line != 23 || !strings.Contains(res.Failure.Actual, "next_reset_at: 20s") {
		t.Errorf("failure %+v", res.Failure)
	}
}

func dumpTrace(ev []Event) string {
	var b strings.Builder
	for _, e := range ev {
		b.WriteString(e.T.String() + " " + e.Kind + " " + e.Source + " " + e.Step + " " + e.Detail + " " + e.Err + "\n")
	}
	return b.String()
}
