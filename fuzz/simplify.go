package fuzz

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// The shrinker's passes. Each proposes candidates derived from the best
// scenario so far, smallest changes to the size first; the shrinker keeps
// those that still fail the same way and asks again.
var passes = []func(s *shrinker) bool{
	(*shrinker).dropSteps,
	(*shrinker).dropBudgets,
	(*shrinker).flattenGroups,
	(*shrinker).mergeAdvances,
	(*shrinker).simplifySteps,
	(*shrinker).simplifyBudgets,
	(*shrinker).simplifyConfig,
	(*shrinker).rename,
}

// pass tries the candidates gen proposes for the best scenario, asking
// again after each one kept.
func (s *shrinker) pass(gen func(sc *scenario.Scenario) []*scenario.Scenario) bool {
	return s.passWith(false, gen)
}

// structural is pass for the changes that remove steps: a candidate that
// no longer fails is tried with other seeds too (see tryReseeded).
func (s *shrinker) structural(gen func(sc *scenario.Scenario) []*scenario.Scenario) bool {
	return s.passWith(true, gen)
}

func (s *shrinker) passWith(reseed bool, gen func(sc *scenario.Scenario) []*scenario.Scenario) bool {
	var of *scenario.Scenario
	var cs []*scenario.Scenario
	return s.tryEach(reseed, func(best *scenario.Scenario, i int) (*scenario.Scenario, bool) {
		if best != of {
			of, cs = best, gen(best)
		}
		if i >= len(cs) {
			return nil, false
		}
		return cs[i], true
	})
}

// dropSteps removes runs of steps: halves, quarters, ... single steps.
func (s *shrinker) dropSteps() bool {
	return s.structural(func(sc *scenario.Scenario) []*scenario.Scenario {
		var out []*scenario.Scenario
		n := len(sc.Steps)
		for size := max(n/2, 1); ; size /= 2 {
			for start := n - size; start >= 0; start -= size {
				c := sc.Clone()
				c.Steps = slices.Delete(c.Steps, start, start+size)
				out = append(out, c)
			}
			if size == 1 {
				return out
			}
		}
	})
}

// names reports whether a step (or a step inside it) names budget id.
func names(st *scenario.Step, id string) bool {
	switch {
	case st.CreateBudget != nil:
		return st.CreateBudget.ID == id
	case st.ReportUsage != nil:
		return st.ReportUsage.Budget == id
	case st.ResetBudget != nil:
		return st.ResetBudget.Budget == id
	case st.SetNextReset != nil:
		return st.SetNextReset.Budget == id
	}
	return false
}

// dropBudgets removes a declared budget and every step that names it.
func (s *shrinker) dropBudgets() bool {
	return s.structural(func(sc *scenario.Scenario) []*scenario.Scenario {
		var out []*scenario.Scenario
		for k := range sc.Budgets {
			id := sc.Budgets[k].ID
			c := sc.Clone()
			if c.Budgets = slices.Delete(c.Budgets, k, k+1); len(c.Budgets) == 0 {
				c.Budgets = nil
			}
			var steps []scenario.Step
			for _, st := range c.Steps {
				if st.Concurrently != nil {
					st.Concurrently = slices.DeleteFunc(st.Concurrently, func(in scenario.Step) bool { return names(&in, id) })
					if len(st.Concurrently) == 0 {
						continue
					}
				} else if names(&st, id) {
					continue
				}
				steps = append(steps, st)
			}
			c.Steps = steps
			out = append(out, c)
		}
		return out
	})
}

// flattenGroups removes steps from concurrently groups, replaces a group
// of one by its step, and a group by its steps one after the other.
func (s *shrinker) flattenGroups() bool {
	return s.structural(func(sc *scenario.Scenario) []*scenario.Scenario {
		var out []*scenario.Scenario
		for i := range sc.Steps {
			group := sc.Steps[i].Concurrently
			if group == nil {
				continue
			}
			for j := range group {
				c := sc.Clone()
				c.Steps[i].Concurrently = slices.Delete(c.Steps[i].Concurrently, j, j+1)
				if len(c.Steps[i].Concurrently) == 0 {
					c.Steps = slices.Delete(c.Steps, i, i+1)
				}
				out = append(out, c)
			}
			c := sc.Clone()
			inner := c.Steps[i].Concurrently
			c.Steps = slices.Replace(c.Steps, i, i+1, inner...)
			out = append(out, c)
		}
		return out
	})
}

