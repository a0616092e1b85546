package model

import "slices"

// Transactions in flight (the wasm host). The model runs a transaction
// that takes no simulated time as one indivisible event: on the native
// host nothing else runs meanwhile. On the wasm host the goroutines of
// everything released at one instant (a concurrently group's actors, two
// reconcilers' ticks due together) interleave as the seed decides, so a
// transaction begun at an instant may still be open when another process
// tries to write at that same instant. That writer then finds the write
// lock held (SPEC R3b): a statement that waits gets it at the busy
// handler's first poll, 1 ms later (at once with a busy timeout of 0 it
// gets SQLITE_BUSY, which R3 retries 5 ms later where it applies); a
// register_worker, whose transaction reads before it writes, gets BUSY at
// once. Whether the other transaction was still open is the seed's tie:
// the model follows both.
//
// It records which processes took the write lock at the current instant,
// since the current step began; a write by another process at that same
// instant may collide with one of theirs.

// inflight is the record: the instant, and the processes that wrote then.
type inflight struct {
	at      int64 // the instant, in ns; -1 for none
	writers []int
}

// noteWrite records that p took the write lock now.
func (w *world) noteWrite(p *proc) {
	if w.cfg.native {
		return
	}
	if w.wrote.at != int64(w.now) {
		w.wrote = inflight{at: int64(w.now)}
	}
	if !slices.Contains(w.wrote.writers, p.id) {
		w.wrote.writers = append(slices.Clip(w.wrote.writers), p.id)
	}
}

// collides decides (a choice on the wasm host's terms) whether p's write
// now meets another process's transaction still in flight.
func (w *world) collides(p *proc) bool {
	if w.cfg.native || w.wrote.at != int64(w.now) {
		return false
	}
	for _, id := range w.wrote.writers {
		if id != p.id {
			return w.choose(2) == 1
		}
	}
	return false
}

// mayCollide reports whether firing a timer due at instant at may meet a
// collision (for branchy).
func (w *world) mayCollide(at int64) bool {
	return !w.cfg.native && w.wrote.at == at && len(w.wrote.writers) > 0
}

// yieldAfterScan is the other half of an open transaction on the wasm
// host: a scan_tick released in a concurrently group reads (R1's scan)
// before it writes, so another actor's transaction may begin between its
// scan and its first reset, which then waits for it (collides) and
// re-checks the budget after it (R2). The model follows both: the scan
// goes on at once, or lets the group's other actors run first (a timer at
// this very instant) and then resets. It reports whether t yielded.
func (w *world) yieldAfterScan(p *proc, t *tickState) bool {
	if w.cfg.native || t.supervised || t.yielded || t.idx != 0 || t.idx >= len(t.due) ||
		t.now != w.now || len(w.outcomes) < 2 {
		return false
	}
	t.yielded = true
	if w.choose(2) == 0 {
		return false
	}
	w.sleep(p, 0)
	return true
}

// yieldBeforeAttempt is the same interleaving at the level of write
// attempts: on the wasm host the processes due at one instant (two
// reconcilers' ticks, a tick and a waiting writer's poll) interleave
// between statements, so which of them meets an armed write fault first is
// the seed's, attempt by attempt (a tick's second reset may come after the
// other's attempt). When faults are queued and another process is due now,
// the model follows both: this attempt goes now, or after the others (a
// timer at this very instant). Once per transaction.
func (w *world) yieldBeforeAttempt(p *proc, x *writeTx) bool {
	if w.cfg.native || !x.faults || x.yielded || x.attempt > 0 || len(w.faults.write) == 0 {
		return false
	}
	others := false
	for _, q := range w.procs {
		if q != p && !q.done && q.timer && q.at == w.now {
			others = true
			break
		}
	}
	if !others {
		return false
	}
	x.yielded = true
	if w.choose(2) == 0 {
		return false
	}
	w.sleep(p, 0)
	return true
}
