package model

import (
	"encoding/binary"
	"errors"
	"maps"
	"slices"

	"github.com/ffsim/ffsim/scenario"
)

// Where SPEC leaves an outcome open, a world asks its chooser which way to
// go. Exploring a world runs a piece of its history once per sequence of
// choices (depth first, replaying from a clone), so every alternative is
// followed; worlds that end in the same state are merged.

type chooser struct {
	script []int
	trace  []choice
}

type choice struct{ pick, n int }

// errChoice is raised when a world meets a choice where the model did not
// expect one: a bug in the model's branchy predicate, reported by
// Annotate.
var errChoice = errors.New("model: internal error: a choice where none was expected")

// choose returns one of 0..n-1: on each exploration run, the next
// alternative.
func (w *world) choose(n int) int {
	if n <= 1 {
		return 0
	}
	c := w.ch
	if c == nil {
		panic(errChoice)
	}
	pick := 0
	if i := len(c.trace); i < len(c.script) {
		pick = c.script[i]
	}
	c.trace = append(c.trace, choice{pick, n})
	return pick
}

// next prepares the next sequence of choices; false when all were run.
func (c *chooser) next() bool {
	for i := len(c.trace) - 1; i >= 0; i-- {
		if c.trace[i].pick+1 < c.trace[i].n {
			c.script = c.script[:0]
			for _, t := range c.trace[:i] {
				c.script = append(c.script, t.pick)
			}
			c.script = append(c.script, c.trace[i].pick+1)
			c.trace = c.trace[:0]
			return true
		}
	}
	return false
}

// explore runs f on w, once per sequence of choices f makes, each on a
// clone of w. When branchy is false f must make no choice and runs on w
// itself.
func explore(w *world, f func(*world), branchy bool) []*world {
	if !branchy {
		f(w)
		return []*world{w}
	}
	ch := &chooser{}
	var out []*world
	for {
		c := w.clone()
		c.ch = ch
		f(c)
		c.ch = nil
		out = append(out, c)
		if !ch.next() {
			return out
		}
	}
}

// branchy reports whether firing w's next timer may meet a choice: several
// timers due at one instant (unless only the native order is wanted), a
// Shutdown's grace deadline (aborted ticks unwind), or a sweep resuming
// after a wait (its clock reading).
func (w *world) branchy() bool {
	at, due := w.due()
	if len(due) == 0 || (w.advancing && at > w.target) {
		return false
	}
	if w.tieOpen(due) || w.mayCollide(int64(at)) {
		return true
	}
	p := due[0]
	switch {
	case p.kind == kOp && p.op == scenario.KindShutdown:
		return true
	case p.kind == kOp && p.op == scenario.KindSweepTick:
		return true
	case p.kind == kTask && p.pc == taskInTick && p.rec == recSweep:
		return true
	}
	return false
}

// tieOpen reports whether the order of the timers due at one instant is
// left open: on the wasm host it is, unless they are reconciler tasks
// about to start ticks that cannot touch each other (different
// reconcilers, the lock free, no fault armed that either would meet, and
// no budget due, so that budget_reset's tick writes nothing): each such
// tick runs to its end at once and they touch disjoint tables, so every
// order ends the same. When budget_reset writes, the sweep's transaction
// may meet its transaction still open, or the other way round
// (inflight.go), which only the order decides.
func (w *world) tieOpen(due []*proc) bool {
	if len(due) < 2 || w.cfg.native {
		return false
	}
	if w.lock != 0 || len(w.faults.write) > 0 || w.sup.requested {
		return true
	}
	for _, p := range due {
		if p.kind == kTask && p.rec == recReset && len(w.store.due(w.cfg.ms(p.at), 1)) > 0 {
			return true
		}
	}
	recs := 0
	for _, p := range due {
		if p.kind != kTask || p.pc != taskIdle || recs&(1<<p.rec) != 0 {
			return true
		}
		recs |= 1 << p.rec
		n := p.ticks + 1
		if w.faults.tickError(p.rec, n) {
			continue // fails at once
		}
		if _, ok := w.faults.slowFor(p.rec, n, false); ok {
			return true
		}
		if _, ok := w.faults.slowFor(p.rec, n, true); ok {
			return true
		}
	}
	return false
}

// dedup merges worlds in the same state, keeping the first of each.
func dedup(ws []*world) []*world {
	if len(ws) < 2 {
		return ws
	}
	seen := make(map[string]bool, len(ws))
	out := ws[:0]
	for _, w := range ws {
		k := w.key()
		if !seen[k] {
			seen[k] = true
			out = append(out, w)
		}
	}
	return out
}

