package sim

import (
	"fmt"
	"sync"

	"github.com/ffsim/ffsim/reconcilers"
)

// tally keeps the books of the supervisor's lifecycle events: ticks and
// report sums per reconciler since the last spawn, how many tasks were
// spawned, whether a Shutdown has returned, and the invariant violations
// the events themselves reveal. The supervisor's goroutines report to it,
// hence the lock.
type tally struct {
	mu               sync.Mutex
	ticks            map[string]*tickTally
	spawned          int
	shutdownReturned bool
	violations       []string
	// dropped counts the violations past maxViolations since the last
	// take: a step during which thousands of ticks misbehave reports the
	// first ones and how many more, in bounded memory.
	dropped int
}

// maxViolations bounds the violations kept between two invariant checks.
const maxViolations = 100

// violate records an invariant violation. Callers hold mu.
func (t *tally) violate(format string, args ...any) {
	if len(t.violations) >= maxViolations {
		t.dropped++
		return
	}
	t.violations = append(t.violations, fmt.Sprintf(format, args...))
}

// tickTally is one reconciler's completed ticks and the sums of their
// reports.
type tickTally struct{ count, processed, errors int }

// reset starts counting ticks afresh (at a spawn).
func (t *tally) reset() {
	t.mu.Lock()
	t.ticks = map[string]*tickTally{}
	t.mu.Unlock()
}

// ticksOf returns a reconciler's tally so far.
func (t *tally) ticksOf(reconciler string) tickTally {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.ticks[reconciler]; p != nil {
		return *p
	}
	return tickTally{}
}

// takeViolations returns and clears the violations recorded so far.
func (t *tally) takeViolations() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	v := t.violations
	if t.dropped > 0 {
		v = append(v, fmt.Sprintf("and %d more", t.dropped))
	}
	t.violations, t.dropped = nil, 0
	return v
}

// observe receives every supervisor event: it records it in the trace,
// keeps the books, and passes it to the world last, since an exit may make
// the world idle.
func (e *engine) observe(ev reconcilers.Event) {
	te := Event{Kind: EventKind(ev.Kind.String()), Source: ev.Reconciler, Tick: ev.Tick}
	t := &e.tally
	t.mu.Lock()
	switch ev.Kind {
	case reconcilers.EventSpawned:
		n := ev.Count
		te.Count = &n
		t.spawned += n
	case reconcilers.EventTickStarted:
		if t.shutdownReturned {
			t.violate("%s tick %d started after Shutdown returned", ev.Reconciler, ev.Tick)
		}
	case reconcilers.EventTickFinished:
		tt := t.ticks[ev.Reconciler]
		if tt == nil {
			tt = &tickTally{}
			t.ticks[ev.Reconciler] = tt
		}
		tt.count++
		if ev.Err != nil {
			te.Err = ev.Err.Error()
		} else {
			rep := ev.Report
			te.Report = &rep
			tt.processed += rep.Processed
			tt.errors += rep.Errors
		}
	case reconcilers.EventShutdownReturned:
		n := ev.Count
		te.Count = &n
		t.shutdownReturned = true
		if n > t.spawned {
			t.violate("Shutdown reported %d timed-out tasks but only %d were spawned", n, t.spawned)
		}
	}
	t.mu.Unlock()
	e.rec.add(te)
	e.w.observe(ev)
}
