package sim

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ffsim/ffsim/reconcilers"
)

// VirtualClock is the native host's event-driven clock. It satisfies
// reconcilers.Clock. Time moves only when the simulator fires a timer.
//
// It also keeps the books the simulator needs to know when the world is
// idle without polling: a goroutine it tracks (a reconciler task or a step
// actor) is either parked in one of the clock's waits or running. A wait
// counts as parked while its timer has not fired and its parent context is
// not done; a goroutine woken by its parent (shutdown, abort) is running
// until it cancels the wait and parks again or exits. So the world is idle
// exactly when running == alive - parked reaches zero, and the only events
// that can make it reach zero (a new wait, an exit) are calls into the
// clock, which wake the simulator.
type VirtualClock struct {
	limit  time.Time
	stall  time.Duration
	onIdle func()
	// halt, when set, is asked after every onIdle whether the run must
	// stop (the engine's event budget): its error ends the AdvanceTo,
	// RunUntil or WaitIdle in progress. Guarded by mu.
	halt func() error

	mu     sync.Mutex
	wake   *sync.Cond
	now    time.Time
	seq    uint64
	timers timerHeap
	alive  int
	// stalled is set by the wall-clock watchdog of WaitIdle.
	stalled bool

	// While auto is set (an AdvanceTo in progress), the goroutine whose
	// park makes the world idle fires the next timer due by target itself,
	// instead of waking the simulator to do it: a run of ticks then costs
	// no goroutine hand-off per tick, as in a testing/synctest bubble. The
	// order is the simulator's own (idle, onIdle, fire the earliest), so
	// traces do not change. It clears auto, handing back, when nothing
	// more is due by target.
	auto   bool
	target time.Time
	fired  uint64 // timers fired, for the watchdog's progress check
}

type vtimer struct {
	deadline time.Time
	seq      uint64
	parent   context.Context
	cancel   context.CancelCauseFunc
	index    int // in the heap; -1 once fired or stopped
}

// ClockOption configures a [VirtualClock].
type ClockOption func(*VirtualClock)

// WithMaxSimTime lets simulated time run at most d past the clock's start
// (default [DefaultMaxSimTime]); advancing further is an error, so a run
// waiting for something that never happens fails instead of hanging.
func WithMaxSimTime(d time.Duration) ClockOption {
	return func(c *VirtualClock) { c.limit = c.now.Add(d) }
}

// WithStallTimeout sets the wall-clock time the clock waits for the world to
// become idle after an event before reporting an error (default
// [DefaultStallTimeout]). It is a safety net for a goroutine that blocks
// outside the clock or spins; it never decides an outcome.
func WithStallTimeout(d time.Duration) ClockOption {
	return func(c *VirtualClock) { c.stall = d }
}

// NewVirtualClock returns a clock reading start.
//
// The clock must see every goroutine that waits on it: pass
// [VirtualClock.Observe] to reconcilers.WithObserver (or call it from your
// observer) so the supervisor's tasks are counted, and start goroutines of
// your own that wait on the clock with [VirtualClock.Go]. A wait by a
// goroutine it does not track makes it panic, saying so, rather than take
// a busy world for an idle one.
func NewVirtualClock(start time.Time, opts ...ClockOption) *VirtualClock {
	c := &VirtualClock{now: start, limit: start.Add(DefaultMaxSimTime), stall: DefaultStallTimeout, onIdle: func() {}}
	for _, o := range opts {
		o(c)
	}
	c.wake = sync.NewCond(&c.mu)
	return c
}

// Observe keeps the clock's books from the supervisor's lifecycle events:
// pass it (or call it from) reconcilers.WithObserver. Without it the clock
// cannot tell when the supervisor's tasks are idle.
func (c *VirtualClock) Observe(e reconcilers.Event) {
	switch e.Kind {
	case reconcilers.EventSpawned:
		c.addAlive(e.Count)
	case reconcilers.EventExited:
		c.addAlive(-1)
	}
}

// Go runs fn in a goroutine the clock tracks: the world is not idle while fn
// runs outside the clock's waits. The channel is closed when fn returns.
func (c *VirtualClock) Go(fn func()) <-chan struct{} {
	done := make(chan struct{})
	c.addAlive(1)
	go func() {
		defer c.addAlive(-1)
		defer close(done)
		fn()
	}()
	return done
}

// WaitIdle blocks until every tracked goroutine is parked on the clock or
// gone.
func (c *VirtualClock) WaitIdle() error {
	if err := c.waitIdle(c.stall); err != nil {
		return err
	}
	c.onIdle()
	return c.halted()
}

