package reconcilers

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// writeBackoff is R3's schedule: 3 attempts in all, sleeping 5 ms after the
// first failure and 10 ms after the second.
var writeBackoff = [...]time.Duration{5 * time.Millisecond, 10 * time.Millisecond}

// writeAttempts is the number of attempts R3 allows.
const writeAttempts = len(writeBackoff) + 1

// txFunc is the body of one write transaction. It may run more than once (R3
// retries), so it must assign its results rather than accumulate them.
type txFunc func(ctx context.Context, conn *sql.Conn) error

// writeTx runs fn in a BEGIN IMMEDIATE transaction, retrying contention (R3).
// Hooks.BeforeWrite runs before every attempt; an error from it wrapping
// ErrBusy is retried exactly like SQLITE_BUSY.
func (s *Store) writeTx(ctx context.Context, fn txFunc) error {
	return retryBusy(ctx, s.o.clock, func(ctx context.Context) error {
		if h := s.o.hooks.BeforeWrite; h != nil {
			if err := h(ctx); err != nil {
				return err
			}
		}
		return txOnce(ctx, s.db, s.stmts, fn)
	})
}

// retryBusy runs op up to writeAttempts times while it fails with a
// contention error, sleeping on clk between attempts. Other errors return at
// once. After the last attempt the error wraps ErrBusy and the last cause.
func retryBusy(ctx context.Context, clk Clock, op func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := op(ctx)
		if err == nil || !isBusy(err) {
			return err
		}
		if attempt == len(writeBackoff) {
			return fmt.Errorf("%w: gave up after %d attempts: %w", ErrBusy, writeAttempts, err)
		}
		if serr := sleep(ctx, clk, writeBackoff[attempt]); serr != nil {
			return fmt.Errorf("write retry interrupted: %w (attempt %d: %w)", serr, attempt+1, err)
		}
	}
}

// txOnce is one write-transaction attempt on a connection of its own, so
// that no other statement of the pool can slip into the transaction.
// BEGIN, COMMIT and ROLLBACK come from sc (nil: prepared per use).
func txOnce(ctx context.Context, db *sql.DB, sc *stmtCache, fn txFunc) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// BEGIN IMMEDIATE: contention shows here, before any work.
	if err := sc.exec(ctx, conn, stmtBegin); err != nil {
		return err
	}
	if err := fn(ctx, conn); err != nil {
		sc.rollback(conn)
		return err
	}
	// An abort that lands before COMMIT must roll back (S5): do not leave it
	// to whether SQLite happens to check the interrupt during COMMIT.
	if err := ctx.Err(); err != nil {
		sc.rollback(conn)
		return err
	}
	if err := sc.exec(ctx, conn, stmtCommit); err != nil {
		sc.rollback(conn)
		return err
	}
	return nil
}
