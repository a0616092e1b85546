package model

import (
	"slices"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// store is the database: budgets (R5), the dedup table and the worker
// registry (W1–W5). Only committed state lives here: a transaction that
// takes simulated time (slow_tick inside_tx) applies its changes when it
// commits, which is what every other connection sees.
type store struct {
	budgets map[string]*budget
	dedup   map[string]stored
	workers map[wkey]worker
}

// policy is a budget's ff_budget_policy row, minus its mutable columns. It
// never changes once created, so worlds share it.
type policy struct {
	scope      scenario.Scope
	mode       string
	onHard     string
	onSoft     string
	intervalMS int64
	hard, soft map[string]int64 // non-zero limits only: 0 means none
	dims       []string         // the declared dimensions, sorted
	createdAt  int64
}

// budget is one budget id: its policy row (nil: none, status says not
// found) and its usage rows, which exist without a policy when usage was
// reported against an id that has none (R5: no limits, increments apply).
type budget struct {
	pol        *policy
	usage      map[string]int64
	breach     int64
	softBreach int64
	lastDim    string
	// lastAt holds the possible times of the last hard breach; nil when
	// there is none (null). It has two values when the report's clock
	// reading is not fixed by SPEC (see report).
	lastAt  []int64
	next    int64
	hasNext bool
}

// stored is a dedup row's outcome_json (R5): kind Ok, SoftBreach or
// HardBreach with its details.
type stored struct {
	kind       string // "ok", "soft_breach", "hard_breach"
	dim        string
	cur, limit int64
}

func (s store) clone() store {
	c := store{
		budgets: make(map[string]*budget, len(s.budgets)),
		dedup:   make(map[string]stored, len(s.dedup)),
		workers: make(map[wkey]worker, len(s.workers)),
	}
	for id, b := range s.budgets {
		nb := *b
		nb.usage = make(map[string]int64, len(b.usage))
		for d, v := range b.usage {
			nb.usage[d] = v
		}
		c.budgets[id] = &nb
	}
	for k, v := range s.dedup {
		c.dedup[k] = v
	}
	for k, v := range s.workers {
		c.workers[k] = v
	}
	return c
}

func (s *store) budget(id string) *budget {
	b := s.budgets[id]
	if b == nil {
		b = &budget{usage: map[string]int64{}}
		s.budgets[id] = b
	}
	return b
}

// create is create_budget (R5): a new policy row with next_reset_at = now
// + interval (null for 0), or "already satisfied" when the id has one
// (nothing changes, even if the spec differs). Usage rows are left as
// they are.
func (s *store) create(spec scenario.Budget, now int64) string {
	b := s.budget(spec.ID)
	if b.pol != nil {
		return "already_satisfied"
	}
	spec = spec.WithDefaults()
	p := &policy{scope: spec.Scope, mode: spec.EnforcementMode, onHard: spec.OnHardLimit, onSoft: spec.OnSoftLimit,
		intervalMS: spec.ResetInterval.Milliseconds(), createdAt: now,
		hard: map[string]int64{}, soft: map[string]int64{}}
	for d, l := range spec.Dimensions {
		p.dims = append(p.dims, d)
		if l.Hard != 0 {
			p.hard[d] = l.Hard
		}
		if l.Soft != 0 {
			p.soft[d] = l.Soft
		}
	}
	slices.Sort(p.dims)
	b.pol = p
	b.breach, b.softBreach, b.lastDim, b.lastAt = 0, 0, "", nil
	b.next, b.hasNext = now+p.intervalMS, p.intervalMS > 0
	return "created"
}

// reset is R2's transition, shared by the reconciler's apply and the admin
// reset_budget (R5): zero every usage row, clear the last breach, schedule
// the next reset from now (null for a zero interval). Breach counters are
// lifetime totals and stay.
func (b *budget) reset(now int64) {
	for d := range b.usage {
		b.usage[d] = 0
	}
	b.lastDim, b.lastAt = "", nil
	b.next, b.hasNext = now+b.pol.intervalMS, b.pol.intervalMS > 0
}

// report is report_usage (R5) once it holds the write lock. nows are the
// clock readings SPEC allows for this attempt (it reads the clock "at each
// attempt": before or after waiting for the lock); they only show in
// last_breach_at.
func (s *store) report(r *scenario.ReportUsageStep, nows []int64) stored {
	if r.DedupKey != "" {
		if out, ok := s.dedup[r.DedupKey]; ok {
			// A key seen before replays its outcome exactly, whatever
			// budget it was reported against and however old it is.
			return out
		}
	}
	b := s.budget(r.Budget)
	dims := make([]string, 0, len(r.Usage))
	for d := range r.Usage {
		dims = append(dims, d)
	}
	slices.Sort(dims)
	out := stored{kind: "ok"}
	hard := func(d string) int64 {
		if b.pol == nil {
			return 0 // no policy: no limits
		}
		return b.pol.hard[d]
	}
	soft := func(d string) int64 {
		if b.pol == nil {
			return 0
		}
		return b.pol.soft[d]
	}
	breached := false
	for _, d := range dims {
		if h := hard(d); h > 0 && b.usage[d]+r.Usage[d] > h {
			// Nothing is applied; current_usage is the usage before.
			out = stored{kind: "hard_breach", dim: d, cur: b.usage[d], limit: h}
			b.breach++
			b.lastDim, b.lastAt = d, slices.Compact(slices.Sorted(slices.Values(nows)))
			breached = true
			break
		}
	}
	if !breached {
		for _, d := range dims {
			b.usage[d] += r.Usage[d]
		}
		for _, d := range dims {
			if sl := soft(d); sl > 0 && b.usage[d] > sl {
				out = stored{kind: "soft_breach", dim: d, cur: b.usage[d], limit: sl}
				b.softBreach++
				break
			}
		}
	}
	if r.DedupKey != "" {
		s.dedup[r.DedupKey] = out
	}
	return out
}

// due is R1's scan: budgets with a policy whose next_reset_at is set and
// not after now, earliest first (ties by id), at most batch.
func (s *store) due(now int64, batch int) []string {
	var ids []string
	for id, b := range s.budgets {
		if b.pol != nil && b.hasNext && b.next <= now {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.SortFunc(ids, func(a, c string) int {
		na, nc := s.budgets[a].next, s.budgets[c].next
		switch {
		case na < nc:
			return -1
		case na > nc:
			return 1
		case a < c:
			return -1
		case a > c:
			return 1
		}
		return 0
	})
	if len(ids) > batch {
		ids = ids[:batch]
	}
	return ids
}

// stillDue is R2's re-check inside the reset transaction: the policy is
// there and its schedule has not moved past now (a concurrent admin reset
// may have got there first).
func (s *store) stillDue(id string, now int64) bool {
	b := s.budgets[id]
	return b != nil && b.pol != nil && b.hasNext && b.next <= now
}

// setNextReset is set_next_reset: a direct UPDATE of next_reset_at (a
// budget without a policy row has nothing to update).
func (s *store) setNextReset(id string, at *scenario.Offset, cfg *config) {
	b := s.budgets[id]
	if b == nil || b.pol == nil {
		return
	}
	if at.Null {
		b.hasNext = false
		return
	}
	b.next, b.hasNext = cfg.ms(at.At), true
}

// outcome renders a report's stored outcome as a step outcome.
func (o stored) outcome() scenario.Outcome {
	switch o.kind {
	case "hard_breach":
		return scenario.Outcome{HardBreach: &scenario.Breach{Dimension: ptr(o.dim), CurrentUsage: ptr(o.cur), Limit: ptr(o.limit)}}
	case "soft_breach":
		return scenario.Outcome{SoftBreach: &scenario.Breach{Dimension: ptr(o.dim), CurrentUsage: ptr(o.cur), Limit: ptr(o.limit)}}
	}
	return scenario.Outcome{Result: "ok"}
}

func ptr[T any](v T) *T { return &v }

// status is budget_status as expect_budget sees it: one state per value
// the model allows (several only for last_breach_at), or not found.
func (s *store) status(id string, cfg *config) []scenario.BudgetState {
	b := s.budgets[id]
	if b == nil || b.pol == nil {
		return []scenario.BudgetState{{NotFound: true}}
	}
	p := b.pol
	st := scenario.BudgetState{
		Usage:           map[string]int64{},
		BreachCount:     ptr(b.breach),
		SoftBreachCount: ptr(b.softBreach),
		EnforcementMode: ptr(p.mode),
		OnHardLimit:     ptr(p.onHard),
		OnSoftLimit:     ptr(p.onSoft),
		ResetInterval:   ptr(time.Duration(p.intervalMS) * time.Millisecond),
		CreatedAt:       scenario.At(cfg.offset(p.createdAt)),
	}
	// Every declared dimension (no row reads as 0) and every row but the
	// hidden _init ones.
	for _, d := range p.dims {
		st.Usage[d] = 0
	}
	for d, v := range b.usage {
		st.Usage[d] = v
	}
	delete(st.Usage, "_init")
	if len(p.hard) > 0 {
		st.HardLimits = p.hard
	}
	if len(p.soft) > 0 {
		st.SoftLimits = p.soft
	}
	if p.scope.Type != "" && p.scope.ID != "" {
		st.Scope = ptr(p.scope)
	}
	if b.hasNext {
		st.NextResetAt = scenario.At(cfg.offset(b.next))
	} else {
		st.NextResetAt = scenario.Null()
	}
	if b.lastAt == nil {
		st.LastBreachDim = &scenario.NullString{Null: true}
		st.LastBreachAt = scenario.Null()
		return []scenario.BudgetState{st}
	}
	st.LastBreachDim = &scenario.NullString{Value: b.lastDim}
	out := make([]scenario.BudgetState, len(b.lastAt))
	for i, at := range b.lastAt {
		out[i] = st
		out[i].LastBreachAt = scenario.At(cfg.offset(at))
	}
	return out
}