// halted is halt's verdict, nil without one.
func (c *VirtualClock) halted() error {
	c.mu.Lock()
	h := c.halt
	c.mu.Unlock()
	if h == nil {
		return nil
	}
	return h()
}

// Advance moves time forward by d: every timer due up to and including
// now+d fires, in deadline then creation order, and the world runs to idle
// after each.
func (c *VirtualClock) Advance(d time.Duration) error { return c.AdvanceTo(c.Now().Add(d)) }

// AdvanceTo is Advance to an absolute time.
func (c *VirtualClock) AdvanceTo(t time.Time) error {
	if t.After(c.limit) {
		return fmt.Errorf("simulated-time limit reached: cannot advance to %s (limit %s)", t.Format(time.RFC3339Nano), c.limit.Format(time.RFC3339))
	}
	for {
		if err := c.WaitIdle(); err != nil {
			return err
		}
		next, ok := c.next()
		if !ok || next.After(t) {
			break
		}
		// Fire the first timer and let the goroutines fire the rest as
		// they park (see auto), until nothing more is due by t.
		c.mu.Lock()
		c.auto, c.target = true, t
		c.mu.Unlock()
		c.fireNext()
		if err := c.waitHandback(); err != nil {
			return err
		}
	}
	c.setNow(t)
	return nil
}

// waitHandback waits until the goroutines firing timers under auto find
// nothing more due. Its watchdog fails the run if stall passes, in wall
// time, without a timer firing: a long advance may take many seconds, but
// never that long between two events.
func (c *VirtualClock) waitHandback() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stalled = false
	var w *time.Timer
	last := c.fired
	w = time.AfterFunc(c.stall, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.fired != last {
			last = c.fired
			w.Reset(c.stall)
			return
		}
		c.stalled = true
		c.wake.Broadcast()
	})
	defer w.Stop()
	for c.auto {
		if c.stalled {
			c.auto = false
			return fmt.Errorf("%w within %v of wall time: %d goroutine(s) still running at %s (blocked outside the simulated clock, or spinning)",
				errStalled, c.stall, c.running(), c.now.Format(time.RFC3339Nano))
		}
		c.wake.Wait()
	}
	return nil
}

// RunUntil runs the world, firing timers in order, until done is closed. It
// fails on a deadlock (nothing scheduled) or at the time limit.
func (c *VirtualClock) RunUntil(done <-chan struct{}) error {
	for {
		if err := c.WaitIdle(); err != nil {
			return err
		}
		select {
		case <-done:
			return nil
		default:
		}
		next, ok := c.next()
		if !ok {
			return fmt.Errorf("deadlock: a step is waiting and nothing is scheduled to wake it")
		}
		if next.After(c.limit) {
			return fmt.Errorf("simulated-time limit reached: a step is still waiting at %s and the next event is past the limit (%s)",
				c.Now().Format(time.RFC3339Nano), c.limit.Format(time.RFC3339))
		}
		c.fireNext()
	}
}

// Now returns the simulated time.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// WithTimeout returns a context that is done when d of simulated time has
// passed or parent is done. The caller is taken to be parked on it until
// then, so it must block on the context's Done right away.
func (c *VirtualClock) WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	c.mu.Lock()
	deadline := c.now.Add(d)
	if d > 0 && deadline.Before(c.now) { // overflow: never
		deadline = time.Unix(1<<62, 0)
	}
	t := &vtimer{deadline: deadline, seq: c.seq, parent: parent, cancel: cancel}
	c.seq++
	heap.Push(&c.timers, t)
	c.parkedLocked()
	c.mu.Unlock()
	return ctx, func() {
		c.mu.Lock()
		if t.index >= 0 {
			heap.Remove(&c.timers, t.index)
		}
		c.mu.Unlock()
		cancel(context.Canceled)
	}
}

// addAlive changes the number of tracked goroutines.
func (c *VirtualClock) addAlive(n int) {
	c.mu.Lock()
	c.alive += n
	if c.alive < 0 {
		c.mu.Unlock()
		panic("sim: VirtualClock: more exits than starts: an EventExited was observed for a task whose EventSpawned was not")
	}
	if n < 0 {
		c.parkedLocked()
	} else {
		c.wake.Broadcast()
	}
	c.mu.Unlock()
}

