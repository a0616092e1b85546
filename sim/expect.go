package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ffsim/ffsim/reconcilers"
	"github.com/ffsim/ffsim/scenario"
)

// This file matches expectations against what happened. Each kind of
// expectation is one walk over its fields that decides the match and
// renders both sides of the diff at once, so what is compared and what a
// failure shows cannot drift apart.

// diff collects one expectation's comparison: whether every given field
// matched, and each field rendered as expected and as found.
type diff struct {
	ok   bool
	want []string
	got  []string
}

func newDiff() *diff { return &diff{ok: true} }

// field compares one field the expectation gives.
func (d *diff) field(name string, match bool, want, got string) {
	d.ok = d.ok && match
	d.want = append(d.want, name+": "+want)
	d.got = append(d.got, name+": "+got)
}

func braces(parts []string) string { return "{" + strings.Join(parts, ", ") + "}" }

// outcomeField is one field of a step's outcome: whether it is set, its
// rendering, and whether a wanted value matches a found one.
type outcomeField struct {
	name  string
	set   func(o *scenario.Outcome) bool
	str   func(o *scenario.Outcome) string
	match func(want, got *scenario.Outcome) bool
}

// same matches fields by their rendering.
func same(f func(o *scenario.Outcome) string) func(want, got *scenario.Outcome) bool {
	return func(want, got *scenario.Outcome) bool { return f(want) == f(got) }
}

func fmtBreach(b *scenario.Breach) string {
	var parts []string
	if b.Dimension != nil {
		parts = append(parts, "dimension: "+*b.Dimension)
	}
	if b.CurrentUsage != nil {
		parts = append(parts, fmt.Sprintf("current_usage: %d", *b.CurrentUsage))
	}
	if b.Limit != nil {
		parts = append(parts, fmt.Sprintf("limit: %d", *b.Limit))
	}
	return braces(parts)
}

// breachMatches compares the details want gives.
func breachMatches(want, got *scenario.Breach) bool {
	return got != nil &&
		(want.Dimension == nil || (got.Dimension != nil && *want.Dimension == *got.Dimension)) &&
		(want.CurrentUsage == nil || (got.CurrentUsage != nil && *want.CurrentUsage == *got.CurrentUsage)) &&
		(want.Limit == nil || (got.Limit != nil && *want.Limit == *got.Limit))
}

func offsetMatch(get func(o *scenario.Outcome) *scenario.Offset) func(want, got *scenario.Outcome) bool {
	return func(want, got *scenario.Outcome) bool { return get(want).Equal(*get(got)) }
}

