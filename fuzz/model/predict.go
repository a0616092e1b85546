package model

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/ffsim/ffsim/scenario"
)

// Predictions read the worlds after a step. A step's expect and
// expect_budget take alternatives (any_of): the union over the worlds.
// expect_ticks, expect_running and expect_workers take none: a field is
// given only when every world agrees on it.

func jsonKey(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func outcomeKey(o *scenario.Outcome) string { return jsonKey(o) }

// outcomes is the union of the outcomes of the actor in slot.
func outcomes(ws []*world, slot int) []scenario.Outcome {
	byKey := map[string]scenario.Outcome{}
	for _, w := range ws {
		if slot < len(w.outcomes) && w.outcomes[slot].set {
			byKey[w.outcomes[slot].key] = w.outcomes[slot].o
		}
	}
	out := make([]scenario.Outcome, 0, len(byKey))
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		out = append(out, byKey[k])
	}
	return out
}

// budgetStates is the union of a budget's status over the worlds.
func budgetStates(ws []*world, id string) []scenario.BudgetState {
	if len(ws) == 1 {
		if st := ws[0].store.status(id, ws[0].cfg); len(st) == 1 {
			return st
		}
	}
	byKey := map[string]scenario.BudgetState{}
	for _, w := range ws {
		for _, st := range w.store.status(id, w.cfg) {
			byKey[jsonKey(st)] = st
		}
	}
	out := make([]scenario.BudgetState, 0, len(byKey))
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		out = append(out, byKey[k])
	}
	return out
}

// ticks predicts expect_ticks for a reconciler: count, and the sums when
// every world knows them and agrees. ok is false when nothing is known.
func ticks(ws []*world, rec int) (te scenario.TicksExpect, ok bool) {
	te.Reconciler = scenario.Reconcilers[rec]
	t0 := ws[0].sup.tally[rec]
	count, sums := true, !t0.unknown
	for _, w := range ws[1:] {
		t := w.sup.tally[rec]
		count = count && t.count == t0.count
		sums = sums && !t.unknown && t.processed == t0.processed && t.errors == t0.errors
	}
	if count {
		te.Count = ptr(t0.count)
	}
	if sums {
		te.Processed, te.Errors = ptr(t0.processed), ptr(t0.errors)
	}
	return te, count || sums
}

// running predicts expect_running: live tasks.
func running(ws []*world) (int, bool) {
	n := ws[0].sup.live
	for _, w := range ws[1:] {
		if w.sup.live != n {
			return 0, false
		}
	}
	return n, true
}

// workerExpect predicts one instance for expect_workers: absent, or the
// fields every world agrees on; ok is false when worlds disagree on
// whether it exists.
func workerExpect(ws []*world, ns, inst string) (scenario.WorkerExpect, bool) {
	we, live := ws[0].workerState(ns, inst)
	for _, w := range ws[1:] {
		o, l := w.workerState(ns, inst)
		if l != live {
			return we, false
		}
		if !live {
			continue
		}
		if we.WorkerID != nil && *o.WorkerID != *we.WorkerID {
			we.WorkerID = nil
		}
		if we.LastHeartbeat != nil && !o.LastHeartbeat.Equal(*we.LastHeartbeat) {
			we.LastHeartbeat = nil
		}
		if we.TTL != nil && *o.TTL != *we.TTL {
			we.TTL = nil
		}
		if we.RegisteredAt != nil && !o.RegisteredAt.Equal(*we.RegisteredAt) {
			we.RegisteredAt = nil
		}
		if we.Lanes != nil && !slices.Equal(o.Lanes, we.Lanes) {
			we.Lanes = nil
		}
		if we.Capabilities != nil && !slices.Equal(o.Capabilities, we.Capabilities) {
			we.Capabilities = nil
		}
	}
	return we, true
}
