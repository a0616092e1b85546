package model

import "time"

// tickState is one reconciler tick in flight: a task's tick n (supervised)
// or a scan_tick/sweep_tick step's (not counted, and slow_tick/tick_error
// do not apply).
type tickState struct {
	rec        int
	supervised bool
	n          int
	now        time.Duration // the tick's time, taken when it starts (R2)
	pc         uint8
	aborted    bool // S5: its task was aborted; it unwinds at once

	due       []string // R1's selection (shared: never changed)
	idx       int      // the apply in progress
	processed int
	errors    int
	slowUsed  bool // a tick slows inside a transaction once
	yielded   bool // a scan_tick let the others of its group go after its scan (inflight.go)
	holding   bool // parked inside its transaction, holding the lock
	tx        writeTx
	began     time.Duration // sweep: when its transaction began
	sweepNow  int64         // sweep: the clock reading its DELETE uses

	failed bool   // finished with an error instead of a report
	err    string // that error's kind
}

// batch is R1's batch size.
const batch = 20

// Reset tick states.
const (
	rtStart   uint8 = iota
	rtScan          // (sleeping before_tx, then) the scan
	rtApply         // start the next apply
	rtAttempt       // getting the lock for apply idx
	rtBody          // holding the lock: re-check and reset
	rtCommit        // (parked inside_tx, then) commit
)

func (w *world) runTick(p *proc, t *tickState) bool {
	if t.rec == recSweep {
		return w.runSweepTick(p, t)
	}
	return w.runResetTick(p, t)
}

func (t *tickState) fail(code string) bool {
	t.failed, t.err = true, errorKind(code)
	return true
}

// runResetTick is budget_reset's tick (R1, R2, R4). It returns true when
// the tick has finished, with a report or an error.
func (w *world) runResetTick(p *proc, t *tickState) bool {
	for {
		if t.aborted {
			w.unwindReset(t)
			return true
		}
		switch t.pc {
		case rtStart:
			if t.supervised {
				if w.faults.tickError(t.rec, t.n) {
					return t.fail("other") // fails at once, before anything
				}
				if d, ok := w.faults.slowFor(t.rec, t.n, false); ok {
					t.pc = rtScan
					w.sleep(p, d) // before the first query
					return false
				}
			}
			t.pc = rtScan
		case rtScan:
			// R1; a failing scan fails the whole tick (R4).
			if code, ok := w.faults.popScan(); ok {
				return t.fail(code)
			}
			t.due = w.store.due(w.cfg.ms(t.now), batch)
			t.idx, t.pc = 0, rtApply
		case rtApply:
			if t.idx >= len(t.due) {
				return true // R4: {processed, errors}
			}
			if w.yieldAfterScan(p, t) {
				return false
			}
			// R2: each budget in its own BEGIN IMMEDIATE transaction, with
			// R3 and R3b.
			t.tx = writeTx{r3: true, faults: true, wait: true}
			t.pc = rtAttempt
		case rtAttempt:
			switch w.runTx(p, &t.tx) {
			case txBlocked:
				return false
			case txFailed:
				t.errors++ // logged; the other applies still run (R4)
				t.idx++
				t.pc = rtApply
			case txAcquired:
				t.pc = rtBody
			}
		case rtBody:
			// R2's re-check: gone, unscheduled or already moved past now
			// (a concurrent admin reset) means nothing to do, and it
			// counts as processed.
			if !w.store.stillDue(t.due[t.idx], w.cfg.ms(t.now)) {
				t.processed++
				t.idx++
				t.pc = rtApply
				continue
			}
			t.pc = rtCommit
			if t.supervised && !t.slowUsed {
				if d, ok := w.faults.slowFor(t.rec, t.n, true); ok {
					// Parked after zeroing, before commit: the changes are
					// invisible and the lock is held meanwhile.
					t.slowUsed, t.holding, w.lock = true, true, p.id
					w.sleep(p, d)
					return false
				}
			}
		case rtCommit:
			if t.holding {
				t.holding, w.lock = false, 0
			}
			// R2: now is the tick's time even when the commit is later.
			w.store.budgets[t.due[t.idx]].reset(w.cfg.ms(t.now))
			t.processed++
			t.idx++
			t.pc = rtApply
		}
	}
}

// unwindReset is an aborted budget_reset tick (S5): its open transaction
// rolls back and it writes nothing more. SPEC does not say whether the
// statements after the cancellation point still consult the armed faults
// before failing, so the model allows any number of them to be consumed:
// the scan's (one) when the tick had not scanned yet, else up to three
// write attempts per apply left.
func (w *world) unwindReset(t *tickState) {
	if t.holding {
		t.holding, w.lock = false, 0
	}
	if t.pc <= rtScan {
		if len(w.faults.scan) > 0 && w.choose(2) == 1 {
			w.faults.popScan()
		}
		return
	}
	left := len(t.due) - t.idx
	n := w.choose(min(w.faults.attempts(), 3*left) + 1)
	for range n {
		w.faults.popWrite()
	}
}