// mergeAdvances joins two advances in a row into one.
func (s *shrinker) mergeAdvances() bool {
	return s.pass(func(sc *scenario.Scenario) []*scenario.Scenario {
		var out []*scenario.Scenario
		for i := 0; i+1 < len(sc.Steps); i++ {
			a, b := sc.Steps[i].Advance, sc.Steps[i+1].Advance
			if a == nil || b == nil {
				continue
			}
			c := sc.Clone()
			d := *a + *b
			c.Steps[i].Advance = &d
			c.Steps = slices.Delete(c.Steps, i+1, i+2)
			out = append(out, c)
		}
		return out
	})
}

// simplifySteps replaces one step (or a step inside a group) with a
// simpler form of itself.
func (s *shrinker) simplifySteps() bool {
	return s.pass(func(sc *scenario.Scenario) []*scenario.Scenario {
		var out []*scenario.Scenario
		for i := range sc.Steps {
			if group := sc.Steps[i].Concurrently; group != nil {
				for j := range group {
					for _, alt := range simpler(&group[j]) {
						c := sc.Clone()
						c.Steps[i].Concurrently[j] = alt
						out = append(out, c)
					}
				}
				continue
			}
			for _, alt := range simpler(&sc.Steps[i]) {
				c := sc.Clone()
				c.Steps[i] = alt
				out = append(out, c)
			}
		}
		return out
	})
}

// simplifyBudgets simplifies one declared budget: no scope or modes, a
// rounder interval, fewer dimensions, lower limits, a policy row.
func (s *shrinker) simplifyBudgets() bool {
	return s.pass(func(sc *scenario.Scenario) []*scenario.Scenario {
		var out []*scenario.Scenario
		for k := range sc.Budgets {
			for _, b := range simplerBudget(sc.Budgets[k]) {
				c := sc.Clone()
				c.Budgets[k] = b
				out = append(out, c)
			}
		}
		return out
	})
}

// simplifyConfig simplifies the supervisor's intervals, the store and the
// start.
func (s *shrinker) simplifyConfig() bool {
	return s.pass(func(sc *scenario.Scenario) []*scenario.Scenario {
		var out []*scenario.Scenario
		with := func(f func(c *scenario.Scenario)) {
			c := sc.Clone()
			f(c)
			out = append(out, c)
		}
		for _, d := range durations(sc.Supervisor.BudgetResetInterval) {
			with(func(c *scenario.Scenario) { c.Supervisor.BudgetResetInterval = d })
		}
		for _, d := range durations(sc.Supervisor.WorkerRegistryTTLInterval) {
			with(func(c *scenario.Scenario) { c.Supervisor.WorkerRegistryTTLInterval = d })
		}
		if bt := sc.Store.BusyTimeout; bt != nil {
			with(func(c *scenario.Scenario) { c.Store.BusyTimeout = nil })
			for _, d := range durations(*bt) {
				with(func(c *scenario.Scenario) { c.Store.BusyTimeout = &d })
			}
		}
		if sc.Seed != 0 {
			with(func(c *scenario.Scenario) { c.Seed = 0 })
		}
		if !sc.Start.IsZero() {
			with(func(c *scenario.Scenario) { c.Start = time.Time{} })
		}
		if sc.Description != "" {
			with(func(c *scenario.Scenario) { c.Description = "" })
		}
		return out
	})
}

// rename gives budgets, dedup keys, instances, worker ids and namespaces
// the plainest names, in order of first appearance.
func (s *shrinker) rename() bool {
	return s.pass(func(sc *scenario.Scenario) []*scenario.Scenario {
		var out []*scenario.Scenario
		for _, r := range []renamer{budgetNames, keyNames, instanceNames, workerNames, namespaceNames} {
			out = append(out, canonical(sc, r))
		}
		return out
	})
}

