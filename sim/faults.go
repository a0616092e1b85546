package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/ffsim/ffsim/reconcilers"
	"github.com/ffsim/ffsim/scenario"
)

// faults holds the armed fault steps and serves them through the
// reconcilers' hooks, from whichever goroutine reaches a hook point.
//
// Durations that add up (two slow_tick steps on one tick) saturate instead
// of overflowing, and injections queue rather than sum their counts: a huge
// value means "always", never a negative that switches the fault off.
type faults struct {
	mu   sync.Mutex
	slow []scenario.SlowTickStep
	// slowDone records the inside_tx slowdowns already served, by
	// reconciler/tick: a tick with several due budgets is slowed once.
	slowDone map[string]bool
	tickErrs []scenario.TickErrorStep
	// writes and scans are the armed error injections, first armed first
	// served: each write-transaction attempt (or scan) takes one from the
	// head. busy is db_error with code busy.
	writes, scans []dbFault
}

// dbFault is an armed injection: left more attempts fail with code.
type dbFault struct {
	step string // "busy" or "db_error", for the trace
	code string
	left int
}

func (f *faults) init() { f.slowDone = map[string]bool{} }

// hooks are the fault points the store and the supervisor call.
func (f *faults) hooks(e *engine) reconcilers.Hooks {
	return reconcilers.Hooks{
		BeforeTick:  e.beforeTick,
		BeforeWrite: func(ctx context.Context) error { return e.inject(ctx, &e.faults.writes) },
		BeforeScan:  func(ctx context.Context) error { return e.inject(ctx, &e.faults.scans) },
		InsideReset: e.insideReset,
		InsideSweep: func(ctx context.Context) error { return e.insideTx(ctx, "") },
	}
}

// sqliteErrors are the injected errors: SQLite's extended code and its
// message, as SQLite words them.
var sqliteErrors = map[string]struct {
	code int
	text string
}{
	"busy":          {5, "database is locked"},
	"busy_snapshot": {517, "database is locked"},
	"locked":        {6, "database table is locked"},
	"full":          {13, "database or disk is full"},
	"ioerr":         {10, "disk I/O error"},
	"corrupt":       {11, "database disk image is malformed"},
}

// arm records a fault step.
func (e *engine) arm(s *scenario.Step) {
	f := &e.faults
	f.mu.Lock()
	switch s.Kind() {
	case scenario.KindSlowTick:
		f.slow = append(f.slow, *s.SlowTick)
	case scenario.KindTickError:
		f.tickErrs = append(f.tickErrs, *s.TickError)
	case scenario.KindBusy:
		f.writes = append(f.writes, dbFault{step: "busy", code: "busy", left: s.Busy.Attempts})
	case scenario.KindDBError:
		d := dbFault{step: "db_error", code: s.DBError.Code, left: s.DBError.Attempts}
		if s.DBError.Target() == scenario.OnScan {
			f.scans = append(f.scans, d)
		} else {
			f.writes = append(f.writes, d)
		}
	}
	f.mu.Unlock()
	e.rec.add(Event{Kind: EvFault, Step: s.Kind().String(), Line: s.Pos.Line, Detail: "armed"})
}

// addDur adds two non-negative durations, saturating.
func addDur(a, b time.Duration) time.Duration {
	if b > math.MaxInt64-a {
		return math.MaxInt64
	}
	return a + b
}

// slowFor sums the slowdowns armed for tick t at where.
func (f *faults) slowFor(t reconcilers.Tick, where string) time.Duration {
	var d time.Duration
	for _, s := range f.slow {
		if s.Target() == t.Reconciler && s.Tick == t.N && s.Place() == where {
			d = addDur(d, s.Duration)
		}
	}
	return d
}

func (e *engine) beforeTick(ctx context.Context) error {
	e.w.yield()
	t, _ := reconcilers.TickFrom(ctx)
	f := &e.faults
	f.mu.Lock()
	var fail bool
	for _, te := range f.tickErrs {
		if te.Target() == t.Reconciler && te.Tick == t.N {
			fail = true
		}
	}
	slow := f.slowFor(t, scenario.BeforeTx)
	f.mu.Unlock()
	if fail {
		e.rec.add(Event{Kind: EvFault, Source: t.Reconciler, Step: "tick_error", Tick: t.N})
		return fmt.Errorf("injected tick error (tick %d)", t.N)
	}
	if slow > 0 {
		e.rec.add(Event{Kind: EvFault, Source: t.Reconciler, Step: "slow_tick", Tick: t.N, Detail: "before_tx " + slow.String()})
		return e.sleep(ctx, slow)
	}
	return nil
}

