package sim

import (
	"slices"
	"sync"
	"time"
)

// recorder collects the trace. On the native host, events that happen at
// one idle-to-idle instant may come from goroutines that run at the same
// time (an aborted task finishing while Shutdown returns); flush orders
// each such burst by source, keeping each source's own order, so the trace
// does not depend on the Go scheduler.
type recorder struct {
	mu      sync.Mutex
	start   time.Time
	now     func() time.Time
	sorted  bool
	pending []Event
	// events holds the flushed trace in fixed-size chunks rather than one
	// growing slice: a long soak records hundreds of thousands of events,
	// and regrowing (and copying, and keeping for the GC to scan) one huge
	// slice cost more than a quarter of the native host's allocations.
	events [][]Event
	n      int
	off    bool
}

// traceChunk is the number of events per chunk of recorder.events.
const traceChunk = 4096

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
	for _, e := range r.pending {
		if len(r.events) == 0 || len(r.events[len(r.events)-1]) == traceChunk {
			r.events = append(r.events, make([]Event, 0, traceChunk))
		}
		last := &r.events[len(r.events)-1]
		*last = append(*last, e)
	}
	r.n += len(r.pending)
	clear(r.pending) // drop the strings the backing array would keep alive
	r.pending = r.pending[:0]
}

// stop flushes and ignores everything after (teardown is not traced). It
// returns the whole trace in one slice.
func (r *recorder) stop() []Event {
	r.flush()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.off = true
	if r.n == 0 {
		return nil
	}
	out := make([]Event, 0, r.n)
	for _, c := range r.events {
		out = append(out, c...)
	}
	r.events = nil
	return out
}
