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

	"github.com/ffsim/ffsim/scenario"
)

func p[T any](v T) *T { return &v }

func at(file string) func(line, col int) scenario.Pos {
	return func(line, col int) scenario.Pos { return scenario.Pos{File: file, Line: line, Col: col} }
}

// TestLoadSpecExample checks SPEC §4's example, verbatim, loads into the
// expected scenario.
func TestLoadSpecExample(t *testing.T) {
	const file = "testdata/ok/spec_example.yaml"
	pos := at(file)
	want := &scenario.Scenario{
		Name:        "budget resets on cadence",
		Description: "usage is zeroed when the schedule lapses",
		File:        file,
		NamePos:     pos(1, 7),
		Start:       scenario.DefaultStart,
		Seed:        7,
		Supervisor:  scenario.Supervisor{BudgetResetInterval: 5 * time.Second},
		Budgets: []scenario.Budget{{
			Pos: pos(8, 5), IDPos: pos(8, 9), ID: "b1", Scope: scenario.Scope{Type: "flow", ID: "flow-1"},
			EnforcementMode: "strict", OnHardLimit: "fail", OnSoftLimit: "warn",
			ResetInterval: 10 * time.Second,
			Dimensions:    map[string]scenario.Limits{"tokens": {Hard: 1000, Soft: 800}},
		}},
		Steps: []scenario.Step{
			{
				Pos:         pos(17, 5),
				ReportUsage: &scenario.ReportUsageStep{Budget: "b1", BudgetPos: pos(17, 28), Usage: map[string]int64{"tokens": 200}, DedupKey: "r1"},
				Expect:      &scenario.Expect{Pos: pos(18, 5), AnyOf: []scenario.Outcome{{Result: "ok"}}},
			},
			{Pos: pos(19, 5), Spawn: &scenario.SpawnStep{}},
			{Pos: pos(20, 5), Advance: p(9 * time.Second)},
			{Pos: pos(21, 5), ExpectBudget: []scenario.BudgetExpect{{
				Pos: pos(21, 21), Budget: "b1",
				AnyOf: []scenario.BudgetState{{Usage: map[string]int64{"tokens": 200}, NextResetAt: &scenario.Offset{At: 10 * time.Second}}},
			}}},
			{Pos: pos(22, 5), Advance: p(time.Second)},
			{Pos: pos(23, 5), ExpectBudget: []scenario.BudgetExpect{{
				Pos: pos(23, 21), Budget: "b1",
				AnyOf: []scenario.BudgetState{{Usage: map[string]int64{"tokens": 0}, NextResetAt: &scenario.Offset{At: 20 * time.Second}, BreachCount: p(int64(0))}},
			}}},
			{
				Pos:      pos(24, 5),
				Shutdown: &scenario.ShutdownStep{Grace: 2 * time.Second},
				Expect:   &scenario.Expect{Pos: pos(25, 5), AnyOf: []scenario.Outcome{{TimedOut: p(0)}}},
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
	want := &scenario.Scenario{Name: "minimal", File: file, NamePos: at(file)(2, 7), Steps: []scenario.Step{}}
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
	outcomes := func(line int, os ...scenario.Outcome) *scenario.Expect {
		return &scenario.Expect{Pos: pos(line, 5), AnyOf: os}
	}
	b1 := func(p, idPos scenario.Pos, dims map[string]scenario.Limits) *scenario.Budget {
		return &scenario.Budget{
			IDPos: idPos,
			Pos:   p, ID: "b1", Scope: scenario.Scope{Type: "flow", ID: "flow-1"},
			EnforcementMode: "strict", OnHardLimit: "fail", OnSoftLimit: "warn",
			ResetInterval: 10 * time.Second, Dimensions: dims,
		}
	}
	want := &scenario.Scenario{
		Name:        "all steps",
		NamePos:     pos(2, 7),
		Description: "Exercises the whole format.\n",
		File:        file,
		Start:       time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC),
		Seed:        18446744073709551615,
		Supervisor:  scenario.Supervisor{BudgetResetInterval: 90 * time.Second},
		Budgets: []scenario.Budget{*b1(pos(10, 5), pos(10, 9), map[string]scenario.Limits{
			"bytes":  {},
			"calls":  {Hard: 5},
			"tokens": {Hard: 1000, Soft: 800},
		})},
		Steps: []scenario.Step{
			{Pos: pos(21, 5), Spawn: &scenario.SpawnStep{}, Expect: outcomes(22, scenario.Outcome{Installed: p(true)})},
			{Pos: pos(23, 5), Spawn: &scenario.SpawnStep{BudgetResetInterval: p(time.Duration(0)), WorkerRegistryTTLInterval: p(time.Minute)}, Expect: outcomes(24, scenario.Outcome{Installed: p(false)})},
			{Pos: pos(25, 5), Advance: p(250 * time.Millisecond)},
			{Pos: pos(26, 5), AdvanceTo: p(time.Hour)},
			{
				Pos: pos(27, 5),
				CreateBudget: &scenario.Budget{
					Pos: pos(28, 7), IDPos: pos(28, 11), ID: "b2", Scope: scenario.Scope{Type: "tenant", ID: "t-1"},
					EnforcementMode: "advisory", OnHardLimit: "fail", OnSoftLimit: "warn",
					Dimensions: map[string]scenario.Limits{},
				},
				Expect: outcomes(35, scenario.Outcome{Result: "created"}),
			},
			{
				Pos:          pos(36, 5),
				CreateBudget: b1(pos(36, 21), pos(36, 25), map[string]scenario.Limits{"tokens": {Hard: 1000, Soft: 800}}),
				Expect:       outcomes(37, scenario.Outcome{Result: "already_satisfied"}, scenario.Outcome{Result: "created"}),
			},
			{
				Pos:         pos(38, 5),
				ReportUsage: &scenario.ReportUsageStep{Budget: "b2", BudgetPos: pos(38, 28), Usage: map[string]int64{"tokens": 1, "calls": 0}},
				Expect: outcomes(39, scenario.Outcome{Result: "ok"}, scenario.Outcome{Result: "soft_breach"},
					scenario.Outcome{Result: "hard_breach"}, scenario.Outcome{Result: "already_applied"}),
			},
			{
				Pos:         pos(40, 5),
				ResetBudget: &scenario.BudgetRef{Budget: "b1", BudgetPos: pos(40, 28)},
				Expect:      outcomes(41, scenario.Outcome{NextResetAt: &scenario.Offset{At: time.Hour + 10*time.Second}}),
			},
			{
				Pos:         pos(42, 5),
				ResetBudget: &scenario.BudgetRef{Budget: "b2", BudgetPos: pos(42, 28)},
				Expect:      outcomes(43, scenario.Outcome{NextResetAt: &scenario.Offset{Null: true}}, scenario.Outcome{NextResetAt: &scenario.Offset{}}),
			},
			{Pos: pos(44, 5), SetNextReset: &scenario.SetNextResetStep{Budget: "b1", BudgetPos: pos(44, 30), At: scenario.Offset{At: 2 * time.Hour}}},
			{Pos: pos(45, 5), SetNextReset: &scenario.SetNextResetStep{Budget: "b2", BudgetPos: pos(45, 30), At: scenario.Offset{Null: true}}},
			{Pos: pos(46, 5), ScanTick: &scenario.Empty{}, Expect: outcomes(47, scenario.Outcome{Processed: p(1), Errors: p(0)})},
			{Pos: pos(48, 5), ScanTick: &scenario.Empty{}, Expect: outcomes(49, scenario.Outcome{})},
			{Pos: pos(50, 5), ExpectBudget: []scenario.BudgetExpect{
				{Pos: pos(51, 7), Budget: "b2", AnyOf: []scenario.BudgetState{{
					Usage:           map[string]int64{"tokens": 1},
					NextResetAt:     &scenario.Offset{Null: true},
					BreachCount:     p(int64(0)),
					SoftBreachCount: p(int64(0)),
					LastBreachDim:   &scenario.NullString{Null: true},
					LastBreachAt:    &scenario.Offset{Null: true},
					HardLimits:      map[string]int64{},
					SoftLimits:      map[string]int64{},
				}}},
				{Pos: pos(52, 7), Budget: "b1", AnyOf: []scenario.BudgetState{
					{LastBreachDim: &scenario.NullString{Value: "tokens"}, LastBreachAt: &scenario.Offset{At: 3 * time.Second}},
					{},
				}},
			}},
			{Pos: pos(56, 5), ExpectTicks: []scenario.TicksExpect{{Pos: pos(56, 20), Reconciler: "budget_reset", Count: p(2), Processed: p(3), Errors: p(0)}}},
			{Pos: pos(57, 5), ExpectTicks: []scenario.TicksExpect{{Pos: pos(57, 20), Reconciler: "budget_reset"}}},
			{Pos: pos(58, 5), ExpectRunning: p(0)},
			{Pos: pos(59, 5), ExpectLog: &scenario.LogExpect{Level: "warn", Contains: "budget_reset"}},
			{Pos: pos(60, 5), SlowTick: &scenario.SlowTickStep{Reconciler: "budget_reset", Tick: 1, Duration: 7 * time.Second, Where: scenario.BeforeTx}},
			{Pos: pos(61, 5), SlowTick: &scenario.SlowTickStep{Reconciler: "budget_reset", Tick: 2, Duration: 1500 * time.Millisecond, Where: scenario.InsideTx}},
			{Pos: pos(62, 5), TickError: &scenario.TickErrorStep{Reconciler: "budget_reset", Tick: 3}},
			{Pos: pos(63, 5), Busy: &scenario.BusyStep{Attempts: 2}},
			{Pos: pos(64, 5), HoldWriteLock: &scenario.HoldWriteLockStep{Duration: 20 * time.Millisecond}},
			{Pos: pos(65, 5), Concurrently: []scenario.Step{
				{
					Pos:      pos(66, 9),
					Shutdown: &scenario.ShutdownStep{Grace: 2 * time.Second},
					Expect:   &scenario.Expect{Pos: pos(67, 9), AnyOf: []scenario.Outcome{{TimedOut: p(0)}, {TimedOut: p(1)}}},
				},
				{Pos: pos(68, 9), Close: &scenario.Empty{}},
				{
					Pos:         pos(69, 9),
					ReportUsage: &scenario.ReportUsageStep{Budget: "b1", BudgetPos: pos(69, 32), Usage: map[string]int64{"tokens": 5}, DedupKey: "k1"},
					Expect:      &scenario.Expect{Pos: pos(70, 9), AnyOf: []scenario.Outcome{{Result: "already_applied"}}},
				},
			}},
			{Pos: pos(71, 5), Shutdown: &scenario.ShutdownStep{}, Expect: outcomes(72, scenario.Outcome{TimedOut: p(0)})},
			{
				Pos:            pos(73, 5),
				RegisterWorker: &scenario.RegisterWorkerStep{Namespace: "ns1", Instance: "i1", WorkerID: "w1", Lanes: []string{"b", "a"}, Capabilities: []string{"gpu"}, TTL: 30 * time.Second},
				Expect:         outcomes(74, scenario.Outcome{Result: "registered"}, scenario.Outcome{Result: "refreshed", ReturnedAt: scenario.At(time.Hour)}, scenario.Outcome{Error: "busy"}),
			},
			{
				Pos:             pos(75, 5),
				HeartbeatWorker: &scenario.WorkerRef{Instance: "i1"},
				Expect:          outcomes(76, scenario.Outcome{Result: "not_registered"}, scenario.Outcome{Refreshed: &scenario.Refreshed{NextExpiry: scenario.At(time.Hour + 30*time.Second)}}),
			},
			{Pos: pos(77, 5), MarkWorkerDead: &scenario.MarkWorkerDeadStep{Namespace: "ns1", Instance: "i1", Reason: "gone"}, Expect: outcomes(78, scenario.Outcome{Result: "marked"})},
			{Pos: pos(79, 5), SweepTick: &scenario.Empty{}, Expect: outcomes(80, scenario.Outcome{Processed: p(0), Errors: p(0)})},
			{Pos: pos(81, 5), ExpectWorkers: &scenario.WorkersExpect{Workers: []scenario.WorkerExpect{
				{Instance: "i1", Absent: true, Pos: pos(81, 22)},
				{Instance: "i2", Pos: pos(81, 34), WorkerID: p("w2"), LastHeartbeat: scenario.At(time.Hour), TTL: p(30 * time.Second),
					RegisteredAt: scenario.At(0), Lanes: []string{"a"}, Capabilities: []string{"gpu"}},
			}}},
			{Pos: pos(82, 5), ExpectWorkers: &scenario.WorkersExpect{Namespace: "ns1", Workers: []scenario.WorkerExpect{
				{Instance: "i1", Pos: pos(82, 48), WorkerID: p("w1")},
			}}},
			{Pos: pos(83, 5), ExpectTicks: []scenario.TicksExpect{{Pos: pos(83, 20), Reconciler: "worker_registry_ttl_sweep", Count: p(1)}}},
			{Pos: pos(84, 5), DBError: &scenario.DBErrorStep{Code: "locked", Attempts: 1, On: "scan"}},
			{Pos: pos(85, 5), ResetBudget: &scenario.BudgetRef{Budget: "ghost", BudgetPos: pos(85, 28)}, Expect: outcomes(86, scenario.Outcome{Result: "not_found"})},
			{Pos: pos(87, 5), ExpectBudget: []scenario.BudgetExpect{
				{Pos: pos(87, 21), Budget: "ghost", AnyOf: []scenario.BudgetState{{NotFound: true}}},
				{Pos: pos(87, 39), Budget: "b1", AnyOf: []scenario.BudgetState{{
					Scope: &scenario.Scope{Type: "flow", ID: "flow-1"}, EnforcementMode: p("strict"), OnHardLimit: p("fail"),
					OnSoftLimit: p("warn"), ResetInterval: p(10 * time.Second), CreatedAt: scenario.At(0),
				}}},
			}},
			{
				Pos:         pos(88, 5),
				ReportUsage: &scenario.ReportUsageStep{Budget: "b1", BudgetPos: pos(88, 28), Usage: map[string]int64{"tokens": 1}},
				Expect:      outcomes(89, scenario.Outcome{HardBreach: &scenario.Breach{Dimension: p("tokens"), CurrentUsage: p(int64(3)), Limit: p(int64(1000))}}),
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

// TestEveryStepKindCovered keeps testdata/ok/all_steps.yaml in step with
// the step table.
func TestEveryStepKindCovered(t *testing.T) {
	sc, err := Load("testdata/ok/all_steps.yaml")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func([]scenario.Step)
	walk = func(steps []scenario.Step) {
		for _, s := range steps {
			seen[stepName(s)] = true
			walk(s.Concurrently)
		}
	}
	walk(sc.Steps)
	for _, name := range scenario.Names() {
		if !seen[name] {
			t.Errorf("all_steps.yaml has no %s step", name)
		}
	}
}

// stepName names a step's action.
func stepName(s scenario.Step) string { return s.Kind().String() }

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