// parkedLocked runs whenever a goroutine parks on the clock or exits, with
// mu held: the world may just have become idle. Outside an AdvanceTo it
// wakes the simulator. During one (auto), if the world is idle, it runs
// onIdle and fires the earliest timer due by target, which wakes that
// timer's goroutine; or, if none is due, hands back to the simulator.
func (c *VirtualClock) parkedLocked() {
	if !c.auto {
		c.wake.Broadcast()
		return
	}
	for c.auto && c.running() == 0 {
		if len(c.timers) == 0 || c.timers[0].deadline.After(c.target) {
			c.auto = false
			c.wake.Broadcast()
			return
		}
		// onIdle takes other locks whose holders may read the clock: call it
		// without mu, then look again (nothing tracked can have run, the
		// world being idle, but a check costs nothing).
		h := c.halt
		c.mu.Unlock()
		c.onIdle()
		stop := h != nil && h() != nil
		c.mu.Lock()
		if stop {
			// Hand back to the simulator, whose WaitIdle reports why.
			c.auto = false
			c.wake.Broadcast()
			return
		}
		if !c.auto || c.running() != 0 || len(c.timers) == 0 || c.timers[0].deadline.After(c.target) {
			continue
		}
		t := c.popLocked()
		c.mu.Unlock()
		t.cancel(context.DeadlineExceeded)
		c.mu.Lock()
	}
}

// popLocked removes the earliest timer and moves time forward to it.
func (c *VirtualClock) popLocked() *vtimer {
	t := heap.Pop(&c.timers).(*vtimer)
	if t.deadline.After(c.now) {
		c.now = t.deadline
	}
	c.fired++
	return t
}

// running is the number of tracked goroutines not parked. Callers hold mu.
// More goroutines parked than tracked means a goroutine the clock was never
// told about waits on it: the books are wrong and "idle" would be a guess.
func (c *VirtualClock) running() int {
	parked := 0
	for _, t := range c.timers {
		if t.parent.Err() == nil {
			parked++
		}
	}
	if n := c.alive - parked; n < 0 {
		panic(fmt.Sprintf("sim: VirtualClock: %d goroutine(s) wait on the clock but only %d are tracked; "+
			"pass VirtualClock.Observe to reconcilers.WithObserver (or call it from your observer) "+
			"and start your own goroutines that wait on the clock with VirtualClock.Go", parked, c.alive))
	}
	return c.alive - parked
}

// errStalled means the world kept running without ever parking.
var errStalled = errors.New("the world never became idle")

// waitIdle blocks until every tracked goroutine is parked or gone. stall is
// a wall-clock safety net for a goroutine that spins or blocks outside the
// clock; it never decides an outcome, it only turns a hang into an error.
func (c *VirtualClock) waitIdle(stall time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running() == 0 {
		return nil
	}
	c.stalled = false
	w := time.AfterFunc(stall, func() {
		c.mu.Lock()
		c.stalled = true
		c.wake.Broadcast()
		c.mu.Unlock()
	})
	defer w.Stop()
	for c.running() > 0 {
		if c.stalled {
			return fmt.Errorf("%w within %v of wall time: %d goroutine(s) still running at %s (blocked outside the simulated clock, or spinning)",
				errStalled, stall, c.running(), c.now.Format(time.RFC3339Nano))
		}
		c.wake.Wait()
	}
	return nil
}

// next returns the earliest pending timer's deadline.
func (c *VirtualClock) next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return time.Time{}, false
	}
	return c.timers[0].deadline, true
}

// fireNext fires the earliest pending timer (deadline, then creation
// order), moving time forward to it.
func (c *VirtualClock) fireNext() {
	c.mu.Lock()
	t := c.popLocked()
	c.mu.Unlock()
	t.cancel(context.DeadlineExceeded)
}

// setNow moves time forward to t (never back).
func (c *VirtualClock) setNow(t time.Time) {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
}

type timerHeap []*vtimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].deadline.Equal(h[j].deadline) {
		return h[i].deadline.Before(h[j].deadline)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*vtimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}

// Unwind is for tearing a run down, whatever state it failed in: it gives
// simulated time up to extra more (past any limit) and fires timers in
// order until no tracked goroutine is left, so actors parked on the clock
// (a retry sleep, a held lock's release) run to their end instead of
// leaking. It fails if a goroutine waits with nothing scheduled.
func (c *VirtualClock) Unwind(extra time.Duration) error {
	c.mu.Lock()
	c.limit = c.now.Add(extra)
	c.mu.Unlock()
	for {
		if err := c.WaitIdle(); err != nil {
			return err
		}
		c.mu.Lock()
		alive := c.alive
		c.mu.Unlock()
		if alive <= 0 {
			return nil
		}
		next, ok := c.next()
		if !ok {
			return fmt.Errorf("deadlock at teardown: %d goroutine(s) wait and nothing is scheduled to wake them", alive)
		}
		if next.After(c.limit) {
			return fmt.Errorf("teardown: %d goroutine(s) still waiting %v after the end of the run", alive, extra)
		}
		c.fireNext()
	}
}