var outcomeFields = []outcomeField{
	{"hard_breach", func(o *scenario.Outcome) bool { return o.HardBreach != nil },
		func(o *scenario.Outcome) string { return fmtBreach(o.HardBreach) },
		func(w, g *scenario.Outcome) bool { return breachMatches(w.HardBreach, g.HardBreach) }},
	{"soft_breach", func(o *scenario.Outcome) bool { return o.SoftBreach != nil },
		func(o *scenario.Outcome) string { return fmtBreach(o.SoftBreach) },
		func(w, g *scenario.Outcome) bool { return breachMatches(w.SoftBreach, g.SoftBreach) }},
	{"refreshed", func(o *scenario.Outcome) bool { return o.Refreshed != nil },
		func(o *scenario.Outcome) string {
			if o.Refreshed.NextExpiry == nil {
				return "{}"
			}
			return "{next_expiry: " + o.Refreshed.NextExpiry.String() + "}"
		},
		func(w, g *scenario.Outcome) bool {
			return g.Refreshed != nil && (w.Refreshed.NextExpiry == nil ||
				(g.Refreshed.NextExpiry != nil && w.Refreshed.NextExpiry.Equal(*g.Refreshed.NextExpiry)))
		}},
	{"error", func(o *scenario.Outcome) bool { return o.Error != "" }, func(o *scenario.Outcome) string { return o.Error }, nil},
	{"installed", func(o *scenario.Outcome) bool { return o.Installed != nil }, func(o *scenario.Outcome) string { return fmt.Sprint(*o.Installed) }, nil},
	{"timed_out", func(o *scenario.Outcome) bool { return o.TimedOut != nil }, func(o *scenario.Outcome) string { return fmt.Sprint(*o.TimedOut) }, nil},
	{"next_reset_at", func(o *scenario.Outcome) bool { return o.NextResetAt != nil }, func(o *scenario.Outcome) string { return o.NextResetAt.String() },
		offsetMatch(func(o *scenario.Outcome) *scenario.Offset { return o.NextResetAt })},
	{"processed", func(o *scenario.Outcome) bool { return o.Processed != nil }, func(o *scenario.Outcome) string { return fmt.Sprint(*o.Processed) }, nil},
	{"errors", func(o *scenario.Outcome) bool { return o.Errors != nil }, func(o *scenario.Outcome) string { return fmt.Sprint(*o.Errors) }, nil},
	{"returned_at", func(o *scenario.Outcome) bool { return o.ReturnedAt != nil }, func(o *scenario.Outcome) string { return o.ReturnedAt.String() },
		offsetMatch(func(o *scenario.Outcome) *scenario.Offset { return o.ReturnedAt })},
}

// fmtOutcome renders an outcome: a bare result, or {result, field: value,
// ...}. A result implied by its details (hard_breach: {...}) is not
// repeated. returned_at is shown only with withReturned, since every
// outcome has one and few expectations ask.
func fmtOutcome(o scenario.Outcome, withReturned bool) string {
	var parts []string
	if o.Result != "" && o.HardBreach == nil && o.SoftBreach == nil && o.Refreshed == nil {
		parts = append(parts, o.Result)
	}
	for _, f := range outcomeFields {
		if f.set(&o) && (f.name != "returned_at" || withReturned) {
			parts = append(parts, f.name+": "+f.str(&o))
		}
	}
	if len(parts) == 1 && o.Result != "" && parts[0] == o.Result {
		return o.Result
	}
	return braces(parts)
}

// outcomeMatches reports whether got has every field want gives, with the
// same value. Offsets compare to the millisecond.
func outcomeMatches(want, got scenario.Outcome) bool {
	if r := want.ResultName(); r != "" && r != got.ResultName() {
		return false
	}
	for _, f := range outcomeFields {
		if !f.set(&want) {
			continue
		}
		if !f.set(&got) {
			return false
		}
		match := f.match
		if match == nil {
			match = same(f.str)
		}
		if !match(&want, &got) {
			return false
		}
	}
	return true
}

// errorKind names an operation's error as expectations do
// (scenario.ErrorKinds).
func errorKind(err error) string {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "interrupted"
	case errors.Is(err, reconcilers.ErrNotFound):
		return "not_found"
	case errors.Is(err, reconcilers.ErrInvalidInput):
		return "invalid"
	}
	if code, ok := reconcilers.SQLiteCode(err); ok {
		switch code & 0xff {
		case 5:
			return "busy"
		case 6:
			return "locked"
		case 9:
			return "interrupted"
		case 10:
			return "ioerr"
		case 11:
			return "corrupt"
		case 13:
			return "full"
		}
	}
	if errors.Is(err, reconcilers.ErrBusy) {
		return "busy"
	}
	return "other"
}

