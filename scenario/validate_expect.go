package scenario

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ffsim/ffsim/internal/suggest"
)

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
		for _, d := range slices.Sorted(maps.Keys(m)) {
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
