package reconcilers

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// This file is the store's own layer over a database/sql driver: every
// connection the store opens goes through it. It does three things the
// store relies on, identically whichever SQLite runs underneath (go-sqlite3
// in this process, or a host's SQLite behind a wasm guest's driver):
//
//   - R3b, the busy timeout, on the injected clock. SQLite's own busy
//     handler would sleep in real time. So each connection's busy handler
//     only records that SQLite asked to wait (and declines, so the
//     statement returns SQLITE_BUSY at once); this layer then waits on
//     the store's clock on SQLite's default schedule and runs the
//     statement again, until the timeout. SQLite alone decides when a
//     wait applies: not when a read transaction must upgrade to write,
//     not for BUSY_SNAPSHOT or LOCKED.
//   - Cancellation at statement boundaries. A statement runs to its end;
//     the context is checked before each one (and during a busy wait).
//     This is how upstream's dropped futures behave too: sqlx's worker
//     finishes the statement in hand.
//   - Prepared statements cached per connection and reused, so the tick's
//     hot statements are parsed and planned once.

// SQLiteConn is what the store needs of a driver connection besides
// database/sql's interfaces. go-sqlite3's connections are adapted to it
// here; a driver of another SQLite (a wasm guest's bridge to its host)
// implements it itself.
type SQLiteConn interface {
	driver.Conn
	driver.ConnPrepareContext
	// BusyRequested reports whether SQLite called the connection's busy
	// handler (asked to wait for a lock) since the last call, and clears
	// the record. The handler itself must decline at once.
	BusyRequested() bool
	// InTransaction reports whether the connection has a transaction open.
	InTransaction() bool
}

// SQLiteError is a SQLite error with its extended result code, as a driver
// that is not go-sqlite3 reports it (or a fault hook injects it). Its text
// is whatever the SQLite driver would have printed.
type SQLiteError struct {
	// Code is the extended result code, e.g. 5 (SQLITE_BUSY) or 517
	// (SQLITE_BUSY_SNAPSHOT).
	Code int
	// Text is the error's message.
	Text string
}

func (e *SQLiteError) Error() string { return e.Text }

// SQLite primary result codes the store tells apart.
const (
	codeBusy    = 5
	codeLocked  = 6
	codeIOErr   = 10
	codeCorrupt = 11
	codeFull    = 13
)

// connector opens the store's connections over a driver.Connector whose
// connections are (or adapt to) SQLiteConn.
type connector struct {
	base  driver.Connector
	adapt func(driver.Conn) (SQLiteConn, error)
	clk   Clock
	// busyTimeout is R3b's timeout, in whole milliseconds.
	busyTimeout int64

	// prepared counts statements prepared and closeErrors connections that
	// failed to close, for tests and diagnosis.
	prepared, closeErrors atomic.Int64
}

func (c *connector) Driver() driver.Driver { return c.base.Driver() }

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, err := c.adapt(dc)
	if err != nil {
		return nil, errors.Join(err, dc.Close())
	}
	return &conn{base: sc, c: c, stmts: map[string]*stmt{}}, nil
}

// conn is one store connection. database/sql uses a connection from one
// goroutine at a time, so it needs no lock.
type conn struct {
	base  SQLiteConn
	c     *connector
	stmts map[string]*stmt
}

var (
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
)

func (cn *conn) Prepare(query string) (driver.Stmt, error) {
	return cn.PrepareContext(context.Background(), query)
}

// PrepareContext returns the connection's cached statement for query,
// preparing it on first use.
func (cn *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if s, ok := cn.stmts[query]; ok {
		return s, nil
	}
	ctx = liveCtx(ctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bs, err := cn.base.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, err
	}
	cn.c.prepared.Add(1)
	s := &stmt{base: bs, cn: cn}
	cn.stmts[query] = s
	return s, nil
}

// Close finalizes the cached statements (SQLite refuses to close a
// connection with unfinalized ones) and closes the connection.
func (cn *conn) Close() error {
	var errs []error
	for q, s := range cn.stmts {
		errs = append(errs, s.base.Close())
		delete(cn.stmts, q)
	}
	err := errors.Join(append(errs, cn.base.Close())...)
	if err != nil {
		cn.c.closeErrors.Add(1)
	}
	return err
}

// Begin is not used by the store, which issues its own BEGIN statements
// (IMMEDIATE for R3's writes, deferred for the worker registry's).
func (cn *conn) Begin() (driver.Tx, error) {
	return nil, errors.New("reconcilers: the store's connections take their transactions as BEGIN statements")
}

// ResetSession keeps a connection left inside a transaction (an
// interrupted rollback, say) out of the pool: its next BEGIN would fail.
func (cn *conn) ResetSession(context.Context) error {
	if cn.base.InTransaction() {
		return driver.ErrBadConn
	}
	return nil
}

func (cn *conn) IsValid() bool { return !cn.base.InTransaction() }

// stmt is a cached statement. Close keeps it for reuse: the connection
// finalizes it when it closes.
type stmt struct {
	base driver.Stmt
	cn   *conn
}

var (
	_ driver.StmtExecContext  = (*stmt)(nil)
	_ driver.StmtQueryContext = (*stmt)(nil)
)

