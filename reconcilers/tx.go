package reconcilers

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// writeBackoff is R3's schedule: 3 attempts in all, sleeping 5 ms after the
// first failure and 10 ms after the second.
var writeBackoff = [...]time.Duration{5 * time.Millisecond, 10 * time.Millisecond}

// writeAttempts is the number of attempts R3 allows.
const writeAttempts = len(writeBackoff) + 1

// txFunc is the body of one transaction. It may run more than once (R3
// retries), so it must assign its results rather than accumulate them.
type txFunc func(ctx context.Context, conn *sql.Conn) error

// writeTx runs fn in a BEGIN IMMEDIATE transaction, retrying contention
// (R3). Hooks.BeforeWrite runs before every attempt; an error from it with
// a BUSY or LOCKED code (or wrapping ErrBusy) is retried like the real one.
func (s *Store) writeTx(ctx context.Context, fn txFunc) error {
	return s.writeTxAt(ctx, func(ctx context.Context, conn *sql.Conn, _ int64) error {
		return fn(ctx, conn)
	})
}

// writeTxAt is writeTx for a body that needs the time of its attempt:
// each attempt reads the clock once, before BEGIN IMMEDIATE waits for the
// lock, as upstream's report_usage does (R5). The time is therefore the
// moment the attempt started, not the moment it won the lock.
func (s *Store) writeTxAt(ctx context.Context, fn func(ctx context.Context, conn *sql.Conn, now int64) error) error {
	return retryBusy(ctx, s.o.clock, func(ctx context.Context) error {
		if err := s.beforeWrite(ctx); err != nil {
			return err
		}
		now := s.nowMs()
		return txOnce(ctx, s.db, "BEGIN IMMEDIATE", func(ctx context.Context, conn *sql.Conn) error {
			return fn(ctx, conn, now)
		})
	})
}

// plainTx runs fn in a plain (deferred) transaction, once: the worker
// registry's transactions, which upstream neither takes IMMEDIATE nor
// retries. Its first write waits for a held lock (R3b) unless the
// transaction has read first: SQLite does not wait to upgrade a read.
func (s *Store) plainTx(ctx context.Context, fn txFunc) error {
	if err := s.beforeWrite(ctx); err != nil {
		return err
	}
	return txOnce(ctx, s.db, "BEGIN", fn)
}

func (s *Store) beforeWrite(ctx context.Context) error {
	if h := s.o.hooks.BeforeWrite; h != nil {
		return h(ctx)
	}
	return nil
}

// retryBusy runs op up to writeAttempts times while it fails with a
// contention error, sleeping on clk between attempts. Other errors return
// at once. After the last attempt the error wraps ErrBusy and the last
// cause.
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

// txOnce is one transaction attempt on a connection of its own, so that no
// other statement of the pool can slip into the transaction.
func txOnce(ctx context.Context, db *sql.DB, begin string, fn txFunc) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		return err
	}
	if err := fn(ctx, conn); err != nil {
		rollback(conn)
		return err
	}
	// An abort that lands before COMMIT must roll back (S5): the commit is
	// a cancellation point like any statement.
	if err := ctx.Err(); err != nil {
		rollback(conn)
		return err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		rollback(conn)
		return err
	}
	return nil
}

// rollback ends the transaction on conn whatever the state of the caller's
// context. If it fails (SQLite may already have rolled back), the
// connection is discarded rather than returned to the pool, where a
// transaction left open would poison the next BEGIN.
func rollback(conn *sql.Conn) {
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// SQLiteCode returns the SQLite extended result code an error carries,
// from go-sqlite3 or as a [*SQLiteError].
func SQLiteCode(err error) (int, bool) {
	var se *SQLiteError
	if errors.As(err, &se) {
		return se.Code, true
	}
	return nativeCode(err)
}

// isBusy reports whether err is a contention error that R3 retries: any
// extended code of SQLITE_BUSY or SQLITE_LOCKED (upstream matches the low
// byte), or ErrBusy.
func isBusy(err error) bool {
	if errors.Is(err, ErrBusy) {
		return true
	}
	code, ok := SQLiteCode(err)
	return ok && (code&0xff == codeBusy || code&0xff == codeLocked)
}
