package sim

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/ffsim/ffsim/reconcilers"
)

// world is where a scenario's steps run: on the native virtual clock, or on
// the real clock of a wasm guest whose time the host makes virtual.
type world interface {
	clock() reconcilers.Clock
	now() time.Time
	// observe sees every supervisor event first (for the books).
	observe(e reconcilers.Event)
	// do runs fn as an actor and returns once it has finished, letting
	// simulated time pass (and due ticks run) while it waits.
	do(fn func()) error
	// all releases fns at the same instant, in the order given, and returns
	// once every one has finished.
	all(fns []func()) error
	// background starts fn as an actor that the scenario does not wait for;
	// it returns once fn has run to its first wait.
	background(fn func()) error
	// advanceTo runs everything due up to and including t, each to idle.
	advanceTo(t time.Time) error
	// settle runs the world to idle at the current instant.
	settle() error
	// yield is a scheduling point the seed may use to perturb the order of
	// goroutines (real clock only).
	yield()
}

// nativeWorld runs on a VirtualClock.
type nativeWorld struct {
	vc *VirtualClock
}

func (w *nativeWorld) clock() reconcilers.Clock    { return w.vc }
func (w *nativeWorld) now() time.Time              { return w.vc.Now() }
func (w *nativeWorld) yield()                      {}
func (w *nativeWorld) observe(e reconcilers.Event) { w.vc.Observe(e) }
func (w *nativeWorld) do(fn func()) error          { return w.vc.RunUntil(w.vc.Go(fn)) }
func (w *nativeWorld) advanceTo(t time.Time) error { return w.vc.AdvanceTo(t) }
func (w *nativeWorld) settle() error               { return w.vc.WaitIdle() }
func (w *nativeWorld) background(fn func()) error  { w.vc.Go(fn); return w.vc.WaitIdle() }

func (w *nativeWorld) all(fns []func()) error {
	var dones []<-chan struct{}
	for _, fn := range fns {
		dones = append(dones, w.vc.Go(fn))
		if err := w.vc.WaitIdle(); err != nil {
			return err
		}
	}
	for _, d := range dones {
		if err := w.vc.RunUntil(d); err != nil {
			return err
		}
	}
	return nil
}

// realWorld runs on the real clock. Inside the wasm guest the host makes
// that clock virtual: time jumps forward whenever every goroutine is
// blocked, and which goroutine runs first is the runtime's choice, fixed by
// the seed the host feeds the guest.
type realWorld struct {
	clk   clock.Clock
	rng   *rand.Rand
	mu    sync.Mutex // guards rng
	limit time.Time
	// spins is how many scheduler yields settle uses to let goroutines woken
	// at this instant run before the next step.
	spins int
}

func (w *realWorld) clock() reconcilers.Clock   { return w.clk }
func (w *realWorld) now() time.Time             { return w.clk.Now() }
func (w *realWorld) observe(reconcilers.Event)  {}
func (w *realWorld) do(fn func()) error         { fn(); return w.settle() }
func (w *realWorld) background(fn func()) error { go fn(); return w.settle() }
func (w *realWorld) advanceTo(t time.Time) error {
	if t.After(w.limit) {
		return fmt.Errorf("simulated-time limit reached: cannot advance to %s", t.Format(time.RFC3339Nano))
	}
	if d := t.Sub(w.clk.Now()); d > 0 {
		time.Sleep(d)
	}
	return w.settle()
}

func (w *realWorld) all(fns []func()) error {
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

// settle yields the processor so goroutines made runnable at this instant
// run to their next wait. On a single-threaded guest with no preemption a
// yield lets every runnable goroutine run once.
func (w *realWorld) settle() error {
	for range w.spins {
		runtime.Gosched()
	}
	return nil
}

// yield perturbs scheduling from the seed: about half the time it lets
// other runnable goroutines go first.
func (w *realWorld) yield() {
	w.mu.Lock()
	n := w.rng.IntN(4)
	w.mu.Unlock()
	for range n {
		runtime.Gosched()
	}
}