// judge compares a step's outcome with its expect. An operation error is
// an outcome too: a named result where the kind has one of that name
// (register_worker's invalid, reset_budget's not_found), otherwise
// {error: KIND}; without an expect that names it, it fails the step.
func (e *engine) judge(s *scenario.Step, out scenario.Outcome, opErr error) error {
	k := s.Kind()
	kind := k.String()
	if opErr != nil {
		name := errorKind(opErr)
		if spec := k.Info().Expect; spec != nil && slices.Contains(spec.Results, name) {
			out.Result = name
		} else {
			out.Error = name
		}
	}
	if s.Expect == nil {
		if out.Error != "" {
			return e.fail(s.Pos, kind, fmt.Sprintf("%s failed: %v", kind, opErr), "", "")
		}
		return nil
	}
	withReturned := false
	for _, alt := range s.Expect.AnyOf {
		withReturned = withReturned || alt.ReturnedAt != nil
	}
	actual := fmtOutcome(out, withReturned)
	for _, alt := range s.Expect.AnyOf {
		if outcomeMatches(alt, out) {
			e.rec.add(Event{Kind: EvExpect, Step: kind, Line: s.Expect.Pos.Line, Detail: actual, OK: ptr(true)})
			return nil
		}
	}
	e.rec.add(Event{Kind: EvExpect, Step: kind, Line: s.Expect.Pos.Line, Detail: actual, OK: ptr(false)})
	exp := make([]string, len(s.Expect.AnyOf))
	for i, alt := range s.Expect.AnyOf {
		exp[i] = fmtOutcome(alt, true)
	}
	msg := kind + ": unexpected outcome"
	if opErr != nil {
		msg += fmt.Sprintf(" (the operation failed: %v)", opErr)
	}
	return e.fail(s.Expect.Pos, kind, msg, strings.Join(exp, " or "), actual)
}

// check evaluates an expect_* step against the world as it is now.
func (e *engine) check(s *scenario.Step) error {
	kind := s.Kind().String()
	switch s.Kind() {
	case scenario.KindExpectRunning:
		n := 0
		if e.sup != nil {
			n = e.sup.Running()
		}
		return e.verdict(s.Pos, kind, *s.ExpectRunning == n, fmt.Sprint(*s.ExpectRunning), fmt.Sprint(n))
	case scenario.KindExpectLog:
		want := *s.ExpectLog
		ok := e.logs.has(want.Level, want.Contains)
		return e.verdict(s.Pos, kind, ok, fmt.Sprintf("a %s line containing %q", want.Level, want.Contains), e.logs.summary())
	case scenario.KindExpectTicks:
		for _, t := range s.ExpectTicks {
			got := e.tally.ticksOf(t.Reconciler)
			d := ticksDiff(t, got)
			if err := e.verdict(t.Pos, kind, d.ok, t.Reconciler+": "+braces(d.want), t.Reconciler+": "+got.String()); err != nil {
				return err
			}
		}
	case scenario.KindExpectBudget:
		for _, b := range s.ExpectBudget {
			if err := e.checkBudget(kind, b); err != nil {
				return err
			}
		}
	case scenario.KindExpectWorkers:
		return e.checkWorkers(kind, s.ExpectWorkers)
	}
	return nil
}

// checkBudget checks one budget against its alternatives; a budget with no
// policy row reads as not_found.
func (e *engine) checkBudget(kind string, b scenario.BudgetExpect) error {
	st, err := e.store.BudgetStatus(context.Background(), b.Budget)
	missing := errors.Is(err, reconcilers.ErrNotFound)
	if err != nil && !missing {
		return e.fail(b.Pos, kind, fmt.Sprintf("budget %q: %v", b.Budget, err), "", "")
	}
	var exp []string
	var act string
	ok := false
	for _, alt := range b.AnyOf {
		var want string
		switch {
		case alt.NotFound:
			want, act, ok = "not_found", "found", missing
			if missing {
				act = "not_found"
			}
		case missing:
			want, act = braces(e.budgetDiff(alt, reconcilers.Status{}).want), "not_found"
		default:
			d := e.budgetDiff(alt, st)
			want, act, ok = braces(d.want), braces(d.got), d.ok
		}
		exp = append(exp, want)
		if ok {
			break
		}
	}
	return e.verdict(b.Pos, kind, ok, b.Budget+": "+strings.Join(exp, " or "), b.Budget+": "+act)
}

