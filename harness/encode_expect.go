package harness

import (
	"strconv"

	"github.com/ffsim/ffsim/scenario"
)

// alternatives writes one alternative as itself, several as {any_of: [...]}.
func (e *encoder) alternatives(alts []*node) *node {
	if len(alts) == 1 {
		return alts[0]
	}
	return mapping(false).add("any_of", list(false, alts...))
}

func (e *encoder) expect(x *scenario.Expect) *node {
	if len(x.AnyOf) == 0 {
		e.fail("an expect with no alternatives cannot be written")
	}
	alts := make([]*node, len(x.AnyOf))
	for i := range x.AnyOf {
		alts[i] = e.outcome(&x.AnyOf[i])
	}
	return e.alternatives(alts)
}

// outcome writes an alternative: its result alone as a scalar, else a
// mapping in the reference's key order.
func (e *encoder) outcome(o *scenario.Outcome) *node {
	if o.Result != "" && *o == (scenario.Outcome{Result: o.Result}) {
		return e.str(o.Result)
	}
	m := mapping(false)
	if o.Result != "" {
		m.add("result", e.str(o.Result))
	}
	breach := func(b *scenario.Breach) *node {
		bm := mapping(false)
		if b.Dimension != nil {
			bm.add("dimension", e.str(*b.Dimension))
		}
		if b.CurrentUsage != nil {
			bm.add("current_usage", num(*b.CurrentUsage))
		}
		if b.Limit != nil {
			bm.add("limit", num(*b.Limit))
		}
		return bm
	}
	if o.HardBreach != nil {
		m.add("hard_breach", breach(o.HardBreach))
	}
	if o.SoftBreach != nil {
		m.add("soft_breach", breach(o.SoftBreach))
	}
	if o.Refreshed != nil {
		rm := mapping(false)
		if o.Refreshed.NextExpiry != nil {
			rm.add("next_expiry", e.offset(*o.Refreshed.NextExpiry))
		}
		m.add("refreshed", rm)
	}
	if o.Installed != nil {
		m.add("installed", scalar(strconv.FormatBool(*o.Installed)))
	}
	if o.TimedOut != nil {
		m.add("timed_out", num(*o.TimedOut))
	}
	if o.NextResetAt != nil {
		m.add("next_reset_at", e.offset(*o.NextResetAt))
	}
	if o.Processed != nil {
		m.add("processed", num(*o.Processed))
	}
	if o.Errors != nil {
		m.add("errors", num(*o.Errors))
	}
	if o.Error != "" {
		m.add("error", e.str(o.Error))
	}
	if o.ReturnedAt != nil {
		m.add("returned_at", e.offset(*o.ReturnedAt))
	}
	return m
}

func (e *encoder) budgetExpects(bes []scenario.BudgetExpect) *node {
	m := mapping(false)
	for _, be := range bes {
		if len(be.AnyOf) == 0 {
			e.fail("expect_budget %q has no alternatives", be.Budget)
		}
		alts := make([]*node, len(be.AnyOf))
		for i := range be.AnyOf {
			alts[i] = e.budgetState(&be.AnyOf[i])
		}
		e.str(be.Budget)
		m.addName(be.Budget, e.alternatives(alts))
	}
	return m
}

func (e *encoder) budgetState(st *scenario.BudgetState) *node {
	if st.NotFound {
		return scalar("not_found")
	}
	m := mapping(false)
	if st.Usage != nil {
		m.add("usage", e.counts(st.Usage))
	}
	if st.NextResetAt != nil {
		m.add("next_reset_at", e.offset(*st.NextResetAt))
	}
	if st.BreachCount != nil {
		m.add("breach_count", num(*st.BreachCount))
	}
	if st.SoftBreachCount != nil {
		m.add("soft_breach_count", num(*st.SoftBreachCount))
	}
	if st.LastBreachDim != nil {
		if st.LastBreachDim.Null {
			m.add("last_breach_dim", scalar("null"))
		} else {
			m.add("last_breach_dim", e.str(st.LastBreachDim.Value))
		}
	}
	if st.LastBreachAt != nil {
		m.add("last_breach_at", e.offset(*st.LastBreachAt))
	}
	if st.HardLimits != nil {
		m.add("hard_limits", e.counts(st.HardLimits))
	}
	if st.SoftLimits != nil {
		m.add("soft_limits", e.counts(st.SoftLimits))
	}
	if st.Scope != nil {
		m.add("scope", mapping(false).add("type", e.str(st.Scope.Type)).add("id", e.str(st.Scope.ID)))
	}
	for _, f := range []struct {
		k string
		v *string
	}{{"enforcement_mode", st.EnforcementMode}, {"on_hard_limit", st.OnHardLimit}, {"on_soft_limit", st.OnSoftLimit}} {
		if f.v != nil {
			m.add(f.k, e.str(*f.v))
		}
	}
	if st.ResetInterval != nil {
		m.add("reset_interval", e.dur(*st.ResetInterval))
	}
	if st.CreatedAt != nil {
		m.add("created_at", e.offset(*st.CreatedAt))
	}
	return m
}

// workersExpect writes {INSTANCE: ...}, or {namespace: NS, workers: {...}}
// for another namespace (or when an instance is named like one of those
// two keys, which the short form could not say).
func (e *encoder) workersExpect(we *scenario.WorkersExpect) *node {
	ws := mapping(false)
	long := we.Namespace != ""
	for _, w := range we.Workers {
		long = long || w.Instance == "workers" || w.Instance == "namespace"
		e.str(w.Instance)
		ws.addName(w.Instance, e.workerExpect(&w))
	}
	if !long {
		return ws
	}
	m := mapping(false)
	if we.Namespace != "" {
		m.add("namespace", e.str(we.Namespace))
	}
	return m.add("workers", ws)
}

func (e *encoder) workerExpect(w *scenario.WorkerExpect) *node {
	if w.Absent {
		return scalar("absent")
	}
	m := mapping(false)
	if w.WorkerID != nil {
		m.add("worker_id", e.str(*w.WorkerID))
	}
	if w.LastHeartbeat != nil {
		m.add("last_heartbeat", e.offset(*w.LastHeartbeat))
	}
	if w.TTL != nil {
		m.add("ttl", e.dur(*w.TTL))
	}
	if w.RegisteredAt != nil {
		m.add("registered_at", e.offset(*w.RegisteredAt))
	}
	if w.Lanes != nil {
		m.add("lanes", e.names(w.Lanes))
	}
	if w.Capabilities != nil {
		m.add("capabilities", e.names(w.Capabilities))
	}
	return m
}
