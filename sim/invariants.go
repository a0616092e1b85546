package sim

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// budgetBooks is what the invariants remember of a budget between steps.
type budgetBooks struct {
	breach, soft int64
	// resetAt is each usage row's last_reset_at_ms, by dimension.
	resetAt map[string]int64
}

func (e *engine) books() (map[string]budgetBooks, error) {
	ctx := context.Background()
	counts, err := e.store.AllBreachCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]budgetBooks, len(counts))
	for _, c := range counts {
		out[c.BudgetID] = budgetBooks{breach: c.Breaches, soft: c.SoftBreaches, resetAt: map[string]int64{}}
	}
	rows, err := e.store.UsageRows(ctx)
	if err != nil {
		return nil, err
	}
	var neg []string
	for _, r := range rows {
		if r.CurrentValue < 0 {
			neg = append(neg, fmt.Sprintf("%s/%s = %d", r.BudgetID, r.Dimension, r.CurrentValue))
		}
		if b, ok := out[r.BudgetID]; ok {
			b.resetAt[r.Dimension] = r.LastResetAtMs
		}
	}
	if len(neg) > 0 {
		return out, fmt.Errorf("usage is negative: %s", strings.Join(neg, ", "))
	}
	return out, nil
}

// checkInvariants runs after every step, whatever the scenario says (SPEC §4).
func (e *engine) checkInvariants(s *scenario.Step) error {
	if err := e.w.settle(); err != nil {
		return e.wrap(s, err)
	}
	problems := e.tally.takeViolations()

	cur, err := e.books()
	if err != nil {
		problems = append(problems, err.Error())
	}
	var ids []string
	for id := range cur {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		now, was := cur[id], e.prev[id]
		if now.breach < was.breach {
			problems = append(problems, fmt.Sprintf("%s: breach_count went from %d to %d", id, was.breach, now.breach))
		}
		if now.soft < was.soft {
			problems = append(problems, fmt.Sprintf("%s: soft_breach_count went from %d to %d", id, was.soft, now.soft))
		}
		problems = append(problems, resetProblems(id, was.resetAt, now.resetAt)...)
	}
	e.prev = cur
	ok := len(problems) == 0
	e.rec.add(Event{Kind: EvInvariant, Line: s.Pos.Line, OK: ptr(ok), Detail: strings.Join(problems, "; ")})
	e.rec.flush()
	if !ok {
		return e.fail(s.Pos, s.Kind().String(), "invariant violated after this step: "+strings.Join(problems, "; "), "", "")
	}
	return nil
}

// workerSnapshot is the worker registry's end state, for comparing hosts.
func (e *engine) workerSnapshot() ([]WorkerSnapshot, error) {
	ws, err := e.store.AllWorkers(context.Background())
	if err != nil {
		return nil, err
	}
	var out []WorkerSnapshot
	for _, w := range ws {
		out = append(out, WorkerSnapshot{
			Namespace: w.Namespace, Instance: w.Instance, WorkerID: w.WorkerID,
			Lanes: w.Lanes, Capabilities: w.Capabilities,
			LastHeartbeat: e.offset(w.LastHeartbeatMs), TTL: time.Duration(w.TTLMs) * time.Millisecond,
			RegisteredAt: e.offset(w.RegisteredAtMs),
		})
	}
	return out, nil
}

// snapshot is every budget's end state, for comparing hosts.
func (e *engine) snapshot() ([]BudgetSnapshot, error) {
	ctx := context.Background()
	ids, err := e.store.BudgetIDs(ctx)
	if err != nil {
		return nil, err
	}
	var out []BudgetSnapshot
	for _, id := range ids {
		st, err := e.store.BudgetStatus(ctx, id)
		if err != nil {
			return nil, err
		}
		b := BudgetSnapshot{Budget: id, Usage: st.Usage, BreachCount: st.BreachCount, SoftBreachCount: st.SoftBreachCount, LastBreachDim: st.LastBreachDim}
		if st.NextResetAtMs != nil {
			b.NextResetAt = ptr(e.offset(*st.NextResetAtMs))
		}
		if st.LastBreachAtMs != nil {
			b.LastBreachAt = ptr(e.offset(*st.LastBreachAtMs))
		}
		out = append(out, b)
	}
	return out, nil
}

// resetProblems checks one budget's usage rows between two steps: none
// disappeared, and the reset is all-or-nothing. If any row that existed
// before moved, every such row now shows one reset time V. A row that did
// not move must already have been at V: a second reset at the same
// millisecond moves only the rows created since the first one.
func resetProblems(id string, was, now map[string]int64) []string {
	var problems, moved, kept []string
	newAt := map[int64]bool{}
	var at int64
	for dim, before := range was {
		after, ok := now[dim]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: usage row %s disappeared", id, dim))
		case after != before:
			moved = append(moved, dim)
			newAt[after] = true
			at = after
		default:
			kept = append(kept, dim)
		}
	}
	sort.Strings(problems)
	stale := slices.ContainsFunc(kept, func(dim string) bool { return now[dim] != at })
	if len(moved) > 0 && (len(newAt) > 1 || stale) {
		sort.Strings(moved)
		sort.Strings(kept)
		problems = append(problems, fmt.Sprintf("%s: partial reset: rows %v were reset, rows %v were not", id, moved, kept))
	}
	return problems
}