// key is a canonical encoding of everything that decides w's future and
// the current step's outcomes. Timer creation order matters only on the
// native host; otherwise every order is followed anyway, so it is left
// out and histories that differ only by it merge. It writes every field of
// the world in one place, on purpose: a field left out here silently merges
// histories that differ, so the whole state is kept in view at once.
func (w *world) key() string {
	e := make(enc, 0, 256)
	e.i(int64(w.now)).i(int64(w.lock)).b(w.sup.installed).b(w.sup.requested).
		i(int64(w.sup.spawned)).i(int64(w.sup.live)).i(int64(w.sup.shut))
	for _, t := range w.sup.tally {
		e.i(int64(t.count)).i(int64(t.processed)).i(int64(t.errors)).b(t.unknown)
	}
	e.s("F")
	for _, f := range w.faults.write {
		e.s(f.code).i(int64(f.n))
	}
	e.s("S")
	for _, f := range w.faults.scan {
		e.s(f.code).i(int64(f.n))
	}
	e.i(int64(len(w.faults.slow))).i(int64(len(w.faults.tickErr)))
	e.s("B")
	for _, id := range slices.Sorted(maps.Keys(w.store.budgets)) {
		b := w.store.budgets[id]
		e.s(id).b(b.pol != nil)
		if p := b.pol; p != nil {
			// The whole policy: two create steps of one id (in a
			// concurrently group, in either order) leave different ones.
			e.i(p.createdAt).s(p.scope.Type).s(p.scope.ID).s(p.mode).s(p.onHard).s(p.onSoft).i(p.intervalMS)
			for _, d := range p.dims {
				e.s(d).i(p.hard[d]).i(p.soft[d])
			}
		}
		for _, d := range slices.Sorted(maps.Keys(b.usage)) {
			e.s(d).i(b.usage[d])
		}
		e.s(";").i(b.breach).i(b.softBreach).s(b.lastDim).i(int64(len(b.lastAt)))
		for _, at := range b.lastAt {
			e.i(at)
		}
		e.i(b.next).b(b.hasNext)
	}
	e.s("D")
	for _, k := range slices.Sorted(maps.Keys(w.store.dedup)) {
		d := w.store.dedup[k]
		e.s(k).s(d.kind).s(d.dim).i(d.cur).i(d.limit)
	}
	e.s("W")
	keys := make([]wkey, 0, len(w.store.workers))
	for k := range w.store.workers {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b wkey) int {
		if a.ns != b.ns {
			return cmpStr(a.ns, b.ns)
		}
		return cmpStr(a.inst, b.inst)
	})
	for _, k := range keys {
		r := w.store.workers[k]
		e.s(k.ns).s(k.inst).s(r.workerID).i(r.hb).i(r.ttl).i(r.regAt).i(int64(len(r.lanes))).i(int64(len(r.caps)))
		for _, l := range r.lanes {
			e.s(l)
		}
		for _, c := range r.caps {
			e.s(c)
		}
	}
	e.s("P")
	for _, p := range w.procs {
		if p.done {
			continue
		}
		e.i(int64(p.id)).i(int64(p.kind)).i(int64(p.pc)).b(p.timer).i(int64(p.at))
		if w.cfg.native {
			e.i(int64(p.seq))
		}
		e.b(p.waitSig).b(p.waitExit).b(p.waitFirst).i(int64(p.rec)).i(int64(p.deadline)).i(int64(p.ticks)).
			i(int64(p.slot)).i(int64(p.now0))
		t := &p.tick
		e.i(int64(t.pc)).b(t.aborted).i(int64(t.now)).i(int64(len(t.due))).i(int64(t.idx)).
			i(int64(t.processed)).i(int64(t.errors)).b(t.slowUsed).b(t.yielded).b(t.holding).i(int64(t.began)).i(t.sweepNow)
		for _, id := range t.due {
			e.s(id)
		}
		for _, x := range []*writeTx{&t.tx, &p.tx} {
			e.i(int64(x.attempt)).i(int64(x.phase)).i(int64(x.polls)).i(int64(x.start)).i(int64(x.began)).b(x.yielded)
		}
	}
	if w.wrote.at == int64(w.now) {
		// Only the current instant's writers matter (inflight.go).
		e.s("I")
		for _, id := range w.wrote.writers {
			e.i(int64(id))
		}
	}
	e.s("R")
	for _, id := range w.ready {
		e.i(int64(id))
	}
	e.b(w.advancing).i(int64(w.target)).i(int64(w.pending))
	for _, o := range w.outcomes {
		e.s(o.key)
	}
	return string(e)
}

// enc is a compact binary encoding: varints, and strings with their
// length.
type enc []byte

func (e *enc) i(v int64) *enc { *e = binary.AppendVarint(*e, v); return e }
func (e *enc) s(v string) *enc {
	*e = append(binary.AppendUvarint(*e, uint64(len(v))), v...)
	return e
}
func (e *enc) b(v bool) *enc {
	if v {
		*e = append(*e, 1)
	} else {
		*e = append(*e, 0)
	}
	return e
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
