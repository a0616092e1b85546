package reconcilers

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"

	"github.com/ncruces/go-sqlite3"
)

// stmtID names a statement of the budget_reset tick's hot path. Passing SQL
// text through database/sql makes SQLite parse and plan it again on every
// call, which was most of a tick's cost; these are prepared once per
// connection and reused.
type stmtID int

const (
	stmtBegin stmtID = iota
	stmtCommit
	stmtRollback
	// stmtDueBudgets is R1's scan: ?1 now (ms), ?2 the batch size.
	stmtDueBudgets
	// stmtResetPolicy is R2's re-read of the policy: ?1 budget id.
	stmtResetPolicy
	// stmtResetUsage zeroes a budget's usage: ?1 now (ms), ?2 budget id.
	stmtResetUsage
	// stmtResetSchedule clears the last breach and schedules the next
	// reset: ?1 now (ms), ?2 next_reset_at_ms or NULL, ?3 budget id.
	stmtResetSchedule

	numStmts
)

var stmtSQL = [numStmts]string{
	// IMMEDIATE takes the write lock up front: contention shows here, before
	// any work, instead of as a failed lock upgrade half-way through.
	stmtBegin:    `BEGIN IMMEDIATE`,
	stmtCommit:   `COMMIT`,
	stmtRollback: `ROLLBACK`,
	// The partial index on (partition_key, next_reset_at_ms) answers it in
	// key order, so a tick with nothing due costs one index probe.
	stmtDueBudgets: `
		SELECT budget_id FROM ff_budget_policy
		WHERE partition_key = 0 AND next_reset_at_ms IS NOT NULL AND next_reset_at_ms <= ?1
		ORDER BY next_reset_at_ms, budget_id
		LIMIT ?2`,
	stmtResetPolicy: `
		SELECT policy_json, next_reset_at_ms FROM ff_budget_policy
		WHERE partition_key = 0 AND budget_id = ?1`,
	stmtResetUsage: `
		UPDATE ff_budget_usage SET current_value = 0, last_reset_at_ms = ?1, updated_at_ms = ?1
		WHERE partition_key = 0 AND budget_id = ?2`,
	stmtResetSchedule: `
		UPDATE ff_budget_policy SET
			last_breach_at_ms = NULL, last_breach_dim = NULL,
			updated_at_ms = ?1, next_reset_at_ms = ?2
		WHERE partition_key = 0 AND budget_id = ?3`,
}

// stmtCache holds the prepared statements of each connection of a database
// the store opened itself (OpenMemory, OpenFile). Its release method is that
// database's connection close hook: SQLite refuses to close a connection
// with unfinalized statements, so every connection database/sql closes (an
// idle one beyond SetMaxIdleConns, a broken one it discards, all of them at
// db.Close) finalizes its statements and leaves the cache first.
//
// A nil *stmtCache caches nothing: a store on a caller's *sql.DB (NewStore)
// cannot hook its connections' closing, so it prepares each statement for
// one use and finalizes it at once.
//
// A connection is used by one goroutine at a time (database/sql hands it out
// exclusively), so only the map needs the lock.
type stmtCache struct {
	mu    sync.Mutex
	conns map[*sqlite3.Conn]*[numStmts]*sqlite3.Stmt
}

func newStmtCache() *stmtCache {
	return &stmtCache{conns: map[*sqlite3.Conn]*[numStmts]*sqlite3.Stmt{}}
}

// release finalizes c's cached statements; it runs as c closes.
func (sc *stmtCache) release(c *sqlite3.Conn) error {
	sc.mu.Lock()
	set := sc.conns[c]
	delete(sc.conns, c)
	sc.mu.Unlock()
	if set == nil {
		return nil
	}
	var errs []error
	for _, st := range set {
		if err := st.Close(); err != nil { // Close of nil is a no-op
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stmt returns statement id prepared on c, and what to call when done with
// it: Reset for a cached statement, Close for a one-off.
func (sc *stmtCache) stmt(c *sqlite3.Conn, id stmtID) (*sqlite3.Stmt, func() error, error) {
	if sc == nil {
		st, _, err := c.Prepare(stmtSQL[id])
		if err != nil {
			return nil, nil, err
		}
		return st, st.Close, nil
	}
	sc.mu.Lock()
	set := sc.conns[c]
	if set == nil {
		set = new([numStmts]*sqlite3.Stmt)
		sc.conns[c] = set
	}
	sc.mu.Unlock()
	if set[id] == nil {
		st, _, err := c.PrepareFlags(stmtSQL[id], sqlite3.PREPARE_PERSISTENT)
		if err != nil {
			return nil, nil, err
		}
		set[id] = st
	}
	return set[id], set[id].Reset, nil
}

// rawConn is what the github.com/ncruces/go-sqlite3 driver's connections
// implement.
type rawConn interface{ Raw() *sqlite3.Conn }

// withStmt runs fn with statement id, freshly reset, on conn's driver
// connection, interruptible by ctx for the duration: if ctx is cancelled
// mid-statement SQLite stops it with INTERRUPT, as database/sql's own
// statements would. Like database/sql it fails with ctx.Err() without
// running anything if ctx is already done. fn binds every parameter and
// steps the statement; withStmt resets it afterwards.
func (sc *stmtCache) withStmt(ctx context.Context, conn *sql.Conn, id stmtID, fn func(*sqlite3.Stmt) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return conn.Raw(func(dc any) error {
		c, err := sqliteConn(dc)
		if err != nil {
			return err
		}
		if old := c.SetInterrupt(ctx); old != ctx {
			defer c.SetInterrupt(old)
		}
		st, done, err := sc.stmt(c, id)
		if err != nil {
			return err
		}
		defer done() //nolint:errcheck // fn has seen any error Step had
		return fn(st)
	})
}

// exec runs a statement without parameters or results.
func (sc *stmtCache) exec(ctx context.Context, conn *sql.Conn, id stmtID) error {
	return sc.withStmt(ctx, conn, id, (*sqlite3.Stmt).Exec)
}

func sqliteConn(dc any) (*sqlite3.Conn, error) {
	rc, ok := dc.(rawConn)
	if !ok {
		return nil, fmt.Errorf("budget store: driver connection %T is not from github.com/ncruces/go-sqlite3", dc)
	}
	return rc.Raw(), nil
}

// rollback ends the transaction on conn whatever the state of the caller's
// context, hence context.Background. If SQLite already rolled back (an
// interrupted statement can do that) ROLLBACK fails harmlessly; if the
// connection is somehow still inside a transaction it is discarded rather
// than returned to the pool, where it would poison the next BEGIN.
func (sc *stmtCache) rollback(conn *sql.Conn) {
	_ = conn.Raw(func(dc any) error {
		c, err := sqliteConn(dc)
		if err != nil {
			return driver.ErrBadConn
		}
		bg := context.Background()
		if old := c.SetInterrupt(bg); old != bg {
			defer c.SetInterrupt(old)
		}
		st, done, err := sc.stmt(c, stmtRollback)
		if err == nil {
			err = st.Exec()
			_ = done()
		}
		if err == nil || c.GetAutocommit() {
			return nil
		}
		return driver.ErrBadConn
	})
}
