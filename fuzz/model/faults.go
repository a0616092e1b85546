package model

import (
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// faults are the armed faults. A fault arms when its step runs and applies
// from then on.
type faults struct {
	// write is one FIFO queue of injected errors for write attempts: busy
	// {attempts: N} is db_error {code: busy, attempts: N}. Every write
	// attempt (an R3 attempt, a registry operation, a sweep's transaction;
	// not set_next_reset, not hold_write_lock, not the scan) takes one from
	// the head and fails with it at once, before the lock and without a
	// busy wait.
	write []fault
	// scan is db_error {on: scan}: the next budget_reset scans (the ticks'
	// and scan_tick's) fail, failing their tick (R4).
	scan []fault
	// slow are slow_tick faults; several on one tick and place add up.
	slow []slowFault
	// tickErr are tick_error faults: that tick fails at once.
	tickErr []tickRef
}

type fault struct {
	code string
	n    int
}

type tickRef struct{ rec, n int }

type slowFault struct {
	tickRef
	inside bool
	d      time.Duration
}

func (f faults) clone() faults {
	return faults{
		write:   append([]fault(nil), f.write...),
		scan:    append([]fault(nil), f.scan...),
		slow:    append([]slowFault(nil), f.slow...),
		tickErr: append([]tickRef(nil), f.tickErr...),
	}
}

func pop(q *[]fault) (string, bool) {
	if len(*q) == 0 {
		return "", false
	}
	code := (*q)[0].code
	if (*q)[0].n--; (*q)[0].n == 0 {
		*q = (*q)[1:]
	}
	return code, true
}

// attempts counts the queued write attempts that will fail.
func (f *faults) attempts() int {
	n := 0
	for _, x := range f.write {
		n += x.n
	}
	return n
}

// popWrite takes the head of the write queue.
func (f *faults) popWrite() (string, bool) { return pop(&f.write) }

// popScan takes the head of the scan queue.
func (f *faults) popScan() (string, bool) { return pop(&f.scan) }

// slowFor sums the slow_tick faults armed for tick n of rec at a place;
// ok is false when none is armed.
func (f *faults) slowFor(rec, n int, inside bool) (d time.Duration, ok bool) {
	for _, s := range f.slow {
		if s.rec == rec && s.n == n && s.inside == inside {
			d += s.d
			ok = true
		}
	}
	return d, ok
}

func (f *faults) tickError(rec, n int) bool {
	for _, t := range f.tickErr {
		if t.rec == rec && t.n == n {
			return true
		}
	}
	return false
}

// recIndex maps a reconciler name to its registration index (S1).
func recIndex(name string) int {
	if name == scenario.WorkerRegistryTTLSweep {
		return recSweep
	}
	return recReset
}

const (
	recReset = 0 // budget_reset
	recSweep = 1 // worker_registry_ttl_sweep
)

// arm arms a fault step's fault.
func (w *world) arm(s *scenario.Step) {
	switch {
	case s.Busy != nil:
		w.faults.write = append(w.faults.write, fault{"busy", s.Busy.Attempts})
	case s.DBError != nil:
		f := fault{s.DBError.Code, s.DBError.Attempts}
		if s.DBError.Target() == scenario.OnScan {
			w.faults.scan = append(w.faults.scan, f)
		} else {
			w.faults.write = append(w.faults.write, f)
		}
	case s.SlowTick != nil:
		st := s.SlowTick
		w.faults.slow = append(w.faults.slow, slowFault{tickRef{recIndex(st.Target()), st.Tick}, st.Place() == scenario.InsideTx, st.Duration})
	case s.TickError != nil:
		w.faults.tickErr = append(w.faults.tickErr, tickRef{recIndex(s.TickError.Target()), s.TickError.Tick})
	}
}

// retryable is R3's rule: BUSY and LOCKED, in any extended code, are
// retried; nothing else is.
func retryable(code string) bool {
	return code == "busy" || code == "busy_snapshot" || code == "locked"
}

// errorKind names a SQLite error as an outcome's error (BUSY_SNAPSHOT is a
// BUSY).
func errorKind(code string) string {
	if code == "busy_snapshot" {
		return "busy"
	}
	return code
}
