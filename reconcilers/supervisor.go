package reconcilers

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Config holds the supervisor's cadences (S1). A zero interval disables its
// reconciler; a negative one is an error from [Spawn].
type Config struct {
	// BudgetResetInterval is the budget_reset reconciler's period.
	BudgetResetInterval time.Duration
	// WorkerRegistryTTLInterval is the worker_registry_ttl_sweep
	// reconciler's period (upstream's default is
	// [DefaultWorkerRegistryTTLInterval]; the zero Config disables it).
	WorkerRegistryTTLInterval time.Duration
}

// DefaultWorkerRegistryTTLInterval is upstream's default sweep cadence
// (Postgres' worker_registry_ttl_interval).
const DefaultWorkerRegistryTTLInterval = 30 * time.Second

// Reconciler names, as events, logs and scenarios spell them.
const (
	BudgetReset            = "budget_reset"
	WorkerRegistryTTLSweep = "worker_registry_ttl_sweep"
)

// delayTolerance is tokio's MissedTickBehavior::Delay slack (S4): a tick
// observed within 5 ms of its deadline keeps the schedule.
const delayTolerance = 5 * time.Millisecond

// reconciler is one registration: a named tick body run every interval.
type reconciler struct {
	name     string
	interval time.Duration
	tick     func(ctx context.Context, now time.Time) (Report, error)
}

// registrations lists every reconciler the supervisor knows. Adding one is
// one more entry here (S1); the loop does not change.
func (c Config) registrations(st *Store) []reconciler {
	return []reconciler{
		{name: BudgetReset, interval: c.BudgetResetInterval, tick: st.ScanTick},
		{name: WorkerRegistryTTLSweep, interval: c.WorkerRegistryTTLInterval, tick: st.TTLSweepTick},
	}
}

// Supervisor runs the reconciler tasks started by [Spawn]. It is the port of
// the original's SqliteScannerHandle.
type Supervisor struct {
	o options

	// stopCtx is the shutdown signal; cancelling it is the port of sending
	// true on the watch channel.
	stopCtx context.Context
	stop    context.CancelFunc

	// allExited is cancelled when the last task exits.
	allExited    context.Context
	allExitedNow context.CancelFunc

	mu       sync.Mutex
	tasks    []*task // registration order, live and exited
	live     int
	shutdown bool // a Shutdown call has started
	// shutdownDone is cancelled when the first Shutdown call returns, so later
	// concurrent calls can wait for it on the clock.
	shutdownDone    context.Context
	shutdownDoneNow context.CancelFunc
}

type task struct {
	name  string
	abort context.CancelFunc
	live  bool
}

// Spawn validates cfg and starts one task per enabled reconciler (S1, S2).
// Every task is registered before Spawn returns, so a Shutdown called at once
// drains all of them. It logs, at info level, how many reconcilers started.
//
// A negative interval is a configuration error wrapping [ErrInvalidInput].
func Spawn(st *Store, cfg Config, opts ...Option) (*Supervisor, error) {
	if st == nil {
		return nil, fmt.Errorf("%w: Spawn needs a store", ErrInvalidInput)
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	var regs []reconciler
	for _, r := range cfg.registrations(st) {
		switch {
		case r.interval < 0:
			return nil, fmt.Errorf("%w: %s interval %v is negative", ErrInvalidInput, r.name, r.interval)
		case r.interval == 0:
			continue // disabled (S1)
		}
		regs = append(regs, r)
	}

	s := &Supervisor{o: o}
	s.stopCtx, s.stop = context.WithCancel(context.Background())
	s.allExited, s.allExitedNow = context.WithCancel(context.Background())
	s.shutdownDone, s.shutdownDoneNow = context.WithCancel(context.Background())

	start := o.clock.Now()
	s.mu.Lock()
	s.emit(Event{Kind: EventSpawned, Count: len(regs)})
	for _, r := range regs {
		ctx, abort := context.WithCancel(context.Background())
		t := &task{name: r.name, abort: abort, live: true}
		s.tasks = append(s.tasks, t)
		s.live++
		// The first wait is armed here, in registration order, rather than
		// by the task: two reconcilers whose first ticks fall at the same
		// instant then wake in the order S1 registers them, not in the
		// order the Go scheduler happened to start their goroutines.
		first, cancel := o.clock.WithTimeout(s.stopCtx, r.interval)
		go s.run(ctx, t, r, start, first, cancel)
	}
	if s.live == 0 {
		s.allExitedNow()
	}
	s.mu.Unlock()

	o.logger.Info("scanner supervisor spawned", "scanners", len(regs))
	return s, nil
}

func (s *Supervisor) emit(e Event) {
	if s.o.observer != nil {
		s.o.observer(e)
	}
}

// run is one task's tick loop (S3, S4). first is the wait for tick 1,
// armed by Spawn.
func (s *Supervisor) run(ctx context.Context, t *task, r reconciler, start time.Time, first context.Context, cancelFirst context.CancelFunc) {
	defer s.exit(t)
	clk := s.o.clock
	// The interval's first, immediate tick is consumed at spawn: the first
	// run is one period later.
	deadline := start.Add(r.interval)
	<-first.Done()
	cancelFirst()
	for n := 1; ; n++ {
		if d := deadline.Sub(clk.Now()); n > 1 && d > 0 {
			w, cancel := clk.WithTimeout(s.stopCtx, d)
			<-w.Done()
			cancel()
		}
		// Shutdown won the race, or the tick fired after shutdown was
		// requested: either way the original exits without running.
		if s.stopCtx.Err() != nil {
			return
		}
		// Delay (S4): a late observation restarts the schedule from now.
		if observed := clk.Now(); observed.After(deadline.Add(delayTolerance)) {
			deadline = observed.Add(r.interval)
		} else {
			deadline = deadline.Add(r.interval)
		}
		s.tick(ctx, r, n)
	}
}

// tick runs one tick body and reports it; an error is logged, never fatal.
func (s *Supervisor) tick(ctx context.Context, r reconciler, n int) {
	now := s.o.clock.Now()
	info := Tick{Reconciler: r.name, N: n, Now: now}
	ctx = withTick(ctx, info)
	s.emit(Event{Kind: EventTickStarted, Reconciler: r.name, Tick: n, Now: now})
	var rep Report
	var err error
	if h := s.o.hooks.BeforeTick; h != nil {
		err = h(ctx)
	}
	if err == nil {
		rep, err = r.tick(ctx, now)
	}
	s.emit(Event{Kind: EventTickFinished, Reconciler: r.name, Tick: n, Now: now, Report: rep, Err: err})
	switch {
	case err != nil && ctx.Err() != nil:
		s.o.logger.Warn("reconciler tick aborted by shutdown", "scanner", r.name, "error", err)
	case err != nil:
		s.o.logger.Warn("reconciler tick failed", "scanner", r.name, "error", err)
	}
}

// exit unregisters t, under the lock so that a Shutdown counting live tasks
// sees it either live or gone, never half of each. A waiting Shutdown or
// Wait is woken before the exit is reported: an observer that counts live
// goroutines (a simulator deciding whether the world is idle) must never see
// this task gone while the goroutines it wakes are not yet running.
func (s *Supervisor) exit(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t.live = false
	t.abort() // release the context; the task is done with it
	s.live--
	if s.live == 0 {
		s.allExitedNow()
	}
	s.emit(Event{Kind: EventExited, Reconciler: t.name})
}

// Running returns the number of live reconciler tasks.
func (s *Supervisor) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live
}

