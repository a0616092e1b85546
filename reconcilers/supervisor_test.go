package reconcilers_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/ffsim/ffsim/reconcilers"
	"github.com/ffsim/ffsim/sim"
	"go.uber.org/goleak"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// rig drives a supervisor on the simulator's virtual clock, so every test
// below is exact to the nanosecond and never sleeps.
type rig struct {
	t   *testing.T
	vc  *sim.VirtualClock
	st  *reconcilers.Store
	sup *reconcilers.Supervisor
	log *logBuf

	mu     sync.Mutex
	events []reconcilers.Event
}

func newRig(t *testing.T, storeOpts ...reconcilers.Option) *rig {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	r := &rig{t: t, vc: sim.NewVirtualClock(t0), log: &logBuf{}}
	st, err := reconcilers.OpenMemory("", r.opts(storeOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r.st = st
	t.Cleanup(func() {
		if r.sup != nil {
			r.run(func() { r.sup.Shutdown(0); r.sup.Wait() })
		}
		if err := st.Close(); err != nil {
			t.Error(err)
		}
		goleak.VerifyNone(t, ignore)
	})
	return r
}

func (r *rig) opts(extra ...reconcilers.Option) []reconcilers.Option {
	return append([]reconcilers.Option{
		reconcilers.WithClock(r.vc),
		reconcilers.WithLogger(slog.New(slog.NewTextHandler(r.log, nil))),
		reconcilers.WithObserver(func(e reconcilers.Event) {
			r.mu.Lock()
			r.events = append(r.events, e)
			r.mu.Unlock()
			r.vc.Observe(e)
		}),
	}, extra...)
}

func (r *rig) spawn(interval time.Duration, hooks reconcilers.Hooks) {
	r.t.Helper()
	sup, err := reconcilers.Spawn(r.st, reconcilers.Config{BudgetResetInterval: interval}, r.opts(reconcilers.WithHooks(hooks))...)
	if err != nil {
		r.t.Fatal(err)
	}
	r.sup = sup
	r.idle()
}

func (r *rig) idle() {
	r.t.Helper()
	if err := r.vc.WaitIdle(); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) advance(d time.Duration) {
	r.t.Helper()
	if err := r.vc.Advance(d); err != nil {
		r.t.Fatal(err)
	}
}

// run runs fn as a tracked goroutine and lets simulated time pass until it
// returns.
func (r *rig) run(fn func()) {
	r.t.Helper()
	if err := r.vc.RunUntil(r.vc.Go(fn)); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) shutdown(grace time.Duration) int {
	var n int
	r.run(func() { n = r.sup.Shutdown(grace) })
	return n
}

// tickStarts returns the offsets at which ticks started.
func (r *rig) tickStarts() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Duration
	for _, e := range r.events {
		if e.Kind == reconcilers.EventTickStarted {
			out = append(out, e.Now.Sub(t0))
		}
	}
	return out
}

func (r *rig) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e.Kind.String())
	}
	return out
}

// sleepHook waits d of simulated time in the given tick, honouring aborts.
func sleepHook(c reconcilers.Clock, tick int, d time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if t, _ := reconcilers.TickFrom(ctx); t.N != tick {
			return nil
		}
		w, cancel := c.WithTimeout(ctx, d)
		<-w.Done()
		cancel()
		return ctx.Err()
	}
}

type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func durations(ds ...time.Duration) []time.Duration { return ds }

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestS1ZeroIntervalDisablesReconciler(t *testing.T) {
	r := newRig(t)
	r.spawn(0, reconcilers.Hooks{})
	r.advance(time.Hour)
	if n := r.sup.Running(); n != 0 {
		t.Fatalf("running = %d, want 0", n)
	}
	if ticks := r.tickStarts(); len(ticks) != 0 {
		t.Fatalf("ticks at %v, want none", ticks)
	}
	if n := r.shutdown(time.Second); n != 0 {
		t.Fatalf("shutdown = %d, want 0", n)
	}
}

func TestS1NegativeIntervalIsAnError(t *testing.T) {
	r := newRig(t)
	sup, err := reconcilers.Spawn(r.st, reconcilers.Config{BudgetResetInterval: -time.Second}, r.opts()...)
	if !errors.Is(err, reconcilers.ErrInvalidInput) || sup != nil {
		t.Fatalf("Spawn = %v, %v; want ErrInvalidInput", sup, err)
	}
}

