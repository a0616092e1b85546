package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"slices"
	"sync"
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
// scheduler.
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
}

func newRecorder(start time.Time, now func() time.Time, sorted bool, tail int) *recorder {
	return &recorder{start: start, now: now, sorted: sorted, tail: tail, hash: sha256.New()}
}

func (r *recorder) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.off {
		return
	}
	e.T = r.now().Sub(r.start)
	r.pending = append(r.pending, e)
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
	r.n += len(r.pending)
	clear(r.pending) // drop the strings the backing array would keep alive
	r.pending = r.pending[:0]
}

// keep hashes e and stores it in the ring. Callers hold mu.
func (r *recorder) keep(e *Event) {
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
