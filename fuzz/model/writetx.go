package model

import "time"

// writeTx is one write operation getting the write lock: its attempts (R3)
// and, in each, its wait for a held lock (R3b). The caller runs its body
// once it has the lock; bodies take no simulated time except a tick parked
// inside its transaction (slow_tick inside_tx), which then holds w.lock.
type writeTx struct {
	r3     bool // retry BUSY/LOCKED: 3 attempts, 5 ms then 10 ms apart (R3)
	faults bool // consult the armed write faults at each attempt
	wait   bool // wait for a held lock on SQLite's schedule (R3b); else BUSY at once

	attempt int
	phase   uint8
	polls   int           // polls made since the wait began
	start   time.Duration // when the wait began
	began   time.Duration // when the current attempt began
	err     string        // the error kind once failed
	yielded bool          // let the others due at its first attempt's instant go first (inflight.go)
}

const (
	txAttempt uint8 = iota // about to start an attempt
	txPolling              // waiting for the lock, sleeping until the next poll
	txRetry                // sleeping between R3 attempts
)

type txStatus uint8

const (
	txBlocked  txStatus = iota // sleeping: resume the caller later
	txAcquired                 // the lock is free: run the body now
	txFailed                   // gave up: x.err says why
)

// busyDelays is SQLite's default busy handler's schedule (R3b): the sleeps
// before each retry, then 100 ms per retry.
var busyDelays = [...]time.Duration{1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100}

// pollOffset is when the k-th retry of a busy wait happens (k ≥ 1),
// measured from the first try: 1, 3, 8, 18, 33, 53, 78, 103, 128, 178,
// 228, 328 ms, then every 100 ms.
func pollOffset(k int) time.Duration {
	var total time.Duration
	for i := 0; i < k && i < len(busyDelays); i++ {
		total += busyDelays[i]
	}
	if k > len(busyDelays) {
		total += time.Duration(k-len(busyDelays)) * 100
	}
	return total * time.Millisecond
}

// runTx drives x for process p until it blocks, gets the lock or fails.
func (w *world) runTx(p *proc, x *writeTx) txStatus {
	for {
		switch x.phase {
		case txRetry:
			x.phase = txAttempt
		case txAttempt:
			if w.yieldBeforeAttempt(p, x) {
				return txBlocked
			}
			x.attempt++
			x.began = w.now
			if x.faults {
				// An armed write fault fails the attempt at once, before
				// the lock and without a busy wait.
				if code, ok := w.faults.popWrite(); ok {
					return w.txFail(p, x, code)
				}
			}
			if w.lock == 0 && !w.collides(p) {
				w.noteWrite(p)
				return txAcquired
			}
			if !x.wait || w.cfg.busyTimeout <= 0 {
				return w.txFail(p, x, "busy")
			}
			// R3b: poll on SQLite's schedule; the last sleep is cut so that
			// the final poll is exactly at the busy timeout.
			x.phase, x.polls, x.start = txPolling, 0, w.now
			w.sleepUntil(p, x.start+min(pollOffset(1), w.cfg.busyTimeout))
			return txBlocked
		case txPolling:
			x.polls++
			if w.lock == 0 && !w.collides(p) {
				x.phase = txAttempt
				w.noteWrite(p)
				return txAcquired
			}
			if pollOffset(x.polls) >= w.cfg.busyTimeout {
				x.phase = txAttempt
				return w.txFail(p, x, "busy")
			}
			w.sleepUntil(p, x.start+min(pollOffset(x.polls+1), w.cfg.busyTimeout))
			return txBlocked
		}
	}
}

// txFail ends an attempt with a SQLite error: R3 retries BUSY and LOCKED
// after 5 ms, then 10 ms; anything else, or the third failure, fails the
// operation.
func (w *world) txFail(p *proc, x *writeTx, code string) txStatus {
	if x.r3 && retryable(code) && x.attempt < 3 {
		x.phase = txRetry
		w.sleep(p, 5*time.Millisecond<<(x.attempt-1))
		return txBlocked
	}
	x.err = errorKind(code)
	return txFailed
}