func TestS2ImmediateShutdownDrains(t *testing.T) {
	r := newRig(t)
	r.spawn(5*time.Second, reconcilers.Hooks{})
	if n := r.sup.Running(); n != 1 {
		t.Fatalf("running after spawn = %d, want 1 (registered synchronously)", n)
	}
	if n := r.shutdown(time.Second); n != 0 {
		t.Fatalf("shutdown = %d, want 0", n)
	}
	if n := r.sup.Running(); n != 0 {
		t.Fatalf("running after shutdown = %d", n)
	}
	if !strings.Contains(r.log.String(), "level=INFO") || !strings.Contains(r.log.String(), "scanners=1") {
		t.Fatalf("spawn log missing: %q", r.log.String())
	}
	if got := r.vc.Now(); !got.Equal(t0) {
		t.Fatalf("shutdown took simulated time: now %v", got.Sub(t0))
	}
}

func TestS3FirstTickOnePeriodAfterSpawn(t *testing.T) {
	r := newRig(t)
	r.advance(2 * time.Second) // spawn at t=2s
	r.spawn(5*time.Second, reconcilers.Hooks{})
	r.advance(6999 * time.Millisecond)
	if got := r.tickStarts(); !equalDurations(got, durations(7*time.Second)) {
		t.Fatalf("ticks at %v, want [7s]", got)
	}
	r.advance(10 * time.Second)
	if got := r.tickStarts(); !equalDurations(got, durations(7*time.Second, 12*time.Second, 17*time.Second)) {
		t.Fatalf("ticks at %v, want [7s 12s 17s]", got)
	}
}

func TestS3TickErrorIsLoggedAndLoopGoesOn(t *testing.T) {
	r := newRig(t)
	r.spawn(time.Second, reconcilers.Hooks{BeforeTick: func(ctx context.Context) error {
		if tk, _ := reconcilers.TickFrom(ctx); tk.N == 2 {
			return errors.New("boom")
		}
		return nil
	}})
	r.advance(3 * time.Second)
	if got := len(r.tickStarts()); got != 3 {
		t.Fatalf("%d ticks, want 3", got)
	}
	log := r.log.String()
	if !strings.Contains(log, "level=WARN") || !strings.Contains(log, "scanner=budget_reset") || !strings.Contains(log, "boom") {
		t.Fatalf("warn line missing: %q", log)
	}
}

func TestS3ShutdownWhileWaitingExitsWithoutTick(t *testing.T) {
	r := newRig(t)
	r.spawn(5*time.Second, reconcilers.Hooks{})
	r.advance(4 * time.Second)
	if n := r.shutdown(time.Second); n != 0 {
		t.Fatalf("shutdown = %d", n)
	}
	r.advance(time.Minute)
	if got := r.tickStarts(); len(got) != 0 {
		t.Fatalf("ticks after shutdown: %v", got)
	}
}

// S4: a tick body that overruns its 5 s period by 12 s gives ticks at 5 s,
// 17 s, 22 s, 27 s: one immediate follow-up, then the schedule restarts.
func TestS4DelayOverrunRestartsSchedule(t *testing.T) {
	r := newRig(t)
	r.spawn(5*time.Second, reconcilers.Hooks{BeforeTick: sleepHook(r.vc, 1, 12*time.Second)})
	r.advance(28 * time.Second)
	want := durations(5*time.Second, 17*time.Second, 22*time.Second, 27*time.Second)
	if got := r.tickStarts(); !equalDurations(got, want) {
		t.Fatalf("ticks at %v, want %v", got, want)
	}
}

// S4: the 5 ms tolerance. Overrunning by 5.003 s keeps the schedule; by
// 5.006 s restarts it.
func TestS4DelayTolerance(t *testing.T) {
	for _, c := range []struct {
		overrun time.Duration
		want    []time.Duration
	}{
		{5003 * time.Millisecond, durations(5*time.Second, 10003*time.Millisecond, 15*time.Second, 20*time.Second)},
		{5006 * time.Millisecond, durations(5*time.Second, 10006*time.Millisecond, 15006*time.Millisecond, 20006*time.Millisecond)},
	} {
		t.Run(c.overrun.String(), func(t *testing.T) {
			r := newRig(t)
			r.spawn(5*time.Second, reconcilers.Hooks{BeforeTick: sleepHook(r.vc, 1, c.overrun)})
			r.advance(21 * time.Second)
			if got := r.tickStarts(); !equalDurations(got, c.want) {
				t.Fatalf("ticks at %v, want %v", got, c.want)
			}
		})
	}
}

