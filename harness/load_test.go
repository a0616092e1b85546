package harness

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ffsim/ffsim/sim"
)

func p[T any](v T) *T { return &v }

func at(file string) func(line, col int) sim.Pos {
	return func(line, col int) sim.Pos { return sim.Pos{File: file, Line: line, Col: col} }
}

// TestLoadSpecExample checks SPEC §4's example, verbatim, loads into the
// expected scenario.
func TestLoadSpecExample(t *testing.T) {
	const file = "testdata/ok/spec_example.yaml"
	pos := at(file)
	want := &sim.Scenario{
		Name:        "budget resets on cadence",
		Description: "usage is zeroed when the schedule lapses",
		File:        file,
		Start:       sim.DefaultStart,
		Seed:        7,
		Supervisor:  sim.Supervisor{BudgetResetInterval: 5 * time.Second},
		Budgets: []sim.Budget{{
			Pos: pos(8, 5), ID: "b1", ScopeType: "flow", ScopeID: "flow-1",
			EnforcementMode: "strict", OnHardLimit: "fail", OnSoftLimit: "warn",
			ResetInterval: 10 * time.Second,
			Dimensions:    []sim.Dimension{{Name: "tokens", Hard: 1000, Soft: 800}},
		}},
		Steps: []sim.Step{
			{
				Pos:         pos(17, 5),
				ReportUsage: &sim.ReportUsageStep{Budget: "b1", Usage: map[string]int64{"tokens": 200}, DedupKey: "r1"},
				Expect:      &sim.Expect{Pos: pos(18, 5), AnyOf: []sim.StepOutcome{{Result: "ok"}}},
			},
			{Pos: pos(19, 5), Spawn: &sim.SpawnStep{}},
			{Pos: pos(20, 5), Advance: p(9 * time.Second)},
			{Pos: pos(21, 5), ExpectBudget: []sim.BudgetExpect{{
				Pos: pos(21, 21), Budget: "b1",
				AnyOf: []sim.BudgetState{{Usage: map[string]int64{"tokens": 200}, NextResetAt: &sim.Offset{At: 10 * time.Second}}},
			}}},
			{Pos: pos(22, 5), Advance: p(time.Second)},
			{Pos: pos(23, 5), ExpectBudget: []sim.BudgetExpect{{
				Pos: pos(23, 21), Budget: "b1",
				AnyOf: []sim.BudgetState{{Usage: map[string]int64{"tokens": 0}, NextResetAt: &sim.Offset{At: 20 * time.Second}, BreachCount: p(int64(0))}},
			}}},
			{
				Pos:      pos(24, 5),
				Shutdown: &sim.ShutdownStep{Grace: 2 * time.Second},
				Expect:   &sim.Expect{Pos: pos(25, 5), AnyOf: []sim.StepOutcome{{TimedOut: p(0)}}},
			},
		},
	}
	got, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load(%s) mismatch (-want +got):\n%s", file, diff)
	}
}

func TestLoadMinimal(t *testing.T) {
	const file = "testdata/ok/minimal.yaml"
	want := &sim.Scenario{Name: "minimal", File: file, Start: sim.DefaultStart, Steps: []sim.Step{}}
	got, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load(%s) mismatch (-want +got):\n%s", file, diff)
	}
}

