package model

import "slices"

// Sweep tick states.
const (
	stStart   uint8 = iota
	stTx            // (sleeping before_tx, then) begin the transaction
	stAttempt       // getting the lock for the DELETE
	stCommit        // (parked inside_tx, then) commit
)

// runSweepTick is W4: one plain transaction (no R3) deletes every expired
// row and reports {processed: rows, errors: 0}. A lock conflict past the
// busy timeout, or an injected error, fails the tick.
func (w *world) runSweepTick(p *proc, t *tickState) bool {
	for {
		if t.aborted {
			w.unwindSweep(t)
			return true
		}
		switch t.pc {
		case stStart:
			t.pc = stTx
			if t.supervised {
				if w.faults.tickError(t.rec, t.n) {
					return t.fail("other")
				}
				if d, ok := w.faults.slowFor(t.rec, t.n, false); ok {
					w.sleep(p, d)
					return false
				}
			}
		case stTx:
			t.began = w.now
			t.tx = writeTx{faults: true, wait: true}
			t.pc = stAttempt
		case stAttempt:
			switch w.runTx(p, &t.tx) {
			case txBlocked:
				return false
			case txFailed:
				return t.fail(t.tx.err)
			}
			// The DELETE. SPEC gives the tick now = its start, but upstream
			// reads the clock inside the sweep; when the transaction began
			// or got the lock later than the tick started, the model
			// allows each of those readings.
			nows := slices.Compact([]int64{w.cfg.ms(t.now), w.cfg.ms(t.began), w.cfg.ms(w.now)})
			t.sweepNow = nows[w.choose(len(nows))]
			t.pc = stCommit
			if t.supervised {
				if d, ok := w.faults.slowFor(t.rec, t.n, true); ok {
					t.holding, w.lock = true, p.id
					w.sleep(p, d)
					return false
				}
			}
		case stCommit:
			if t.holding {
				t.holding, w.lock = false, 0
			}
			t.processed = w.store.sweep(t.sweepNow)
			return true
		}
	}
}

// unwindSweep is an aborted sweep tick: nothing is deleted. Aborted before
// its transaction, it may or may not have consulted a write fault.
func (w *world) unwindSweep(t *tickState) {
	if t.holding {
		t.holding, w.lock = false, 0
	}
	if t.pc == stTx && len(w.faults.write) > 0 && w.choose(2) == 1 {
		w.faults.popWrite()
	}
}
