package gen

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// dimNames are the dimensions budgets and reports draw from; "extra" is
// never declared (a report may still charge it: no limits).
var dimNames = []string{"calls", "tokens", "bytes"}

// declareBudgets draws the budgets created at t=0: usually one to three,
// now and then more than R1's batch of 20, all due at the same instant.
func (g *generator) declareBudgets() {
	r := g.r
	n := r.weighted([]int{10, 40, 35, 15})
	many := r.pct(3)
	if many {
		n = r.between(19, 23)
	}
	var interval time.Duration
	for i := range n {
		b := g.budgetSpec(fmt.Sprintf("b%d", i+1))
		if many {
			// R1's batch: every one due at the same instant.
			if i == 0 {
				interval = b.ResetInterval
				if interval == 0 {
					interval = 2 * time.Second
				}
			}
			b.ResetInterval = interval
		}
		if !many && r.pct(10) {
			b = scenario.Budget{ID: b.ID, Policy: scenario.PolicyNone}
		}
		g.sc.Budgets = append(g.sc.Budgets, b)
		info := g.track(b, -1, 0)
		info.fixed = b.Policy == ""
	}
}

// budgetSpec draws a budget: its interval often a multiple of the reset
// reconciler's period (its resets then fall on ticks), its limits small
// enough that reports breach them.
func (g *generator) budgetSpec(id string) scenario.Budget {
	r := g.r
	b := scenario.Budget{ID: id}
	if r.pct(30) {
		b.Scope = scenario.Scope{Type: pick(r, "flow", "tenant"), ID: pick(r, "f1", "t1")}
	}
	if r.pct(10) {
		b.EnforcementMode = pick(r, "strict", "advisory")
		b.OnHardLimit = "fail"
		b.OnSoftLimit = "warn"
	}
	p := g.s.sup.periods[0]
	switch {
	case r.pct(20):
	case p > 0 && r.pct(50):
		b.ResetInterval = time.Duration(r.between(1, 3)) * p
	default:
		b.ResetInterval = pick(r, time.Second, 2*time.Second, 3*time.Second, 5*time.Second, 7*time.Second, 10*time.Second, 1500*time.Millisecond)
	}
	if r.pct(8) {
		return b // no dimensions: no limits
	}
	b.Dimensions = map[string]scenario.Limits{}
	for _, d := range dimNames[:r.between(1, 3)] {
		var l scenario.Limits
		if r.pct(70) {
			l.Hard = int64(pick(r, 10, 50, 100, 100, 200))
		}
		if r.pct(60) {
			l.Soft = int64(pick(r, 5, 40, 80, 80, 150))
		}
		b.Dimensions[d] = l
	}
	return b
}

// track records a budget created at top-level step idx (-1: declared) at
// time at.
func (g *generator) track(b scenario.Budget, idx int, at time.Duration) *budgetInfo {
	if old := g.s.budget(b.ID); old != nil {
		return old
	}
	info := &budgetInfo{id: b.ID, interval: b.ResetInterval, step: idx, dims: sortedDims(b.Dimensions),
		hard: map[string]int64{}, soft: map[string]int64{}, usage: map[string]int64{}}
	for d, l := range b.Dimensions {
		info.hard[d], info.soft[d] = l.Hard, l.Soft
	}
	if b.Policy == "" && b.ResetInterval > 0 {
		info.next, info.hasNext = at+b.ResetInterval, true
	}
	g.s.budgets = append(g.s.budgets, info)
	return info
}

// createBudget is create_budget: a new id most of the time, else an
// existing one (already satisfied, even with another spec).
func (g *generator) createBudget(c stepCtx) (scenario.Step, bool) {
	var b scenario.Budget
	if len(g.s.budgets) > 0 && g.r.pct(30) {
		b = g.budgetSpec(pick(g.r, g.s.budgets...).id)
	} else {
		b = g.budgetSpec(fmt.Sprintf("b%d", len(g.s.budgets)+1))
		g.track(b, c.idx, g.s.lo)
	}
	return scenario.Step{CreateBudget: &b}, true
}