// TestLoadAllSteps checks every step kind, expect shape, any_of form and
// null offset, with positions.
func TestLoadAllSteps(t *testing.T) {
	const file = "testdata/ok/all_steps.yaml"
	pos := at(file)
	outcomes := func(line int, os ...sim.StepOutcome) *sim.Expect {
		return &sim.Expect{Pos: pos(line, 5), AnyOf: os}
	}
	b1 := func(p sim.Pos, dims ...sim.Dimension) *sim.Budget {
		return &sim.Budget{
			Pos: p, ID: "b1", ScopeType: "flow", ScopeID: "flow-1",
			EnforcementMode: "strict", OnHardLimit: "fail", OnSoftLimit: "warn",
			ResetInterval: 10 * time.Second, Dimensions: dims,
		}
	}
	want := &sim.Scenario{
		Name:        "all steps",
		Description: "Exercises the whole format.\n",
		File:        file,
		Start:       time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC),
		Seed:        18446744073709551615,
		Supervisor:  sim.Supervisor{BudgetResetInterval: 90 * time.Second},
		Budgets: []sim.Budget{*b1(pos(10, 5),
			sim.Dimension{Name: "bytes"},
			sim.Dimension{Name: "calls", Hard: 5},
			sim.Dimension{Name: "tokens", Hard: 1000, Soft: 800},
		)},
		Steps: []sim.Step{
			{Pos: pos(21, 5), Spawn: &sim.SpawnStep{}, Expect: outcomes(22, sim.StepOutcome{Installed: p(true)})},
			{Pos: pos(23, 5), Spawn: &sim.SpawnStep{BudgetResetInterval: p(time.Duration(0))}, Expect: outcomes(24, sim.StepOutcome{Installed: p(false)})},
			{Pos: pos(25, 5), Advance: p(250 * time.Millisecond)},
			{Pos: pos(26, 5), AdvanceTo: p(time.Hour)},
			{
				Pos: pos(27, 5),
				CreateBudget: &sim.Budget{
					Pos: pos(28, 7), ID: "b2", ScopeType: "tenant", ScopeID: "t-1",
					EnforcementMode: "advisory", OnHardLimit: "fail", OnSoftLimit: "warn",
					Dimensions: []sim.Dimension{},
				},
				Expect: outcomes(35, sim.StepOutcome{Result: "created"}),
			},
			{
				Pos:          pos(36, 5),
				CreateBudget: b1(pos(36, 21), sim.Dimension{Name: "tokens", Hard: 1000, Soft: 800}),
				Expect:       outcomes(37, sim.StepOutcome{Result: "already_satisfied"}, sim.StepOutcome{Result: "created"}),
			},
			{
				Pos:         pos(38, 5),
				ReportUsage: &sim.ReportUsageStep{Budget: "b2", Usage: map[string]int64{"tokens": 1, "calls": 0}},
				Expect: outcomes(39, sim.StepOutcome{Result: "ok"}, sim.StepOutcome{Result: "soft_breach"},
					sim.StepOutcome{Result: "hard_breach"}, sim.StepOutcome{Result: "already_applied"}),
			},
			{
				Pos:         pos(40, 5),
				ResetBudget: &sim.BudgetRef{Budget: "b1"},
				Expect:      outcomes(41, sim.StepOutcome{NextResetAt: &sim.Offset{At: time.Hour + 10*time.Second}}),
			},
			{
				Pos:         pos(42, 5),
				ResetBudget: &sim.BudgetRef{Budget: "b2"},
				Expect:      outcomes(43, sim.StepOutcome{NextResetAt: &sim.Offset{Null: true}}, sim.StepOutcome{NextResetAt: &sim.Offset{}}),
			},
			{Pos: pos(44, 5), SetNextReset: &sim.SetNextResetStep{Budget: "b1", At: sim.Offset{At: 2 * time.Hour}}},
			{Pos: pos(45, 5), SetNextReset: &sim.SetNextResetStep{Budget: "b2", At: sim.Offset{Null: true}}},
			{Pos: pos(46, 5), ScanTick: &struct{}{}, Expect: outcomes(47, sim.StepOutcome{Processed: p(1), Errors: p(0)})},
			{Pos: pos(48, 5), ScanTick: &struct{}{}, Expect: outcomes(49, sim.StepOutcome{})},
			{Pos: pos(50, 5), ExpectBudget: []sim.BudgetExpect{
				{Pos: pos(51, 7), Budget: "b2", AnyOf: []sim.BudgetState{{
					Usage:             map[string]int64{"tokens": 1},
					NextResetAt:       &sim.Offset{Null: true},
					BreachCount:       p(int64(0)),
					SoftBreachCount:   p(int64(0)),
					LastBreachDimNull: true,
					LastBreachAt:      &sim.Offset{Null: true},
					HardLimits:        map[string]int64{},
					SoftLimits:        map[string]int64{},
				}}},
				{Pos: pos(52, 7), Budget: "b1", AnyOf: []sim.BudgetState{
					{LastBreachDim: p("tokens"), LastBreachAt: &sim.Offset{At: 3 * time.Second}},
					{},
				}},
			}},
			{Pos: pos(56, 5), ExpectTicks: []sim.TicksExpect{{Pos: pos(56, 20), Reconciler: "budget_reset", Count: p(2), Processed: p(3), Errors: p(0)}}},
			{Pos: pos(57, 5), ExpectTicks: []sim.TicksExpect{{Pos: pos(57, 20), Reconciler: "budget_reset"}}},
			{Pos: pos(58, 5), ExpectRunning: p(0)},
			{Pos: pos(59, 5), ExpectLog: &sim.LogExpect{Level: "warn", Contains: "budget_reset"}},
			{Pos: pos(60, 5), SlowTick: &sim.SlowTickStep{Reconciler: "budget_reset", Tick: 1, Duration: 7 * time.Second, Where: sim.BeforeTx}},
			{Pos: pos(61, 5), SlowTick: &sim.SlowTickStep{Reconciler: "budget_reset", Tick: 2, Duration: 1500 * time.Millisecond, Where: sim.InsideTx}},
			{Pos: pos(62, 5), TickError: &sim.TickErrorStep{Reconciler: "budget_reset", Tick: 3}},
			{Pos: pos(63, 5), Busy: &sim.BusyStep{Attempts: 2}},
			{Pos: pos(64, 5), HoldWriteLock: &sim.HoldWriteLockStep{Duration: 20 * time.Millisecond}},
			{Pos: pos(65, 5), Concurrently: []sim.Step{
				{
					Pos:      pos(66, 9),
					Shutdown: &sim.ShutdownStep{Grace: 2 * time.Second},
					Expect:   &sim.Expect{Pos: pos(67, 9), AnyOf: []sim.StepOutcome{{TimedOut: p(0)}, {TimedOut: p(1)}}},
				},
				{Pos: pos(68, 9), Close: &struct{}{}},
				{Pos: pos(69, 9), Concurrently: []sim.Step{{
					Pos:         pos(70, 13),
					ReportUsage: &sim.ReportUsageStep{Budget: "b1", Usage: map[string]int64{"tokens": 5}, DedupKey: "k1"},
					Expect:      &sim.Expect{Pos: pos(71, 13), AnyOf: []sim.StepOutcome{{Result: "already_applied"}}},
				}}},
			}},
			{Pos: pos(72, 5), Shutdown: &sim.ShutdownStep{}, Expect: outcomes(73, sim.StepOutcome{TimedOut: p(0)})},
		},
	}
	got, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load(%s) mismatch (-want +got):\n%s", file, diff)
	}
}

