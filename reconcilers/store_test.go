package reconcilers

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/vfs/memdb"
	"go.uber.org/goleak"
)

// t0 is the wall time every test starts at.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ms(t time.Time) int64 { return t.UnixMilli() }

// checkLeaks fails t if it leaves goroutines behind. Per test rather than
// TestMain so the package's other test files are free to have their own.
// Call it first: cleanups run last-in first-out, so it runs after the
// store is closed.
func checkLeaks(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// syncBuffer is a log sink safe for the store's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// env is a store on a fresh memdb with a mock clock at t0.
type env struct {
	st   *Store
	mock *clock.Mock
	logs *syncBuffer
}

func newEnv(t *testing.T, hooks Hooks) *env {
	t.Helper()
	checkLeaks(t)
	mock := clock.NewMock()
	mock.Set(t0)
	return newEnvClock(t, mock, mock, hooks)
}

// newEnvClock builds an env whose store uses clk, which must be driven by
// mock.
func newEnvClock(t *testing.T, clk Clock, mock *clock.Mock, hooks Hooks) *env {
	t.Helper()
	logs := &syncBuffer{}
	st, err := OpenMemory("", WithClock(clk), WithHooks(hooks),
		WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return &env{st: st, mock: mock, logs: logs}
}

// spec is a one-dimension budget: tokens with the given limits.
func spec(id string, interval time.Duration, hard, soft int64) BudgetSpec {
	return BudgetSpec{
		ID:              id,
		Scope:           Scope{Type: "flow", ID: "flow-" + id},
		EnforcementMode: "strict",
		OnHardLimit:     "fail",
		OnSoftLimit:     "warn",
		ResetInterval:   interval,
		Dimensions:      []string{"tokens"},
		HardLimits:      []int64{hard},
		SoftLimits:      []int64{soft},
	}
}

func (e *env) create(t *testing.T, s BudgetSpec) {
	t.Helper()
	res, err := e.st.CreateBudget(t.Context(), s)
	if err != nil || res != Created {
		t.Fatalf("CreateBudget(%s) = %v, %v; want created", s.ID, res, err)
	}
}

func (e *env) report(t *testing.T, id string, usage map[string]int64, key string) UsageOutcome {
	t.Helper()
	out, err := e.st.ReportUsage(t.Context(), id, usage, key)
	if err != nil {
		t.Fatalf("ReportUsage(%s, %v, %q): %v", id, usage, key, err)
	}
	return out
}

func (e *env) status(t *testing.T, id string) Status {
	t.Helper()
	st, err := e.st.BudgetStatus(t.Context(), id)
	if err != nil {
		t.Fatalf("BudgetStatus(%s): %v", id, err)
	}
	return st
}

func ptr(v int64) *int64 { return &v }

func userVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Schema changes are versioned migrations (§3): reopening a database applies
// nothing twice and keeps the data.
func TestMigrations_IdempotentOnReopen(t *testing.T) {
	checkLeaks(t)
	mock := clock.NewMock()
	mock.Set(t0)
	path := filepath.Join(t.TempDir(), "budgets.db")

	st, err := OpenFile(path, WithClock(mock))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateBudget(t.Context(), spec("b1", time.Second, 10, 5)); err != nil {
		t.Fatal(err)
	}
	if got := userVersion(t, st.DB()); got != len(migrations) {
		t.Errorf("user_version = %d, want %d", got, len(migrations))
	}
	// Running the migrations again on the open database is a no-op.
	if err := migrate(t.Context(), st.DB(), mock, migrations); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = OpenFile(path, WithClock(mock))
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer st.Close()
	if got := userVersion(t, st.DB()); got != len(migrations) {
		t.Errorf("after reopen user_version = %d, want %d", got, len(migrations))
	}
	ids, err := st.BudgetIDs(t.Context())
	if err != nil || len(ids) != 1 || ids[0] != "b1" {
		t.Errorf("after reopen BudgetIDs = %v, %v; want [b1]", ids, err)
	}
	var mode string
	if err := st.DB().QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

// noWaitClock fails the test if the store waits on it, instead of hanging
// on a mock clock nobody advances.
type noWaitClock struct {
	*clock.Mock
	t *testing.T
}

func (c noWaitClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	c.t.Errorf("unexpected wait of %v", d)
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	return ctx, cancel
}

// Reopening an up-to-date database takes no write lock, so it works while
// another connection is writing.
func TestMigrations_ReopenUnderWriterNeedsNoLock(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", time.Second, 0, 0))
	holdWriteLock(t, e.st)
	if _, err := NewStore(e.st.DB(), WithClock(noWaitClock{e.mock, t})); err != nil {
		t.Errorf("NewStore on a migrated database under a writer: %v", err)
	}
}

// A write whose context is cancelled after its last statement, before
// COMMIT, is rolled back (S5: an abort before the commit loses the work).
func TestWriteTx_CancelBeforeCommitRollsBack(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", time.Second, 0, 0))
	ctx, cancel := context.WithCancel(t.Context())
	err := e.st.writeTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, "UPDATE ff_budget_policy SET breach_count = 7"); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("writeTx = %v, want context.Canceled", err)
	}
	if got := e.status(t, "b1").BreachCount; got != 0 {
		t.Errorf("breach_count = %d, want 0 (rolled back)", got)
	}
}

// Each migration runs in its own transaction (§3): one that fails half-way
// leaves nothing of itself behind and the version at the last good one, and
// the next attempt applies only what is missing.
func TestMigrations_EachInOwnTransaction(t *testing.T) {
	checkLeaks(t)
	mock := clock.NewMock()
	db, err := sql.Open("sqlite3", memdb.TestDB(t, url.Values{"_pragma": {"busy_timeout(0)"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	good := migration{version: 1, name: "one", stmts: []string{"CREATE TABLE one (x)"}}
	bad := migration{version: 2, name: "two", stmts: []string{"CREATE TABLE two (x)", "INSERT INTO nowhere VALUES (1)"}}
	if err := migrate(t.Context(), db, mock, []migration{good, bad}); err == nil {
		t.Fatal("migrate with a failing migration succeeded")
	}
	if got := userVersion(t, db); got != 1 {
		t.Errorf("user_version = %d, want 1 (the failed migration must not count)", got)
	}
	var n int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM sqlite_schema WHERE name = 'two'").Scan(&n); err != nil || n != 0 {
		t.Errorf("table two exists (%d, %v): the failed migration was not rolled back", n, err)
	}

	fixed := migration{version: 2, name: "two", stmts: []string{"CREATE TABLE two (x)"}}
	if err := migrate(t.Context(), db, mock, []migration{good, fixed}); err != nil {
		t.Fatalf("migrate after fix: %v", err)
	}
	if got := userVersion(t, db); got != 2 {
		t.Errorf("user_version = %d, want 2", got)
	}
}

// A database migrated by a newer build is refused rather than misread.
func TestMigrations_NewerSchemaRefused(t *testing.T) {
	e := newEnv(t, Hooks{})
	if _, err := e.st.DB().ExecContext(t.Context(), "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	if _, err := NewStore(e.st.DB()); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("NewStore on a version-99 database: %v; want a 'newer' error", err)
	}
}

// R1: the scan is answered by the partial index in order; a tick with
// nothing due costs one index probe, no table scan and no sort.
func TestR1_ScanUsesPartialIndex(t *testing.T) {
	e := newEnv(t, Hooks{})
	rows, err := e.st.DB().QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+dueBudgetsSQL, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	joined := strings.Join(plan, "\n")
	if !strings.Contains(joined, "ff_budget_policy_next_reset") || strings.Contains(joined, "TEMP B-TREE") {
		t.Errorf("scan plan:\n%s\nwant a search of ff_budget_policy_next_reset without a temp b-tree", joined)
	}
}

// Two live stores never share an in-memory database by accident.
func TestOpenMemory_NameInUseRefused(t *testing.T) {
	checkLeaks(t)
	name := "ffsim-" + t.Name()
	a, err := OpenMemory(name)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := OpenMemory("/" + name); !errors.Is(err, ErrInvalidInput) {
		if b != nil {
			b.Close()
		}
		t.Errorf("second OpenMemory(%q) = %v; want ErrInvalidInput", name, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// Closed: the name is free again, and the database is a new, empty one.
	b, err := OpenMemory(name)
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	defer b.Close()
	if ids, err := b.BudgetIDs(t.Context()); err != nil || len(ids) != 0 {
		t.Errorf("BudgetIDs on a fresh database = %v, %v", ids, err)
	}
}

// holdWriteLock opens a second connection on the store's database and holds
// a write transaction there, with an uncommitted change to b1's usage, until
// the returned release is called.
func holdWriteLock(t *testing.T, st *Store) (release func()) {
	t.Helper()
	conn, err := st.DB().Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(),
		"UPDATE ff_budget_usage SET current_value = 999 WHERE budget_id = 'b1'"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
				t.Error(err)
			}
			conn.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// A reader is never blocked by another connection's open write transaction
// (and sees only committed data).
func TestOpenMemory_ReaderNotBlockedByWriter(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", 10*time.Second, 100, 0))
	e.report(t, "b1", map[string]int64{"tokens": 7}, "")

	holdWriteLock(t, e.st)

	st := e.status(t, "b1")
	if st.Usage["tokens"] != 7 {
		t.Errorf("usage under another writer = %d, want the committed 7", st.Usage["tokens"])
	}
	rows, err := e.st.UsageRows(t.Context())
	if err != nil || len(rows) != 1 || rows[0].CurrentValue != 7 {
		t.Errorf("UsageRows under another writer = %v, %v", rows, err)
	}
	// R1's scan is a read too: it runs, finds nothing due.
	if rep, err := e.st.ScanTick(t.Context(), e.mock.Now()); err != nil || rep != (Report{}) {
		t.Errorf("ScanTick under another writer = %+v, %v", rep, err)
	}
}

// Connections database/sql closes while the store is open (here every idle
// one) finalize their cached statements first; otherwise SQLite would refuse
// to close them and they would leak.
func TestStmtCache_ReleasedWhenPoolClosesConn(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.st.DB().SetMaxIdleConns(0)
	e.create(t, spec("b1", time.Second, 0, 0))
	e.create(t, spec("b2", time.Second, 0, 0))
	e.mock.Add(time.Second)
	rep, err := e.st.ScanTick(t.Context(), e.mock.Now())
	if err != nil || rep.Processed != 2 || rep.Errors != 0 {
		t.Fatalf("ScanTick = %+v, %v; want 2 processed", rep, err)
	}
	if open := e.st.DB().Stats().OpenConnections; open != 0 {
		t.Errorf("OpenConnections = %d, want 0", open)
	}
	if n := e.st.conn.closeErrors.Load(); n != 0 {
		t.Errorf("%d connection closes failed (unfinalized statements?)", n)
	}
}

// Cached statements are reused across ticks on a pooled connection: three
// ticks prepare each statement once.
func TestStmtCache_Reused(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.st.DB().SetMaxOpenConns(1)
	e.create(t, spec("b1", time.Second, 0, 0))
	tick := func() {
		e.mock.Add(time.Second)
		rep, err := e.st.ScanTick(t.Context(), e.mock.Now())
		if err != nil || rep.Processed != 1 {
			t.Fatalf("ScanTick = %+v, %v; want 1 processed", rep, err)
		}
	}
	tick()
	after1 := e.st.conn.prepared.Load()
	tick()
	tick()
	if got := e.st.conn.prepared.Load(); got != after1 {
		t.Errorf("statements prepared: %d after one tick, %d after three: not reused", after1, got)
	}
}

// SQLite itself must not re-prepare the tick's cached statements: a
// statement whose plan reads a bound value (a bound LIMIT, say) is expired
// by every clear of its bindings, which the driver does after each run, and
// is silently compiled again on its next step.
func TestStmtCache_NotRepreparedBySQLite(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.st.DB().SetMaxOpenConns(1)
	e.create(t, spec("b1", time.Second, 0, 0))
	type counts struct{ runs, reprepares int }
	// status reads every cached statement's counters on the one connection.
	status := func() map[string]counts {
		c, err := e.st.DB().Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		out := map[string]counts{}
		err = c.Raw(func(dc any) error {
			for q, s := range dc.(*conn).stmts {
				st, ok := s.base.(interface {
					Status(sqlite3.StmtStatus, bool) int
				})
				if !ok {
					return fmt.Errorf("statement %T has no Status", s.base)
				}
				out[strings.Join(strings.Fields(q), " ")] = counts{st.Status(sqlite3.STMTSTATUS_RUN, false), st.Status(sqlite3.STMTSTATUS_REPREPARE, false)}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tick := func() {
		e.mock.Add(time.Second)
		if _, err := e.st.ScanTick(t.Context(), e.mock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	tick() // prepares the tick's statements
	before := status()
	const ticks = 10
	for range ticks {
		tick()
	}
	checked := 0
	for q, after := range status() {
		if after.runs-before[q].runs < ticks {
			continue
		}
		checked++
		if re := after.reprepares - before[q].reprepares; re > 0 {
			t.Errorf("re-prepared %d times in %d ticks: %s", re, ticks, q)
		}
	}
	if checked == 0 {
		t.Fatal("no statement ran once per tick: the test checks nothing")
	}
}

// Every in-memory store starts as its own copy of one migrated image: at
// the current schema version, and independent of the others.
func TestOpenMemoryStartsFromTheSchemaImage(t *testing.T) {
	a, err := OpenMemory("")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenMemory("")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var v int
	if err := a.DB().QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil || v != migrations[len(migrations)-1].version {
		t.Fatalf("user_version %d (%v), want %d", v, err, migrations[len(migrations)-1].version)
	}
	if _, err := a.CreateBudget(t.Context(), spec("only-in-a", time.Second, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.BudgetStatus(t.Context(), "only-in-a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a budget created in one store is visible in another: %v", err)
	}
	img1, _ := SchemaImage()
	img2, _ := SchemaImage()
	if len(img1) == 0 || &img1[0] == &img2[0] {
		t.Fatal("SchemaImage must return a fresh copy each time")
	}
}