func (e *engine) insideReset(ctx context.Context, budget string) error {
	e.w.yield()
	t, _ := reconcilers.TickFrom(ctx)
	e.rec.add(Event{Kind: EvResetZeroed, Source: t.Reconciler, Tick: t.N, Budget: budget})
	return e.insideTx(ctx, budget)
}

// insideTx serves a slow_tick inside_tx: the tick's transaction sleeps
// before its commit, once per tick. budget names the reset it is in ("" for
// the sweep).
func (e *engine) insideTx(ctx context.Context, budget string) error {
	t, ok := reconcilers.TickFrom(ctx)
	if !ok {
		return nil // a scan_tick or sweep_tick step: no tick to slow
	}
	f := &e.faults
	f.mu.Lock()
	// Only ticks that have a slowdown are remembered: the set must not
	// grow with every tick of a long run.
	var slow time.Duration
	if len(f.slow) > 0 {
		key := fmt.Sprintf("%s/%d", t.Reconciler, t.N)
		if !f.slowDone[key] {
			slow = f.slowFor(t, scenario.InsideTx)
			if slow > 0 {
				f.slowDone[key] = true
			}
		}
	}
	f.mu.Unlock()
	if slow > 0 {
		e.rec.add(Event{Kind: EvFault, Source: t.Reconciler, Step: "slow_tick", Tick: t.N, Budget: budget, Detail: "inside_tx " + slow.String()})
		return e.sleep(ctx, slow)
	}
	return nil
}

// inject serves the head of an injection queue: the attempt fails with its
// SQLite error.
func (e *engine) inject(ctx context.Context, q *[]dbFault) error {
	e.w.yield()
	f := &e.faults
	f.mu.Lock()
	if len(*q) == 0 {
		f.mu.Unlock()
		return nil
	}
	d := (*q)[0]
	if (*q)[0].left--; (*q)[0].left == 0 {
		*q = (*q)[1:]
	}
	f.mu.Unlock()
	t, _ := reconcilers.TickFrom(ctx)
	ev := Event{Kind: EvFault, Source: t.Reconciler, Step: d.step, Tick: t.N}
	if d.step != "busy" {
		ev.Detail = d.code
	}
	e.rec.add(ev)
	se := sqliteErrors[d.code]
	return &reconcilers.SQLiteError{Code: se.code, Text: fmt.Sprintf("injected SQLITE_%s: %s", strings.ToUpper(d.code), se.text)}
}

// holdWriteLock has a second connection take the write lock and keep it for
// d of simulated time, in the background.
func (e *engine) holdWriteLock(d time.Duration) error {
	ctx := context.Background()
	conn, err := e.store.DB().Conn(ctx)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		conn.Close()
		return fmt.Errorf("hold_write_lock: %w", err)
	}
	e.rec.add(Event{Kind: EvFault, Step: "hold_write_lock", Detail: "lock taken for " + d.String()})
	finished, finish := context.WithCancel(ctx)
	var relErr error
	release := func() {
		defer finish()
		_ = e.sleep(e.holds, d)
		_, err := conn.ExecContext(ctx, "ROLLBACK")
		e.rec.add(Event{Kind: EvFault, Step: "hold_write_lock", Detail: "lock released"})
		relErr = errors.Join(err, conn.Close())
	}
	e.bg = append(e.bg, func() error {
		if err := e.w.do(func() { waitCtx(e.w.clock(), finished) }); err != nil {
			return err
		}
		return relErr
	})
	return e.w.background(release)
}

// waitCtx blocks until ctx is done, parked on the clock.
func waitCtx(c reconcilers.Clock, ctx context.Context) {
	w, cancel := c.WithTimeout(ctx, time.Duration(math.MaxInt64))
	<-w.Done()
	cancel()
}
