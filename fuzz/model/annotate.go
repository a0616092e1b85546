package model

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// Options says what Annotate adds.
type Options struct {
	// Checks inserts, after every top-level step, check steps stating the
	// model's predicted state: expect_budget for every budget that exists
	// or was referenced (every field it can predict, with any_of where
	// several values are allowed; not_found where none exists),
	// expect_workers for every instance ever named (absent or its fields),
	// expect_ticks for both reconcilers (count, processed, errors) and
	// expect_running. Check steps change nothing, so none are inserted
	// after a check step.
	Checks bool
	// Native predicts for the native host alone: timers due at one
	// instant fire in the order they were created (SPEC §5), and only that
	// order is followed. By default every order is allowed, as the wasm
	// host lets the seed decide ties inside the system under test.
	Native bool
}

// maxWorlds bounds the alternative histories the model follows at once.
const maxWorlds = 4096

// Annotate returns a deep copy of sc (sc is not changed) in which every
// step that takes an expect carries the model's prediction (an Expect with
// any_of alternatives where SPEC allows several outcomes), and, with
// opts.Checks, the check steps above. Expectations sc already had are
// replaced; its own check steps are restated from the model's prediction
// for what they name (a field the model cannot predict is left out, and a
// check with nothing left is dropped); expect_log steps are kept as they
// are. It returns an error only for a scenario the model cannot interpret
// (it says which step and why).
func Annotate(sc *scenario.Scenario, opts Options) (*scenario.Scenario, error) {
	out, _, err := annotate(sc, opts)
	return out, err
}

// annotate is Annotate, also returning the annotator for what it counted.
func annotate(sc *scenario.Scenario, opts Options) (out *scenario.Scenario, a *annotator, err error) {
	if sc == nil {
		return nil, nil, errors.New("model: nil scenario")
	}
	if err := sc.Validate(); err != nil {
		return nil, nil, fmt.Errorf("model: invalid scenario: %w", err)
	}
	out = sc.Clone()
	a = newAnnotator(out, opts)
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && errors.Is(e, errChoice) {
				out, err = nil, fmt.Errorf("model: step %d: %w", a.index, e)
				return
			}
			panic(r)
		}
	}()
	steps := out.Steps
	res := make([]scenario.Step, 0, len(steps))
	ws := []*world{a.initial()}
	for i := range steps {
		a.index = i
		st := &steps[i]
		ws, err = a.run(ws, st)
		if err != nil {
			return nil, a, fmt.Errorf("model: step %d (%s, %s): %w", i, st.Kind(), st.Pos, err)
		}
		a.note(st)
		if keep := a.fill(ws, st); keep {
			res = append(res, *st)
		}
		if opts.Checks && !st.Kind().Info().Check {
			res = append(res, a.checks(ws, st.Pos.Line)...)
		}
		for _, w := range ws {
			w.outcomes = nil
			w.compact()
		}
		ws = dedup(ws)
	}
	out.Steps = res
	return out, a, nil
}

// annotator runs the worlds of one scenario through its steps.
type annotator struct {
	cfg   *config
	index int
	// Budgets that exist or were referenced, and instances ever named per
	// namespace, in order of first mention.
	budgets    []string
	namespaces []string
	instances  map[string][]string
	// iterations counts the worlds moved to their next event: the model's
	// work, which grows with events, not with simulated time.
	iterations int
}

func newAnnotator(sc *scenario.Scenario, opts Options) *annotator {
	start := sc.StartTime()
	return &annotator{
		cfg: &config{sc: sc, frac: time.Duration(start.Nanosecond()) % time.Millisecond,
			busyTimeout: sc.Store.BusyTimeoutOrDefault(), native: opts.Native},
		instances: map[string][]string{},
	}
}

// initial is the world at t=0: budgets under budgets: are created in
// order, as create_budget does at now = 0, except those with policy: none
// (declared ids with no policy row).
func (a *annotator) initial() *world {
	w := &world{cfg: a.cfg, store: store{budgets: map[string]*budget{}, dedup: map[string]stored{}, workers: map[wkey]worker{}}}
	for _, b := range a.cfg.sc.Budgets {
		a.budget(b.ID)
		if b.Policy != scenario.PolicyNone {
			w.store.create(b, a.cfg.ms(0))
		}
	}
	return w
}

func (a *annotator) budget(id string) {
	if !slices.Contains(a.budgets, id) {
		a.budgets = append(a.budgets, id)
	}
}

