package scenario_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ffsim/ffsim/internal/suggest"
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

// Text that reports echo cannot hold control characters: a name with a
// newline forged a "FAIL injected" line. Descriptions are prose and may
// hold newlines; a mark_worker_dead reason may hold anything (what the
// store does with a bad reason is what such a step tests).
func TestValidateRefusesControlCharacters(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mutate func(sc *scenario.Scenario)
		want   string
	}{
		{"newline in name", func(sc *scenario.Scenario) { sc.Name = "x\nFAIL injected" },
			"name: name contains the control character U+000A"},
		{"escape in name", func(sc *scenario.Scenario) { sc.Name = "x\x1b[31m" }, "name: name contains the control character U+001B"},
		{"line separator in name", func(sc *scenario.Scenario) { sc.Name = "x\u2028y" }, "U+2028"},
		{"bidi override in name", func(sc *scenario.Scenario) { sc.Name = "x\u202ey" }, "U+202E"},
		{"invalid UTF-8 in name", func(sc *scenario.Scenario) { sc.Name = "x\xffy" }, "name is not valid UTF-8"},
		{"escape in description", func(sc *scenario.Scenario) { sc.Description = "a\nb\x1b[2J" },
			"description: description contains the control character U+001B: only newlines and tabs"},
		{"newline in budget id", func(sc *scenario.Scenario) {
			sc.Budgets[0].ID = "b1\nx"
			sc.Steps[1].ReportUsage.Budget = "b1\nx"
		}, "budgets[0].id: id contains the control character U+000A"},
		{"newline in a usage dimension", func(sc *scenario.Scenario) { sc.Steps[1].ReportUsage.Usage["t\n"] = 1 },
			"steps[1].report_usage.usage: usage key contains the control character U+000A"},
		{"tab in expect_log", func(sc *scenario.Scenario) {
			sc.Steps = append(sc.Steps, scenario.Step{ExpectLog: &scenario.LogExpect{Level: "info", Contains: "a\tb"}})
		}, "steps[3].expect_log.contains: contains contains the control character U+0009"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := valid()
			tt.mutate(sc)
			err := sc.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
	sc := valid()
	sc.Description = "line one\n\tline two\r\n"
	sc.Steps = append(sc.Steps, scenario.Step{MarkWorkerDead: &scenario.MarkWorkerDeadStep{Instance: "i", Reason: "bad\x00reason\n"}})
	if err := sc.Validate(); err != nil {
		t.Errorf("a multi-line description and a reason with control characters: %v", err)
	}
}

// A long list of errors prints the first MaxErrorsShown and how many more.
func TestErrorsListIsCapped(t *testing.T) {
	sc := valid()
	for range 120 {
		sc.Steps = append(sc.Steps, scenario.Step{})
	}
	var es scenario.Errors
	if !errors.As(sc.Validate(), &es) || len(es) != 120 {
		t.Fatalf("want 120 errors, got %d", len(es))
	}
	lines := strings.Split(es.Error(), "\n")
	if len(lines) != scenario.MaxErrorsShown+1 || lines[len(lines)-1] != "… and 70 more errors" {
		t.Errorf("%d lines, last %q; want %d and the count of the rest", len(lines), lines[len(lines)-1], scenario.MaxErrorsShown+1)
	}
	if got := es[:scenario.MaxErrorsShown+1].Error(); !strings.HasSuffix(got, "\n… and 1 more error") {
		t.Errorf("one over the cap ends %q", got[max(0, len(got)-40):])
	}
	if got := es[:scenario.MaxErrorsShown].Error(); strings.Contains(got, "more error") {
		t.Errorf("a list at the cap says there are more: %q", got[max(0, len(got)-40):])
	}
}

// "Did you mean" work is bounded per validation: 10,000 references to
// unknown budgets, each one edit away from one of 1,000 declared budgets,
// get at most suggest.DefaultHints hints (unbounded, each of the 10,000
// compared itself with 256 candidates and rebuilt the sorted list of the
// 1,000 known ids: seconds).
func TestValidateHintsAreBounded(t *testing.T) {
	sc := &scenario.Scenario{Name: "many unknown budgets"}
	for i := range 1000 {
		sc.Budgets = append(sc.Budgets, scenario.Budget{ID: fmt.Sprintf("budget_%04d", i)})
	}
	for i := range 10_000 {
		sc.Steps = append(sc.Steps, scenario.Step{ResetBudget: &scenario.BudgetRef{Budget: fmt.Sprintf("budgte_%04d", i%256)}})
	}
	before := suggest.Cells()
	var es scenario.Errors
	if !errors.As(sc.Validate(), &es) || len(es) != 10_000 {
		t.Fatalf("want 10,000 errors, got %d", len(es))
	}
	hints := 0
	for _, e := range es {
		if strings.Contains(e.Msg, "did you mean") {
			hints++
		}
	}
	if hints == 0 || hints > suggest.DefaultHints {
		t.Errorf("%d hints for 10,000 unknown budgets, want between 1 and %d", hints, suggest.DefaultHints)
	}
	if cells, bound := suggest.Cells()-before, int64(suggest.DefaultHints*suggest.MaxCandidates*7*suggest.MaxLen); cells > bound {
		t.Errorf("computed %d edit-distance cells, want at most %d", cells, bound)
	}
}

// A position without a line (a failure of the whole run) is the file, not
// "file:0".
func TestPosString(t *testing.T) {
	for _, tt := range []struct {
		p    scenario.Pos
		want string
	}{
		{scenario.Pos{File: "a.yaml", Line: 3, Col: 5}, "a.yaml:3"},
		{scenario.Pos{File: "a.yaml"}, "a.yaml"},
		{scenario.Pos{Line: 3}, "line 3"},
	} {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}
