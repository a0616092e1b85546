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
	// background starts fn as an actor that the step does not wait for. It
	// may be called from inside an actor; the world runs it with the rest.
	background(fn func()) error
	// advanceTo runs everything due up to and including t, each to idle.
	advanceTo(t time.Time) error
	// settle runs the world to idle at the current instant.
	settle() error
	// unlimit lifts the simulated-time limit, for teardown.
	unlimit()
	// unwind runs the world until every actor has exited (teardown).
	unwind() error
	// yield is a scheduling point the seed may use to perturb the order of
	// goroutines (real clock only).
	yield()
}

// nativeWorld runs on a VirtualClock.
type nativeWorld struct {
	vc *VirtualClock
}

func (w *nativeWorld) clock() reconcilers.Clock { return w.vc }
func (w *nativeWorld) now() time.Time           { return w.vc.Now() }
func (w *nativeWorld) yield()                   {}
func (w *nativeWorld) unlimit() {
	w.vc.mu.Lock()
	w.vc.limit = w.vc.now.Add(400 * 24 * time.Hour)
	w.vc.mu.Unlock()
}
func (w *nativeWorld) unwind() error               { return w.vc.Unwind(400 * 24 * time.Hour) }
func (w *nativeWorld) observe(e reconcilers.Event) { w.vc.Observe(e) }
func (w *nativeWorld) do(fn func()) error          { return w.vc.RunUntil(w.vc.Go(fn)) }
func (w *nativeWorld) advanceTo(t time.Time) error { return w.vc.AdvanceTo(t) }
func (w *nativeWorld) settle() error               { return w.vc.WaitIdle() }
func (w *nativeWorld) background(fn func()) error  { w.vc.Go(fn); return nil }

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
func (w *realWorld) unlimit()                   { w.limit = time.Unix(1<<62, 0) }
func (w *realWorld) unwind() error              { return nil }
func (w *realWorld) now() time.Time             { return w.clk.Now() }
func (w *realWorld) observe(reconcilers.Event)  {}
func (w *realWorld) do(fn func()) error         { fn(); return w.settle() }
func (w *realWorld) background(fn func()) error { go fn(); return nil }
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

// settle runs the world to quiescence at the current instant: it yields the
// processor until no other goroutine is ready to run, so everything woken at
// this instant has run to its next wait before the next step. Virtual time
// cannot move meanwhile: the host only advances it when every goroutine is
// blocked. It yields at least spins times.
func (w *realWorld) settle() error {
	for i := 0; i < settleLimit; i++ {
		runtime.Gosched()
		if i+1 >= w.spins && othersReady() == 0 {
			return nil
		}
	}
	return fmt.Errorf("the world did not settle: goroutines were still ready to run after %d scheduler yields", settleLimit)
}

// yield perturbs scheduling from the seed: half the time it returns at
// once; otherwise it yields the processor one to three times, letting the
// goroutines that are ready (e.g. woken at this same instant) go first. The
// Go runtime alone runs goroutines woken at one instant in the order their
// timers were created, whatever the seed; this is what lets the seed decide
// such ties. FFSIM_GUEST_PERTURB=off in the guest turns it off (tests).
func (w *realWorld) yield() {
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
