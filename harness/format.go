package harness

import (
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/invopop/jsonschema"

	"github.com/ffsim/ffsim/sim"
)

// This file is the scenario format (SPEC §4): the YAML-facing types the
// decoder fills and Schema describes, and the table of steps. Keys come
// from yaml tags, required keys from jsonschema:"required", and every key's
// documentation from jsonschema_description.

// scenarioFile is a whole scenario file.
type scenarioFile struct {
	Name        ident           `yaml:"name" jsonschema:"required" jsonschema_description:"The scenario's name, unique within its directory."`
	Description string          `yaml:"description" jsonschema_description:"What the scenario shows; the SPEC items it covers."`
	Start       *timestamp      `yaml:"start" jsonschema_description:"Wall-clock time of t=0 (RFC 3339); default 2026-01-01T00:00:00Z."`
	Seed        uint64          `yaml:"seed" jsonschema:"minimum=0" jsonschema_description:"Default seed for the run (overridable on the command line); default 0."`
	Supervisor  *supervisorSpec `yaml:"supervisor" jsonschema_description:"Supervisor configuration used by spawn steps; default: every reconciler disabled."`
	Budgets     []budgetSpec    `yaml:"budgets" jsonschema_description:"Budgets created at t=0, before the first step."`
	Steps       stepList        `yaml:"steps" jsonschema:"required" jsonschema_description:"The steps, run in order."`
}

// supervisorSpec is the supervisor configuration (S1).
type supervisorSpec struct {
	BudgetResetInterval *duration `yaml:"budget_reset_interval" jsonschema_description:"Period of the budget_reset reconciler; 0s (the default) disables it."`
}

// budgetSpec declares a budget, under budgets: or in create_budget (R5).
type budgetSpec struct {
	Pos             sim.Pos               `yaml:"-"`
	ID              budgetID              `yaml:"id" jsonschema:"required" jsonschema_description:"The budget's id, unique among the budgets: list."`
	Scope           scopeSpec             `yaml:"scope" jsonschema_description:"What the budget applies to (default: empty type and id)."`
	EnforcementMode ident                 `yaml:"enforcement_mode" jsonschema_description:"Enforcement mode stored in the policy (e.g. strict; default strict)."`
	OnHardLimit     ident                 `yaml:"on_hard_limit" jsonschema_description:"Action on a hard breach stored in the policy (e.g. fail; default fail)."`
	OnSoftLimit     ident                 `yaml:"on_soft_limit" jsonschema_description:"Action on a soft breach stored in the policy (e.g. warn; default warn)."`
	ResetInterval   duration              `yaml:"reset_interval" jsonschema_description:"Time between resets; 0s (the default) means the budget is never scheduled for reset."`
	Dimensions      map[string]limitsSpec `yaml:"dimensions" jsonschema_description:"Limits per dimension name (default: none)."`
}

// scopeSpec is a budget's scope.
type scopeSpec struct {
	Type ident `yaml:"type" jsonschema:"required" jsonschema_description:"Scope type (e.g. flow)."`
	ID   ident `yaml:"id" jsonschema:"required" jsonschema_description:"Scope id (e.g. flow-1)."`
}

// limitsSpec is one dimension's limits.
type limitsSpec struct {
	Hard count `yaml:"hard" jsonschema_description:"Hard limit; 0 (the default) means none."`
	Soft count `yaml:"soft" jsonschema_description:"Soft limit; 0 (the default) means none."`
}

// emptySpec is the {} of steps that take no arguments.
type emptySpec struct{}

// spawnSpec is spawn's argument.
type spawnSpec struct {
	BudgetResetInterval *duration `yaml:"budget_reset_interval" jsonschema_description:"Overrides supervisor.budget_reset_interval for this spawn."`
}

// spawnExpect is spawn's expected outcome.
type spawnExpect struct {
	Installed bool `yaml:"installed" jsonschema:"required" jsonschema_description:"Whether this spawn installed the reconcilers (a second spawn is a no-op: false)."`
}

// shutdownSpec is shutdown's argument.
type shutdownSpec struct {
	Grace duration `yaml:"grace" jsonschema:"required" jsonschema_description:"How long Shutdown waits for tasks to exit before aborting them; simulated time passes while it waits."`
}

// shutdownExpect is shutdown's expected outcome.
type shutdownExpect struct {
	TimedOut count `yaml:"timed_out" jsonschema:"required" jsonschema_description:"Number of tasks Shutdown aborted at the grace deadline."`
}

