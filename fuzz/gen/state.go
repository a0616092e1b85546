package gen

import (
	"slices"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// state is the generator's rough view of the world, kept to aim steps at
// interesting instants and to stay within what the model can interpret. It
// is deliberately simple: where the outcome of a step is not obvious, it
// keeps bounds or forgets.
type state struct {
	// lo and hi bound the current simulated time: steps that wait (a
	// Shutdown, a write behind a held lock, R3's retries) move it by an
	// amount the generator does not know exactly.
	lo, hi time.Duration

	busyTimeout time.Duration

	sup     supState
	budgets []*budgetInfo
	keys    []string // dedup keys used so far
	workers []*workerInfo

	// holdEnd bounds when every hold_write_lock armed so far has released
	// the lock.
	holdEnd time.Duration
	// insideSlow sums the inside_tx slowdowns armed: a tick may hold the
	// write lock that long at any later moment.
	insideSlow time.Duration
	// writeFaults counts busy/db_error write injections armed (an upper
	// bound of what is still queued).
	writeFaults int
	// ties are other instants worth landing on: lock releases, slow ticks'
	// ends, busy-wait polls.
	ties []time.Duration
}

// supState is what the generator knows of the supervisor.
type supState struct {
	installed bool // some spawn step was generated
	at        time.Duration
	periods   [2]time.Duration // per reconciler; 0 disabled
	stopped   bool             // a shutdown or close was generated
	slows     []slow           // slowed ticks whose instant is known
}

// slow is a slowed tick: its instant and its slowdown.
type slow struct{ at, d time.Duration }

// budgetInfo is one budget id.
type budgetInfo struct {
	id string
	// fixed: declared under budgets: with a policy row from t=0, so
	// set_next_reset may name it (a budget without a policy row fails it,
	// and the step takes no expect).
	fixed    bool
	interval time.Duration
	dims     []string
	hard     map[string]int64
	soft     map[string]int64
	usage    map[string]int64 // approximate
	next     time.Duration    // approximate next_reset_at; valid when hasNext
	hasNext  bool
	// step is the index of the top-level step that creates it (-1 when
	// declared): only later steps may name it.
	step int
}

// workerInfo is one worker instance ever registered.
type workerInfo struct {
	ns, inst, wid string
	ttl           time.Duration
	hb            time.Duration // approximate last heartbeat
	live          bool          // approximately
}

// waited widens the time bounds by a wait of at most d.
func (s *state) waited(d time.Duration) { s.hi += d }

// at moves time to exactly t (t ≥ hi).
func (s *state) at(t time.Duration) { s.lo, s.hi = t, t }

// lockMayBeHeld reports whether a write at the current time may find the
// write lock held.
func (s *state) lockMayBeHeld() bool { return s.holdEnd > s.lo || s.insideSlow > 0 }

// lockSafe reports whether a step that waits for the write lock and takes
// no expect (set_next_reset, hold_write_lock) surely gets it within the busy
// timeout: the model cannot interpret one that would fail.
func (s *state) lockSafe() bool {
	if !s.lockMayBeHeld() {
		return true
	}
	if s.busyTimeout <= 0 {
		return false
	}
	return max(s.holdEnd-s.lo, 0)+s.insideSlow+2*time.Millisecond < s.busyTimeout
}

// stepWait bounds how long a step may take: a Shutdown its grace, a write
// its waits for the lock and R3's sleeps, a concurrently the sum of its
// steps' (each of which may wait for a lock another of them holds). held
// says a lock may be held whatever the state says.
func (s *state) stepWait(st *scenario.Step, held bool) time.Duration {
	switch st.Kind() {
	case scenario.KindShutdown:
		return st.Shutdown.Grace
	case scenario.KindCreateBudget, scenario.KindReportUsage, scenario.KindResetBudget:
		return s.writeWait(true, held)
	case scenario.KindScanTick:
		return time.Duration(max(1, len(s.budgets))) * s.writeWait(true, held)
	case scenario.KindSetNextReset, scenario.KindHeartbeatWorker, scenario.KindMarkWorkerDead,
		scenario.KindSweepTick, scenario.KindHoldWriteLock:
		return s.writeWait(false, held)
	case scenario.KindConcurrently:
		var d time.Duration
		for i := range st.Concurrently {
			held = held || st.Concurrently[i].HoldWriteLock != nil
		}
		for i := range st.Concurrently {
			// On the wasm host each may also meet another's transaction
			// still open: 1 ms, or R3's sleeps with a busy timeout of 0.
			d += s.stepWait(&st.Concurrently[i], held) + 20*time.Millisecond
		}
		return d
	}
	return 0
}

// writeWait bounds how long one write operation may take: waiting for
// the lock (each of R3's attempts up to the busy timeout) and R3's sleeps.
func (s *state) writeWait(retried, held bool) time.Duration {
	var d time.Duration
	attempts := time.Duration(1)
	if retried {
		attempts = 3
	}
	if held || s.lockMayBeHeld() {
		d += attempts * (s.busyTimeout + 100*time.Millisecond)
	}
	if s.writeFaults > 0 && retried {
		d += 15 * time.Millisecond
	}
	return d
}

// tickInstants lists the next few instants at which a reconciler's ticks
// fall due, by the schedule (S3; S4's delays shift them, which the
// generator ignores).
func (s *state) tickInstants(rec, n int) []time.Duration {
	p := s.sup.periods[rec]
	if !s.sup.installed || s.sup.stopped || p <= 0 {
		return nil
	}
	var out []time.Duration
	k := (s.lo-s.sup.at)/p + 1
	for i := range time.Duration(n) {
		out = append(out, s.sup.at+(k+i)*p)
	}
	return out
}

// nextTick is the number and instant of a reconciler's next tick by the
// schedule; ok is false when it is not running.
func (s *state) nextTick(rec int) (n int, at time.Duration, ok bool) {
	p := s.sup.periods[rec]
	if !s.sup.installed || s.sup.stopped || p <= 0 {
		return 0, 0, false
	}
	k := (s.lo-s.sup.at)/p + 1
	return int(k), s.sup.at + k*p, true
}

// running lists the reconcilers the supervisor runs.
func (s *state) running() []int {
	var out []int
	for rec, p := range s.sup.periods {
		if s.sup.installed && !s.sup.stopped && p > 0 {
			out = append(out, rec)
		}
	}
	return out
}

// budget returns the budget with id, or nil.
func (s *state) budget(id string) *budgetInfo {
	for _, b := range s.budgets {
		if b.id == id {
			return b
		}
	}
	return nil
}

// usable lists the budgets a step at top-level index step may name.
func (s *state) usable(step int) []*budgetInfo {
	var out []*budgetInfo
	for _, b := range s.budgets {
		if b.step < step {
			out = append(out, b)
		}
	}
	return out
}

// fixedBudgets lists the budgets set_next_reset may name.
func (s *state) fixedBudgets() []*budgetInfo {
	var out []*budgetInfo
	for _, b := range s.budgets {
		if b.fixed {
			out = append(out, b)
		}
	}
	return out
}

// worker returns the instance in ns, or nil.
func (s *state) worker(ns, inst string) *workerInfo {
	for _, w := range s.workers {
		if w.ns == ns && w.inst == inst {
			return w
		}
	}
	return nil
}

// resetInstants are the budgets' scheduled resets still ahead.
func (s *state) resetInstants() []time.Duration {
	var out []time.Duration
	for _, b := range s.budgets {
		if b.hasNext && b.next >= s.lo {
			out = append(out, b.next)
		}
	}
	return out
}

// expiries are the live workers' expiry instants still ahead.
func (s *state) expiries() []time.Duration {
	var out []time.Duration
	for _, w := range s.workers {
		if e := w.hb + w.ttl; w.live && e >= s.lo {
			out = append(out, e)
		}
	}
	return out
}

// ns returns a namespace as a step writes it ("" for the default).
func ns(n string) string {
	if n == scenario.DefaultNamespace {
		return ""
	}
	return n
}

func sortedDims(m map[string]scenario.Limits) []string {
	out := make([]string, 0, len(m))
	for d := range m {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}