// reportUsage is report_usage: deltas aimed at the limits (just under,
// exactly at, just over), with a dedup key half of the time, a replay of
// an earlier key (even against another budget) now and then.
func (g *generator) reportUsage(c stepCtx) (scenario.Step, bool) {
	r := g.r
	bs := g.s.usable(c.idx)
	if len(bs) == 0 {
		return scenario.Step{}, false
	}
	b := pick(r, bs...)
	step := &scenario.ReportUsageStep{Budget: b.id, Usage: map[string]int64{}}
	dims := b.dims
	if len(dims) == 0 || r.pct(8) {
		dims = append(slices.Clone(dims), "extra")
	}
	for _, d := range dims {
		if len(step.Usage) > 0 && r.pct(40) {
			continue
		}
		step.Usage[d] = g.delta(b, d)
	}
	replay := false
	switch x := r.intn(100); {
	case x < 22 && len(g.s.keys) > 0:
		step.DedupKey, replay = pick(r, g.s.keys...), true
	case x < 55:
		step.DedupKey = fmt.Sprintf("k%d", len(g.s.keys)+1)
		g.s.keys = append(g.s.keys, step.DedupKey)
	}
	if !replay {
		for d, v := range step.Usage {
			b.usage[d] += v
		}
	}
	return scenario.Step{ReportUsage: step}, true
}

// delta draws a usage delta for dimension d of b, aimed at its limits.
func (g *generator) delta(b *budgetInfo, d string) int64 {
	r := g.r
	cur := b.usage[d]
	var aims []int64
	for _, l := range []int64{b.soft[d], b.hard[d]} {
		if l > 0 {
			aims = append(aims, l-cur, l-cur+1, l-cur-1)
		}
	}
	if len(aims) > 0 && r.pct(60) {
		if v := pick(r, aims...); v >= 0 {
			return v
		}
	}
	return int64(pick(r, 0, 1, 5, 10, 30, 60))
}

// resetBudget is reset_budget on a budget that exists or was named.
func (g *generator) resetBudget(c stepCtx) (scenario.Step, bool) {
	bs := g.s.usable(c.idx)
	if len(bs) == 0 {
		return scenario.Step{}, false
	}
	b := pick(g.r, bs...)
	for d := range b.usage {
		b.usage[d] = 0
	}
	if b.interval > 0 {
		b.next, b.hasNext = g.s.lo+b.interval, true
	}
	return scenario.Step{ResetBudget: &scenario.BudgetRef{Budget: b.id}}, true
}

// setNextReset forces a schedule, often onto a tick instant. Only budgets
// with a policy row from t=0, and only when the write lock cannot outlast
// the busy timeout: the step takes no expect, so it must not fail.
func (g *generator) setNextReset(c stepCtx) (scenario.Step, bool) {
	r := g.r
	bs := g.s.fixedBudgets()
	if len(bs) == 0 || !g.s.lockSafe() {
		return scenario.Step{}, false
	}
	b := pick(r, bs...)
	at := scenario.Offset{}
	ticks := g.s.tickInstants(0, 3)
	switch x := r.intn(100); {
	case x < 15:
		at.Null = true
	case x < 50 && len(ticks) > 0:
		at.At = pick(r, ticks...) + pick(r, 0, 0, 0, -time.Millisecond, time.Millisecond)
	case x < 62:
		at.At = g.s.lo
	case x < 75:
		at.At = max(0, g.s.lo-g.r.ms(1, 3000))
	default:
		at.At = g.s.lo + pick(r, time.Millisecond, 100*time.Millisecond, time.Second, 3*time.Second)
	}
	if at.Null {
		b.hasNext = false
	} else {
		b.next, b.hasNext = at.At, true
	}
	return scenario.Step{SetNextReset: &scenario.SetNextResetStep{Budget: b.id, At: at}}, true
}

// scanTick is a direct budget_reset tick.
func (g *generator) scanTick(stepCtx) (scenario.Step, bool) {
	return scenario.Step{ScanTick: &scenario.Empty{}}, true
}

// longReason is a mark_worker_dead reason of n bytes.
func longReason(n int) string { return strings.Repeat("x", n) }