// reportUsageSpec is report_usage's argument.
type reportUsageSpec struct {
	Budget   budgetID         `yaml:"budget" jsonschema:"required" jsonschema_description:"The budget to charge."`
	Usage    map[string]count `yaml:"usage" jsonschema:"required" jsonschema_description:"Usage delta per dimension."`
	DedupKey *ident           `yaml:"dedup_key" jsonschema_description:"Idempotency key: a key seen before replays the stored outcome."`
}

// budgetRefSpec names a budget.
type budgetRefSpec struct {
	Budget budgetID `yaml:"budget" jsonschema:"required" jsonschema_description:"The budget."`
}

// resetExpect is reset_budget's expected outcome.
type resetExpect struct {
	NextResetAt offset `yaml:"next_reset_at" jsonschema:"required" jsonschema_description:"The returned next reset time as an offset from t=0, or null when the budget's interval is 0."`
}

// setNextResetSpec is set_next_reset's argument.
type setNextResetSpec struct {
	Budget budgetID `yaml:"budget" jsonschema:"required" jsonschema_description:"The budget whose schedule is forced."`
	At     offset   `yaml:"at" jsonschema:"required" jsonschema_description:"The new next_reset_at as an offset from t=0, or null to unschedule."`
}

// scanExpect is scan_tick's expected outcome.
type scanExpect struct {
	Processed *count `yaml:"processed" jsonschema_description:"Applies that succeeded (a skipped re-check counts)."`
	Errors    *count `yaml:"errors" jsonschema_description:"Applies that failed."`
}

// budgetState is the part of a budget's state expect_budget checks.
type budgetState struct {
	Usage           map[string]count `yaml:"usage" jsonschema_description:"Usage per dimension; only the dimensions given are checked, one with no row reads as 0."`
	NextResetAt     *offset          `yaml:"next_reset_at" jsonschema_description:"Next scheduled reset as an offset from t=0, or null."`
	BreachCount     *count           `yaml:"breach_count" jsonschema_description:"Lifetime hard breaches."`
	SoftBreachCount *count           `yaml:"soft_breach_count" jsonschema_description:"Lifetime soft breaches."`
	LastBreachDim   *nullableString  `yaml:"last_breach_dim" jsonschema_description:"Dimension of the last hard breach, or null."`
	LastBreachAt    *offset          `yaml:"last_breach_at" jsonschema_description:"Time of the last hard breach as an offset from t=0, or null."`
	HardLimits      map[string]count `yaml:"hard_limits" jsonschema_description:"Hard limits per dimension."`
	SoftLimits      map[string]count `yaml:"soft_limits" jsonschema_description:"Soft limits per dimension."`
}

// budgetExpects is expect_budget's argument: budget id -> expected state.
type budgetExpects = keyed[anyOf[budgetState]]

// ticksSpec is one reconciler's expected tick totals.
type ticksSpec struct {
	Count     *count `yaml:"count" jsonschema_description:"Ticks completed since spawn."`
	Processed *count `yaml:"processed" jsonschema_description:"Sum of the ticks' processed counts."`
	Errors    *count `yaml:"errors" jsonschema_description:"Sum of the ticks' error counts."`
}

// ticksExpects is expect_ticks's argument: reconciler -> expected totals.
type ticksExpects struct {
	keyed[ticksSpec]
}

// JSONSchemaAlias describes ticksExpects as a map keyed by reconciler.
func (ticksExpects) JSONSchemaAlias() any { return reconcilerMap(nil) }

// reconcilerMap is the schema form of ticksExpects.
type reconcilerMap map[string]ticksSpec

// JSONSchemaExtend restricts the keys to reconciler names.
func (reconcilerMap) JSONSchemaExtend(s *jsonschema.Schema) {
	s.Description = "Expected tick totals per reconciler."
	s.PropertyNames = enumSchema("A reconciler name.", reconcilerNames)
}

// logSpec is expect_log's argument.
type logSpec struct {
	Level    logLevel `yaml:"level" jsonschema:"required" jsonschema_description:"The line's level."`
	Contains string   `yaml:"contains" jsonschema:"required" jsonschema_description:"Text the line's message or attributes contain."`
}

