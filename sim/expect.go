package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"

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

// outcomeField is one field of a step's outcome.
type outcomeField struct {
	name string
	set  func(o *scenario.Outcome) bool
	str  func(o *scenario.Outcome) string
}

var outcomeFields = []outcomeField{
	{"installed", func(o *scenario.Outcome) bool { return o.Installed != nil }, func(o *scenario.Outcome) string { return fmt.Sprint(*o.Installed) }},
	{"timed_out", func(o *scenario.Outcome) bool { return o.TimedOut != nil }, func(o *scenario.Outcome) string { return fmt.Sprint(*o.TimedOut) }},
	{"next_reset_at", func(o *scenario.Outcome) bool { return o.NextResetAt != nil }, func(o *scenario.Outcome) string { return o.NextResetAt.String() }},
	{"processed", func(o *scenario.Outcome) bool { return o.Processed != nil }, func(o *scenario.Outcome) string { return fmt.Sprint(*o.Processed) }},
	{"errors", func(o *scenario.Outcome) bool { return o.Errors != nil }, func(o *scenario.Outcome) string { return fmt.Sprint(*o.Errors) }},
}

// fmtOutcome renders every field an outcome sets: a bare result, or
// {result, field: value, ...}.
func fmtOutcome(o scenario.Outcome) string {
	var parts []string
	if o.Result != "" {
		parts = append(parts, o.Result)
	}
	for _, f := range outcomeFields {
		if f.set(&o) {
			parts = append(parts, f.name+": "+f.str(&o))
		}
	}
	if len(parts) == 1 && o.Result != "" {
		return o.Result
	}
	return braces(parts)
}

// outcomeMatches reports whether got has every field want gives, with the
// same value. Offsets compare to the millisecond.
func outcomeMatches(want, got scenario.Outcome) bool {
	if want.Result != "" && want.Result != got.Result {
		return false
	}
	for _, f := range outcomeFields {
		if !f.set(&want) {
			continue
		}
		if !f.set(&got) {
			return false
		}
		if f.name == "next_reset_at" {
			if !want.NextResetAt.Equal(*got.NextResetAt) {
				return false
			}
		} else if f.str(&want) != f.str(&got) {
			return false
		}
	}
	return true
}

// judge compares a step's outcome with its expect.
func (e *engine) judge(s *scenario.Step, out scenario.Outcome, opErr error) error {
	kind := s.Kind().String()
	if opErr != nil {
		return e.fail(s.Pos, kind, fmt.Sprintf("%s failed: %v", kind, opErr), "", "")
	}
	if s.Expect == nil {
		return nil
	}
	actual := fmtOutcome(out)
	for _, alt := range s.Expect.AnyOf {
		if outcomeMatches(alt, out) {
			e.rec.add(Event{Kind: EvExpect, Step: kind, Line: s.Expect.Pos.Line, Detail: actual, OK: ptr(true)})
			return nil
		}
	}
	e.rec.add(Event{Kind: EvExpect, Step: kind, Line: s.Expect.Pos.Line, Detail: actual, OK: ptr(false)})
	exp := make([]string, len(s.Expect.AnyOf))
	for i, alt := range s.Expect.AnyOf {
		exp[i] = fmtOutcome(alt)
	}
	return e.fail(s.Expect.Pos, kind, kind+": unexpected outcome", strings.Join(exp, " or "), actual)
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
			st, err := e.store.BudgetStatus(context.Background(), b.Budget)
			if err != nil {
				return e.fail(b.Pos, kind, fmt.Sprintf("budget %q: %v", b.Budget, err), "", "")
			}
			var exp []string
			ok := false
			var act string
			for _, alt := range b.AnyOf {
				d := e.budgetDiff(alt, st)
				act = braces(d.got)
				exp = append(exp, braces(d.want))
				if d.ok {
					ok = true
					break
				}
			}
			if err := e.verdict(b.Pos, kind, ok, b.Budget+": "+strings.Join(exp, " or "), b.Budget+": "+act); err != nil {
				return err
			}
		}
	}
	return nil
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