// checkWorkers checks the worker registry of one namespace.
func (e *engine) checkWorkers(kind string, we *scenario.WorkersExpect) error {
	ws, err := e.store.ListWorkers(context.Background(), we.NS())
	if err != nil {
		return e.fail(we.Workers[0].Pos, kind, err.Error(), "", "")
	}
	live := map[string]reconcilers.Worker{}
	for _, w := range ws {
		live[w.Instance] = w
	}
	for _, want := range we.Workers {
		got, ok := live[want.Instance]
		var d *diff
		switch {
		case want.Absent:
			d = newDiff()
			d.ok = !ok
			d.want, d.got = []string{"absent"}, []string{"absent"}
			if ok {
				d.got = []string{"present"}
			}
		case !ok:
			d = e.workerDiff(want, nil)
		default:
			d = e.workerDiff(want, &got)
		}
		if err := e.verdict(want.Pos, kind, d.ok, want.Instance+": "+strings.Join(d.want, ", "), want.Instance+": "+strings.Join(d.got, ", ")); err != nil {
			return err
		}
	}
	return nil
}

// workerDiff compares the fields of a worker that want gives; got nil is
// an absent worker.
func (e *engine) workerDiff(want scenario.WorkerExpect, got *reconcilers.Worker) *diff {
	d := newDiff()
	if got == nil {
		d.ok = false
		d.want, d.got = []string{"present"}, []string{"absent"}
		return d
	}
	if want.WorkerID != nil {
		d.field("worker_id", *want.WorkerID == got.WorkerID, *want.WorkerID, got.WorkerID)
	}
	if want.LastHeartbeat != nil {
		g := e.msOffset(&got.LastHeartbeatMs)
		d.field("last_heartbeat", want.LastHeartbeat.Equal(*g), want.LastHeartbeat.String(), g.String())
	}
	if want.TTL != nil {
		g := time.Duration(got.TTLMs) * time.Millisecond
		d.field("ttl", want.TTL.Milliseconds() == got.TTLMs, want.TTL.String(), g.String())
	}
	if want.RegisteredAt != nil {
		g := e.msOffset(&got.RegisteredAtMs)
		d.field("registered_at", want.RegisteredAt.Equal(*g), want.RegisteredAt.String(), g.String())
	}
	if want.Lanes != nil {
		d.field("lanes", slices.Equal(sortedSet(want.Lanes), got.Lanes), fmt.Sprint(sortedSet(want.Lanes)), fmt.Sprint(got.Lanes))
	}
	if want.Capabilities != nil {
		d.field("capabilities", slices.Equal(sortedSet(want.Capabilities), got.Capabilities), fmt.Sprint(sortedSet(want.Capabilities)), fmt.Sprint(got.Capabilities))
	}
	if len(d.want) == 0 {
		d.want, d.got = []string{"present"}, []string{"present"}
	}
	return d
}

// sortedSet is names sorted and deduplicated, as the registry stores them.
func sortedSet(names []string) []string {
	s := slices.Clone(names)
	slices.Sort(s)
	return slices.Compact(s)
}

func (e *engine) verdict(pos scenario.Pos, kind string, ok bool, expected, actual string) error {
	e.rec.add(Event{Kind: EvExpect, Step: kind, Line: pos.Line, Detail: actual, OK: ptr(ok)})
	if ok {
		return nil
	}
	return e.fail(pos, kind, kind+": expectation not met", expected, actual)
}

// String renders every total, whichever an expectation gave.
func (t tickTally) String() string {
	return fmt.Sprintf("{count: %d, processed: %d, errors: %d}", t.count, t.processed, t.errors)
}

