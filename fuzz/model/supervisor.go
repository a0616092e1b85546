package model

import (
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// supervisor is the scanner supervisor's state (S1–S7).
type supervisor struct {
	installed bool // a spawn installed it; later spawns are no-ops (S2)
	requested bool // shutdown or close signalled (S3, S5, S6)
	spawned   int  // tasks registered by the installing spawn
	live      int  // tasks not yet exited (expect_running)
	shut      uint8
	tally     [2]tally // per reconciler, since the installing spawn (S7)
}

// Shutdown's progress (S5): concurrent calls serialise, every call after
// the first returns 0.
const (
	shutNone uint8 = iota
	shutWaiting
	shutReturned
)

// tally is what expect_ticks reads: ticks finished (with a report or an
// error) and the sums of their reports. The sums become unknown after a
// tick that was aborted: SPEC does not fix how its report reads.
type tally struct {
	count, processed, errors int
	unknown                  bool
}

// tolerance is S4's: a tick observed within 5 ms of its deadline keeps the
// schedule.
const tolerance = 5 * time.Millisecond

// spawn is S1/S2: register a task per enabled reconciler, in order
// budget_reset then worker_registry_ttl_sweep, each with its first
// deadline one period from now (S3: the interval's immediate first tick is
// consumed at spawn). A second spawn changes nothing.
func (w *world) spawn(s *scenario.SpawnStep) scenario.Outcome {
	if w.sup.installed {
		return scenario.Outcome{Installed: ptr(false)}
	}
	cfg := s.Config(w.cfg.sc.Supervisor)
	periods := [2]time.Duration{cfg.BudgetResetInterval, cfg.WorkerRegistryTTLInterval}
	if periods[0] < 0 || periods[1] < 0 {
		// S1: a negative interval is a configuration error.
		return scenario.Outcome{Error: "invalid"}
	}
	w.sup = supervisor{installed: true}
	var tasks []*proc
	for rec, period := range periods {
		if period == 0 {
			continue // S1: zero disables the reconciler
		}
		p := w.newProc(kTask)
		p.rec, p.period, p.deadline = rec, period, w.now+period
		p.waitSig = true
		tasks = append(tasks, p)
		w.sup.spawned++
		w.sup.live++
	}
	// Each task's wait for its first deadline is a timer; which task sets
	// its timer first (which runs first when their deadlines tie) is the
	// runtime's, not SPEC's: registration order is, but the tasks start
	// concurrently. Both orders are followed.
	if len(tasks) == 2 && w.choose(2) == 1 {
		tasks[0], tasks[1] = tasks[1], tasks[0]
	}
	for _, p := range tasks {
		w.sleepUntil(p, p.deadline)
	}
	return scenario.Outcome{Installed: ptr(true)}
}

// Task states.
const (
	taskIdle   uint8 = iota // waiting for its deadline or the signal
	taskInTick              // running tick p.ticks
)

// runTask is S3/S4: the reconciler's loop.
func (w *world) runTask(p *proc) {
	for {
		switch p.pc {
		case taskIdle:
			p.waitSig = false
			if w.sup.requested {
				// The signal, or a deadline that passed after shutdown was
				// requested: exit without running.
				w.exitTask(p)
				return
			}
			// S4 Delay: observed at N for deadline D, the next deadline is
			// D+P if N ≤ D+5ms, else N+P.
			n, d := w.now, p.deadline
			if n <= d+tolerance {
				p.deadline = d + p.period
			} else {
				p.deadline = n + p.period
			}
			p.ticks++
			p.tick = tickState{rec: p.rec, supervised: true, n: p.ticks, now: n}
			p.pc = taskInTick
		case taskInTick:
			if !w.runTick(p, &p.tick) {
				return
			}
			w.record(&p.tick)
			if p.tick.aborted || w.sup.requested {
				w.exitTask(p)
				return
			}
			// A finished tick leaves nothing behind: histories that ran it
			// differently (waits, polls) merge again.
			p.tick = tickState{}
			p.pc = taskIdle
			if p.deadline <= w.now {
				// An overrun tick's next deadline has passed: the
				// follow-up tick runs at once, without waiting on the
				// clock (so before other timers due at this instant).
				continue
			}
			p.waitSig = true
			w.sleepUntil(p, p.deadline)
			return
		}
	}
}

// record adds a finished tick to its reconciler's tally (S7).
func (w *world) record(t *tickState) {
	ta := &w.sup.tally[t.rec]
	ta.count++
	switch {
	case t.aborted:
		ta.unknown = true
	case !t.failed:
		ta.processed += t.processed
		ta.errors += t.errors
	}
}

func (w *world) exitTask(p *proc) {
	p.done, p.timer, p.waitSig = true, false, false
	w.sup.live--
	if w.sup.live == 0 {
		for _, q := range w.procs {
			if q.waitExit && !q.done {
				w.wake(q)
			}
		}
	}
}

// signal is the shutdown signal (S5, S6): idle tasks wake and exit; a task
// in a tick sees it when the tick ends.
func (w *world) signal() {
	if !w.sup.installed {
		return
	}
	w.sup.requested = true
	for _, p := range w.procs {
		if p.kind == kTask && p.waitSig && !p.done {
			w.wake(p)
		}
	}
}

// abortLive aborts every live task (S5): an idle one simply ends; one in a
// tick is cancelled at its current wait (every wait is a cancellation
// point) and unwinds.
func (w *world) abortLive() {
	for _, p := range w.procs {
		if p.kind != kTask || p.done {
			continue
		}
		if p.pc == taskIdle {
			w.exitTask(p)
			continue
		}
		p.tick.aborted = true
		w.wake(p)
	}
}

// Shutdown actor states.
const (
	shStart uint8 = iota
	shWaitTasks
	shWaitFirst
)

// shutdown is S5's Shutdown(grace), as a step's actor.
func (w *world) runShutdown(p *proc) {
	switch p.pc {
	case shStart:
		switch {
		case !w.sup.installed:
			w.finish(p, scenario.Outcome{TimedOut: ptr(0)})
			return
		case w.sup.shut == shutReturned:
			w.finish(p, scenario.Outcome{TimedOut: ptr(0)})
			return
		case w.sup.shut == shutWaiting:
			// Concurrent calls serialise: wait for the first, return 0.
			p.pc, p.waitFirst = shWaitFirst, true
			return
		}
		w.sup.shut = shutWaiting
		w.signal()
		grace := p.step.Shutdown.Grace
		if grace <= 0 {
			// The deadline has already passed: every task registered
			// counts, live or not, and the live ones are aborted.
			n := w.sup.spawned
			w.abortLive()
			w.shutdownReturned(p, n)
			return
		}
		if w.sup.live == 0 {
			w.shutdownReturned(p, 0)
			return
		}
		p.pc, p.waitExit = shWaitTasks, true
		w.sleep(p, grace)
	case shWaitTasks:
		p.waitExit = false
		if w.sup.live == 0 {
			p.timer = false
			w.shutdownReturned(p, 0)
			return
		}
		// The grace deadline: tasks still running are aborted and counted.
		n := w.sup.live
		w.abortLive()
		w.shutdownReturned(p, n)
	case shWaitFirst:
		p.waitFirst = false
		w.finish(p, scenario.Outcome{TimedOut: ptr(0)})
	}
}

func (w *world) shutdownReturned(p *proc, n int) {
	w.sup.shut = shutReturned
	w.finish(p, scenario.Outcome{TimedOut: ptr(n)})
	for _, q := range w.procs {
		if q.waitFirst && !q.done {
			w.wake(q)
		}
	}
}
