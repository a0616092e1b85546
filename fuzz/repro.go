package fuzz

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/ffsim/ffsim/fuzz/gen"
	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
)

// SchemaComment is the first line of a written scenario, for editors,
// with the path a file in scenarios/ uses.
const SchemaComment = "# yaml-language-server: $schema=../docs/scenario.schema.json"

// repro writes the shrunk scenario as a regression file: the model's
// expectations on its steps and the one check that fails (or, when that
// alone does not show the failure, the checks where the prediction
// changes), under a header naming the seed, the generator version and the
// disagreement. Its expectations allow every order of ties (so the file
// holds on the wasm host too) unless the failure shows only with the
// native host's order; native reports that.
func (s *shrinker) repro() (file []byte, native bool) {
	sc := s.best.Scenario.Clone()
	sc.Name = fmt.Sprintf("fuzz seed %d", s.best.Seed)
	sc.Description = fmt.Sprintf("Found by ffsim fuzz (seed %d, generator version %d, %s host) and shrunk; "+
		"the expectations are the reference model's (fuzz/model).", s.best.Seed, gen.Version, s.h.Name())
	modes := []bool{false}
	if s.opts.Native {
		modes = append(modes, true)
	}
	d := s.best.Disagreement
	for _, native := range modes {
		a, origin, err := Annotate(sc, Options{Native: native})
		if err != nil {
			continue
		}
		// The plainest file first: only the failing check, narrowed to what
		// differs, and no returned_at where it does not matter; then more.
		only := onlyFailingCheck(a, origin, d)
		for _, c := range []*scenario.Scenario{focus(only, origin, d), only, a} {
			if text, ok := s.confirm(c); ok {
				return text, native
			}
		}
	}
	// Fall back to what failed during shrinking.
	body, err := harness.Marshal(s.best.Annotated)
	if err != nil {
		return nil, s.opts.Native
	}
	var f *sim.Failure
	if s.best.Result != nil {
		f = s.best.Result.Failure
	}
	return s.render(body, f, false), s.opts.Native
}

// focus narrows a file to what shows the failure: the failing check states
// only the subject (budget, worker, reconciler) and the fields that differ,
// and steps' expectations leave out returned_at unless it is what differs.
// Expectations are only loosened, so a file that passes once the bug is
// fixed still does.
func focus(a *scenario.Scenario, origin []int, d *Disagreement) *scenario.Scenario {
	c := a.Clone()
	subject := ""
	if slices.Contains(subjectKinds, d.Kind) {
		subject, _, _ = strings.Cut(d.Expected, ": ")
	}
	fields := strings.Split(d.Class, ",")
	keep := func(v any, out any) {
		b, _ := json.Marshal(v)
		var m map[string]json.RawMessage
		_ = json.Unmarshal(b, &m)
		for k := range m {
			if !slices.Contains(fields, k) {
				delete(m, k)
			}
		}
		if len(m) == 0 {
			return // nothing named: keep it whole
		}
		b, _ = json.Marshal(m)
		_ = json.Unmarshal(b, out)
	}
	steps := c.Steps[:0]
	for i, st := range c.Steps {
		failing := origin[i] == d.Step
		switch {
		case st.ExpectBudget != nil && failing && subject != "":
			var kept []scenario.BudgetExpect
			for _, be := range st.ExpectBudget {
				if be.Budget != subject {
					continue
				}
				var alts []scenario.BudgetState
				for _, alt := range be.AnyOf {
					var n scenario.BudgetState
					if alt.NotFound {
						n = alt
					} else {
						keep(alt, &n)
						if reflect.ValueOf(n).IsZero() {
							n = alt
						}
					}
					alts = appendNew(alts, n)
				}
				be.AnyOf = alts
				kept = append(kept, be)
			}
			if len(kept) == 0 {
				continue
			}
			st.ExpectBudget = kept
		case st.ExpectTicks != nil && failing && subject != "":
			st.ExpectTicks = slices.DeleteFunc(st.ExpectTicks, func(t scenario.TicksExpect) bool { return t.Reconciler != subject })
			for j, t := range st.ExpectTicks {
				n := scenario.TicksExpect{Reconciler: t.Reconciler, Pos: t.Pos}
				keep(t, &n)
				if n.Count != nil || n.Processed != nil || n.Errors != nil {
					st.ExpectTicks[j] = n
				}
			}
			if len(st.ExpectTicks) == 0 {
				continue
			}
		case st.ExpectWorkers != nil && failing && subject != "":
			we := *st.ExpectWorkers
			we.Workers = slices.DeleteFunc(slices.Clone(we.Workers), func(w scenario.WorkerExpect) bool { return w.Instance != subject })
			if len(we.Workers) == 0 {
				continue
			}
			st.ExpectWorkers = &we
		}
		if !slices.Contains(fields, "returned_at") || !failing {
			dropReturnedAt(&st)
		}
		steps = append(steps, st)
	}
	c.Steps = steps
	return c
}