// slowTickSpec is slow_tick's argument.
type slowTickSpec struct {
	Reconciler reconcilerName `yaml:"reconciler" jsonschema_description:"The reconciler whose tick is slowed (default budget_reset, the only one)."`
	Tick       ordinal        `yaml:"tick" jsonschema:"required" jsonschema_description:"Which tick (1-based, counted since spawn)."`
	Duration   duration       `yaml:"duration" jsonschema:"required" jsonschema_description:"Simulated time the tick takes."`
	Where      txWhere        `yaml:"where" jsonschema_description:"Where the time is spent: before_tx (the default) or inside_tx."`
}

// tickErrorSpec is tick_error's argument.
type tickErrorSpec struct {
	Reconciler reconcilerName `yaml:"reconciler" jsonschema_description:"The reconciler whose tick fails (default budget_reset, the only one)."`
	Tick       ordinal        `yaml:"tick" jsonschema:"required" jsonschema_description:"Which tick (1-based, counted since spawn)."`
}

// busySpec is busy's argument.
type busySpec struct {
	Attempts ordinal `yaml:"attempts" jsonschema:"required" jsonschema_description:"How many of the next write attempts fail with SQLITE_BUSY."`
}

// holdWriteLockSpec is hold_write_lock's argument.
type holdWriteLockSpec struct {
	Duration duration `yaml:"duration" jsonschema:"required" jsonschema_description:"How long another connection holds a write transaction."`
}

// stepList is the scenario's steps.
type stepList []stepNode

func (x *stepList) decodeYAML(d *decoder, n ast.Node) bool {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.typeError(n, "a list of steps")
		return false
	}
	*x = make(stepList, len(seq.Values))
	ok = true
	for i, item := range seq.Values {
		if d.conc == 0 {
			d.seq = i
		}
		if !d.decode(item, reflectValue(&(*x)[i])) {
			ok = false
		}
	}
	return ok
}

func (x stepList) sim() []sim.Step {
	out := make([]sim.Step, len(x))
	for i, s := range x {
		out[i] = s.Step
	}
	return out
}

// concurrentSteps is concurrently's argument: at least one step.
type concurrentSteps []stepNode

func (x *concurrentSteps) decodeYAML(d *decoder, n ast.Node) bool {
	d.conc++
	defer func() { d.conc-- }()
	var l stepList
	if !l.decodeYAML(d, n) {
		return false
	}
	if len(l) == 0 {
		d.errorf(n, "concurrently needs at least one step")
		return false
	}
	*x = concurrentSteps(l)
	return true
}

// JSONSchemaExtend requires at least one step.
func (concurrentSteps) JSONSchemaExtend(s *jsonschema.Schema) {
	one := uint64(1)
	s.MinItems = &one
}

// stepNode is one step: a mapping with one action key and an optional
// expect. It decodes straight into a sim.Step.
type stepNode struct {
	Step sim.Step
}

// JSONSchema is a placeholder: Schema replaces the Step definition with
// one branch per step kind.
func (stepNode) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Description: "One step."}
}

func (x *stepNode) decodeYAML(d *decoder, n ast.Node) bool {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.errorf(n, `expected a step (a mapping with one action key, such as "advance: 1s"), got %s`, describe(n))
		return false
	}
	var expect *ast.MappingValueNode
	var actions []*ast.MappingValueNode
	ok = true
	for _, kv := range m.Values {
		k, kok := d.key(kv)
		switch {
		case !kok:
			ok = false
		case k == "expect":
			expect = kv
		case stepKindByName[k] != nil:
			actions = append(actions, kv)
		default:
			d.errorf(kv.Key, "unknown step %q%s", k, suggestion(k, StepNames()))
			ok = false
		}
	}
	if !ok {
		return false
	}
	switch len(actions) {
	case 0:
		d.errorf(m, "step has no action; want one of: %s", strings.Join(StepNames(), ", "))
		return false
	case 1:
	default:
		names := make([]string, len(actions))
		for i, a := range actions {
			names[i], _ = keyText(a.Key)
		}
		d.errorf(actions[1].Key, "step has %d actions (%s); write one action per step", len(actions), strings.Join(quoteAll(names), ", "))
		return false
	}
	name, _ := keyText(actions[0].Key)
	kind := stepKindByName[name]
	x.Step.Pos = d.firstKeyPos(m)
	action := reflect.New(kind.action)
	if d.within(name, actions[0].Value, action.Elem()) {
		kind.build(d, &x.Step, action.Interface())
	} else {
		ok = false
	}
	if expect != nil {
		switch {
		case kind.expect == nil && name == "concurrently":
			d.errorf(expect.Key, "concurrently takes no expect; put expectations on the steps inside it")
			ok = false
		case kind.expect == nil:
			d.errorf(expect.Key, "step %q takes no expect", name)
			ok = false
		default:
			ev := reflect.New(kind.expect)
			if d.within("expect", expect.Value, ev.Elem()) {
				x.Step.Expect = &sim.Expect{Pos: d.posOf(expect.Key), AnyOf: kind.outcomes(ev.Interface())}
			} else {
				ok = false
			}
		}
	}
	return ok
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = `"` + s + `"`
	}
	return out
}