// simpler lists simpler forms of a step. It is one case per step kind,
// each a few lines; kept together so that a new kind's shrinking is written
// beside the others (and a missing one shows).
func simpler(st *scenario.Step) []scenario.Step {
	var out []scenario.Step
	alt := func(f func(c *scenario.Step)) {
		c := st.Clone()
		f(&c)
		out = append(out, c)
	}
	switch {
	case st.Advance != nil:
		for _, d := range durations(*st.Advance) {
			alt(func(c *scenario.Step) { c.Advance = &d })
		}
	case st.AdvanceTo != nil:
		for _, d := range durations(*st.AdvanceTo) {
			alt(func(c *scenario.Step) { c.AdvanceTo = &d })
		}
	case st.Spawn != nil:
		sp := st.Spawn
		if sp.BudgetResetInterval != nil || sp.WorkerRegistryTTLInterval != nil {
			alt(func(c *scenario.Step) { c.Spawn = &scenario.SpawnStep{} })
		}
		if sp.BudgetResetInterval != nil {
			alt(func(c *scenario.Step) { c.Spawn.BudgetResetInterval = nil })
			for _, d := range durations(*sp.BudgetResetInterval) {
				alt(func(c *scenario.Step) { c.Spawn.BudgetResetInterval = &d })
			}
		}
		if sp.WorkerRegistryTTLInterval != nil {
			alt(func(c *scenario.Step) { c.Spawn.WorkerRegistryTTLInterval = nil })
			for _, d := range durations(*sp.WorkerRegistryTTLInterval) {
				alt(func(c *scenario.Step) { c.Spawn.WorkerRegistryTTLInterval = &d })
			}
		}
	case st.Shutdown != nil:
		for _, d := range durations(st.Shutdown.Grace) {
			alt(func(c *scenario.Step) { c.Shutdown.Grace = d })
		}
	case st.CreateBudget != nil:
		for _, b := range simplerBudget(*st.CreateBudget) {
			alt(func(c *scenario.Step) { c.CreateBudget = &b })
		}
	case st.ReportUsage != nil:
		r := st.ReportUsage
		if r.DedupKey != "" {
			alt(func(c *scenario.Step) { c.ReportUsage.DedupKey = "" })
		}
		for _, d := range slices.Sorted(maps.Keys(r.Usage)) {
			if len(r.Usage) > 1 {
				alt(func(c *scenario.Step) { delete(c.ReportUsage.Usage, d) })
			}
			for _, v := range ints(r.Usage[d], 0) {
				alt(func(c *scenario.Step) { c.ReportUsage.Usage[d] = v })
			}
		}
	case st.SetNextReset != nil:
		if at := st.SetNextReset.At; !at.Null {
			for _, d := range durations(at.At) {
				alt(func(c *scenario.Step) { c.SetNextReset.At = scenario.Offset{At: d} })
			}
		}
	case st.RegisterWorker != nil:
		r := st.RegisterWorker
		if r.Namespace != "" {
			alt(func(c *scenario.Step) { c.RegisterWorker.Namespace = "" })
		}
		if r.Lanes != nil {
			alt(func(c *scenario.Step) { c.RegisterWorker.Lanes = nil })
		}
		if r.Capabilities != nil {
			alt(func(c *scenario.Step) { c.RegisterWorker.Capabilities = nil })
		}
		for _, d := range durations(r.TTL) {
			alt(func(c *scenario.Step) { c.RegisterWorker.TTL = d })
		}
	case st.HeartbeatWorker != nil:
		if st.HeartbeatWorker.Namespace != "" {
			alt(func(c *scenario.Step) { c.HeartbeatWorker.Namespace = "" })
		}
	case st.MarkWorkerDead != nil:
		m := st.MarkWorkerDead
		if m.Namespace != "" {
			alt(func(c *scenario.Step) { c.MarkWorkerDead.Namespace = "" })
		}
		for _, reason := range []string{"x", strings.Repeat("x", 256), strings.Repeat("x", 257), strings.Repeat("x", len(m.Reason))} {
			if reason != m.Reason {
				alt(func(c *scenario.Step) { c.MarkWorkerDead.Reason = reason })
			}
		}
	case st.SlowTick != nil:
		sl := st.SlowTick
		if sl.Reconciler == scenario.BudgetReset {
			alt(func(c *scenario.Step) { c.SlowTick.Reconciler = "" })
		}
		if sl.Where == scenario.BeforeTx {
			alt(func(c *scenario.Step) { c.SlowTick.Where = "" })
		}
		for _, n := range ints(int64(sl.Tick), 1) {
			alt(func(c *scenario.Step) { c.SlowTick.Tick = int(n) })
		}
		for _, d := range durations(sl.Duration) {
			alt(func(c *scenario.Step) { c.SlowTick.Duration = d })
		}
	case st.TickError != nil:
		if st.TickError.Reconciler == scenario.BudgetReset {
			alt(func(c *scenario.Step) { c.TickError.Reconciler = "" })
		}
		for _, n := range ints(int64(st.TickError.Tick), 1) {
			alt(func(c *scenario.Step) { c.TickError.Tick = int(n) })
		}
	case st.Busy != nil:
		for _, n := range ints(int64(st.Busy.Attempts), 1) {
			alt(func(c *scenario.Step) { c.Busy.Attempts = int(n) })
		}
	case st.DBError != nil:
		e := st.DBError
		if e.On == scenario.OnWrite {
			alt(func(c *scenario.Step) { c.DBError.On = "" })
		}
		if e.Code != "busy" {
			alt(func(c *scenario.Step) { c.DBError.Code = "busy" })
		}
		for _, n := range ints(int64(e.Attempts), 1) {
			alt(func(c *scenario.Step) { c.DBError.Attempts = int(n) })
		}
	case st.HoldWriteLock != nil:
		for _, d := range durations(st.HoldWriteLock.Duration) {
			alt(func(c *scenario.Step) { c.HoldWriteLock.Duration = d })
		}
	}
	return out
}

