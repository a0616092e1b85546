package sim

import (
	"time"

	"github.com/ffsim/ffsim/reconcilers"
)

// world is where a scenario's steps run: on the native virtual clock, or
// on the real clock of a wasm guest whose time the host makes virtual
// (world_guest.go).
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
	// goroutines (guest only).
	yield()
	// halt is called (once, from the goroutine that records the event)
	// when the run reaches its event budget: the world stops letting time
	// pass and fails the step, as soon as it can. It must not block.
	halt()
}

// teardownAllowance is how far past the end of a run teardown may let
// simulated time go, to unwind actors parked on the clock.
const teardownAllowance = 400 * 24 * time.Hour

// nativeWorld runs on a VirtualClock.
type nativeWorld struct {
	vc *VirtualClock
}

func (w *nativeWorld) clock() reconcilers.Clock { return w.vc }
func (w *nativeWorld) now() time.Time           { return w.vc.Now() }
func (w *nativeWorld) yield()                   {}

// halt needs nothing: the clock asks the recorder after every idle
// (VirtualClock.halt).
func (w *nativeWorld) halt() {}
func (w *nativeWorld) unlimit() {
	w.vc.mu.Lock()
	w.vc.limit = w.vc.now.Add(teardownAllowance)
	w.vc.halt = nil // teardown must unwind, whatever the budget
	w.vc.mu.Unlock()
}
func (w *nativeWorld) unwind() error               { return w.vc.Unwind(teardownAllowance) }
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