// TestEveryStepKindCovered keeps testdata/ok/all_steps.yaml in step with
// the step table.
func TestEveryStepKindCovered(t *testing.T) {
	sc, err := Load("testdata/ok/all_steps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func([]sim.Step)
	walk = func(steps []sim.Step) {
		for _, s := range steps {
			seen[stepName(s)] = true
			walk(s.Concurrently)
		}
	}
	walk(sc.Steps)
	for _, name := range StepNames() {
		if !seen[name] {
			t.Errorf("all_steps.yaml has no %s step", name)
		}
	}
}

// stepName names a step's action.
func stepName(s sim.Step) string { return s.Kind() }

const okScenario = `name: %s
budgets:
  - id: b1
    scope: {type: flow, id: f}
    enforcement_mode: strict
    on_hard_limit: fail
    on_soft_limit: warn
    reset_interval: 10s
    dimensions: {tokens: {hard: 10}}
steps:
  - spawn: {}
`

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadPaths(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b.yaml"), strings.Replace(okScenario, "%s", "second", 1))
	writeFile(t, filepath.Join(dir, "a.yml"), strings.Replace(okScenario, "%s", "first", 1))
	writeFile(t, filepath.Join(dir, "notes.txt"), "not a scenario")
	writeFile(t, filepath.Join(dir, "sub", "c.yaml"), "not: loaded")
	single := filepath.Join(t.TempDir(), "single.yaml")
	writeFile(t, single, strings.Replace(okScenario, "%s", "first", 1))

	scs, err := LoadPaths([]string{single, dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sc := range scs {
		got = append(got, sc.Name+"@"+sc.File)
	}
	want := []string{
		"first@" + single,
		"first@" + filepath.Join(dir, "a.yml"),
		"second@" + filepath.Join(dir, "b.yaml"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LoadPaths order (-want +got):\n%s", diff)
	}
}

func TestLoadPathsDuplicateName(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.yaml"), strings.Replace(okScenario, "%s", "same", 1))
	writeFile(t, filepath.Join(dir, "b.yaml"), "# second\n"+strings.Replace(okScenario, "%s", "same", 1))
	_, err := LoadPaths([]string{dir})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("LoadPaths: got %v, want *Error", err)
	}
	prefix := filepath.Join(dir, "b.yaml") + `:2:7: duplicate scenario name "same" (also in ` + filepath.Join(dir, "a.yaml") + ":1)"
	if first := strings.SplitN(err.Error(), "\n", 2)[0]; first != prefix {
		t.Errorf("got  %s\nwant %s", first, prefix)
	}
	checkExcerpt(t, e, "name: same")
}

func TestLoadPathsErrorsFromEveryFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.yaml"), "name: a\nsteps: [{advnce: 1s}]\n")
	writeFile(t, filepath.Join(dir, "b.yaml"), "steps: []\n")
	missing := filepath.Join(dir, "missing.yaml")
	_, err := LoadPaths([]string{dir, missing})
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("LoadPaths: got %T %v, want Errors", err, err)
	}
	var got []string
	for _, e := range es {
		got = append(got, strings.SplitN(e.Error(), "\n", 2)[0])
	}
	want := []string{
		filepath.Join(dir, "a.yaml") + `:2:10: unknown step "advnce" (did you mean "advance"?)`,
		filepath.Join(dir, "b.yaml") + `:1:1: missing required key "name"`,
		missing + ": no such file or directory",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false")
	}
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"lib/b.yaml":      {Data: []byte(strings.Replace(okScenario, "%s", "b", 1))},
		"lib/a.yaml":      {Data: []byte(strings.Replace(okScenario, "%s", "a", 1))},
		"lib/README.md":   {Data: []byte("docs")},
		"lib/deep/c.yaml": {Data: []byte("x: y")},
	}
	scs, err := LoadFS(fsys, "lib")
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) != 2 || scs[0].Name != "a" || scs[1].Name != "b" || scs[0].File != "lib/a.yaml" || scs[0].Steps[0].Pos.File != "lib/a.yaml" {
		t.Errorf("LoadFS: got %+v", scs)
	}
	fsys["lib/c.yml"] = &fstest.MapFile{Data: []byte(strings.Replace(okScenario, "%s", "a", 1))}
	_, err = LoadFS(fsys, "lib")
	if err == nil || !strings.HasPrefix(err.Error(), `lib/c.yml:1:7: duplicate scenario name "a" (also in lib/a.yaml:1)`) {
		t.Errorf("LoadFS duplicate: got %v", err)
	}
	if _, err := LoadFS(fsys, "nope"); err == nil {
		t.Errorf("LoadFS of a missing dir: no error")
	}
}