// stepKind is one kind of step: its name, the type of its argument, the
// type of its expect (nil if it takes none), and how both become a sim.Step.
type stepKind struct {
	name string
	doc  string
	// expectDoc documents the step's expect; empty when it takes none.
	expectDoc string
	action    reflect.Type
	expect    reflect.Type
	build     func(d *decoder, st *sim.Step, action any)
	outcomes  func(expect any) []sim.StepOutcome
}

// kind declares a step that takes no expect.
func kind[A any](name, doc string, build func(d *decoder, st *sim.Step, a *A)) stepKind {
	return stepKind{
		name:   name,
		doc:    doc,
		action: reflect.TypeFor[A](),
		build:  func(d *decoder, st *sim.Step, a any) { build(d, st, a.(*A)) },
	}
}

// kindExpect declares a step whose expect is one E or {any_of: [E, ...]}.
func kindExpect[A, E any](name, doc, expectDoc string, build func(d *decoder, st *sim.Step, a *A), out func(e E) sim.StepOutcome) stepKind {
	k := kind(name, doc, build)
	k.expectDoc = expectDoc
	k.expect = reflect.TypeFor[anyOf[E]]()
	k.outcomes = func(e any) []sim.StepOutcome {
		alts := e.(*anyOf[E]).AnyOf
		res := make([]sim.StepOutcome, len(alts))
		for i, a := range alts {
			res[i] = out(a)
		}
		return res
	}
	return k
}

