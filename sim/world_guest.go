//go:build wasip1

package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/ffsim/ffsim/reconcilers"
	"github.com/ffsim/ffsim/scenario"
)

// RunGuest runs sc inside the wasm guest, on the real clock, which the
// host (package sim/wasmhost) makes virtual: time jumps forward whenever
// every goroutine is blocked, and which goroutine runs first is the
// runtime's choice, fixed by the seed the host feeds the guest. open opens
// the run's store. It exists only in GOOS=wasip1 builds; on an ordinary
// machine the run would take as long as its simulated time.
func RunGuest(ctx context.Context, sc *scenario.Scenario, opts Options, open StoreOpener) *Result {
	opts = opts.WithDefaults()
	if res := invalidResult(sc, HostWasm, opts); res != nil {
		return res
	}
	w := &guestWorld{
		clk:     clock.New(),
		rng:     rand.New(rand.NewPCG(opts.SeedFor(sc), 0x5eed)),
		limit:   sc.StartTime().Add(opts.MaxSimTime),
		spins:   8,
		stopped: make(chan struct{}),
	}
	e := newEngine(ctx, sc, opts, w, HostWasm, false, open)
	w.budget = e.rec.budgetError
	return e.run()
}

// guestWorld runs on the guest's real clock.
type guestWorld struct {
	clk   clock.Clock
	rng   *rand.Rand
	mu    sync.Mutex // guards rng
	limit time.Time
	// spins is how many scheduler yields settle uses to let goroutines woken
	// at this instant run before the next step.
	spins int
	// stopped is closed when the run reaches its event budget (halt), so
	// an advance in progress stops at once; budget says why.
	stopped  chan struct{}
	stopOnce sync.Once
	budget   func() error
	// tearingDown lifts the budget for teardown, which must unwind.
	tearingDown bool
}

func (w *guestWorld) clock() reconcilers.Clock   { return seededClock{w} }
func (w *guestWorld) unlimit()                   { w.limit = time.Unix(1<<62, 0); w.tearingDown = true }
func (w *guestWorld) halt()                      { w.stopOnce.Do(func() { close(w.stopped) }) }
func (w *guestWorld) unwind() error              { return nil }
func (w *guestWorld) now() time.Time             { return w.clk.Now() }
func (w *guestWorld) observe(reconcilers.Event)  {}
func (w *guestWorld) do(fn func()) error         { fn(); return w.settle() }
func (w *guestWorld) background(fn func()) error { go fn(); return nil }
func (w *guestWorld) advanceTo(t time.Time) error {
	if t.After(w.limit) {
		return fmt.Errorf("simulated-time limit reached: cannot advance to %s", t.Format(time.RFC3339Nano))
	}
	if d := t.Sub(w.clk.Now()); d > 0 {
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-w.stopped:
			timer.Stop()
			return w.budgetError()
		}
	}
	return w.settle()
}

// budgetError is the event budget's error once it is reached, outside
// teardown.
func (w *guestWorld) budgetError() error {
	if w.tearingDown || w.budget == nil {
		return nil
	}
	return w.budget()
}

func (w *guestWorld) all(fns []func()) error {
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.yield()
			fn()
		}()
	}
	wg.Wait()
	return w.settle()
}

// settleLimit bounds the scheduler yields of one settle: a world that never
// becomes quiescent (a goroutine busy-waiting with Gosched) is an error, not
// a hang.
const settleLimit = 100_000

// settle runs the world to quiescence at the current instant: it yields the
// processor until no other goroutine is ready to run, so everything woken at
// this instant has run to its next wait before the next step. Virtual time
// cannot move meanwhile: the host only advances it when every goroutine is
// blocked. It yields at least spins times.
func (w *guestWorld) settle() error {
	for i := 0; i < settleLimit; i++ {
		runtime.Gosched()
		if i+1 >= w.spins && othersReady() == 0 {
			return w.budgetError()
		}
	}
	return fmt.Errorf("the world did not settle: goroutines were still ready to run after %d scheduler yields", settleLimit)
}

// seededClock is the guest's clock as the store, the supervisor and the
// engine see it: every wait, when it ends, passes through a seeded yield
// before its waiter wakes. Without it the Go runtime wakes goroutines whose
// timers fall at one instant in the order the timers were made, whatever
// the seed, so ties between two waits (a busy-wait poll and a grace
// deadline, two busy waits) would always go the same way (S5 asks the
// seed to decide them).
type seededClock struct{ w *guestWorld }

func (c seededClock) Now() time.Time { return c.w.clk.Now() }

func (c seededClock) WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	inner, cancel := c.w.clk.WithTimeout(parent, d)
	p := &yieldedCtx{Context: inner, done: make(chan struct{})}
	context.AfterFunc(inner, func() {
		c.w.yield()
		close(p.done)
	})
	return p, cancel
}

// yieldedCtx is a wait whose Done closes only after the seeded yield that
// follows the end of the underlying wait.
type yieldedCtx struct {
	context.Context
	done chan struct{}
}

func (c *yieldedCtx) Done() <-chan struct{} { return c.done }

func (c *yieldedCtx) Err() error {
	select {
	case <-c.done:
		return c.Context.Err()
	default:
		return nil
	}
}

// yield perturbs scheduling from the seed: half the time it returns at
// once; otherwise it yields the processor one to three times, letting the
// goroutines that are ready (e.g. woken at this same instant) go first. The
// Go runtime alone runs goroutines woken at one instant in the order their
// timers were created, whatever the seed; this is what lets the seed decide
// such ties. FFSIM_GUEST_PERTURB=off turns it off (tests).
func (w *guestWorld) yield() {
	if perturbDisabled() {
		return
	}
	w.mu.Lock()
	n := 0
	if w.rng.IntN(2) == 1 {
		n = 1 + w.rng.IntN(3)
	}
	w.mu.Unlock()
	for range n {
		runtime.Gosched()
	}
}

// othersReady returns how many goroutines other than the caller are ready
// to run or running. Inside the wasip1 guest (one P, no threads) it is
// exact: 0 means every other goroutine is blocked, on a channel, a lock or
// a timer that is not yet due.
func othersReady() uint64 {
	s := [...]metrics.Sample{
		{Name: "/sched/goroutines/runnable:goroutines"},
		{Name: "/sched/goroutines/running:goroutines"},
	}
	metrics.Read(s[:])
	var n uint64
	for _, v := range s {
		if v.Value.Kind() == metrics.KindUint64 {
			n += v.Value.Uint64()
		}
	}
	if n > 0 {
		n-- // the caller is running
	}
	return n
}

// perturbDisabled reports whether the guest runs with the seeded scheduling
// perturbation switched off (FFSIM_GUEST_PERTURB=off), so tests can compare
// the perturbed runtime with the unperturbed one.
var perturbDisabled = sync.OnceValue(func() bool {
	return os.Getenv("FFSIM_GUEST_PERTURB") == "off"
})
