package scenario

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/ffsim/ffsim/internal/suggest"
)

// Validate checks every rule of the scenario format that does not need the
// YAML text: one action per step, expectations only where a kind takes
// them and only with its outcomes, what may run inside concurrently, value
// ranges, unique budget ids, references to declared budgets, and text
// that reports can echo safely ([BadText]). It returns nil or [Errors].
func (sc *Scenario) Validate() error {
	if errs := sc.Check(); len(errs) > 0 {
		return errs
	}
	return nil
}

// Check is Validate returning the list itself (empty when valid).
func (sc *Scenario) Check() Errors {
	v := &validator{created: map[string]int{}, hints: suggest.NewLimiter(suggest.DefaultHints), knownSeq: -1}
	if sc.Name == "" {
		v.errorf(sc.NamePos, "", "the scenario needs a name")
	}
	v.text(reflect.ValueOf(sc).Elem(), Pos{}, nil, "")
	v.nonNegative(Pos{}, "supervisor", "budget_reset_interval", sc.Supervisor.BudgetResetInterval)
	declared := map[string]Pos{}
	for i := range sc.Budgets {
		b := &sc.Budgets[i]
		path := fmt.Sprintf("budgets[%d]", i)
		v.budget(b, path)
		if first, dup := declared[b.ID]; dup && b.ID != "" {
			v.errorf(orPos(b.IDPos, b.Pos), path, "duplicate budget id %s (first declared at line %d)", suggest.Quote(b.ID), first.Line)
			continue
		}
		declared[b.ID] = orPos(b.IDPos, b.Pos)
	}
	v.declared = declared
	// Budgets created by steps are known from the step after: collect them
	// first, so a reference can say "created only later".
	for i := range sc.Steps {
		v.collectCreated(&sc.Steps[i], i)
	}
	for i := range sc.Steps {
		v.seq = i
		v.step(&sc.Steps[i], fmt.Sprintf("steps[%d]", i), false)
	}
	return v.errs
}

type validator struct {
	errs     Errors
	declared map[string]Pos
	// created maps a budget id to the index of the first top-level step
	// that creates it.
	created map[string]int
	// seq is the index of the top-level step being checked.
	seq int
	// hints bounds the "did you mean" work of one validation.
	hints *suggest.Limiter
	// known is the sorted list of budgets known at step knownSeq, for
	// hints: built once per step, not once per unknown reference.
	known    []string
	knownSeq int
}

