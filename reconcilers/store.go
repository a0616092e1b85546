package reconcilers

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Store is the budget store and the worker registry: the ff_budget_* and
// ff_worker_registry* tables (SPEC §3, §3b), the operations that build and
// inspect them (R5, W1–W3, W5) and the two reconcilers' ticks
// ([Store.ScanTick] for budget_reset, R1–R4; [Store.TTLSweepTick] for the
// TTL sweep, W4). It is safe for concurrent use.
//
// Every budget write is an explicit BEGIN IMMEDIATE transaction on a
// dedicated connection, retried on contention as R3 prescribes; the worker
// registry's are plain (deferred) transactions, not retried, as upstream.
// A statement that finds the write lock held waits for it on the injected
// clock, up to the busy timeout (R3b). Every time the store records comes
// from the injected clock.
type Store struct {
	db *sql.DB
	o  options
	// conn is the store's connection layer; nil for NewStore.
	conn *connector
	// policies caches decoded policy_json.
	policies policyCache

	// ownsDB is false for NewStore: the caller opened the *sql.DB, so the
	// caller closes it.
	ownsDB bool
	// memName is the memdb database this store created, deleted on Close.
	memName string

	closeOnce sync.Once
	closeErr  error
}

// NewStore wraps an already-open *sql.DB of a SQLite driver and brings its
// schema up to date. The caller keeps ownership of db: [Store.Close] does
// not close it. Its connections are used as they are: no busy wait on the
// injected clock (R3b: whatever the DSN's busy timeout does, in real time),
// no statement cache, and a statement in flight is interrupted when its
// context ends if the driver does so. Prefer [OpenMemory], [OpenFile] or
// [Open]. A nil db is an error wrapping [ErrInvalidInput].
func NewStore(db *sql.DB, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: NewStore needs a *sql.DB", ErrInvalidInput)
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	return newStore(db, o)
}

func newStore(db *sql.DB, o options) (*Store, error) {
	s := &Store{db: db, o: o}
	if err := migrate(context.Background(), db, o.clock, migrations); err != nil {
		return nil, fmt.Errorf("store migrations: %w", err)
	}
	return s, nil
}

// DB returns the underlying database, e.g. to open a second connection that
// contends for the write lock.
func (s *Store) DB() *sql.DB { return s.db }

// Close releases the store: it closes the database if the store opened it,
// and deletes an in-memory database. Later calls return the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.ownsDB {
			s.closeErr = s.db.Close()
		}
		if s.memName != "" {
			releaseMemName(s.memName)
		}
	})
	return s.closeErr
}

// nowMs is the injected clock's wall time in Unix milliseconds, as the
// original's now_ms().
func (s *Store) nowMs() int64 { return s.o.clock.Now().UnixMilli() }

// wholeMs is d in whole milliseconds, rounded up: a timeout of 1.5 ms waits
// 2, as sqlite3_busy_timeout does. (Adding 999,999ns before dividing
// overflowed for the largest durations, turning "wait for ever" into "fail
// at once".)
func wholeMs(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	ms := int64(d / time.Millisecond)
	if d%time.Millisecond != 0 {
		ms++
	}
	return ms
}

// query runs a query on the pool and calls scan for each row.
func (s *Store) query(ctx context.Context, scan func(*sql.Rows) error, q string, args ...any) error {
	rows, err := s.db.QueryContext(queryCtx(ctx), q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// UsageRow is one ff_budget_usage row, as invariant checks see it.
type UsageRow struct {
	BudgetID string
	// Dimension is the row's dimensions_key.
	Dimension     string
	CurrentValue  int64
	LastResetAtMs int64
	UpdatedAtMs   int64
}

// UsageRows returns every ff_budget_usage row ordered by budget and
// dimension, for invariant checks.
func (s *Store) UsageRows(ctx context.Context) ([]UsageRow, error) {
	var out []UsageRow
	err := s.query(ctx, func(rows *sql.Rows) error {
		var r UsageRow
		var reset sql.NullInt64
		if err := rows.Scan(&r.BudgetID, &r.Dimension, &r.CurrentValue, &reset, &r.UpdatedAtMs); err != nil {
			return err
		}
		r.LastResetAtMs = reset.Int64
		out = append(out, r)
		return nil
	}, `SELECT budget_id, dimensions_key, current_value, last_reset_at_ms, updated_at_ms
		FROM ff_budget_usage WHERE partition_key = 0 ORDER BY budget_id, dimensions_key`)
	if err != nil {
		return nil, fmt.Errorf("usage rows: %w", err)
	}
	return out, nil
}

// BreachCounts is one budget's lifetime breach counters.
type BreachCounts struct {
	BudgetID               string
	Breaches, SoftBreaches int64
}

// AllBreachCounts returns every budget's breach counters, sorted by id, in
// one query: the invariant checks read them after every step.
func (s *Store) AllBreachCounts(ctx context.Context) ([]BreachCounts, error) {
	var out []BreachCounts
	err := s.query(ctx, func(rows *sql.Rows) error {
		var c BreachCounts
		if err := rows.Scan(&c.BudgetID, &c.Breaches, &c.SoftBreaches); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	}, `SELECT budget_id, breach_count, soft_breach_count FROM ff_budget_policy WHERE partition_key = 0 ORDER BY budget_id`)
	if err != nil {
		return nil, fmt.Errorf("breach counts: %w", err)
	}
	return out, nil
}

// BudgetIDs returns the id of every budget policy, sorted.
func (s *Store) BudgetIDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.query(ctx, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	}, `SELECT budget_id FROM ff_budget_policy WHERE partition_key = 0 ORDER BY budget_id`)
	if err != nil {
		return nil, fmt.Errorf("budget ids: %w", err)
	}
	return ids, nil
}

// Open opens a store on c, a connector of a SQLite driver whose connections
// implement [SQLiteConn] and whose errors are [*SQLiteError] (a driver
// that forwards to another process's SQLite, say), and brings the schema
// up to date. For go-sqlite3, use [OpenMemory] or [OpenFile]. A nil c is
// an error wrapping [ErrInvalidInput].
func Open(c driver.Connector, opts ...Option) (*Store, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: Open needs a driver.Connector", ErrInvalidInput)
	}
	return open(c, func(dc driver.Conn) (SQLiteConn, error) {
		sc, ok := dc.(SQLiteConn)
		if !ok {
			return nil, fmt.Errorf("reconcilers: driver connection %T does not implement SQLiteConn", dc)
		}
		return sc, nil
	}, opts)
}

func open(base driver.Connector, adapt func(driver.Conn) (SQLiteConn, error), opts []Option) (*Store, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	c := &connector{base: base, adapt: adapt, clk: o.clock, busyTimeout: wholeMs(o.busyTimeout)}
	db := sql.OpenDB(c)
	s, err := newStore(db, o)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	s.ownsDB = true
	s.conn = c
	return s, nil
}