// appendNew appends v unless an equal value is there already.
func appendNew[T any](xs []T, v T) []T {
	b, _ := json.Marshal(v)
	for _, x := range xs {
		if c, _ := json.Marshal(x); string(c) == string(b) {
			return xs
		}
	}
	return append(xs, v)
}

// dropReturnedAt removes returned_at from a step's expectation (and its
// group's), merging alternatives that become equal.
func dropReturnedAt(st *scenario.Step) {
	if st.Expect != nil {
		var alts []scenario.Outcome
		for _, o := range st.Expect.AnyOf {
			o.ReturnedAt = nil
			alts = appendNew(alts, o)
		}
		st.Expect.AnyOf = alts
	}
	for j := range st.Concurrently {
		dropReturnedAt(&st.Concurrently[j])
	}
}

// onlyFailingCheck removes every inserted check but those at the failing
// step's checks (the budget, worker or reconciler the failure names is in
// there).
func onlyFailingCheck(a *scenario.Scenario, origin []int, d *Disagreement) *scenario.Scenario {
	c := a.Clone()
	steps := c.Steps[:0]
	for i, st := range c.Steps {
		if !st.Kind().Info().Check || (origin[i] == d.Step && st.Kind().String() == d.Kind) {
			steps = append(steps, st)
		}
	}
	c.Steps = steps
	return c
}

// confirm writes a, loads it back as a user would and runs it: it must
// fail with the signature being shrunk. It returns the file.
func (s *shrinker) confirm(a *scenario.Scenario) ([]byte, bool) {
	body, err := harness.Marshal(a)
	if err != nil {
		return nil, false
	}
	loaded, err := harness.LoadBytes("fuzz.yaml", body)
	if err != nil {
		return nil, false
	}
	res := s.h.Run(s.ctx, loaded, sim.Options{})
	if res.Status != sim.Fail || res.Failure == nil || failureOf(res.Failure).Signature() != s.sig {
		return nil, false
	}
	return s.render(body, res.Failure, true), true
}

// render puts the header on a file's body. f is how the body fails; when
// lines is true its position is a line of the body.
func (s *shrinker) render(body []byte, f *sim.Failure, lines bool) []byte {
	orig := s.best
	h := []string{SchemaComment,
		fmt.Sprintf("# Found by `ffsim fuzz --first-seed %d --seeds 1 --host %s` (generator version %d), then", orig.Seed, s.h.Name(), gen.Version),
		fmt.Sprintf("# shrunk; `ffsim gen --seed %d` prints the scenario as generated. The expectations are the", orig.Seed),
		"# reference model's (fuzz/model): this file fails while the simulator disagrees with the model",
		"# and passes once they agree.",
	}
	if f != nil {
		at := f.Step
		n := len(h) + 5 // the header's length: the lines below and the blank one
		if f.Expected == "" && f.Actual == "" {
			n -= 2
		}
		if lines && f.Pos.Line > 0 {
			at = fmt.Sprintf("line %d (%s)", f.Pos.Line+n, f.Step)
		}
		h = append(h, "# Disagreement ("+s.sig+"):", "#   at "+at+": "+oneLine(f.Message))
		if f.Expected != "" || f.Actual != "" {
			h = append(h, "#   expected: "+oneLine(f.Expected), "#   actual:   "+oneLine(f.Actual))
		}
	}
	h = append(h, "")
	return append([]byte(strings.Join(h, "\n")+"\n"), body...)
}

// oneLine keeps a report on one comment line.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