// simplerBudget lists simpler forms of a budget.
func simplerBudget(b scenario.Budget) []scenario.Budget {
	var out []scenario.Budget
	alt := func(f func(c *scenario.Budget)) {
		c := b.Clone()
		f(&c)
		out = append(out, c)
	}
	if b.Policy != "" {
		alt(func(c *scenario.Budget) { c.Policy = "" })
		return out
	}
	if b.Scope != (scenario.Scope{}) {
		alt(func(c *scenario.Budget) { c.Scope = scenario.Scope{} })
	}
	if b.EnforcementMode != "" || b.OnHardLimit != "" || b.OnSoftLimit != "" {
		alt(func(c *scenario.Budget) { c.EnforcementMode, c.OnHardLimit, c.OnSoftLimit = "", "", "" })
	}
	for _, d := range durations(b.ResetInterval) {
		alt(func(c *scenario.Budget) { c.ResetInterval = d })
	}
	if len(b.Dimensions) > 0 {
		alt(func(c *scenario.Budget) { c.Dimensions = nil })
	}
	for _, d := range slices.Sorted(maps.Keys(b.Dimensions)) {
		l := b.Dimensions[d]
		if len(b.Dimensions) > 1 {
			alt(func(c *scenario.Budget) { delete(c.Dimensions, d) })
		}
		for _, v := range ints(l.Hard, 0) {
			alt(func(c *scenario.Budget) { c.Dimensions[d] = scenario.Limits{Hard: v, Soft: l.Soft} })
		}
		for _, v := range ints(l.Soft, 0) {
			alt(func(c *scenario.Budget) { c.Dimensions[d] = scenario.Limits{Hard: l.Hard, Soft: v} })
		}
	}
	return out
}

// durations lists simpler durations than d: zero, d rounded to coarser
// units, half of it, a millisecond less. (The shrinker keeps only those
// that make the file smaller.)
func durations(d time.Duration) []time.Duration {
	var out []time.Duration
	add := func(x time.Duration) {
		if x >= 0 && x != d && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	add(0)
	for _, u := range []time.Duration{time.Hour, time.Minute, 10 * time.Second, time.Second, 100 * time.Millisecond, 10 * time.Millisecond, time.Millisecond} {
		add(d.Truncate(u))
		add(d.Round(u))
	}
	add((d / 2).Truncate(time.Millisecond))
	add(d - time.Millisecond)
	return out
}

// ints lists simpler values than v, none below lo.
func ints(v, lo int64) []int64 {
	var out []int64
	add := func(x int64) {
		if x >= lo && x != v && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	add(lo)
	add(1)
	add(v / 100 * 100)
	add(v / 10 * 10)
	add(v / 2)
	add(v - 1)
	return out
}