// stepKinds is every step of SPEC §4, in the SPEC's order. It is the one
// list of step names: the decoder, the suggestions and the schema all use
// it.
var stepKinds = []stepKind{
	kind("advance", "Advance simulated time by a duration, running every due tick to completion.",
		func(d *decoder, st *sim.Step, a *duration) { st.Advance = ptr(a.d()) }),
	kind("advance_to", "Advance simulated time to an offset from t=0, running every due tick to completion.",
		func(d *decoder, st *sim.Step, a *duration) { st.AdvanceTo = ptr(a.d()) }),
	kindExpect("spawn", "Start the supervisor at the current time: {} or {budget_reset_interval: D}.",
		"{installed: bool}: whether this spawn installed the reconcilers.",
		func(d *decoder, st *sim.Step, a *spawnSpec) {
			st.Spawn = &sim.SpawnStep{}
			if a.BudgetResetInterval != nil {
				st.Spawn.BudgetResetInterval = ptr(a.BudgetResetInterval.d())
			}
		},
		func(e spawnExpect) sim.StepOutcome { return sim.StepOutcome{Installed: ptr(e.Installed)} }),
	kindExpect("shutdown", "Call Shutdown(grace) and wait for it to return; simulated time passes while it waits.",
		"{timed_out: N}: the number of tasks aborted.",
		func(d *decoder, st *sim.Step, a *shutdownSpec) { st.Shutdown = &sim.ShutdownStep{Grace: a.Grace.d()} },
		func(e shutdownExpect) sim.StepOutcome { return sim.StepOutcome{TimedOut: e.TimedOut.int()} }),
	kind("close", "Close the supervisor (the port of Drop): signal without waiting. Takes {}.",
		func(d *decoder, st *sim.Step, a *emptySpec) { st.Close = &struct{}{} }),
	kindExpect("create_budget", "Create a budget (admin, R5), written as under budgets:.",
		"created or already_satisfied.",
		func(d *decoder, st *sim.Step, a *budgetSpec) {
			b := d.budget(a)
			st.CreateBudget = &b
			if first, ok := d.created[b.ID]; !ok || d.seq < first {
				d.created[b.ID] = d.seq
			}
		},
		func(e createResult) sim.StepOutcome { return sim.StepOutcome{Result: string(e)} }),
	kindExpect("report_usage", "Report usage deltas against a budget (R5): {budget, usage: {DIM: N}, dedup_key?}.",
		"ok, already_applied, soft_breach or hard_breach.",
		func(d *decoder, st *sim.Step, a *reportUsageSpec) {
			d.use(a.Budget)
			st.ReportUsage = &sim.ReportUsageStep{Budget: a.Budget.ID, Usage: int64s(a.Usage)}
			if a.DedupKey != nil {
				st.ReportUsage.DedupKey = string(*a.DedupKey)
			}
		},
		func(e usageResult) sim.StepOutcome { return sim.StepOutcome{Result: string(e)} }),
	kindExpect("reset_budget", "Reset a budget now (admin, R5): {budget}.",
		"{next_reset_at: OFFSET or null}: the returned next reset.",
		func(d *decoder, st *sim.Step, a *budgetRefSpec) {
			d.use(a.Budget)
			st.ResetBudget = &sim.BudgetRef{Budget: a.Budget.ID}
		},
		func(e resetExpect) sim.StepOutcome { return sim.StepOutcome{NextResetAt: ptr(e.NextResetAt.sim())} }),
	kind("set_next_reset", "Force a budget's schedule: {budget, at: OFFSET or null}.",
		func(d *decoder, st *sim.Step, a *setNextResetSpec) {
			d.use(a.Budget)
			st.SetNextReset = &sim.SetNextResetStep{Budget: a.Budget.ID, At: a.At.sim()}
		}),
	kindExpect("scan_tick", "Run one budget_reset tick directly at the current time. Takes {}.",
		"{processed: N, errors: N}: the tick's report.",
		func(d *decoder, st *sim.Step, a *emptySpec) { st.ScanTick = &struct{}{} },
		func(e scanExpect) sim.StepOutcome {
			var o sim.StepOutcome
			if e.Processed != nil {
				o.Processed = e.Processed.int()
			}
			if e.Errors != nil {
				o.Errors = e.Errors.int()
			}
			return o
		}),
	kind("expect_budget", "Check budgets' state: {ID: {usage, next_reset_at, ...}}; only the fields given are checked. Each value may be {any_of: [...]}.",
		func(d *decoder, st *sim.Step, a *budgetExpects) {
			for _, e := range a.Entries {
				d.use(budgetID{ID: e.Key, Pos: e.Pos})
				be := sim.BudgetExpect{Pos: e.Pos, Budget: e.Key}
				for _, s := range e.Value.AnyOf {
					be.AnyOf = append(be.AnyOf, s.sim())
				}
				st.ExpectBudget = append(st.ExpectBudget, be)
			}
		}),
	kind("expect_ticks", "Check a reconciler's ticks completed since spawn and the sums of their reports: {budget_reset: {count, processed, errors}}.",
		func(d *decoder, st *sim.Step, a *ticksExpects) {
			for _, e := range a.Entries {
				if !slices.Contains(reconcilerNames, e.Key) {
					d.errorAt(e.Pos.Line, e.Pos.Col, "unknown reconciler %q%s", e.Key, hint(e.Key, reconcilerNames))
					continue
				}
				te := sim.TicksExpect{Pos: e.Pos, Reconciler: e.Key}
				if e.Value.Count != nil {
					te.Count = e.Value.Count.int()
				}
				if e.Value.Processed != nil {
					te.Processed = e.Value.Processed.int()
				}
				if e.Value.Errors != nil {
					te.Errors = e.Value.Errors.int()
				}
				st.ExpectTicks = append(st.ExpectTicks, te)
			}
		}),
	kind("expect_running", "Check the number of live reconciler tasks.",
		func(d *decoder, st *sim.Step, a *count) { st.ExpectRunning = a.int() }),
	kind("expect_log", "Check that a line at a level containing a text was logged: {level, contains}.",
		func(d *decoder, st *sim.Step, a *logSpec) {
			st.ExpectLog = &sim.LogExpect{Level: string(a.Level), Contains: a.Contains}
		}),
	kind("slow_tick", "Fault: make tick N of a reconciler take D of simulated time, before its transaction or inside the reset transaction.",
		func(d *decoder, st *sim.Step, a *slowTickSpec) {
			st.SlowTick = &sim.SlowTickStep{Reconciler: orDefault(string(a.Reconciler), "budget_reset"), Tick: int(a.Tick), Duration: a.Duration.d(), Where: orDefault(string(a.Where), sim.BeforeTx)}
		}),
	kind("tick_error", "Fault: make tick N of a reconciler fail.",
		func(d *decoder, st *sim.Step, a *tickErrorSpec) {
			st.TickError = &sim.TickErrorStep{Reconciler: orDefault(string(a.Reconciler), "budget_reset"), Tick: int(a.Tick)}
		}),
	kind("busy", "Fault: the next N write attempts fail with SQLITE_BUSY (R3).",
		func(d *decoder, st *sim.Step, a *busySpec) { st.Busy = &sim.BusyStep{Attempts: int(a.Attempts)} }),
	kind("hold_write_lock", "Fault: another connection holds a write transaction for D of simulated time.",
		func(d *decoder, st *sim.Step, a *holdWriteLockSpec) {
			st.HoldWriteLock = &sim.HoldWriteLockStep{Duration: a.Duration.d()}
		}),
	kind("concurrently", "Steps released at the same instant, in an order the seed decides. Expectations go on the inner steps.",
		func(d *decoder, st *sim.Step, a *concurrentSteps) { st.Concurrently = stepList(*a).sim() }),
}

