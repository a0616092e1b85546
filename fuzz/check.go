package fuzz

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ffsim/ffsim/fuzz/model"
	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
)

// Status is a verdict's outcome.
type Status string

// The outcomes of checking a scenario.
const (
	// Pass: the simulator did what the model predicts.
	Pass Status = "pass"
	// Fail: the simulator and the model disagree (or an invariant broke):
	// Verdict.Disagreement says where and how.
	Fail Status = "fail"
	// Unmodellable: the model could not interpret the scenario. For a
	// generated scenario that is a bug in the generator or the model.
	Unmodellable Status = "unmodellable"
	// Error: the host could not run the scenario (sim.Error): it says
	// nothing about the scenario.
	Error Status = "error"
)

// Verdict is the outcome of checking one scenario.
type Verdict struct {
	Status Status
	// Seed is the generator's seed, when the scenario was generated.
	Seed uint64
	// Scenario is the scenario checked, without expectations.
	Scenario *scenario.Scenario
	// Annotated is what ran: Scenario with the model's expectations and
	// checks (nil when Unmodellable).
	Annotated *scenario.Scenario
	// Result is the run's result (nil when Unmodellable).
	Result *sim.Result
	// Disagreement says what failed (Fail only).
	Disagreement *Disagreement
	// Err is why the model could not interpret the scenario, or the
	// host's failure.
	Err error
}

// Options say how to check scenarios.
type Options struct {
	// Native annotates for the native host's order of timers due at one
	// instant (model.Options.Native): exact and fast. Otherwise every
	// order the wasm host's seed may choose is allowed.
	Native bool
	// AllChecks keeps a check after every step for everything the model
	// predicts. By default a check is kept only where the model's
	// prediction changed, plus a full set after the last step: a state the
	// simulator got wrong is still caught, a step or two later at most,
	// and a run costs far fewer steps.
	AllChecks bool
}

// OptionsFor returns the options matching a host: Native for the native
// host.
func OptionsFor(h sim.Host) Options { return Options{Native: h.Name() == sim.HostNative} }

// Check annotates sc with the model's predictions, runs it on h and judges
// the run. sc is not changed.
func Check(ctx context.Context, h sim.Host, sc *scenario.Scenario, opts Options) *Verdict {
	v := &Verdict{Seed: sc.Seed, Scenario: sc}
	a, origin, err := Annotate(sc, opts)
	if err != nil {
		v.Status, v.Err = Unmodellable, err
		return v
	}
	v.Annotated = a
	res := h.Run(ctx, a, sim.Options{})
	v.Result = res
	switch res.Status {
	case sim.Pass:
		v.Status = Pass
	case sim.Error:
		v.Status = Error
		if res.Failure != nil {
			v.Err = fmt.Errorf("%s host: %s", res.Host, res.Failure.Message)
		} else {
			v.Err = fmt.Errorf("%s host could not run the scenario", res.Host)
		}
	default:
		v.Status = Fail
		v.Disagreement = classify(a, origin, res)
	}
	return v
}

// Annotate returns sc with the model's expectations and checks (see
// Options.AllChecks), every step numbered: step i of the result has line
// i+1 (a step inside a concurrently has its group's line and column j+1),
// so that a failure's position names the step. origin maps each step of
// the result to the index of the step of sc it is, or follows (a check).
func Annotate(sc *scenario.Scenario, opts Options) (out *scenario.Scenario, origin []int, err error) {
	in := *sc
	in.Steps = make([]scenario.Step, len(sc.Steps))
	copy(in.Steps, sc.Steps)
	for i := range in.Steps {
		in.Steps[i].Pos = scenario.Pos{Line: i + 1}
	}
	a, err := model.Annotate(&in, model.Options{Checks: true, Native: opts.Native})
	if err != nil {
		return nil, nil, err
	}
	if !opts.AllChecks {
		a.Steps = pruneChecks(a.Steps)
	}
	origin = make([]int, len(a.Steps))
	for i := range a.Steps {
		origin[i] = a.Steps[i].Pos.Line - 1
		number(&a.Steps[i], i+1)
	}
	return a, origin, nil
}

// number sets the positions of step s (at line) and of everything in it
// that a failure may name.
func number(s *scenario.Step, line int) {
	s.Pos = scenario.Pos{Line: line}
	if s.Expect != nil {
		s.Expect.Pos = s.Pos
	}
	for i := range s.ExpectBudget {
		s.ExpectBudget[i].Pos = s.Pos
	}
	for i := range s.ExpectTicks {
		s.ExpectTicks[i].Pos = s.Pos
	}
	if s.ExpectWorkers != nil {
		for i := range s.ExpectWorkers.Workers {
			s.ExpectWorkers.Workers[i].Pos = s.Pos
		}
	}
	for j := range s.Concurrently {
		in := &s.Concurrently[j]
		in.Pos = scenario.Pos{Line: line, Col: j + 1}
		if in.Expect != nil {
			in.Expect.Pos = in.Pos
		}
	}
}

// pruneChecks keeps, of the checks the model inserted, only what changed
// since the last time it was stated (per budget, per worker, per
// reconciler, for the running count), and every check after the last
// step.
func pruneChecks(steps []scenario.Step) []scenario.Step {
	last := -1
	for i := range steps {
		if !steps[i].Kind().Info().Check {
			last = i
		}
	}
	seen := map[string]string{}
	changed := func(subject string, v any) bool {
		b, _ := json.Marshal(v)
		if seen[subject] == string(b) {
			return false
		}
		seen[subject] = string(b)
		return true
	}
	out := steps[:0]
	for i := range steps {
		s := steps[i]
		if !s.Kind().Info().Check || i > last {
			out = append(out, s)
			continue
		}
		switch s.Kind() {
		case scenario.KindExpectBudget:
			var kept []scenario.BudgetExpect
			for _, be := range s.ExpectBudget {
				if changed("budget "+be.Budget, be.AnyOf) {
					kept = append(kept, be)
				}
			}
			if s.ExpectBudget = kept; len(kept) == 0 {
				continue
			}
		case scenario.KindExpectTicks:
			var kept []scenario.TicksExpect
			for _, te := range s.ExpectTicks {
				if changed("ticks "+te.Reconciler, [3]*int{te.Count, te.Processed, te.Errors}) {
					kept = append(kept, te)
				}
			}
			if s.ExpectTicks = kept; len(kept) == 0 {
				continue
			}
		case scenario.KindExpectWorkers:
			we := *s.ExpectWorkers
			var kept []scenario.WorkerExpect
			for _, w := range we.Workers {
				p := w.Pos
				w.Pos = scenario.Pos{}
				if changed("worker "+we.NS()+"/"+w.Instance, w) {
					w.Pos = p
					kept = append(kept, w)
				}
			}
			if we.Workers = kept; len(kept) == 0 {
				continue
			}
			s.ExpectWorkers = &we
		case scenario.KindExpectRunning:
			if !changed("running", *s.ExpectRunning) {
				continue
			}
		}
		out = append(out, s)
	}
	return out
}
