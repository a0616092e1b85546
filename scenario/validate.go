package scenario

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ffsim/ffsim/internal/suggest"
)

// Error is one rule a scenario breaks, with where.
type Error struct {
	// Pos is where the offending value is written; zero for scenarios
	// built in Go, which Path then locates.
	Pos Pos
	// Path locates the value in the Go value, e.g. "steps[2].concurrently[0]".
	Path string
	Msg  string
}

// Error returns "file:line:col: message" for a value read from a file, and
// "path: message" for one built in Go.
func (e *Error) Error() string {
	switch {
	case e.Pos.File != "" && e.Pos.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.Pos.File, e.Pos.Line, e.Pos.Col, e.Msg)
	case e.Path != "" && e.Pos.Line > 0:
		return fmt.Sprintf("%s (line %d): %s", e.Path, e.Pos.Line, e.Msg)
	case e.Path != "":
		return e.Path + ": " + e.Msg
	}
	return e.Msg
}

// Errors is every rule a scenario breaks, in the order found.
type Errors []*Error

// MaxErrorsShown is how many errors [Errors.Error] lists; it then says how
// many more there are. The list itself keeps them all.
const MaxErrorsShown = 50

// Error lists the errors, one per line: the first [MaxErrorsShown], then
// "… and N more errors".
func (es Errors) Error() string {
	shown := es[:min(len(es), MaxErrorsShown)]
	parts := make([]string, len(shown), len(shown)+1)
	for i, e := range shown {
		parts[i] = e.Error()
	}
	if more := len(es) - len(shown); more > 0 {
		parts = append(parts, MoreErrors(more))
	}
	return strings.Join(parts, "\n")
}

// MoreErrors is the line that ends a list of errors cut short: "… and 1
// more error", "… and N more errors".
func MoreErrors(n int) string {
	if n == 1 {
		return "… and 1 more error"
	}
	return fmt.Sprintf("… and %d more errors", n)
}

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
	v.text(reflect.ValueOf(sc).Elem(), Pos{}, "", "")
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
	for _, name := range sortedKeys(b.Dimensions) {
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

func (v *validator) expect(s *Step, k Kind, path string) {
	if s.Expect == nil {
		return
	}
	spec := k.Info().Expect
	pos := orPos(s.Expect.Pos, s.Pos)
	switch {
	case spec == nil && k == KindConcurrently:
		v.errorf(pos, path, "concurrently takes no expect; put expectations on the steps inside it")
		return
	case spec == nil:
		v.errorf(pos, path, "step %q takes no expect", k.String())
		return
	case len(s.Expect.AnyOf) == 0:
		v.errorf(pos, path, "any_of needs at least one alternative")
		return
	}
	for i, o := range s.Expect.AnyOf {
		v.outcome(pos, fmt.Sprintf("%s.expect.any_of[%d]", path, i), k, spec, o)
	}
}

// outcome checks one alternative of a kind's expect against its spec.
func (v *validator) outcome(pos Pos, path string, k Kind, spec *ExpectSpec, o Outcome) {
	given := o.fields()
	for _, f := range given {
		if !slices.Contains(spec.Fields, f) {
			v.errorf(pos, path, "%s's expect cannot give %s (it may give: %s)", k, f, orNone(spec.Fields))
		}
	}
	result := o.ResultName()
	if o.Result != "" && result != o.Result {
		v.errorf(pos, path, "result %s contradicts %s", o.Result, result)
	}
	if result != "" && !slices.Contains(spec.Results, result) {
		if len(spec.Results) == 0 {
			v.errorf(pos, path, "%s's expect names no results (want a mapping)", k)
		} else {
			v.errorf(pos, path, "unknown %s outcome %s%s", k, suggest.Quote(result), v.hints.Hint(result, spec.Results))
		}
	}
	if o.Error != "" {
		if !slices.Contains(ErrorKinds, o.Error) {
			v.errorf(pos, path, "unknown error %s%s", suggest.Quote(o.Error), v.hints.Hint(o.Error, ErrorKinds))
		}
		for _, f := range given {
			if f != "error" && f != "returned_at" {
				v.errorf(pos, path, "an expected error cannot also give %s", f)
			}
		}
	}
	if result == "" && o.Error == "" {
		for _, r := range spec.Required {
			if !slices.Contains(given, r) {
				v.errorf(pos, path, "missing required key %q", r)
			}
		}
	}
	v.outcomeRanges(pos, path, o)
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "nothing"
	}
	return strings.Join(ss, ", ")
}