func (s *stmt) Close() error  { return nil }
func (s *stmt) NumInput() int { return s.base.NumInput() }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, a := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return out
}

// ExecContext runs the statement, waiting for a held lock as R3b says.
func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	ctx = liveCtx(ctx)
	var res driver.Result
	err := s.cn.c.busyWait(ctx, s.cn.base, func() error {
		var err error
		res, err = s.base.(driver.StmtExecContext).ExecContext(context.Background(), args)
		return err
	})
	return res, err
}

// QueryContext runs the query and reads its first row, so a lock it must
// wait for is waited for here, as for ExecContext.
func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	ctx = liveCtx(ctx)
	r := &rows{}
	err := s.cn.c.busyWait(ctx, s.cn.base, func() error {
		if r.base != nil {
			_ = r.base.Close()
		}
		var err error
		r.base, err = s.base.(driver.StmtQueryContext).QueryContext(context.Background(), args)
		if err != nil {
			r.base = nil
			return err
		}
		r.first = make([]driver.Value, len(r.base.Columns()))
		r.firstErr = r.base.Next(r.first)
		if r.firstErr != nil && r.firstErr != io.EOF {
			return r.firstErr
		}
		return nil
	})
	if err != nil {
		if r.base != nil {
			_ = r.base.Close()
		}
		return nil, err
	}
	r.pending = true
	return r, nil
}

// rows hands out a query's first row (read in QueryContext) and then the
// rest.
type rows struct {
	base     driver.Rows
	first    []driver.Value
	firstErr error
	pending  bool
}

func (r *rows) Columns() []string { return r.base.Columns() }
func (r *rows) Close() error      { return r.base.Close() }

func (r *rows) Next(dest []driver.Value) error {
	if r.pending {
		r.pending = false
		if r.firstErr != nil {
			return r.firstErr
		}
		copy(dest, r.first)
		return nil
	}
	return r.base.Next(dest)
}

// busyDelays and busyTotals are SQLite's default busy-handler schedule (as
// sqliteDefaultBusyCallback, with usleep): the wait before each retry, and
// the time waited before it.
var (
	busyDelays = [...]int64{1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100}
	busyTotals = [...]int64{0, 1, 3, 8, 18, 33, 53, 78, 103, 128, 178, 228}
)

// busyDelay is how long the count-th wait of a busy wait lasts, in ms, and
// false once the timeout is spent: the last wait is cut so that the total
// is exactly the timeout.
func busyDelay(count int, timeoutMs int64) (int64, bool) {
	var delay, prior int64
	if count < len(busyDelays) {
		delay, prior = busyDelays[count], busyTotals[count]
	} else {
		n := int64(count - len(busyDelays) + 1)
		delay = busyDelays[len(busyDelays)-1]
		prior = busyTotals[len(busyTotals)-1] + delay*n
	}
	if prior+delay > timeoutMs {
		delay = timeoutMs - prior
		if delay <= 0 {
			return 0, false
		}
	}
	return delay, true
}

// busyWait runs op, a statement on conn, and while it fails with SQLite
// having asked to wait for a lock, waits on the clock and runs it again
// (R3b). The context is checked before each run and ends a wait.
func (c *connector) busyWait(ctx context.Context, sc SQLiteConn, op func() error) error {
	sc.BusyRequested() // a stale record is not this statement's
	for count := 0; ; count++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := op()
		if err == nil || !sc.BusyRequested() {
			return err
		}
		delay, ok := busyDelay(count, c.busyTimeout)
		if !ok {
			return err
		}
		if serr := sleep(ctx, c.clk, time.Duration(delay)*time.Millisecond); serr != nil {
			return fmt.Errorf("waiting for the write lock: %w", serr)
		}
	}
}

// lockedFlag is a busy handler's record, shared by an adapter and its
// handler.
type lockedFlag struct {
	mu  sync.Mutex
	set bool
}

func (f *lockedFlag) mark() {
	f.mu.Lock()
	f.set = true
	f.mu.Unlock()
}

func (f *lockedFlag) take() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.set
	f.set = false
	return v
}

// queryCtx is the context the store gives database/sql for a query. For a
// cancellable ctx, database/sql starts a goroutine per result set to close
// it on cancellation: costly (a goroutine per query, ~30µs in a wasm
// guest) and useless here, since this layer already checks the context at
// every statement boundary and the store reads each result set to its end
// at once. So database/sql sees a context that is never done, and this
// layer recovers the caller's (liveCtx) to check it.
func queryCtx(ctx context.Context) context.Context {
	if ctx.Done() == nil {
		return ctx
	}
	return detachedCtx{ctx}
}

// detachedCtx carries a live context past database/sql without its
// cancellation.
type detachedCtx struct{ live context.Context }

func (detachedCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (detachedCtx) Done() <-chan struct{}       { return nil }
func (detachedCtx) Err() error                  { return nil }
func (d detachedCtx) Value(k any) any           { return d.live.Value(k) }

// liveCtx undoes queryCtx.
func liveCtx(ctx context.Context) context.Context {
	if d, ok := ctx.(detachedCtx); ok {
		return d.live
	}
	return ctx
}
