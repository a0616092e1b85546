package gen

import (
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// spawn starts the supervisor, with the file's configuration or with
// overridden intervals (0 disables one). A second spawn is a no-op, now
// and then on purpose.
func (g *generator) spawn(c stepCtx) (scenario.Step, bool) {
	r := g.r
	s := &g.s
	if s.sup.installed && !r.pct(15) {
		return scenario.Step{}, false
	}
	sp := &scenario.SpawnStep{}
	if !s.sup.installed {
		if r.pct(30) {
			d := pick(r, append([]time.Duration{0}, periods...)...)
			sp.BudgetResetInterval = &d
			s.sup.periods[0] = d
		}
		if r.pct(25) {
			d := pick(r, append([]time.Duration{0}, periods...)...)
			sp.WorkerRegistryTTLInterval = &d
			s.sup.periods[1] = d
		}
		s.sup.installed, s.sup.at = true, s.lo
	}
	return scenario.Step{Spawn: sp}, true
}

// shutdown is Shutdown(grace): grace 0 now and then, else often the
// instant a slow tick ends (the race SPEC S5 leaves to the seed), or a
// millisecond either side.
func (g *generator) shutdown(c stepCtx) (scenario.Step, bool) {
	s := &g.s
	if !s.sup.installed && !g.r.pct(10) {
		return scenario.Step{}, false
	}
	grace := g.grace()
	s.sup.stopped = true
	return scenario.Step{Shutdown: &scenario.ShutdownStep{Grace: grace}}, true
}

// grace draws a Shutdown's grace: the time left until a slow tick in
// progress ends (jittered) when there is one, else 0 or a plain value.
func (g *generator) grace() time.Duration {
	r := g.r
	s := &g.s
	var ends []time.Duration
	for _, sl := range s.sup.slows {
		if end := sl.at + sl.d; sl.at <= s.lo && end > s.lo {
			ends = append(ends, end)
		}
	}
	if len(ends) > 0 && r.pct(60) {
		d := pick(r, ends...) - s.lo + pick(r, 0, 0, 0, -time.Millisecond, time.Millisecond)
		if d >= 0 {
			return d
		}
	}
	if r.pct(25) {
		return 0
	}
	return pick(r, time.Millisecond, 5*time.Millisecond, 100*time.Millisecond, time.Second, 2*time.Second, 5*time.Second, 10*time.Second)
}

// closeStep is close (S6).
func (g *generator) closeStep(stepCtx) (scenario.Step, bool) {
	if !g.s.sup.installed && !g.r.pct(10) {
		return scenario.Step{}, false
	}
	g.s.sup.stopped = true
	return scenario.Step{Close: &scenario.Empty{}}, true
}

// reconciler draws a reconciler to fault: one that runs, when one does.
func (g *generator) reconciler() int {
	if run := g.s.running(); len(run) > 0 && g.r.pct(85) {
		return pick(g.r, run...)
	}
	return g.r.intn(2)
}

// tickNumber draws the tick a fault names: the next one by the schedule
// most often.
func (g *generator) tickNumber(rec int) (n int, at time.Duration, known bool) {
	if n, at, ok := g.s.nextTick(rec); ok && g.r.pct(75) {
		if g.r.pct(25) {
			return n + 1, at + g.s.sup.periods[rec], true
		}
		return n, at, true
	}
	return g.r.between(1, 3), 0, false
}

// slowTick slows a tick, by amounts around its period (S4: an overrun of
// exactly 5 ms keeps the schedule, 6 ms restarts it) or around the busy
// timeout, before or inside its transaction.
func (g *generator) slowTick(stepCtx) (scenario.Step, bool) {
	r := g.r
	s := &g.s
	rec := g.reconciler()
	n, at, known := g.tickNumber(rec)
	p := s.sup.periods[rec]
	if p <= 0 {
		p = time.Second
	}
	d := pick(r, p-time.Millisecond, p, p+time.Millisecond, p+5*time.Millisecond, p+6*time.Millisecond,
		2*p+time.Millisecond, 3*p, time.Millisecond, 100*time.Millisecond, time.Second, 2*time.Second, 12*time.Second)
	where := pick(r, "", scenario.BeforeTx, scenario.InsideTx, scenario.InsideTx)
	if where == scenario.InsideTx {
		if !s.insideAffordable(d) && !r.pct(30) {
			where = scenario.BeforeTx
		} else {
			s.insideSlow += d
		}
	}
	if known {
		s.sup.slows = append(s.sup.slows, slow{at, d})
		s.ties = append(s.ties, at+d)
	}
	st := &scenario.SlowTickStep{Tick: n, Duration: d, Where: where}
	if rec == 1 || r.pct(40) {
		st.Reconciler = scenario.Reconcilers[rec]
	}
	return scenario.Step{SlowTick: st}, true
}

// insideAffordable reports whether one more inside_tx slowdown of d keeps
// set_next_reset and hold_write_lock possible later on (a longer one is
// still drawn now and then, and rules them out from then on).
func (s *state) insideAffordable(d time.Duration) bool {
	return s.insideSlow+d+100*time.Millisecond < s.busyTimeout
}

// tickError makes a tick fail.
func (g *generator) tickError(stepCtx) (scenario.Step, bool) {
	rec := g.reconciler()
	n, _, _ := g.tickNumber(rec)
	te := &scenario.TickErrorStep{Tick: n}
	if rec == 1 || g.r.pct(40) {
		te.Reconciler = scenario.Reconcilers[rec]
	}
	return scenario.Step{TickError: te}, true
}
