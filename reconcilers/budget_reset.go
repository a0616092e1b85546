package reconcilers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ncruces/go-sqlite3"
)

// resetBatchSize is R1's batch: at most this many budgets reset per tick.
const resetBatchSize = 20

// ScanTick is one budget_reset tick at now (R1–R4); the supervisor registers
// it as the reconciler's tick body.
//
// It selects at most 20 due budgets, earliest next_reset_at_ms first (ties by
// id), and resets each in its own write transaction at now, the tick's time,
// however late that transaction commits. A failing scan query fails the
// tick. A failing reset is counted in Report.Errors and logged at warn; the
// other budgets still run.
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
			s.o.logger.Warn("budget reset failed", "budget_id", id, "error", err)
			continue
		}
		rep.Processed++
	}
	return rep, nil
}

// dueBudgets is R1's scan (stmtDueBudgets).
func (s *Store) dueBudgets(ctx context.Context, nowMs int64) ([]string, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var ids []string
	err = s.stmts.withStmt(ctx, conn, stmtDueBudgets, func(st *sqlite3.Stmt) error {
		if err := errors.Join(st.BindInt64(1, nowMs), st.BindInt64(2, resetBatchSize)); err != nil {
			return err
		}
		for st.Step() {
			ids = append(ids, st.ColumnText(0))
		}
		return st.Err()
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
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
	var (
		raw       string
		scheduled sql.NullInt64
		found     bool
	)
	err := s.stmts.withStmt(ctx, conn, stmtResetPolicy, func(st *sqlite3.Stmt) error {
		if err := st.BindText(1, budgetID); err != nil {
			return err
		}
		if !st.Step() {
			return st.Err()
		}
		found = true
		raw = st.ColumnText(0)
		if st.ColumnType(1) != sqlite3.NULL {
			scheduled = sql.NullInt64{Int64: st.ColumnInt64(1), Valid: true}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if !found {
		return nil, resetMissing, nil
	}
	if dueOnly && (!scheduled.Valid || scheduled.Int64 > nowMs) {
		return nullInt(scheduled), resetSkipped, nil
	}
	policy, err := decodePolicy(raw)
	if err != nil {
		return nil, 0, err
	}

	if err := s.stmts.withStmt(ctx, conn, stmtResetUsage, func(st *sqlite3.Stmt) error {
		if err := errors.Join(st.BindInt64(1, nowMs), st.BindText(2, budgetID)); err != nil {
			return err
		}
		return st.Exec()
	}); err != nil {
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
	if err := s.stmts.withStmt(ctx, conn, stmtResetSchedule, func(st *sqlite3.Stmt) error {
		var bindNext error
		if next != nil {
			bindNext = st.BindInt64(2, *next)
		} else {
			bindNext = st.BindNull(2) // the statement keeps its last bindings
		}
		if err := errors.Join(st.BindInt64(1, nowMs), bindNext, st.BindText(3, budgetID)); err != nil {
			return err
		}
		return st.Exec()
	}); err != nil {
		return nil, 0, err
	}
	return next, resetApplied, nil
}
