package model

import (
	"slices"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// config is what every world of one scenario shares and never changes.
type config struct {
	sc *scenario.Scenario
	// frac is the start time's sub-millisecond part: the store keeps Unix
	// milliseconds, so a time t reads as floor((start+t)/1ms).
	frac time.Duration
	// busyTimeout is the store's busy timeout (R3b).
	busyTimeout time.Duration
	// native keeps only the native host's order for timers due at one
	// instant (creation order); otherwise every order is followed.
	native bool
}

// ms is the store's reading of simulated time t, in milliseconds from the
// millisecond of t=0.
func (c *config) ms(t time.Duration) int64 { return int64((c.frac + t) / time.Millisecond) }

// offset turns a stored millisecond back into an offset from t=0. The
// millisecond of t=0 itself reads as 0, not -frac: offsets cannot be
// negative in a scenario, and expectations compare whole milliseconds
// (rounding towards zero), so 0 and -frac say the same.
func (c *config) offset(ms int64) time.Duration {
	return max(time.Duration(ms)*time.Millisecond-c.frac, 0)
}

// world is one possible history of the system under test.
type world struct {
	cfg *config
	now time.Duration

	store  store
	faults faults
	sup    supervisor
	// lock is the id of the process holding the write lock across
	// simulated time (a hold_write_lock, a tick parked inside its
	// transaction); 0 when free. Transactions that take no time never show
	// in it: nobody can observe them.
	lock int
	// wrote records the writers of the current instant, for transactions
	// still in flight on the wasm host (inflight.go).
	wrote inflight

	procs  []*proc
	ready  []int
	dueBuf []*proc // scratch for due
	seq    uint64
	nextID int

	// The step being run.
	advancing bool          // advance/advance_to: run timers up to target
	target    time.Duration // its target
	pending   int           // action steps: actors not yet returned
	outcomes  []outcomeRec  // per actor slot, its outcome once returned

	// ch supplies choices while a world is being explored; nil when no
	// choice may occur.
	ch *chooser
	// err is a reason the model cannot go on (reported by Annotate).
	err error
}

// procKind says what a process is.
type procKind uint8

const (
	kTask procKind = iota + 1 // a reconciler task (S3)
	kOp                       // a step's actor
	kHold                     // the connection of a hold_write_lock
)

// proc is a process: an explicit state machine that runs until it blocks
// on a timer or a condition, or ends.
type proc struct {
	id   int
	kind procKind
	pc   uint8

	// Its timer, when it sleeps: it fires at at; seq orders timers of one
	// instant on the native host (creation order).
	timer bool
	at    time.Duration
	seq   uint64

	waitSig   bool // a task between ticks: the shutdown signal wakes it
	waitExit  bool // the first Shutdown: the last task's exit wakes it
	waitFirst bool // a later Shutdown: the first's return wakes it
	done      bool

	// Reconciler tasks.
	rec      int
	period   time.Duration
	deadline time.Duration
	ticks    int
	tick     tickState

	// Step actors.
	step *scenario.Step
	op   scenario.Kind
	slot int
	now0 time.Duration
	tx   writeTx
}

func (w *world) newProc(k procKind) *proc {
	w.nextID++
	p := &proc{id: w.nextID, kind: k}
	w.procs = append(w.procs, p)
	return p
}

func (w *world) proc(id int) *proc {
	for _, p := range w.procs {
		if p.id == id {
			return p
		}
	}
	return nil
}

// sleep blocks p until now+d. A zero d still goes through the clock: the
// timer fires at this instant, after those already due.
func (w *world) sleep(p *proc, d time.Duration) { w.sleepUntil(p, w.now+d) }

func (w *world) sleepUntil(p *proc, at time.Duration) {
	w.seq++
	p.timer, p.at, p.seq = true, at, w.seq
}

// wake makes p runnable at once (a condition it waits for came true),
// cancelling its timer.
func (w *world) wake(p *proc) {
	p.timer = false
	for _, id := range w.ready {
		if id == p.id {
			return
		}
	}
	w.ready = append(w.ready, p.id)
}

// runReady runs woken processes until none is left: the world runs to
// idle.
func (w *world) runReady() {
	for len(w.ready) > 0 && w.err == nil {
		id := w.ready[0]
		w.ready = w.ready[1:]
		if p := w.proc(id); p != nil && !p.done {
			w.resume(p)
		}
	}
}

func (w *world) resume(p *proc) {
	switch p.kind {
	case kTask:
		w.runTask(p)
	case kOp:
		w.runOp(p)
	case kHold:
		w.runHold(p)
	}
}

// due returns the earliest timer's instant and the processes whose timers
// fall due then, in creation order.
func (w *world) due() (time.Duration, []*proc) {
	var at time.Duration
	out := w.dueBuf[:0]
	defer func() { w.dueBuf = out[:0] }()
	for _, p := range w.procs {
		if !p.timer || p.done {
			continue
		}
		switch {
		case len(out) == 0 || p.at < at:
			at, out = p.at, append(out[:0], p)
		case p.at == at:
			out = append(out, p)
		}
	}
	// creation order (few timers: insertion sort)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].seq < out[j-1].seq; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return at, out
}

// fire fires one timer and lets the world run to idle.
func (w *world) fire(p *proc) {
	p.timer = false
	if p.at > w.now {
		w.now = p.at
	}
	w.resume(p)
	w.runReady()
}

// compact drops ended processes (between steps).
func (w *world) compact() {
	out := w.procs[:0]
	for _, p := range w.procs {
		if !p.done {
			out = append(out, p)
		}
	}
	for i := len(out); i < len(w.procs); i++ {
		w.procs[i] = nil
	}
	w.procs = out
}

// clone returns an independent copy of w (the chooser and error are not
// copied).
func (w *world) clone() *world {
	c := *w
	c.ch, c.err, c.dueBuf = nil, nil, nil
	c.store = w.store.clone()
	c.faults = w.faults.clone()
	c.procs = make([]*proc, len(w.procs))
	for i, p := range w.procs {
		q := *p
		c.procs[i] = &q
	}
	c.ready = append([]int(nil), w.ready...)
	c.wrote.writers = slices.Clip(w.wrote.writers) // appended to by copy only
	c.outcomes = append([]outcomeRec(nil), w.outcomes...)
	return &c
}
