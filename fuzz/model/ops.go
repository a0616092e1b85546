package model

import (
	"fmt"

	"github.com/ffsim/ffsim/scenario"
)

// Step actors run at the current instant; the step ends when the operation
// returns (time moves on meanwhile, timers firing in order), then the world
// runs to idle.

// outcomeRec is one actor's outcome, with a canonical key to compare them.
type outcomeRec struct {
	set bool
	key string
	o   scenario.Outcome
}

// startActor releases a step's action as an actor in slot.
func (w *world) startActor(s *scenario.Step, slot int) {
	k := s.Kind()
	p := w.newProc(kOp)
	if k == scenario.KindHoldWriteLock {
		p.kind = kHold
	}
	p.step, p.op, p.slot, p.now0 = s, k, slot, w.now
	w.pending++
	w.resume(p)
}

// finish records p's outcome (when its kind takes an expect) and ends it.
func (w *world) finish(p *proc, o scenario.Outcome) {
	p.done, p.timer = true, false
	w.stepReturned(p, &o)
}

// stepReturned marks p's operation as returned, with its outcome.
func (w *world) stepReturned(p *proc, o *scenario.Outcome) {
	w.pending--
	if o == nil || p.op.Info().Expect == nil {
		return
	}
	o.ReturnedAt = scenario.At(w.now)
	w.outcomes[p.slot] = outcomeRec{set: true, key: outcomeKey(o), o: *o}
}

func (w *world) failf(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf(format, args...)
	}
}

// Actor states.
const (
	opStart uint8 = iota
	opTx
	opTick
	holdRelease
)

func (w *world) runOp(p *proc) {
	s := p.step
	switch p.op {
	case scenario.KindSpawn:
		w.finish(p, w.spawn(s.Spawn))
	case scenario.KindClose:
		w.signal() // S6: a signal, no waiting
		w.finish(p, scenario.Outcome{})
	case scenario.KindShutdown:
		w.runShutdown(p)
	case scenario.KindSlowTick, scenario.KindTickError, scenario.KindBusy, scenario.KindDBError:
		w.arm(s)
		w.finish(p, scenario.Outcome{})
	case scenario.KindScanTick, scenario.KindSweepTick:
		if p.pc == opStart {
			rec := recReset
			if p.op == scenario.KindSweepTick {
				rec = recSweep
			}
			p.tick = tickState{rec: rec, now: w.now}
			p.pc = opTick
		}
		if !w.runTick(p, &p.tick) {
			return
		}
		if p.tick.failed {
			w.finish(p, scenario.Outcome{Error: p.tick.err})
		} else {
			w.finish(p, scenario.Outcome{Processed: ptr(p.tick.processed), Errors: ptr(p.tick.errors)})
		}
	case scenario.KindRegisterWorker:
		// W1: one deferred transaction, no retry. Its BEGIN meets the
		// armed faults; then the preflight read; then the upsert.
		if code, ok := w.faults.popWrite(); ok {
			w.finish(p, scenario.Outcome{Error: errorKind(code)})
			return
		}
		w.finish(p, w.register(p, s.RegisterWorker, w.cfg.ms(w.now)))
	case scenario.KindMarkWorkerDead:
		if p.pc == opStart && !validReason(s.MarkWorkerDead.Reason) {
			// W3 refuses the reason before any write. Whether the armed
			// faults are consulted first SPEC does not say: allow both.
			if len(w.faults.write) > 0 && w.choose(2) == 1 {
				code, _ := w.faults.popWrite()
				w.finish(p, scenario.Outcome{Error: errorKind(code)})
				return
			}
			w.finish(p, scenario.Outcome{Result: "invalid"})
			return
		}
		w.runWrite(p)
	default:
		w.runWrite(p)
	}
}

// runWrite runs the actors that are one write transaction: the R5 admin
// operations (R3 + R3b), heartbeat and mark (deferred, no retry, their
// first statement a write that waits per R3b), and set_next_reset (one
// statement: waits, no faults, no retry).
func (w *world) runWrite(p *proc) {
	if p.pc == opStart {
		switch p.op {
		case scenario.KindCreateBudget, scenario.KindReportUsage, scenario.KindResetBudget:
			p.tx = writeTx{r3: true, faults: true, wait: true}
		case scenario.KindHeartbeatWorker, scenario.KindMarkWorkerDead:
			p.tx = writeTx{faults: true, wait: true}
		case scenario.KindSetNextReset:
			p.tx = writeTx{wait: true}
		default:
			w.failf("step kind %s is not modelled", p.op)
			return
		}
		p.pc = opTx
	}
	switch w.runTx(p, &p.tx) {
	case txBlocked:
		return
	case txFailed:
		if p.op == scenario.KindSetNextReset {
			w.failf("set_next_reset would fail with %s (the write lock is held past the busy timeout), and it takes no expect", p.tx.err)
		}
		w.finish(p, scenario.Outcome{Error: p.tx.err})
		return
	}
	s := p.step
	now0 := w.cfg.ms(p.now0)
	switch p.op {
	case scenario.KindCreateBudget:
		// R5: now is the call's, kept across retries.
		w.finish(p, scenario.Outcome{Result: w.store.create(*s.CreateBudget, now0)})
	case scenario.KindReportUsage:
		// R5: the clock is read at each attempt, before or after its wait
		// for the lock: both readings are allowed.
		nows := []int64{w.cfg.ms(p.tx.began), w.cfg.ms(w.now)}
		w.finish(p, w.store.report(s.ReportUsage, nows).outcome())
	case scenario.KindResetBudget:
		b := w.store.budgets[s.ResetBudget.Budget]
		if b == nil || b.pol == nil {
			w.finish(p, scenario.Outcome{Result: "not_found"})
			return
		}
		b.reset(now0)
		next := scenario.Null()
		if b.hasNext {
			next = scenario.At(w.cfg.offset(b.next))
		}
		w.finish(p, scenario.Outcome{NextResetAt: next})
	case scenario.KindSetNextReset:
		if b := w.store.budgets[s.SetNextReset.Budget]; b == nil || b.pol == nil {
			// SPEC does not say; the simulator fails the step (not found),
			// and the step takes no expect.
			w.failf("set_next_reset of budget %q, which has no policy row, fails with not_found, and it takes no expect", s.SetNextReset.Budget)
			return
		}
		w.store.setNextReset(s.SetNextReset.Budget, &s.SetNextReset.At, w.cfg)
		w.finish(p, scenario.Outcome{})
	case scenario.KindHeartbeatWorker:
		// The registry's now is the caller's.
		w.finish(p, w.heartbeat(s.HeartbeatWorker, now0))
	case scenario.KindMarkWorkerDead:
		w.finish(p, w.markDead(s.MarkWorkerDead))
	}
}

// runHold is hold_write_lock: another connection takes the write lock
// (waiting per R3b if it is held), which ends the step, and releases it
// duration later.
func (w *world) runHold(p *proc) {
	switch p.pc {
	case opStart, opTx:
		if p.pc == opStart {
			p.tx = writeTx{wait: true}
			p.pc = opTx
		}
		switch w.runTx(p, &p.tx) {
		case txBlocked:
			return
		case txFailed:
			w.failf("hold_write_lock would fail with %s (the write lock is held past the busy timeout)", p.tx.err)
			p.done = true
			w.stepReturned(p, nil)
			return
		}
		w.lock = p.id
		w.stepReturned(p, nil)
		p.pc = holdRelease
		w.sleep(p, p.step.HoldWriteLock.Duration)
	case holdRelease:
		w.lock = 0
		p.done = true
	}
}