func (a *annotator) instance(ns, inst string) {
	if !slices.Contains(a.namespaces, ns) {
		a.namespaces = append(a.namespaces, ns)
	}
	if !slices.Contains(a.instances[ns], inst) {
		a.instances[ns] = append(a.instances[ns], inst)
	}
}

// note records the budgets and instances a step names.
func (a *annotator) note(s *scenario.Step) {
	switch {
	case s.CreateBudget != nil:
		a.budget(s.CreateBudget.ID)
	case s.ReportUsage != nil:
		a.budget(s.ReportUsage.Budget)
	case s.ResetBudget != nil:
		a.budget(s.ResetBudget.Budget)
	case s.SetNextReset != nil:
		a.budget(s.SetNextReset.Budget)
	case s.RegisterWorker != nil:
		a.instance(s.RegisterWorker.NS(), s.RegisterWorker.Instance)
	case s.HeartbeatWorker != nil:
		a.instance(s.HeartbeatWorker.NS(), s.HeartbeatWorker.Instance)
	case s.MarkWorkerDead != nil:
		a.instance(s.MarkWorkerDead.NS(), s.MarkWorkerDead.Instance)
	}
	for i := range s.Concurrently {
		a.note(&s.Concurrently[i])
	}
}

// run runs one top-level step in every world.
func (a *annotator) run(ws []*world, st *scenario.Step) ([]*world, error) {
	if st.Kind().Info().Check {
		return ws, nil // checks read the state; they change nothing
	}
	var next []*world
	for _, w := range ws {
		next = append(next, explore(w, func(c *world) { c.start(st) }, true)...)
	}
	ws = dedup(next)
	for {
		if err := firstErr(ws); err != nil {
			return nil, err
		}
		// One world with nothing to choose: run it in place.
		for len(ws) == 1 && ws[0].active() && ws[0].err == nil && !ws[0].branchy() {
			ws[0].iterate()
			a.iterations++
		}
		if err := firstErr(ws); err != nil {
			return nil, err
		}
		// Fire only the worlds whose next event is the earliest: histories
		// that differ only in how long something waited then line up in
		// time again, and merge.
		first, active := time.Duration(0), false
		for _, w := range ws {
			if w.active() {
				if at := w.nextEvent(); !active || at < first {
					first = at
				}
				active = true
			}
		}
		if !active {
			return ws, nil
		}
		out := make([]*world, 0, len(ws))
		for _, w := range ws {
			if !w.active() || w.nextEvent() != first {
				out = append(out, w)
				continue
			}
			out = append(out, explore(w, (*world).iterate, w.branchy())...)
			a.iterations++
		}
		ws = dedup(out)
		if len(ws) > maxWorlds {
			return nil, fmt.Errorf("more than %d alternative histories to follow", maxWorlds)
		}
	}
}

func firstErr(ws []*world) error {
	for _, w := range ws {
		if w.err != nil {
			return w.err
		}
	}
	return nil
}

// start begins a step in w: a time step sets its target; an action step
// releases its actor (a concurrently group its actors, in every order,
// each running until it blocks or returns, the world running to idle
// before the next).
func (w *world) start(st *scenario.Step) {
	w.advancing, w.pending, w.outcomes = false, 0, nil
	w.wrote = inflight{at: -1} // the last step's transactions have ended
	switch st.Kind() {
	case scenario.KindAdvance:
		w.advancing, w.target = true, w.now+*st.Advance
	case scenario.KindAdvanceTo:
		if *st.AdvanceTo < w.now {
			w.failf("advance_to %v is in the past (the step before ended at %v)", *st.AdvanceTo, w.now)
			return
		}
		w.advancing, w.target = true, *st.AdvanceTo
	case scenario.KindConcurrently:
		w.outcomes = make([]outcomeRec, len(st.Concurrently))
		left := make([]int, len(st.Concurrently))
		for i := range left {
			left[i] = i
		}
		for len(left) > 0 {
			j := w.choose(len(left))
			i := left[j]
			left = slices.Delete(left, j, j+1)
			w.startActor(&st.Concurrently[i], i)
			w.runReady()
		}
	default:
		w.outcomes = make([]outcomeRec, 1)
		w.startActor(st, 0)
		w.runReady()
	}
}

// active reports whether w's step is still running.
func (w *world) active() bool {
	if w.advancing {
		return true
	}
	return w.pending > 0
}

