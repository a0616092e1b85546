package scenario_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

func ptr[T any](v T) *T { return &v }

// valid is a small scenario every case below breaks in one way.
func valid() *scenario.Scenario {
	return &scenario.Scenario{
		Name:    "v",
		Budgets: []scenario.Budget{{ID: "b1", ResetInterval: time.Second}},
		Steps: []scenario.Step{
			{Spawn: &scenario.SpawnStep{}},
			{ReportUsage: &scenario.ReportUsageStep{Budget: "b1", Usage: map[string]int64{"t": 1}},
				Expect: &scenario.Expect{AnyOf: []scenario.Outcome{{Result: "ok"}}}},
			{Concurrently: []scenario.Step{{Close: &scenario.Empty{}}, {ScanTick: &scenario.Empty{}}}},
		},
	}
}

func TestValidAccepted(t *testing.T) {
	if err := valid().Validate(); err != nil {
		t.Fatal(err)
	}
}

// Each rule Validate enforces, broken once; the error must say what and
// where.
func TestValidateRules(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mutate func(sc *scenario.Scenario)
		want   string
	}{
		{"no name", func(sc *scenario.Scenario) { sc.Name = "" }, "the scenario needs a name"},
		{"two actions", func(sc *scenario.Scenario) { sc.Steps[0].Close = &scenario.Empty{} },
			`steps[0]: step has 2 actions ("spawn", "close"); write one action per step`},
		{"no action", func(sc *scenario.Scenario) { sc.Steps[0].Spawn = nil }, "steps[0]: step has no action"},
		{"nested concurrently", func(sc *scenario.Scenario) {
			sc.Steps[2].Concurrently[0] = scenario.Step{Concurrently: []scenario.Step{{Close: &scenario.Empty{}}}}
		}, "steps[2].concurrently[0]: concurrently cannot run inside concurrently"},
		{"advance in concurrently", func(sc *scenario.Scenario) {
			sc.Steps[2].Concurrently[1] = scenario.Step{Advance: ptr(time.Second)}
		}, "steps[2].concurrently[1]: advance cannot run inside concurrently"},
		{"check in concurrently", func(sc *scenario.Scenario) {
			sc.Steps[2].Concurrently[1] = scenario.Step{ExpectRunning: ptr(1)}
		}, "expect_running cannot run inside concurrently"},
		{"empty concurrently", func(sc *scenario.Scenario) { sc.Steps[2].Concurrently = []scenario.Step{} },
			"concurrently needs at least one step"},
		{"expect where none", func(sc *scenario.Scenario) {
			sc.Steps[2].Concurrently[0].Expect = &scenario.Expect{AnyOf: []scenario.Outcome{{Result: "ok"}}}
		}, `step "close" takes no expect`},
		{"expect on concurrently", func(sc *scenario.Scenario) {
			sc.Steps[2].Expect = &scenario.Expect{AnyOf: []scenario.Outcome{{}}}
		}, "concurrently takes no expect"},
		{"unknown outcome", func(sc *scenario.Scenario) { sc.Steps[1].Expect.AnyOf[0].Result = "okay" },
			`unknown report_usage outcome "okay" (did you mean "ok"?)`},
		{"wrong outcome field", func(sc *scenario.Scenario) { sc.Steps[1].Expect.AnyOf[0].TimedOut = ptr(0) },
			"report_usage's expect cannot give timed_out"},
		{"missing required", func(sc *scenario.Scenario) {
			sc.Steps[0].Expect = &scenario.Expect{AnyOf: []scenario.Outcome{{}}}
		}, `missing required key "installed"`},
		{"empty any_of", func(sc *scenario.Scenario) { sc.Steps[1].Expect.AnyOf = nil }, "any_of needs at least one alternative"},
		{"unknown budget", func(sc *scenario.Scenario) { sc.Steps[1].ReportUsage.Budget = "b2" },
			`unknown budget "b2" (did you mean "b1"?); declare it under budgets:`},
		{"duplicate budget", func(sc *scenario.Scenario) { sc.Budgets = append(sc.Budgets, scenario.Budget{ID: "b1"}) },
			`duplicate budget id "b1"`},
		{"sub-ms interval", func(sc *scenario.Scenario) { sc.Budgets[0].ResetInterval = 1500 * time.Microsecond },
			"reset_interval 1.5ms is not a whole number of milliseconds"},
		{"negative delta", func(sc *scenario.Scenario) { sc.Steps[1].ReportUsage.Usage["t"] = -1 }, "t must not be negative, got -1"},
		{"negative grace", func(sc *scenario.Scenario) {
			sc.Steps = append(sc.Steps, scenario.Step{Shutdown: &scenario.ShutdownStep{Grace: -time.Second}})
		}, "grace must not be negative"},
		{"zero tick", func(sc *scenario.Scenario) {
			sc.Steps = append(sc.Steps, scenario.Step{TickError: &scenario.TickErrorStep{}})
		}, "tick must be 1 or more, got 0"},
		{"unknown reconciler", func(sc *scenario.Scenario) {
			sc.Steps = append(sc.Steps, scenario.Step{TickError: &scenario.TickErrorStep{Reconciler: "budget_rest", Tick: 1}})
		}, `unknown reconciler "budget_rest" (did you mean "budget_reset"?)`},
		{"created later", func(sc *scenario.Scenario) {
			sc.Steps[1].ReportUsage.Budget = "b9"
			sc.Steps = append(sc.Steps, scenario.Step{CreateBudget: &scenario.Budget{ID: "b9"}})
		}, `unknown budget "b9"; it is created only by a later create_budget step`},
		{"created concurrently", func(sc *scenario.Scenario) {
			sc.Steps[2].Concurrently = []scenario.Step{
				{CreateBudget: &scenario.Budget{ID: "b9"}},
				{ResetBudget: &scenario.BudgetRef{Budget: "b9"}},
			}
		}, "it is created in the same concurrently step"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := valid()
			tt.mutate(sc)
			err := sc.Validate()
			var es scenario.Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("Validate() = %v, want Errors", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// Positions, when the loader set them, locate each error.
func TestValidateUsesPositions(t *testing.T) {
	sc := valid()
	sc.Steps[0].Pos = scenario.Pos{File: "f.yaml", Line: 7, Col: 5}
	sc.Steps[0].Close = &scenario.Empty{}
	err := sc.Validate()
	if err == nil || !strings.HasPrefix(err.Error(), "f.yaml:7:5: step has 2 actions") {
		t.Fatalf("Validate() = %v", err)
	}
}

// The registry and the Step type agree: every kind has a field, a name and
// a round trip through KindByName and Kind.
func TestRegistry(t *testing.T) {
	for _, k := range scenario.Kinds() {
		info := k.Info()
		if info.Name == "" || info.Doc == "" {
			t.Errorf("kind %d has no name or doc", k)
		}
		if got, ok := scenario.KindByName(info.Name); !ok || got != k {
			t.Errorf("KindByName(%q) = %v, %v", info.Name, got, ok)
		}
		if scenario.StepField(k) < 0 {
			t.Errorf("%s has no Step field", k)
		}
		if info.Check && info.Concurrent {
			t.Errorf("%s is both a check and an action", k)
		}
	}
	if got := (&scenario.Step{}).Kind(); got != scenario.Invalid {
		t.Errorf("empty step kind %v", got)
	}
}