// fields lists the YAML names of the Outcome fields that are set.
func (o *Outcome) fields() []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(o.Result != "", "result")
	add(o.HardBreach != nil, "hard_breach")
	add(o.SoftBreach != nil, "soft_breach")
	add(o.Refreshed != nil, "refreshed")
	add(o.Error != "", "error")
	add(o.ReturnedAt != nil, "returned_at")
	add(o.Installed != nil, "installed")
	add(o.TimedOut != nil, "timed_out")
	add(o.NextResetAt != nil, "next_reset_at")
	add(o.Processed != nil, "processed")
	add(o.Errors != nil, "errors")
	return out
}

func (v *validator) outcomeRanges(pos Pos, path string, o Outcome) {
	for _, c := range []struct {
		name string
		n    *int
	}{{"timed_out", o.TimedOut}, {"processed", o.Processed}, {"errors", o.Errors}} {
		if c.n != nil {
			v.count(pos, path, c.name, int64(*c.n), 0)
		}
	}
	v.offset(pos, path, "next_reset_at", o.NextResetAt)
	v.offset(pos, path, "returned_at", o.ReturnedAt)
	if o.Refreshed != nil {
		v.offset(pos, path, "next_expiry", o.Refreshed.NextExpiry)
	}
	for _, b := range []*Breach{o.HardBreach, o.SoftBreach} {
		if b == nil {
			continue
		}
		if b.CurrentUsage != nil {
			v.count(pos, path, "current_usage", *b.CurrentUsage, 0)
		}
		if b.Limit != nil {
			v.count(pos, path, "limit", *b.Limit, 0)
		}
	}
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
		for _, d := range sortedKeys(r.Usage) {
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

func (v *validator) workersExpect(s *Step, path string) {
	p := s.Pos
	we := s.ExpectWorkers
	if len(we.Workers) == 0 {
		v.errorf(p, path, "expect_workers needs at least one instance")
	}
	for _, w := range we.Workers {
		wp := orPos(w.Pos, p)
		if w.Instance == "" {
			v.errorf(wp, path, "a worker instance must not be empty")
		}
		given := w.WorkerID != nil || w.LastHeartbeat != nil || w.TTL != nil || w.RegisteredAt != nil || w.Lanes != nil || w.Capabilities != nil
		if w.Absent && given {
			v.errorf(wp, path, "worker %s: absent cannot be combined with fields", suggest.Quote(w.Instance))
		}
		v.offset(wp, path, "last_heartbeat", w.LastHeartbeat)
		v.offset(wp, path, "registered_at", w.RegisteredAt)
		if w.TTL != nil {
			v.nonNegative(wp, path, "ttl", *w.TTL)
		}
	}
}

func (v *validator) budgetExpects(s *Step, path string) {
	p := s.Pos
	if len(s.ExpectBudget) == 0 {
		v.errorf(p, path, "expect_budget needs at least one budget")
	}
	for _, b := range s.ExpectBudget {
		bp := orPos(b.Pos, p)
		notFound := false
		for _, st := range b.AnyOf {
			notFound = notFound || st.NotFound
		}
		v.ref(b.Budget, bp, path, notFound)
		if len(b.AnyOf) == 0 {
			v.errorf(bp, path, "any_of needs at least one alternative")
		}
		for _, st := range b.AnyOf {
			v.budgetState(bp, path, st)
		}
	}
}

func (v *validator) ticksExpects(s *Step, path string) {
	p := s.Pos
	if len(s.ExpectTicks) == 0 {
		v.errorf(p, path, "expect_ticks needs at least one reconciler")
	}
	for _, t := range s.ExpectTicks {
		tp := orPos(t.Pos, p)
		v.reconciler(tp, path, t.Reconciler)
		for _, c := range []struct {
			name string
			n    *int
		}{{"count", t.Count}, {"processed", t.Processed}, {"errors", t.Errors}} {
			if c.n != nil {
				v.count(tp, path, c.name, int64(*c.n), 0)
			}
		}
	}
}

func (v *validator) budgetState(pos Pos, path string, st BudgetState) {
	if st.NotFound && st.hasFields() {
		v.errorf(pos, path, "not_found cannot be combined with fields")
	}
	if st.ResetInterval != nil {
		v.nonNegative(pos, path, "reset_interval", *st.ResetInterval)
	}
	v.offset(pos, path, "created_at", st.CreatedAt)
	for name, m := range map[string]map[string]int64{"usage": st.Usage, "hard_limits": st.HardLimits, "soft_limits": st.SoftLimits} {
		for _, d := range sortedKeys(m) {
			v.count(pos, path+"."+name, d, m[d], 0)
		}
	}
	if st.BreachCount != nil {
		v.count(pos, path, "breach_count", *st.BreachCount, 0)
	}
	if st.SoftBreachCount != nil {
		v.count(pos, path, "soft_breach_count", *st.SoftBreachCount, 0)
	}
	v.offset(pos, path, "next_reset_at", st.NextResetAt)
	v.offset(pos, path, "last_breach_at", st.LastBreachAt)
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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// posType is the type of positions, which text does not check.
var posType = reflect.TypeFor[Pos]()

// text checks every string a scenario holds (values, map keys, ids) for
// characters that would forge or garble the reports that echo them: a
// name with a newline printed "FAIL injected" on a line of its own.
// Control characters (C0, DEL, C1), the Unicode line and paragraph
// separators and the bidirectional overrides are refused, and so is text
// that is not UTF-8. A description may hold newlines, carriage returns and
// tabs (it is prose, and never printed on a report line); a
// mark_worker_dead reason may hold anything, since what the store does
// with a bad reason is what such a step tests. pos is the position of the
// nearest enclosing value the loader located, path the Go path, name the
// key whose value v is.
func (v *validator) text(val reflect.Value, pos Pos, path, name string) {
	switch val.Kind() {
	case reflect.String:
		v.textValue(pos, path, name, val.String())
	case reflect.Pointer:
		if !val.IsNil() {
			v.text(val.Elem(), pos, path, name)
		}
	case reflect.Slice, reflect.Array:
		for i := range val.Len() {
			v.text(val.Index(i), pos, fmt.Sprintf("%s[%d]", path, i), name)
		}
	case reflect.Map:
		iter := val.MapRange()
		for iter.Next() {
			k := iter.Key()
			if k.Kind() == reflect.String {
				v.textValue(pos, path, name+" key", k.String())
			}
			v.text(iter.Value(), pos, fmt.Sprintf("%s[%q]", path, k.String()), name)
		}
	case reflect.Struct:
		t := val.Type()
		if t == reflect.TypeFor[time.Time]() {
			return
		}
		if f, ok := t.FieldByName("Pos"); ok && f.Type == posType {
			if p := val.FieldByIndex(f.Index).Interface().(Pos); !p.IsZero() {
				pos = p
			}
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Type == posType || (t == reflect.TypeFor[Scenario]() && f.Name == "File") {
				continue
			}
			key := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if key == "" || key == "-" {
				key = strings.Split(f.Tag.Get("json"), ",")[0]
			}
			if key == "" || key == "-" {
				key = strings.ToLower(f.Name)
			}
			sub := key
			if path != "" {
				sub = path + "." + key
			}
			v.text(val.Field(i), pos, sub, key)
		}
	}
}

// textValue checks one string; name is its key ("description", "reason",
// or "usage key" for a key of usage).
func (v *validator) textValue(pos Pos, path, name, s string) {
	if name == "reason" {
		return
	}
	if msg := BadText(s, name == "description"); msg != "" {
		what := name
		if what == "" {
			what = "text"
		}
		v.errorf(pos, path, "%s %s", what, msg)
	}
}

// BadText says what is wrong with text a scenario holds, or "" when it is
// fine: it must be UTF-8 without control characters (C0, DEL, C1), line or
// paragraph separators, or bidirectional overrides, which would forge or
// garble the report lines that echo it. prose allows newlines, carriage
// returns and tabs.
func BadText(s string, prose bool) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return "is not valid UTF-8"
		case prose && (r == '\n' || r == '\r' || r == '\t'):
		case unicode.IsControl(r), r == '\u2028', r == '\u2029', r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
			if prose {
				return fmt.Sprintf("contains the control character %U: only newlines and tabs may break its text", r)
			}
			return fmt.Sprintf("contains the control character %U: scenario text is echoed on report lines, so it must be printable (no newlines, tabs or escapes)", r)
		}
	}
	return ""
}