func TestS5GraceZeroReturnsRegisteredCount(t *testing.T) {
	r := newRig(t)
	r.spawn(5*time.Second, reconcilers.Hooks{})
	if n := r.shutdown(0); n != 1 {
		t.Fatalf("shutdown(0) = %d, want 1", n)
	}
	if n := r.shutdown(time.Second); n != 0 {
		t.Fatalf("second shutdown = %d, want 0", n)
	}
}

// S5: with timers firing in the order they were set, a task whose tick ends
// exactly at the grace deadline exits first and counts as drained.
func TestS5ExitAtDeadlineCountsAsDrained(t *testing.T) {
	r := newRig(t)
	r.spawn(5*time.Second, reconcilers.Hooks{BeforeTick: sleepHook(r.vc, 1, 3*time.Second)})
	r.advance(6 * time.Second) // tick 1 started at 5s and sleeps until 8s
	if n := r.shutdown(2 * time.Second); n != 0 {
		t.Fatalf("shutdown = %d, want 0 (drained at the deadline)", n)
	}
	if now := r.vc.Now().Sub(t0); now != 8*time.Second {
		t.Fatalf("shutdown returned at %v, want 8s", now)
	}
}

// S5: a task still in its tick at the deadline is aborted; its reset
// transaction rolls back completely.
func TestS5AbortInsideResetRollsBack(t *testing.T) {
	aborted := make(chan error, 1)
	var r *rig
	r = newRig(t, reconcilers.WithHooks(reconcilers.Hooks{InsideReset: func(ctx context.Context, id string) error {
		// The reset transaction stalls after zeroing usage, before COMMIT.
		err := sleepHook(r.vc, 1, time.Hour)(ctx)
		aborted <- err
		return err
	}}))
	ctx := context.Background()
	if _, err := r.st.CreateBudget(ctx, reconcilers.BudgetSpec{
		ID: "b1", Scope: reconcilers.Scope{Type: "flow", ID: "f"}, EnforcementMode: "strict",
		OnHardLimit: "fail", OnSoftLimit: "warn", ResetInterval: 5 * time.Second,
		Dimensions: []string{"tokens", "calls"}, HardLimits: []int64{0, 0}, SoftLimits: []int64{0, 0},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.st.ReportUsage(ctx, "b1", map[string]int64{"tokens": 7, "calls": 2}, ""); err != nil {
		t.Fatal(err)
	}
	r.spawn(5*time.Second, reconcilers.Hooks{})
	r.advance(5 * time.Second) // tick 1 is now inside the reset transaction
	if n := r.shutdown(2 * time.Second); n != 1 {
		t.Fatalf("shutdown = %d, want 1 aborted", n)
	}
	r.run(func() { r.sup.Wait() })
	if err := <-aborted; !errors.Is(err, context.Canceled) {
		t.Fatalf("hook saw %v, want context.Canceled", err)
	}
	s, err := r.st.BudgetStatus(ctx, "b1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Usage["tokens"] != 7 || s.Usage["calls"] != 2 {
		t.Fatalf("usage %v: the aborted reset was not rolled back", s.Usage)
	}
	if s.NextResetAtMs == nil || *s.NextResetAtMs != t0.Add(5*time.Second).UnixMilli() {
		t.Fatalf("next_reset_at %v: the aborted reset was not rolled back", s.NextResetAtMs)
	}
	if k := r.kinds(); !contains(k, "aborted") {
		t.Fatalf("no aborted event in %v", k)
	}
}

func TestS5ConcurrentShutdownsSerialise(t *testing.T) {
	r := newRig(t)
	r.spawn(5*time.Second, reconcilers.Hooks{BeforeTick: sleepHook(r.vc, 1, 10*time.Second)})
	r.advance(5 * time.Second)
	var a, b int
	da := r.vc.Go(func() { a = r.sup.Shutdown(time.Second) })
	db := r.vc.Go(func() { b = r.sup.Shutdown(time.Second) })
	if err := r.vc.RunUntil(da); err != nil {
		t.Fatal(err)
	}
	if err := r.vc.RunUntil(db); err != nil {
		t.Fatal(err)
	}
	if a+b != 1 || (a != 0 && b != 0) {
		t.Fatalf("shutdowns returned %d and %d; want one 1 and one 0", a, b)
	}
}

func TestS6CloseIdleExitsAtOnce(t *testing.T) {
	r := newRig(t)
	r.spawn(5*time.Second, reconcilers.Hooks{})
	r.sup.Close()
	r.idle()
	if n := r.sup.Running(); n != 0 {
		t.Fatalf("running after close = %d", n)
	}
}

func TestS6CloseMidTickExitsWhenTickEnds(t *testing.T) {
	r := newRig(t)
	r.spawn(5*time.Second, reconcilers.Hooks{BeforeTick: sleepHook(r.vc, 1, 3*time.Second)})
	r.advance(6 * time.Second)
	r.sup.Close()
	r.idle()
	if n := r.sup.Running(); n != 1 {
		t.Fatalf("running mid-tick after close = %d, want 1", n)
	}
	r.advance(2 * time.Second) // the tick ends at 8s
	if n := r.sup.Running(); n != 0 {
		t.Fatalf("running after the tick ended = %d, want 0", n)
	}
	if got := len(r.tickStarts()); got != 1 {
		t.Fatalf("%d ticks, want 1", got)
	}
}

func TestS7ObserverSeesLifecycle(t *testing.T) {
	r := newRig(t)
	r.spawn(time.Second, reconcilers.Hooks{})
	r.advance(time.Second)
	r.shutdown(time.Second)
	want := []string{"spawned", "tick_started", "tick_finished", "shutdown_requested", "exited", "shutdown_returned"}
	if got := r.kinds(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// The supervisor under clock.NewMock(), as a user would write it: advance the
// mock and wait for the observer to report the tick.
func TestS3WithBenbjohnsonMockClock(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	mock := clock.NewMock()
	mock.Set(t0)
	st, err := reconcilers.OpenMemory("", reconcilers.WithClock(mock))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ticks := make(chan reconcilers.Event, 16)
	waiting := make(chan struct{}, 16)
	sup, err := reconcilers.Spawn(st, reconcilers.Config{BudgetResetInterval: time.Second},
		reconcilers.WithClock(mock),
		reconcilers.WithLogger(slog.New(slog.DiscardHandler)),
		reconcilers.WithObserver(func(e reconcilers.Event) {
			switch e.Kind {
			case reconcilers.EventSpawned, reconcilers.EventTickFinished:
				waiting <- struct{}{}
			case reconcilers.EventTickStarted:
				ticks <- e
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		<-waiting // the loop is about to wait for its next tick
		// The mock only fires timers that exist: keep advancing until the
		// loop has registered its timer and the tick starts.
		var e reconcilers.Event
		for got := false; !got; {
			mock.Add(time.Second / 4)
			select {
			case e = <-ticks:
				got = true
			default:
			}
		}
		if want := t0.Add(time.Duration(i) * time.Second); e.Now.Before(want) {
			t.Fatalf("tick %d at %v, want not before %v", i, e.Now.Sub(t0), want.Sub(t0))
		}
	}
	sup.Close()
	<-sup.Done()
}

// S1: both reconcilers run under the one loop, registered budget_reset
// first, each on its own period; Shutdown counts both.
func TestS1TwoReconcilers(t *testing.T) {
	r := newRig(t)
	sup, err := reconcilers.Spawn(r.st, reconcilers.Config{BudgetResetInterval: 5 * time.Second, WorkerRegistryTTLInterval: 3 * time.Second}, r.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	r.sup = sup
	r.idle()
	if n := sup.Running(); n != 2 {
		t.Fatalf("running = %d, want 2", n)
	}
	r.advance(15 * time.Second)
	r.mu.Lock()
	ticks := map[string][]time.Duration{}
	for _, e := range r.events {
		if e.Kind == reconcilers.EventTickStarted {
			ticks[e.Reconciler] = append(ticks[e.Reconciler], e.Now.Sub(t0))
		}
	}
	r.mu.Unlock()
	s := time.Second
	if want := durations(5*s, 10*s, 15*s); !equalDurations(ticks[reconcilers.BudgetReset], want) {
		t.Errorf("budget_reset ticks at %v, want %v", ticks[reconcilers.BudgetReset], want)
	}
	if want := durations(3*s, 6*s, 9*s, 12*s, 15*s); !equalDurations(ticks[reconcilers.WorkerRegistryTTLSweep], want) {
		t.Errorf("sweep ticks at %v, want %v", ticks[reconcilers.WorkerRegistryTTLSweep], want)
	}
	if !strings.Contains(r.log.String(), "scanners=2") {
		t.Errorf("spawn log: %q", r.log.String())
	}
	if n := r.shutdown(0); n != 2 {
		t.Errorf("Shutdown(0) = %d, want 2", n)
	}
}
