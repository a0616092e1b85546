package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/ffsim/ffsim/reconcilers"
	"github.com/ffsim/ffsim/scenario"
)

// faults holds the armed fault steps and serves them through the
// reconcilers' hooks, from whichever goroutine reaches a hook point.
//
// Counts and durations that add up (two busy steps, two slow_tick steps on
// one tick) saturate instead of overflowing: a huge value means "always",
// never a negative that switches the fault off.
type faults struct {
	mu   sync.Mutex
	slow []scenario.SlowTickStep
	// slowDone records the inside_tx slowdowns already served, by
	// reconciler/tick: a tick with several due budgets is slowed once.
	slowDone map[string]bool
	tickErrs []scenario.TickErrorStep
	busyLeft int
}

func (f *faults) init() { f.slowDone = map[string]bool{} }

// hooks are the fault points the store and the supervisor call.
func (f *faults) hooks(e *engine) reconcilers.Hooks {
	return reconcilers.Hooks{
		BeforeTick:  e.beforeTick,
		BeforeWrite: e.beforeWrite,
		InsideReset: e.insideReset,
	}
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
		f.busyLeft = addSat(f.busyLeft, s.Busy.Attempts)
	}
	f.mu.Unlock()
	e.rec.add(Event{Kind: EvFault, Step: s.Kind().String(), Line: s.Pos.Line, Detail: "armed"})
}

// addSat adds two non-negative counts, saturating at the largest int.
func addSat(a, b int) int {
	if b > math.MaxInt-a {
		return math.MaxInt
	}
	return a + b
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
	t, ok := reconcilers.TickFrom(ctx)
	e.rec.add(Event{Kind: EvResetZeroed, Source: t.Reconciler, Tick: t.N, Budget: budget})
	if !ok {
		return nil
	}
	key := fmt.Sprintf("%s/%d", t.Reconciler, t.N)
	f := &e.faults
	f.mu.Lock()
	var slow time.Duration
	if !f.slowDone[key] {
		slow = f.slowFor(t, scenario.InsideTx)
		f.slowDone[key] = true
	}
	f.mu.Unlock()
	if slow > 0 {
		e.rec.add(Event{Kind: EvFault, Source: t.Reconciler, Step: "slow_tick", Tick: t.N, Budget: budget, Detail: "inside_tx " + slow.String()})
		return e.sleep(ctx, slow)
	}
	return nil
}

func (e *engine) beforeWrite(ctx context.Context) error {
	e.w.yield()
	f := &e.faults
	f.mu.Lock()
	busy := f.busyLeft > 0
	if busy && f.busyLeft != math.MaxInt {
		f.busyLeft--
	}
	f.mu.Unlock()
	if busy {
		t, _ := reconcilers.TickFrom(ctx)
		e.rec.add(Event{Kind: EvFault, Source: t.Reconciler, Step: "busy", Tick: t.N})
		return fmt.Errorf("%w: injected SQLITE_BUSY", reconcilers.ErrBusy)
	}
	return nil
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
		_ = e.sleep(ctx, d)
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
