package model

import (
	"slices"
	"time"
	"unicode"

	"github.com/ffsim/ffsim/scenario"
)

// wkey is the registry's key: namespace and instance.
type wkey struct{ ns, inst string }

// worker is one live row of ff_worker_registry. Its slices are never
// changed in place, so worlds share them.
type worker struct {
	workerID    string
	lanes, caps []string // sorted, deduplicated
	hb, ttl     int64    // last heartbeat and liveness TTL, ms
	regAt       int64    // first registration of this row, ms
}

func sortedSet(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// W1 register_worker, once past its faults: an instance registered under
// another worker_id is refused (the preflight SELECT needs no write lock).
// Otherwise the upsert needs the write lock; the transaction began as a
// read, and SQLite does not wait when a reader must upgrade: a held lock
// fails it at once with BUSY.
func (w *world) register(p *proc, r *scenario.RegisterWorkerStep, now int64) scenario.Outcome {
	k := wkey{r.NS(), r.Instance}
	row, exists := w.store.workers[k]
	if exists && row.workerID != r.WorkerID {
		return scenario.Outcome{Result: "invalid"}
	}
	if w.lock != 0 || w.collides(p) {
		return scenario.Outcome{Error: "busy"}
	}
	w.noteWrite(p)
	nw := worker{workerID: r.WorkerID, lanes: sortedSet(r.Lanes), caps: sortedSet(r.Capabilities),
		hb: now, ttl: r.TTL.Milliseconds(), regAt: now}
	if exists {
		nw.regAt = row.regAt
		w.store.workers[k] = nw
		return scenario.Outcome{Result: "refreshed"}
	}
	w.store.workers[k] = nw
	return scenario.Outcome{Result: "registered"}
}

// W2 heartbeat_worker: refreshed strictly before expiry (last_heartbeat +
// ttl > now); at or after it, not registered and nothing changes (the row
// is left for the sweep).
func (w *world) heartbeat(r *scenario.WorkerRef, now int64) scenario.Outcome {
	k := wkey{r.NS(), r.Instance}
	row, ok := w.store.workers[k]
	if !ok || row.hb+row.ttl <= now {
		return scenario.Outcome{Result: "not_registered"}
	}
	row.hb = now
	w.store.workers[k] = row
	return scenario.Outcome{Refreshed: &scenario.Refreshed{NextExpiry: scenario.At(w.cfg.offset(now + row.ttl))}}
}

// validReason is W3's input check: at most 256 bytes, no control
// characters.
func validReason(s string) bool {
	if len(s) > 256 {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// W3 mark_worker_dead, once its reason is valid: delete the row.
func (w *world) markDead(r *scenario.MarkWorkerDeadStep) scenario.Outcome {
	k := wkey{r.NS(), r.Instance}
	if _, ok := w.store.workers[k]; !ok {
		return scenario.Outcome{Result: "not_registered"}
	}
	delete(w.store.workers, k)
	return scenario.Outcome{Result: "marked"}
}

// W4's delete: every row with last_heartbeat + ttl < now (strictly: at
// equality a worker is neither refreshable nor swept). Returns the count.
func (s *store) sweep(now int64) int {
	n := 0
	for k, row := range s.workers {
		if row.hb+row.ttl < now {
			delete(s.workers, k)
			n++
		}
	}
	return n
}

// workerState is W5 as expect_workers sees one instance.
func (w *world) workerState(ns, inst string) (scenario.WorkerExpect, bool) {
	row, ok := w.store.workers[wkey{ns, inst}]
	if !ok {
		return scenario.WorkerExpect{Instance: inst, Absent: true}, false
	}
	return scenario.WorkerExpect{
		Instance:      inst,
		WorkerID:      ptr(row.workerID),
		LastHeartbeat: scenario.At(w.cfg.offset(row.hb)),
		TTL:           ptr(time.Duration(row.ttl) * time.Millisecond),
		RegisteredAt:  scenario.At(w.cfg.offset(row.regAt)),
		Lanes:         row.lanes,
		Capabilities:  row.caps,
	}, true
}