func (v *validator) errorf(pos Pos, path, format string, args ...any) {
	v.errs = append(v.errs, &Error{Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func orPos(p, def Pos) Pos {
	if p.IsZero() {
		return def
	}
	return p
}

func (v *validator) collectCreated(s *Step, seq int) {
	if s.CreateBudget != nil {
		if first, ok := v.created[s.CreateBudget.ID]; !ok || seq < first {
			v.created[s.CreateBudget.ID] = seq
		}
	}
	for i := range s.Concurrently {
		v.collectCreated(&s.Concurrently[i], seq)
	}
}

func (v *validator) nonNegative(pos Pos, path, name string, d time.Duration) {
	if d < 0 {
		v.errorf(pos, path, "%s must not be negative, got %v", name, d)
	}
}

func (v *validator) count(pos Pos, path, name string, n int64, min int64) {
	switch {
	case n >= min:
	case min == 0:
		v.errorf(pos, path, "%s must not be negative, got %d", name, n)
	default:
		v.errorf(pos, path, "%s must be %d or more, got %d", name, min, n)
	}
}

func (v *validator) budget(b *Budget, path string) {
	if b.ID == "" {
		v.errorf(orPos(b.IDPos, b.Pos), path, "a budget needs an id")
	}
	if b.Policy != "" && b.Policy != PolicyNone {
		v.errorf(b.Pos, path, "budget %s: unknown policy %s (want none, or leave it out)", suggest.Quote(b.ID), suggest.Quote(b.Policy))
	}
	switch {
	case b.ResetInterval < 0:
		v.errorf(b.Pos, path, "budget %s: reset_interval must not be negative, got %v", suggest.Quote(b.ID), b.ResetInterval)
	case b.ResetInterval%time.Millisecond != 0:
		// The store keeps intervals in whole milliseconds and refuses
		// others; say so here rather than fail the run later.
		v.errorf(b.Pos, path, "budget %s: reset_interval %v is not a whole number of milliseconds", suggest.Quote(b.ID), b.ResetInterval)
	}
	for _, name := range slices.Sorted(maps.Keys(b.Dimensions)) {
		l := b.Dimensions[name]
		if name == "" {
			v.errorf(b.Pos, path, "budget %s has a dimension with an empty name", suggest.Quote(b.ID))
		}
		v.count(b.Pos, path, "hard", l.Hard, 0)
		v.count(b.Pos, path, "soft", l.Soft, 0)
	}
}

func (v *validator) step(s *Step, path string, inside bool) {
	kinds := s.Actions()
	switch len(kinds) {
	case 0:
		v.errorf(s.Pos, path, "step has no action; want one of: %s", strings.Join(Names(), ", "))
		return
	case 1:
	default:
		names := make([]string, len(kinds))
		for i, k := range kinds {
			names[i] = fmt.Sprintf("%q", k.String())
		}
		v.errorf(s.Pos, path, "step has %d actions (%s); write one action per step", len(kinds), strings.Join(names, ", "))
		return
	}
	k := kinds[0]
	info := k.Info()
	if inside && !info.Concurrent {
		v.errorf(s.Pos, path, "%s cannot run inside concurrently: only actions can, not time steps, checks or concurrently", info.Name)
	}
	v.expect(s, k, path)
	v.action(s, k, path)
}

func (v *validator) offset(pos Pos, path, name string, o *Offset) {
	if o != nil && !o.Null && o.At < 0 {
		v.errorf(pos, path, "%s must not be negative, got %v", name, o.At)
	}
}

// ref checks a reference to a budget by the current top-level step. A step
// that expects not_found may name a budget nobody declared: that is what
// it checks.
func (v *validator) ref(id string, pos Pos, path string, expectsNotFound bool) {
	if id == "" {
		v.errorf(pos, path, "a budget reference must not be empty")
		return
	}
	if _, ok := v.declared[id]; ok || expectsNotFound {
		return
	}
	seq, created := v.created[id]
	if created && seq < v.seq {
		return
	}
	why := "declare it under budgets: or create it in an earlier create_budget step"
	hint := ""
	switch {
	case created && seq == v.seq:
		why = "it is created in the same concurrently step, in an order the seed decides"
	case created:
		why = "it is created only by a later create_budget step"
	case v.hints.Exhausted():
		// No hint left to give: do not even list the candidates.
	default:
		if v.knownSeq != v.seq {
			v.known = v.known[:0]
			for k := range v.declared {
				v.known = append(v.known, k)
			}
			for k, s := range v.created {
				if s < v.seq {
					v.known = append(v.known, k)
				}
			}
			slices.Sort(v.known)
			v.knownSeq = v.seq
		}
		hint = v.hints.Hint(id, v.known)
	}
	v.errorf(pos, path, "unknown budget %s%s; %s", suggest.Quote(id), hint, why)
}

// action checks the fields of the step's action. It is one case per step
// kind (the rules differ for each), in the order of the kind table, so that
// it can be read against the decoder and the encoder case by case.
func (v *validator) action(s *Step, k Kind, path string) {
	p := s.Pos
	switch k {
	case KindAdvance:
		v.nonNegative(p, path, "advance", *s.Advance)
	case KindAdvanceTo:
		v.nonNegative(p, path, "advance_to", *s.AdvanceTo)
	case KindSpawn:
		if d := s.Spawn.BudgetResetInterval; d != nil {
			v.nonNegative(p, path, "budget_reset_interval", *d)
		}
	case KindShutdown:
		v.nonNegative(p, path, "grace", s.Shutdown.Grace)
	case KindCreateBudget:
		v.budget(s.CreateBudget, path+".create_budget")
		if s.CreateBudget.Policy != "" {
			v.errorf(p, path, "policy: none declares a budget without creating it, so it belongs under budgets:, not in create_budget")
		}
	case KindReportUsage:
		r := s.ReportUsage
		v.ref(r.Budget, orPos(r.BudgetPos, p), path, false)
		for _, d := range slices.Sorted(maps.Keys(r.Usage)) {
			if d == "" {
				v.errorf(p, path, "a usage dimension must have a name")
			}
			v.count(p, path, d, r.Usage[d], 0)
		}
	case KindResetBudget:
		v.ref(s.ResetBudget.Budget, orPos(s.ResetBudget.BudgetPos, p), path, expectsResult(s, "not_found"))
	case KindSetNextReset:
		r := s.SetNextReset
		v.ref(r.Budget, orPos(r.BudgetPos, p), path, false)
		v.offset(p, path, "at", &r.At)
	case KindExpectBudget:
		v.budgetExpects(s, path)
	case KindExpectTicks:
		v.ticksExpects(s, path)
	case KindExpectRunning:
		v.count(p, path, "expect_running", int64(*s.ExpectRunning), 0)
	case KindExpectLog:
		v.enum(p, path, "log level", s.ExpectLog.Level, LogLevels)
	case KindSlowTick:
		st := s.SlowTick
		if st.Reconciler != "" {
			v.reconciler(p, path, st.Reconciler)
		}
		if st.Where != "" {
			v.enum(p, path, "where", st.Where, WhereValues)
		}
		v.count(p, path, "tick", int64(st.Tick), 1)
		v.nonNegative(p, path, "duration", st.Duration)
	case KindTickError:
		if s.TickError.Reconciler != "" {
			v.reconciler(p, path, s.TickError.Reconciler)
		}
		v.count(p, path, "tick", int64(s.TickError.Tick), 1)
	case KindBusy:
		v.count(p, path, "attempts", int64(s.Busy.Attempts), 1)
	case KindDBError:
		v.enum(p, path, "code", s.DBError.Code, DBErrorCodes)
		if s.DBError.On != "" {
			v.enum(p, path, "on", s.DBError.On, DBErrorOn)
		}
		v.count(p, path, "attempts", int64(s.DBError.Attempts), 1)
	case KindRegisterWorker:
		r := s.RegisterWorker
		v.worker(p, path, r.Namespace, r.Instance)
		if r.WorkerID == "" {
			v.errorf(p, path, "register_worker needs a worker_id")
		}
		v.nonNegative(p, path, "ttl", r.TTL)
		v.names(p, path, "lanes", r.Lanes)
		v.names(p, path, "capabilities", r.Capabilities)
	case KindHeartbeatWorker:
		v.worker(p, path, s.HeartbeatWorker.Namespace, s.HeartbeatWorker.Instance)
	case KindMarkWorkerDead:
		v.worker(p, path, s.MarkWorkerDead.Namespace, s.MarkWorkerDead.Instance)
	case KindExpectWorkers:
		v.workersExpect(s, path)
	case KindHoldWriteLock:
		v.nonNegative(p, path, "duration", s.HoldWriteLock.Duration)
	case KindConcurrently:
		if len(s.Concurrently) == 0 {
			v.errorf(p, path, "concurrently needs at least one step")
		}
		for i := range s.Concurrently {
			v.step(&s.Concurrently[i], fmt.Sprintf("%s.concurrently[%d]", path, i), true)
		}
	}
}

// expectsResult reports whether any alternative of the step's expect names
// result.
func expectsResult(s *Step, result string) bool {
	if s.Expect == nil {
		return false
	}
	for _, o := range s.Expect.AnyOf {
		if o.ResultName() == result {
			return true
		}
	}
	return false
}

// worker checks a reference to a worker instance.
func (v *validator) worker(p Pos, path, ns, instance string) {
	if instance == "" {
		v.errorf(p, path, "a worker instance must not be empty")
	}
	_ = ns // any namespace may be named; "" means the default
}

// names checks a list stored comma-joined: no name may be empty or hold a
// comma, or it would not read back as itself.
func (v *validator) names(p Pos, path, what string, names []string) {
	for _, n := range names {
		if n == "" || strings.Contains(n, ",") {
			v.errorf(p, path, "%s: %s cannot be stored (names are stored comma-joined: no empty names, no commas)", what, suggest.Quote(n))
		}
	}
}

func (v *validator) reconciler(pos Pos, path, name string) {
	v.enum(pos, path, "reconciler", name, Reconcilers)
}

func (v *validator) enum(pos Pos, path, what, val string, vals []string) {
	if slices.Contains(vals, val) {
		return
	}
	hint := v.hints.Hint(val, vals)
	if hint == "" {
		hint = " (want " + orList(vals) + ")"
	}
	v.errorf(pos, path, "unknown %s %s%s", what, suggest.Quote(val), hint)
}

// orList renders "a", "a or b", "a, b or c".
func orList(vals []string) string {
	if len(vals) <= 1 {
		return strings.Join(vals, "")
	}
	return strings.Join(vals[:len(vals)-1], ", ") + " or " + vals[len(vals)-1]
}
