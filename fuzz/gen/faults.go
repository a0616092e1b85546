package gen

import (
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// busy arms injected SQLITE_BUSY on the next write attempts (R3).
func (g *generator) busy(stepCtx) (scenario.Step, bool) {
	n := g.r.between(1, 4)
	g.s.writeFaults += n
	return scenario.Step{Busy: &scenario.BusyStep{Attempts: n}}, true
}

// dbError arms an injected SQLite error of any kind, on writes or on
// budget_reset's scan.
func (g *generator) dbError(stepCtx) (scenario.Step, bool) {
	r := g.r
	st := &scenario.DBErrorStep{Code: pick(r, scenario.DBErrorCodes...), Attempts: r.between(1, 3)}
	if r.pct(30) {
		st.On = scenario.OnScan
	} else {
		if r.pct(30) {
			st.On = scenario.OnWrite
		}
		g.s.writeFaults += st.Attempts
	}
	return scenario.Step{DBError: st}, true
}

// holdWriteLock has another connection hold the write lock, for durations
// that land on SQLite's busy-handler polls (R3b: 1, 3, 8, 18, 33, ... ms
// after a wait starts) and around the busy timeout. Only when the lock it
// may have to wait for cannot outlast the busy timeout: the step takes no
// expect.
func (g *generator) holdWriteLock(stepCtx) (scenario.Step, bool) {
	r := g.r
	s := &g.s
	if !s.lockSafe() {
		return scenario.Step{}, false
	}
	bt := s.busyTimeout
	d := pick(r, time.Millisecond, 3*time.Millisecond, 8*time.Millisecond, 12*time.Millisecond, 18*time.Millisecond,
		33*time.Millisecond, 300*time.Millisecond, time.Second)
	if bt > 0 && r.pct(30) {
		d = pick(r, bt-time.Millisecond, bt, bt+time.Millisecond, 2*bt+10*time.Millisecond)
	}
	start := s.lo
	s.holdEnd = max(s.holdEnd, s.hi+s.writeWait(false, false)+d)
	s.ties = append(s.ties, start+d)
	for _, k := range []time.Duration{1, 3, 8, 18, 33, 53, 78} {
		s.ties = append(s.ties, start+k*time.Millisecond)
	}
	return scenario.Step{HoldWriteLock: &scenario.HoldWriteLockStep{Duration: d}}, true
}