// ticksDiff compares the tick totals an expectation gives.
func ticksDiff(want scenario.TicksExpect, got tickTally) *diff {
	d := newDiff()
	for _, f := range []struct {
		name string
		want *int
		got  int
	}{{"count", want.Count, got.count}, {"processed", want.Processed, got.processed}, {"errors", want.Errors, got.errors}} {
		if f.want != nil {
			d.field(f.name, *f.want == f.got, fmt.Sprint(*f.want), fmt.Sprint(f.got))
		}
	}
	return d
}

// budgetDiff compares the fields of a budget's state that want gives.
func (e *engine) budgetDiff(want scenario.BudgetState, got reconcilers.Status) *diff {
	d := newDiff()
	if want.Usage != nil {
		d.dims("usage", want.Usage, got.Usage)
	}
	if want.NextResetAt != nil {
		g := e.msOffset(got.NextResetAtMs)
		d.field("next_reset_at", want.NextResetAt.Equal(*g), want.NextResetAt.String(), g.String())
	}
	if want.BreachCount != nil {
		d.field("breach_count", *want.BreachCount == got.BreachCount, fmt.Sprint(*want.BreachCount), fmt.Sprint(got.BreachCount))
	}
	if want.SoftBreachCount != nil {
		d.field("soft_breach_count", *want.SoftBreachCount == got.SoftBreachCount, fmt.Sprint(*want.SoftBreachCount), fmt.Sprint(got.SoftBreachCount))
	}
	if w := want.LastBreachDim; w != nil {
		g := "null"
		if got.LastBreachDim != nil {
			g = *got.LastBreachDim
		}
		match := (w.Null && got.LastBreachDim == nil) || (!w.Null && got.LastBreachDim != nil && *got.LastBreachDim == w.Value)
		d.field("last_breach_dim", match, w.String(), g)
	}
	if want.LastBreachAt != nil {
		g := e.msOffset(got.LastBreachAtMs)
		d.field("last_breach_at", want.LastBreachAt.Equal(*g), want.LastBreachAt.String(), g.String())
	}
	if want.HardLimits != nil {
		d.dims("hard_limits", want.HardLimits, got.HardLimits)
	}
	if want.SoftLimits != nil {
		d.dims("soft_limits", want.SoftLimits, got.SoftLimits)
	}
	if w := want.Scope; w != nil {
		d.field("scope", w.Type == got.Scope.Type && w.ID == got.Scope.ID,
			fmt.Sprintf("{type: %s, id: %s}", w.Type, w.ID), fmt.Sprintf("{type: %s, id: %s}", got.Scope.Type, got.Scope.ID))
	}
	for _, f := range []struct {
		name string
		want *string
		got  string
	}{{"enforcement_mode", want.EnforcementMode, got.EnforcementMode}, {"on_hard_limit", want.OnHardLimit, got.OnHardLimit}, {"on_soft_limit", want.OnSoftLimit, got.OnSoftLimit}} {
		if f.want != nil {
			d.field(f.name, *f.want == f.got, *f.want, f.got)
		}
	}
	if want.ResetInterval != nil {
		g := time.Duration(got.ResetIntervalMs) * time.Millisecond
		d.field("reset_interval", want.ResetInterval.Milliseconds() == got.ResetIntervalMs, want.ResetInterval.String(), g.String())
	}
	if want.CreatedAt != nil {
		g := e.msOffset(&got.CreatedAtMs)
		d.field("created_at", want.CreatedAt.Equal(*g), want.CreatedAt.String(), g.String())
	}
	return d
}

// dims compares the dimensions want gives (a missing one reads as 0) and
// renders both sides sorted: "name: {a: 1, b: 2}".
func (d *diff) dims(name string, want, have map[string]int64) {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w := make([]string, len(keys))
	g := make([]string, len(keys))
	match := true
	for i, k := range keys {
		w[i] = fmt.Sprintf("%s: %d", k, want[k])
		g[i] = fmt.Sprintf("%s: %d", k, have[k])
		match = match && want[k] == have[k]
	}
	d.field(name, match, braces(w), braces(g))
}
