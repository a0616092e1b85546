package reconcilers

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/ncruces/go-sqlite3/driver" // also registers the "sqlite3" database/sql driver
	"github.com/ncruces/go-sqlite3/vfs/memdb"
)

// Store is the budget store: the ff_budget_* tables (SPEC §3), the admin
// operations that build and inspect them (R5) and the budget_reset tick
// ([Store.ScanTick], R1–R4). It is safe for concurrent use.
//
// Every write is an explicit BEGIN IMMEDIATE transaction on a dedicated
// connection, retried on contention as R3 prescribes; every time it records
// comes from the injected clock.
type Store struct {
	db *sql.DB
	o  options
	// stmts caches the tick's prepared statements per connection; nil for
	// NewStore, whose connections' closing the store cannot hook.
	stmts *stmtCache

	// ownsDB is false for NewStore: the caller opened the *sql.DB, so the
	// caller closes it.
	ownsDB bool
	// memName is the memdb database this store created, deleted on Close.
	memName string

	closeOnce sync.Once
	closeErr  error
}

// Scope names what a budget governs, e.g. {Type: "flow", ID: "flow-1"}.
type Scope struct {
	Type string
	ID   string
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

// memNames guards against two live stores sharing one memdb name:
// memdb.Create would silently swap the database under the first store's
// future connections.
var (
	memNamesMu sync.Mutex
	memNames   = map[string]bool{}
)

// OpenMemory opens a store on a shared in-memory database (the memdb VFS),
// creates the schema and returns it. Every connection of the store's pool
// opens the same database, so a reader is never blocked by another
// connection's open write transaction, and a second connection (e.g.
// [Store.DB]().Conn) can contend for the write lock as another process would.
//
// name identifies the database and must not be in use by another open store;
// a leading "/" is optional. An empty name picks a random one. The database
// lives until [Store.Close].
//
// busy_timeout is 0: contention surfaces as SQLITE_BUSY at once and is
// handled by the store's own retries on the injected clock (R3), never by
// SQLite sleeping in real time.
func OpenMemory(name string, opts ...Option) (*Store, error) {
	name = strings.TrimPrefix(name, "/")
	if name == "" {
		name = "ffsim-" + rand.Text()
	}
	if strings.ContainsAny(name, "/?#") {
		return nil, fmt.Errorf("%w: memdb name %q contains '/', '?' or '#'", ErrInvalidInput, name)
	}
	memNamesMu.Lock()
	if memNames[name] {
		memNamesMu.Unlock()
		return nil, fmt.Errorf("%w: memdb name %q is already open", ErrInvalidInput, name)
	}
	memNames[name] = true
	memNamesMu.Unlock()

	// Create holds a reference of its own, so the database survives the pool
	// closing every connection (e.g. after discarding a broken one).
	memdb.Create(name, nil)
	dsn := (&url.URL{
		Scheme:   "file",
		OmitHost: true,
		Path:     "/" + name,
		RawQuery: "vfs=memdb&_pragma=busy_timeout(0)",
	}).String()
	s, err := open(dsn, opts)
	if err != nil {
		releaseMemName(name)
		return nil, err
	}
	s.memName = name
	return s, nil
}

func releaseMemName(name string) {
	memdb.Delete(name)
	memNamesMu.Lock()
	delete(memNames, name)
	memNamesMu.Unlock()
}

// OpenFile opens (creating if needed) a store on the database file at path in
// WAL mode, so readers never wait for the writer, and brings its schema up to
// date. busy_timeout is 0 for the same reason as in [OpenMemory].
func OpenFile(path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: empty database path", ErrInvalidInput)
	}
	dsn := (&url.URL{
		Scheme:   "file",
		OmitHost: true,
		Path:     path,
		// busy_timeout first: the journal_mode change itself may contend.
		RawQuery: "_pragma=busy_timeout(0)&_pragma=journal_mode(wal)",
	}).String()
	return open(dsn, opts)
}

func open(dsn string, opts []Option) (*Store, error) {
	// The close hook finalizes a connection's cached statements, without
	// which SQLite would refuse to close it.
	stmts := newStmtCache()
	db, err := driver.Open(dsn, nil, stmts.release)
	if err != nil {
		return nil, err
	}
	s, err := NewStore(db, opts...)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	s.ownsDB = true
	s.stmts = stmts
	return s, nil
}

// NewStore wraps an already-open *sql.DB using the "sqlite3" driver of
// github.com/ncruces/go-sqlite3 and brings its schema up to date. The caller
// keeps ownership of db: [Store.Close] does not close it.
//
// The store's retry policy (R3) assumes the DSN sets busy_timeout(0); with a
// longer timeout SQLite waits in real time before the store sees SQLITE_BUSY.
func NewStore(db *sql.DB, opts ...Option) (*Store, error) {
	s := &Store{db: db, o: buildOptions(opts)}
	if err := migrate(context.Background(), db, s.o.clock, migrations); err != nil {
		return nil, fmt.Errorf("budget store migrations: %w", err)
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

// UsageRows returns every ff_budget_usage row ordered by budget and
// dimension, for invariant checks.
func (s *Store) UsageRows(ctx context.Context) ([]UsageRow, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT budget_id, dimensions_key, current_value, last_reset_at_ms, updated_at_ms
		FROM ff_budget_usage
		WHERE partition_key = 0
		ORDER BY budget_id, dimensions_key`)
	if err != nil {
		return nil, fmt.Errorf("usage rows: %w", err)
	}
	defer rows.Close()
	var out []UsageRow
	for rows.Next() {
		var r UsageRow
		if err := rows.Scan(&r.BudgetID, &r.Dimension, &r.CurrentValue, &r.LastResetAtMs, &r.UpdatedAtMs); err != nil {
			return nil, fmt.Errorf("usage rows: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("usage rows: %w", err)
	}
	return out, nil
}

// BudgetIDs returns the id of every budget policy, sorted.
func (s *Store) BudgetIDs(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT budget_id FROM ff_budget_policy WHERE partition_key = 0 ORDER BY budget_id`)
	if err != nil {
		return nil, fmt.Errorf("budget ids: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("budget ids: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("budget ids: %w", err)
	}
	return ids, nil
}
