package gen

import "github.com/ffsim/ffsim/scenario"

// grouped are the steps a concurrently group draws from (only actions may
// run inside one), weighted towards those that meet each other: shutdowns
// and closes, writes, ticks.
var grouped = []stepKind{
	{6, (*generator).shutdown},
	{3, (*generator).closeStep},
	{2, (*generator).spawn},
	{2, (*generator).createBudget},
	{8, (*generator).reportUsage},
	{5, (*generator).resetBudget},
	{2, (*generator).setNextReset},
	{6, (*generator).scanTick},
	{3, (*generator).registerWorker},
	{5, (*generator).heartbeatWorker},
	{2, (*generator).markWorkerDead},
	{5, (*generator).sweepTick},
	{2, (*generator).slowTick},
	{1, (*generator).tickError},
	{2, (*generator).busy},
	{1, (*generator).dbError},
	{2, (*generator).holdWriteLock},
}

// concurrently is a group of two or three actions released at one
// instant, in an order the seed decides. At most one of them waits for
// the write lock without taking an expect (set_next_reset,
// hold_write_lock): in the other order it could wait for the other.
func (g *generator) concurrently(c stepCtx) (scenario.Step, bool) {
	if c.group {
		return scenario.Step{}, false
	}
	return g.group(c, g.r.weighted([]int{0, 0, 7, 3}), nil)
}

// group builds a concurrently of n steps: first the given ones, then drawn
// ones.
func (g *generator) group(c stepCtx, n int, given []scenario.Step) (scenario.Step, bool) {
	inner := stepCtx{idx: c.idx, group: true}
	steps := append([]scenario.Step(nil), given...)
	weights := make([]int, len(grouped))
	for i, k := range grouped {
		weights[i] = k.weight
	}
	lockers := 0
	for _, st := range steps {
		lockers += locker(&st)
	}
	for tries := 0; len(steps) < n && tries < 40; tries++ {
		st, ok := grouped[g.r.weighted(weights)].gen(g, inner)
		if !ok || lockers+locker(&st) > 1 || (locker(&st) > 0 && g.s.busyTimeout <= 0) {
			// On the wasm host a step of the group may find another's
			// transaction still open (fuzz/model/inflight.go): with a busy
			// timeout of 0 a hold_write_lock or set_next_reset would then
			// fail, and they take no expect.
			continue
		}
		lockers += locker(&st)
		steps = append(steps, st)
	}
	if len(steps) == 0 {
		return scenario.Step{}, false
	}
	return scenario.Step{Concurrently: steps}, true
}

// locker is 1 for the steps that wait for the write lock and take no
// expect.
func locker(st *scenario.Step) int {
	if st.SetNextReset != nil || st.HoldWriteLock != nil {
		return 1
	}
	return 0
}