// Done is closed when every task has exited.
func (s *Supervisor) Done() <-chan struct{} { return s.allExited.Done() }

// Wait blocks until every task has exited. It waits on the injected clock,
// so a simulator sees the caller parked rather than running.
func (s *Supervisor) Wait() { waitDone(s.allExited, s.o.clock) }

// Shutdown signals every task to stop and waits, on the injected clock, until
// all have exited or grace has elapsed (S5). Tasks still running then are
// aborted (their context is cancelled, so in-flight work stops at its next
// cancellation point and its transaction rolls back) and their number is
// returned. It counts tasks, not lost work: an aborted task may still commit
// if its commit comes before its next cancellation point.
//
// grace <= 0 returns at once the number of registered tasks (every task
// Spawn started, live or not: none has been joined yet) and aborts the live
// ones.
// Concurrent calls serialise; every call after the first returns 0.
func (s *Supervisor) Shutdown(grace time.Duration) int {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		waitDone(s.shutdownDone, s.o.clock)
		return 0
	}
	s.shutdown = true
	s.signal()
	// With no grace the lock is kept from the signal to the count, so no
	// task can exit in between: which tasks are aborted does not depend on
	// how fast the signalled ones leave.
	if grace > 0 {
		s.mu.Unlock()
		// Wake on whichever comes first: the last exit or the deadline. A
		// task that exits at the deadline instant counts as drained when its
		// exit is seen first; the check below is under the same lock as the
		// exit, so the answer is never half of each.
		w, cancel := s.o.clock.WithTimeout(s.allExited, grace)
		<-w.Done()
		cancel()
		s.mu.Lock()
	}

	timedOut := 0
	for _, t := range s.tasks {
		// With no grace the deadline has passed before anything could be
		// joined: every registered task counts, as in the original, whose
		// JoinSet still holds tasks that finished but were never joined.
		if t.live || grace <= 0 {
			timedOut++
		}
		if t.live {
			// Report before cancelling: once cancelled, the task runs on
			// and its own events must come after this one.
			s.emit(Event{Kind: EventAborted, Reconciler: t.name})
			t.abort()
		}
	}
	s.emit(Event{Kind: EventShutdownReturned, Count: timedOut})
	s.mu.Unlock()
	s.shutdownDoneNow()
	return timedOut
}

// signal sends the shutdown signal once. Callers hold s.mu.
func (s *Supervisor) signal() {
	if s.stopCtx.Err() == nil {
		s.emit(Event{Kind: EventShutdownRequested})
		s.stop()
	}
}

// Close is the port of the original's Drop: a best-effort signal with no
// waiting (S6). Idle tasks exit at once; a task in the middle of a tick exits
// when that tick ends.
func (s *Supervisor) Close() {
	s.mu.Lock()
	s.signal()
	s.mu.Unlock()
}
