package gen

import (
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// A macro is a short sequence of steps that sets up one of the races SPEC
// leaves to the seed, or one of its boundaries, so that they are common
// rather than a matter of luck. Each returns false when it does not apply
// now (and then emits nothing).
var macros = []struct {
	weight int
	run    func(g *generator) bool
}{
	{5, (*generator).shutdownRace},
	{4, (*generator).lockRace},
	{4, (*generator).ttlBoundary},
	{4, (*generator).resetOnTick},
	{3, (*generator).dedupReplay},
	{2, (*generator).closeThenShutdown},
	{3, (*generator).faultRetry},
	{3, (*generator).overrun},
}

// macro runs one macro drawn by weight.
func (g *generator) macro() bool {
	weights := make([]int, len(macros))
	for i, m := range macros {
		weights[i] = m.weight
	}
	return macros[g.r.weighted(weights)].run(g)
}

func (g *generator) ctx() stepCtx { return stepCtx{idx: len(g.sc.Steps)} }

// advanceBy emits an advance of d (d ≥ 0).
func (g *generator) advanceBy(d time.Duration) {
	d = max(d, 0)
	g.s.lo += d
	g.s.hi += d
	g.emit(scenario.Step{Advance: &d})
}

// ensureSpawned spawns the supervisor if no spawn was generated yet; false
// when it was stopped (or runs nothing).
func (g *generator) ensureSpawned() bool {
	if !g.s.sup.installed {
		st, _ := g.spawn(g.ctx())
		g.emit(st)
	}
	return !g.s.sup.stopped && len(g.s.running()) > 0
}

// shutdownRace: slow a tick, move to it, then shut down with a grace that
// ends exactly when the tick does (S5: the native host lets the tick
// finish; the wasm host lets the seed decide), or around it; sometimes two
// shutdowns at once, or a shutdown with a close.
func (g *generator) shutdownRace() bool {
	if !g.ensureSpawned() {
		return false
	}
	st, _ := g.slowTick(g.ctx())
	g.emit(st)
	sl := st.SlowTick
	rec := 0
	if sl.Target() == scenario.WorkerRegistryTTLSweep {
		rec = 1
	}
	if n, at, ok := g.s.nextTick(rec); ok && n == sl.Tick {
		g.advanceBy(at - g.s.lo + pick(g.r, 0, 0, sl.Duration/2))
	} else {
		g.advanceBy(g.aim())
	}
	sd, _ := g.shutdown(g.ctx())
	switch g.r.intn(4) {
	case 0:
		second := scenario.Step{Shutdown: &scenario.ShutdownStep{Grace: g.grace()}}
		g.emit(scenario.Step{Concurrently: []scenario.Step{sd, second}})
	case 1:
		g.emit(scenario.Step{Concurrently: []scenario.Step{sd, {Close: &scenario.Empty{}}}})
	default:
		g.emit(sd)
	}
	return true
}

// lockRace: hold the write lock, then meet it with writes (R3b: they poll
// on SQLite's schedule), sometimes two at once, then move onto the
// release or a poll.
func (g *generator) lockRace() bool {
	st, ok := g.holdWriteLock(g.ctx())
	if !ok {
		return false
	}
	g.emit(st)
	writers := []func(g *generator, c stepCtx) (scenario.Step, bool){
		(*generator).reportUsage, (*generator).resetBudget, (*generator).scanTick,
		(*generator).heartbeatWorker, (*generator).sweepTick, (*generator).createBudget,
	}
	var ws []scenario.Step
	for range g.r.between(1, 2) {
		if w, ok := pick(g.r, writers...)(g, stepCtx{idx: len(g.sc.Steps), group: true}); ok {
			ws = append(ws, w)
		}
	}
	switch {
	case len(ws) == 1:
		g.emit(ws[0])
	case len(ws) > 1:
		g.emit(scenario.Step{Concurrently: ws})
	}
	g.advanceBy(g.aim())
	return true
}

// ttlBoundary: register a worker, move to its expiry (W2/W4: at exactly
// last heartbeat + ttl it is neither refreshable nor swept), a millisecond
// before or after, then heartbeat it, sweep, or both at once.
func (g *generator) ttlBoundary() bool {
	st, _ := g.registerWorker(g.ctx())
	g.emit(st)
	w := g.s.worker(scenario.DefaultNamespace, st.RegisterWorker.Instance)
	if st.RegisterWorker.Namespace != "" {
		w = g.s.worker(st.RegisterWorker.Namespace, st.RegisterWorker.Instance)
	}
	if w == nil || !w.live {
		return true
	}
	g.advanceBy(w.hb + w.ttl - g.s.lo + pick(g.r, -time.Millisecond, 0, 0, time.Millisecond))
	hb := scenario.Step{HeartbeatWorker: &scenario.WorkerRef{Namespace: ns(w.ns), Instance: w.inst}}
	sweep := scenario.Step{SweepTick: &scenario.Empty{}}
	switch g.r.intn(4) {
	case 0:
		g.emit(hb)
	case 1:
		g.emit(sweep)
	case 2:
		g.emit(scenario.Step{Concurrently: []scenario.Step{hb, sweep}})
	default:
		g.emit(hb)
		g.emit(sweep)
	}
	return true
}

// resetOnTick: make a budget due on a tick instant (R1: due means
// next_reset_at ≤ now), charge it, move onto the tick, and meet it with an
// admin reset or a direct scan (R2's re-check).
func (g *generator) resetOnTick() bool {
	bs := g.s.fixedBudgets()
	if len(bs) == 0 {
		return false
	}
	b := pick(g.r, bs...)
	if g.r.pct(50) && g.s.lockSafe() {
		at := g.s.lo + pick(g.r, time.Second, 2*time.Second, 5*time.Second)
		if ticks := g.s.tickInstants(0, 2); len(ticks) > 0 {
			at = pick(g.r, ticks...)
		}
		b.next, b.hasNext = at, true
		g.emit(scenario.Step{SetNextReset: &scenario.SetNextResetStep{Budget: b.id, At: scenario.Offset{At: at}}})
	}
	if len(b.dims) > 0 {
		g.emit(scenario.Step{ReportUsage: &scenario.ReportUsageStep{Budget: b.id, Usage: map[string]int64{b.dims[0]: g.delta(b, b.dims[0])}}})
	}
	if b.hasNext {
		g.advanceBy(b.next - g.s.lo + pick(g.r, 0, 0, time.Millisecond, -time.Millisecond))
	} else {
		g.advanceBy(g.aim())
	}
	reset := scenario.Step{ResetBudget: &scenario.BudgetRef{Budget: b.id}}
	switch g.r.intn(3) {
	case 0:
		g.emit(scenario.Step{Concurrently: []scenario.Step{reset, {ScanTick: &scenario.Empty{}}}})
	case 1:
		g.emit(reset)
	default:
		g.emit(scenario.Step{ScanTick: &scenario.Empty{}})
	}
	return true
}

// dedupReplay: a report with a dedup key, something in between, and the
// same key again (R5: the stored outcome replays exactly, nothing is
// applied), perhaps against another budget or with other usage.
func (g *generator) dedupReplay() bool {
	st, ok := g.reportUsage(g.ctx())
	if !ok {
		return false
	}
	if st.ReportUsage.DedupKey == "" {
		st.ReportUsage.DedupKey = "k0"
		g.s.keys = append(g.s.keys, "k0")
	}
	g.emit(st)
	g.emit(g.single(g.ctx()))
	again, ok := g.reportUsage(g.ctx())
	if !ok {
		return true
	}
	again.ReportUsage.DedupKey = st.ReportUsage.DedupKey
	g.emit(again)
	return true
}

// closeThenShutdown: close (S6), then Shutdown, with grace 0 half of the
// time (S5: grace 0 counts every task registered, live or not).
func (g *generator) closeThenShutdown() bool {
	if !g.ensureSpawned() {
		return false
	}
	g.emit(scenario.Step{Close: &scenario.Empty{}})
	if g.r.pct(50) {
		g.advanceBy(g.aim())
	}
	grace := time.Duration(0)
	if g.r.pct(50) {
		grace = g.grace()
	}
	g.s.sup.stopped = true
	g.emit(scenario.Step{Shutdown: &scenario.ShutdownStep{Grace: grace}})
	return true
}

// faultRetry: arm write errors, then write (R3: BUSY and LOCKED are
// retried 5 ms then 10 ms later, the rest fail at once), perhaps on a
// tick instant so that the tick's resets meet them too.
func (g *generator) faultRetry() bool {
	var st scenario.Step
	if g.r.pct(50) {
		st, _ = g.busy(g.ctx())
	} else {
		st, _ = g.dbError(g.ctx())
	}
	g.emit(st)
	if g.r.pct(40) {
		g.advanceBy(g.aim())
	}
	writers := []func(g *generator, c stepCtx) (scenario.Step, bool){
		(*generator).reportUsage, (*generator).resetBudget, (*generator).scanTick,
		(*generator).createBudget, (*generator).heartbeatWorker, (*generator).registerWorker,
	}
	if w, ok := pick(g.r, writers...)(g, g.ctx()); ok {
		g.emit(w)
	}
	return true
}

// overrun: a tick that takes longer than its period (S4 Delay: one
// immediate follow-up tick, then the schedule restarts from then; within
// 5 ms the schedule keeps), then time to see the next ticks.
func (g *generator) overrun() bool {
	if !g.ensureSpawned() {
		return false
	}
	rec := pick(g.r, g.s.running()...)
	n, at, _ := g.s.nextTick(rec)
	p := g.s.sup.periods[rec]
	d := p + pick(g.r, time.Millisecond, 5*time.Millisecond, 6*time.Millisecond, p/2, p+time.Millisecond)
	where := ""
	if g.r.pct(40) && g.s.insideAffordable(d) {
		where = scenario.InsideTx
		g.s.insideSlow += d
	}
	g.emit(scenario.Step{SlowTick: &scenario.SlowTickStep{Reconciler: scenario.Reconcilers[rec], Tick: n, Duration: d, Where: where}})
	g.s.sup.slows = append(g.s.sup.slows, slow{at, d})
	g.advanceBy(at - g.s.lo + d + pick(g.r, 0, p, 2*p, p+5*time.Millisecond))
	return true
}
