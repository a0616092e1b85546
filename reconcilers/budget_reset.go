package reconcilers

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// resetBatchSize is R1's batch: at most this many budgets reset per tick.
const resetBatchSize = 20

// dueBudgetsSQL is R1's scan. The batch size is part of the text rather
// than a parameter: SQLite's planner reads a bound LIMIT, which marks the
// statement as depending on it, and the driver clears bindings after every
// run, so a bound LIMIT re-prepared the statement on every tick (a quarter
// of a tick's cost).
var dueBudgetsSQL = fmt.Sprintf(`SELECT budget_id FROM ff_budget_policy
	WHERE partition_key = 0 AND next_reset_at_ms IS NOT NULL AND next_reset_at_ms <= ?
	ORDER BY next_reset_at_ms, budget_id
	LIMIT %d`, resetBatchSize)

// ScanTick is one budget_reset tick at now (R1–R4); the supervisor registers
// it as the reconciler's tick body.
//
// It selects at most 20 due budgets, earliest next_reset_at_ms first (ties by
// id), and resets each in its own write transaction at now, the tick's time,
// however late that transaction commits. A failing scan query fails the
// tick. A failing reset is counted in Report.Errors and logged at warn
// ("budget reset failed", or "budget reset aborted by shutdown" when the
// task was aborted); the other budgets still run.
//
// If ctx is cancelled (the supervisor aborts the task) the reset in flight
// rolls back and counts as an error, and the tick stops there rather than
// fail every remaining budget one by one. If budgets remain, it returns the
// report so far together with an error wrapping ctx.Err() that says how many
// were not attempted; the original, whose aborted future is simply dropped,
// attempts none of them either.
func (s *Store) ScanTick(ctx context.Context, now time.Time) (Report, error) {
	nowMs := now.UnixMilli()
	ids, err := s.dueBudgets(ctx, nowMs)
	if err != nil {
		return Report{}, fmt.Errorf("budget_reset scan: %w", err)
	}
	var rep Report
	for i, id := range ids {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("budget_reset tick stopped with %d of %d due budgets not attempted: %w",
				len(ids)-i, len(ids), err)
		}
		if _, err := s.applyReset(ctx, id, nowMs); err != nil {
			rep.Errors++
			if ctx.Err() != nil {
				// Said as such: "failed ... context canceled" reads like a
				// database problem.
				s.o.logger.Warn("budget reset aborted by shutdown (rolled back)", "budget_id", id, "error", err)
			} else {
				s.o.logger.Warn("budget reset failed", "budget_id", id, "error", err)
			}
			continue
		}
		rep.Processed++
	}
	return rep, nil
}

// dueBudgets is R1's scan. Hooks.BeforeScan may fail it.
func (s *Store) dueBudgets(ctx context.Context, nowMs int64) ([]string, error) {
	if h := s.o.hooks.BeforeScan; h != nil {
		if err := h(ctx); err != nil {
			return nil, err
		}
	}
	var ids []string
	// The partial index on (partition_key, next_reset_at_ms) answers it in
	// key order, so a tick with nothing due costs one index probe.
	err := s.query(ctx, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	}, dueBudgetsSQL, nowMs)
	return ids, err
}

// applyReset is R2 for one selected budget: its own write transaction
// (retried per R3) that re-checks the budget is still due at nowMs and, if
// so, resets it. It reports whether the reset happened; a budget that is
// gone or no longer due is a successful no-op.
func (s *Store) applyReset(ctx context.Context, budgetID string, nowMs int64) (applied bool, err error) {
	err = s.writeTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		_, res, err := s.resetTx(ctx, conn, budgetID, nowMs, true)
		applied = res == resetApplied
		return err
	})
	if err != nil {
		return false, fmt.Errorf("reset budget %q: %w", budgetID, err)
	}
	return applied, nil
}

// resetResult is what resetTx found.
type resetResult int

const (
	resetApplied resetResult = iota + 1
	// resetSkipped: the budget is no longer due (a concurrent reset, or a
	// schedule change, got there first).
	resetSkipped
	// resetMissing: the budget's policy is gone.
	resetMissing
)

// resetTx is the reset transition shared by the tick (dueOnly) and the admin
// reset, inside the caller's write transaction: zero every usage row, clear
// the last breach, and schedule the next reset one interval after nowMs
// (never, for a zero interval). Breach counters are lifetime totals and are
// left alone. It returns the new next_reset_at_ms.
func (s *Store) resetTx(ctx context.Context, conn *sql.Conn, budgetID string, nowMs int64, dueOnly bool) (*int64, resetResult, error) {
	var raw string
	var scheduled sql.NullInt64
	err := conn.QueryRowContext(queryCtx(ctx), `
		SELECT policy_json, next_reset_at_ms FROM ff_budget_policy
		WHERE partition_key = 0 AND budget_id = ?`, budgetID).Scan(&raw, &scheduled)
	switch {
	case errNoRows(err):
		return nil, resetMissing, nil
	case err != nil:
		return nil, 0, err
	}
	if dueOnly && (!scheduled.Valid || scheduled.Int64 > nowMs) {
		return nullInt(scheduled), resetSkipped, nil
	}
	policy, err := s.policies.decode(raw)
	if err != nil {
		return nil, 0, err
	}
	if _, err := conn.ExecContext(ctx, `
		UPDATE ff_budget_usage SET current_value = 0, last_reset_at_ms = ?, updated_at_ms = ?
		WHERE partition_key = 0 AND budget_id = ?`, nowMs, nowMs, budgetID); err != nil {
		return nil, 0, err
	}
	if h := s.o.hooks.InsideReset; h != nil {
		if err := h(ctx, budgetID); err != nil {
			return nil, 0, err
		}
	}
	var next *int64
	if policy.ResetIntervalMs > 0 {
		next = new(nowMs + policy.ResetIntervalMs)
	}
	if _, err := conn.ExecContext(ctx, `
		UPDATE ff_budget_policy SET
			last_breach_at_ms = NULL, last_breach_dim = NULL,
			updated_at_ms = ?, next_reset_at_ms = ?
		WHERE partition_key = 0 AND budget_id = ?`, nowMs, next, budgetID); err != nil {
		return nil, 0, err
	}
	return next, resetApplied, nil
}