// nextEvent is when iterate will act: the earliest timer, or the end of
// an advance when no timer comes before it.
func (w *world) nextEvent() time.Duration {
	at, due := w.due()
	if len(due) == 0 || (w.advancing && at > w.target) {
		if w.advancing {
			return w.target
		}
		return w.now
	}
	return at
}

// iterate fires w's next timer (on the wasm host's terms, any of those due
// at the earliest instant), or ends an advance whose target is reached.
func (w *world) iterate() {
	at, due := w.due()
	if w.advancing && (len(due) == 0 || at > w.target) {
		w.now, w.advancing = w.target, false
		return
	}
	if len(due) == 0 {
		w.failf("the step waits for nothing (model bug)")
		return
	}
	p := due[0]
	if w.tieOpen(due) {
		p = due[w.choose(len(due))]
	}
	w.fire(p)
}

// fill writes the model's prediction into a step (and the steps inside a
// concurrently). It returns false for a check step that has nothing left
// to state.
func (a *annotator) fill(ws []*world, st *scenario.Step) bool {
	switch st.Kind() {
	case scenario.KindConcurrently:
		for i := range st.Concurrently {
			setExpect(&st.Concurrently[i], outcomes(ws, i))
		}
		return true
	case scenario.KindExpectBudget:
		for i := range st.ExpectBudget {
			st.ExpectBudget[i].AnyOf = budgetStates(ws, st.ExpectBudget[i].Budget)
		}
		return true
	case scenario.KindExpectTicks:
		var kept []scenario.TicksExpect
		for _, te := range st.ExpectTicks {
			p, ok := ticks(ws, recIndex(te.Reconciler))
			if ok {
				p.Pos = te.Pos
				kept = append(kept, p)
			}
		}
		st.ExpectTicks = kept
		return len(kept) > 0
	case scenario.KindExpectRunning:
		n, ok := running(ws)
		st.ExpectRunning = &n
		return ok
	case scenario.KindExpectWorkers:
		var kept []scenario.WorkerExpect
		for _, we := range st.ExpectWorkers.Workers {
			p, ok := workerExpect(ws, st.ExpectWorkers.NS(), we.Instance)
			if ok {
				p.Pos = we.Pos
				kept = append(kept, p)
			}
		}
		st.ExpectWorkers.Workers = kept
		return len(kept) > 0
	case scenario.KindExpectLog:
		return true
	}
	setExpect(st, outcomes(ws, 0))
	return true
}

func setExpect(s *scenario.Step, alts []scenario.Outcome) {
	if s.Kind().Info().Expect == nil {
		return
	}
	if len(alts) == 0 {
		s.Expect = nil
		return
	}
	pos := s.Pos
	if s.Expect != nil && !s.Expect.Pos.IsZero() {
		pos = s.Expect.Pos
	}
	s.Expect = &scenario.Expect{AnyOf: alts, Pos: pos}
}

// checks are the check steps inserted after a step (Options.Checks).
func (a *annotator) checks(ws []*world, line int) []scenario.Step {
	pos := scenario.Pos{Line: line}
	var out []scenario.Step
	if len(a.budgets) > 0 {
		eb := make([]scenario.BudgetExpect, 0, len(a.budgets))
		for _, id := range a.budgets {
			eb = append(eb, scenario.BudgetExpect{Budget: id, AnyOf: budgetStates(ws, id)})
		}
		out = append(out, scenario.Step{ExpectBudget: eb, Pos: pos})
	}
	for _, ns := range a.namespaces {
		we := &scenario.WorkersExpect{}
		if ns != scenario.DefaultNamespace {
			we.Namespace = ns
		}
		for _, inst := range a.instances[ns] {
			if p, ok := workerExpect(ws, ns, inst); ok {
				we.Workers = append(we.Workers, p)
			}
		}
		if len(we.Workers) > 0 {
			out = append(out, scenario.Step{ExpectWorkers: we, Pos: pos})
		}
	}
	var et []scenario.TicksExpect
	for rec := range scenario.Reconcilers {
		if te, ok := ticks(ws, rec); ok {
			et = append(et, te)
		}
	}
	if len(et) > 0 {
		out = append(out, scenario.Step{ExpectTicks: et, Pos: pos})
	}
	if n, ok := running(ws); ok {
		out = append(out, scenario.Step{ExpectRunning: &n, Pos: pos})
	}
	return out
}
