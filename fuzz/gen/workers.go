package gen

import (
	"fmt"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// instances are the worker instance ids the generator draws from: few, so
// that operations meet the same rows.
var instances = []string{"i1", "i2", "i3"}

// namespaceOf draws a namespace: the default most of the time.
func (g *generator) namespaceOf() string {
	if g.r.pct(12) {
		return "eu"
	}
	return scenario.DefaultNamespace
}

// knownWorker draws an instance registered before, or nil.
func (g *generator) knownWorker() *workerInfo {
	if len(g.s.workers) == 0 || g.r.pct(10) {
		return nil
	}
	return pick(g.r, g.s.workers...)
}

// registerWorker is register_worker: a new instance, a refresh of a known
// one, or (now and then) a known instance under another worker id, which
// is refused (W1).
func (g *generator) registerWorker(stepCtx) (scenario.Step, bool) {
	r := g.r
	s := &g.s
	w := g.knownWorker()
	if w == nil {
		nsName := g.namespaceOf()
		inst := pick(r, instances...)
		if w = s.worker(nsName, inst); w == nil {
			w = &workerInfo{ns: nsName, inst: inst, wid: fmt.Sprintf("w%d", len(s.workers)+1)}
			s.workers = append(s.workers, w)
		}
	}
	wid := w.wid
	if r.pct(15) {
		wid = "w9" // reassigned: invalid, nothing written
	}
	ttl := pick(r, 0, time.Second, 2*time.Second, 3*time.Second, 5*time.Second, 10*time.Second, 30*time.Second)
	if p := s.sup.periods[1]; p > 0 && r.pct(40) {
		// The sweep's ticks then land on the expiry.
		ttl = time.Duration(r.between(1, 3)) * p
	}
	step := &scenario.RegisterWorkerStep{Namespace: ns(w.ns), Instance: w.inst, WorkerID: wid, TTL: ttl}
	if r.pct(25) {
		step.Lanes = []string{pick(r, "b", "a"), pick(r, "a", "c")}
	}
	if r.pct(15) {
		step.Capabilities = []string{"gpu"}
	}
	if wid == w.wid {
		w.ttl, w.hb, w.live = ttl, s.lo, true
	}
	return scenario.Step{RegisterWorker: step}, true
}

// heartbeatWorker is heartbeat_worker on a known instance (now and then an
// unknown one).
func (g *generator) heartbeatWorker(stepCtx) (scenario.Step, bool) {
	s := &g.s
	w := g.knownWorker()
	if w == nil {
		return scenario.Step{HeartbeatWorker: &scenario.WorkerRef{Namespace: ns(g.namespaceOf()), Instance: pick(g.r, instances...)}}, true
	}
	if w.live && w.hb+w.ttl > s.lo {
		w.hb = s.lo
	}
	return scenario.Step{HeartbeatWorker: &scenario.WorkerRef{Namespace: ns(w.ns), Instance: w.inst}}, true
}

// markWorkerDead is mark_worker_dead, with reasons at W3's limits: 256
// bytes (accepted), 257 (refused), a control character (refused), and
// multi-byte text.
func (g *generator) markWorkerDead(stepCtx) (scenario.Step, bool) {
	r := g.r
	reason := "drained"
	switch x := r.intn(100); {
	case x < 10:
		reason = longReason(256)
	case x < 20:
		reason = longReason(257)
	case x < 28:
		reason = "bad\tline"
	case x < 34:
		reason = "done ✓"
	}
	w := g.knownWorker()
	step := &scenario.MarkWorkerDeadStep{Reason: reason}
	if w == nil {
		step.Namespace, step.Instance = ns(g.namespaceOf()), pick(r, instances...)
	} else {
		step.Namespace, step.Instance = ns(w.ns), w.inst
		if reason == "drained" || reason == "done ✓" || len(reason) == 256 {
			w.live = false
		}
	}
	return scenario.Step{MarkWorkerDead: step}, true
}

// sweepTick is a direct TTL sweep tick.
func (g *generator) sweepTick(stepCtx) (scenario.Step, bool) {
	return scenario.Step{SweepTick: &scenario.Empty{}}, true
}