// stepKindByName indexes stepKinds.
var stepKindByName = func() map[string]*stepKind {
	m := make(map[string]*stepKind, len(stepKinds))
	for i := range stepKinds {
		m[stepKinds[i].name] = &stepKinds[i]
	}
	return m
}()

// StepNames returns the names of every scenario step, in SPEC §4's order.
func StepNames() []string {
	names := make([]string, len(stepKinds))
	for i, k := range stepKinds {
		names[i] = k.name
	}
	return names
}

// budget converts a budget declaration, checking its dimension names.
func (d *decoder) budget(b *budgetSpec) sim.Budget {
	out := sim.Budget{
		Pos:             b.Pos,
		ID:              b.ID.ID,
		ScopeType:       string(b.Scope.Type),
		ScopeID:         string(b.Scope.ID),
		EnforcementMode: orDefault(string(b.EnforcementMode), "strict"),
		OnHardLimit:     orDefault(string(b.OnHardLimit), "fail"),
		OnSoftLimit:     orDefault(string(b.OnSoftLimit), "warn"),
		ResetInterval:   b.ResetInterval.d(),
		Dimensions:      []sim.Dimension{},
	}
	// The store keeps intervals in whole milliseconds and refuses others;
	// say so here, with a position, rather than fail the run later.
	if out.ResetInterval%time.Millisecond != 0 {
		d.errorAt(b.Pos.Line, b.Pos.Col, "budget %q: reset_interval %v is not a whole number of milliseconds", b.ID.ID, out.ResetInterval)
	}
	for name, l := range b.Dimensions {
		if name == "" {
			d.errorAt(b.Pos.Line, b.Pos.Col, "budget %q has a dimension with an empty name", b.ID.ID)
			continue
		}
		out.Dimensions = append(out.Dimensions, sim.Dimension{Name: name, Hard: int64(l.Hard), Soft: int64(l.Soft)})
	}
	slices.SortFunc(out.Dimensions, func(a, b sim.Dimension) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// sim converts an expected budget state.
func (s budgetState) sim() sim.BudgetState {
	out := sim.BudgetState{
		Usage:      int64s(s.Usage),
		HardLimits: int64s(s.HardLimits),
		SoftLimits: int64s(s.SoftLimits),
	}
	if s.NextResetAt != nil {
		out.NextResetAt = ptr(s.NextResetAt.sim())
	}
	if s.LastBreachAt != nil {
		out.LastBreachAt = ptr(s.LastBreachAt.sim())
	}
	if s.BreachCount != nil {
		out.BreachCount = s.BreachCount.int64()
	}
	if s.SoftBreachCount != nil {
		out.SoftBreachCount = s.SoftBreachCount.int64()
	}
	if s.LastBreachDim != nil {
		if s.LastBreachDim.Null {
			out.LastBreachDimNull = true
		} else {
			out.LastBreachDim = ptr(s.LastBreachDim.Value)
		}
	}
	return out
}

// use records a reference to a budget by the current step; references are
// checked once the whole file is read.
func (d *decoder) use(id budgetID) {
	d.refs = append(d.refs, budgetRef{id: id, seq: d.seq})
}

func int64s(m map[string]count) map[string]int64 {
	if m == nil {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = int64(v)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func reflectValue[T any](p *T) reflect.Value { return reflect.ValueOf(p).Elem() }

// orDefault is v, or def when v was not given. Keys a scenario author rarely
// varies are optional, with the defaults the schema documents.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
