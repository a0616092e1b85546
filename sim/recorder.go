package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// recorder is a run's trace. Each event is hashed into the digest as it is
// flushed, so the digest covers the whole run while memory holds only the
// last tail events (every event when tail < 0): a 24-hour soak records
// hundreds of thousands of events, and keeping them all was most of the
// native host's allocation and GC work.
//
// On the native host, events that happen at one idle-to-idle instant may
// come from goroutines that run at the same time (an aborted task finishing
// while Shutdown returns); flush orders each such burst by source, keeping
// each source's own order, so the trace does not depend on the Go
// scheduler. Unsorted (the wasm guest, whose scheduling the seed fixes),
// each event is kept as it is added: nothing waits in pending, so a long
// advance does not grow memory between flushes.
//
// The trace is bounded by max events (the event budget): the first event
// past it is dropped, with every later one, over is set and onOver is
// called (once, with mu held: it must not block), and the run is failed
// at the next point the world checks (budgetError).
type recorder struct {
	mu      sync.Mutex
	start   time.Time
	now     func() time.Time
	sorted  bool
	pending []Event
	hash    hash.Hash
	buf     []byte // encoding scratch
	// kept is a ring of the last tail events (or, with tail < 0, every
	// event in order); first is the index of the oldest.
	kept  []Event
	first int
	tail  int
	n     int
	off   bool

	max    int
	over   atomic.Bool
	onOver func()
}

func newRecorder(start time.Time, now func() time.Time, sorted bool, tail, max int) *recorder {
	return &recorder{start: start, now: now, sorted: sorted, tail: tail, max: max, hash: sha256.New()}
}

func (r *recorder) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.off {
		return
	}
	e.T = r.now().Sub(r.start)
	if !r.sorted {
		r.keep(&e)
		return
	}
	r.pending = append(r.pending, e)
}

// budgetError is the error of a run that reached its event budget, or nil.
func (r *recorder) budgetError() error {
	if !r.over.Load() {
		return nil
	}
	return fmt.Errorf("event budget exhausted: the run reached the limit of %d trace events (raise it with --max-events, or sim.Options.MaxEvents); a reconciler ticking often over a long advance records an event or more per tick", r.max)
}

func (r *recorder) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		return
	}
	if r.sorted {
		slices.SortStableFunc(r.pending, func(a, b Event) int {
			switch {
			case a.Source < b.Source:
				return -1
			case a.Source > b.Source:
				return 1
			}
			return 0
		})
	}
	for i := range r.pending {
		r.keep(&r.pending[i])
	}
	clear(r.pending) // drop the strings the backing array would keep alive
	r.pending = r.pending[:0]
}

// keep hashes e and stores it in the ring, or drops it past the event
// budget. Callers hold mu.
func (r *recorder) keep(e *Event) {
	if r.max > 0 && r.n >= r.max {
		if !r.over.Swap(true) && r.onOver != nil {
			r.onOver()
		}
		return
	}
	r.n++
	r.buf = e.appendJSON(r.buf[:0])
	r.hash.Write(r.buf)
	switch {
	case r.tail < 0 || len(r.kept) < r.tail:
		r.kept = append(r.kept, *e)
	case r.tail > 0:
		r.kept[r.first] = *e
		r.first = (r.first + 1) % r.tail
	}
}

// stop flushes and ignores everything after (teardown is not traced). It
// returns the kept events in order, the number of events recorded and the
// digest of all of them.
func (r *recorder) stop() (trace []Event, n int, digest string) {
	r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.off = true
	if len(r.kept) > 0 {
		trace = make([]Event, 0, len(r.kept))
		trace = append(trace, r.kept[r.first:]...)
		trace = append(trace, r.kept[:r.first]...)
	}
	r.kept = nil
	return trace, r.n, hex.EncodeToString(r.hash.Sum(nil))
}
