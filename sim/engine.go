package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/ffsim/ffsim/reconcilers"
	"github.com/ffsim/ffsim/scenario"
)

// engine runs one scenario in one world. It owns the run's lifecycle
// (setup, the steps, teardown) and dispatches each step by kind; what a
// step does is in actions.go, the faults in faults.go, the supervisor's
// books in tally.go and the expectations in expect.go.
type engine struct {
	ctx   context.Context
	sc    *scenario.Scenario
	w     world
	rec   *recorder
	rng   *rand.Rand
	seed  uint64
	host  string
	start time.Time
	logs  *logCapture

	// open opens the run's store: go-sqlite3 in this process, or the wasm
	// guest's bridge to its host's SQLite.
	open  StoreOpener
	store *reconcilers.Store
	sup   *reconcilers.Supervisor
	bg    []func() error // waits for background actors

	faults faults
	tally  tally

	prev     map[string]budgetBooks
	stepsRun int

	// holds is done at teardown: a hold_write_lock still holding its lock
	// when the scenario ends releases it then, instead of making teardown
	// wait out simulated time the scenario never asked for.
	holds    context.Context
	endHolds context.CancelFunc
}

var storeSeq atomic.Uint64

// StoreOpener opens the store a run uses: reconcilers.OpenMemory, or a
// store on another SQLite driver (reconcilers.Open).
type StoreOpener func(name string, opts ...reconcilers.Option) (*reconcilers.Store, error)

func newEngine(ctx context.Context, sc *scenario.Scenario, opts Options, w world, host string, sorted bool, open StoreOpener) *engine {
	seed := opts.SeedFor(sc)
	e := &engine{
		ctx:   ctx,
		sc:    sc,
		w:     w,
		seed:  seed,
		host:  host,
		rng:   rand.New(rand.NewPCG(seed, 0xff51)),
		start: sc.StartTime(),
		logs:  &logCapture{},
		open:  open,
	}
	e.tally.reset()
	e.faults.init()
	e.rec = newRecorder(e.start, w.now, sorted, opts.traceKept(), opts.MaxEvents)
	e.rec.onOver = w.halt
	e.holds, e.endHolds = context.WithCancel(context.Background())
	return e
}

// testHookAfterStep, when set (by this package's tests only), runs after
// each top-level step and its invariant check.
var testHookAfterStep func()

// stepError fails the run at a step.
type stepError struct {
	f Failure
}

func (e *stepError) Error() string { return e.f.Message }

func (e *engine) fail(pos scenario.Pos, step, msg string, expected, actual string) error {
	return &stepError{Failure{Pos: pos, Step: step, Message: msg, Expected: expected, Actual: actual}}
}

func (e *engine) run() *Result {
	res := &Result{Name: e.sc.Name, File: e.sc.File, Host: e.host, Seed: e.seed, Status: Pass}
	err := e.setup()
	if err == nil {
		for i := range e.sc.Steps {
			s := &e.sc.Steps[i]
			if cerr := e.ctx.Err(); cerr != nil {
				err = e.fail(s.Pos, "", fmt.Sprintf("run stopped before step %d: %v", i+1, cerr), "", "")
				break
			}
			e.stepsRun++
			if err = e.step(s); err != nil {
				break
			}
			if err = e.checkInvariants(s); err != nil {
				break
			}
			if berr := e.rec.budgetError(); berr != nil {
				err = e.wrap(s, berr)
				break
			}
			if testHookAfterStep != nil {
				testHookAfterStep()
			}
		}
	}
	if err == nil {
		res.Final, err = e.snapshot()
	}
	if err == nil {
		res.Workers, err = e.workerSnapshot()
	}
	if err != nil {
		res.Status = Fail
		var se *stepError
		if errors.As(err, &se) {
			res.Failure = &se.f
		} else {
			res.Failure = &Failure{Pos: scenario.Pos{File: e.sc.File}, Message: err.Error()}
		}
	}
	res.SimDuration = e.w.now().Sub(e.start)
	res.StepsRun = e.stepsRun
	res.Trace, res.Events, res.Digest = e.rec.stop()
	if terr := e.teardown(); terr != nil && res.Status == Pass {
		// Teardown follows the last step: what it could not finish was
		// left running by the scenario's end.
		res.Status = Fail
		res.Failure = &Failure{Pos: e.endPos(), Message: "teardown: " + terr.Error()}
	}
	return res
}

// endPos is where the run ended: the last step it ran, or the file.
func (e *engine) endPos() scenario.Pos {
	if e.stepsRun > 0 {
		return e.sc.Steps[e.stepsRun-1].Pos
	}
	return scenario.Pos{File: e.sc.File}
}

// options are the reconcilers options of the store and of every spawn: the
// world's clock, the captured log, the engine's observer and fault hooks.
func (e *engine) options() []reconcilers.Option {
	return []reconcilers.Option{
		reconcilers.WithClock(e.w.clock()),
		reconcilers.WithLogger(e.logs.logger()),
		reconcilers.WithObserver(e.observe),
		reconcilers.WithHooks(e.faults.hooks(e)),
		reconcilers.WithBusyTimeout(e.sc.Store.BusyTimeoutOrDefault()),
	}
}

func (e *engine) setup() error {
	st, err := e.open(fmt.Sprintf("/ffsim-%d-%d", e.seed, storeSeq.Add(1)), e.options()...)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	e.store = st
	for i := range e.sc.Budgets {
		b := &e.sc.Budgets[i]
		if b.Policy == scenario.PolicyNone {
			continue // declared, with no policy row
		}
		if err := e.w.do(func() { _, err = e.store.CreateBudget(context.Background(), budgetSpec(b)) }); err != nil {
			return err
		}
		if err != nil {
			return e.fail(b.Pos, "budgets", fmt.Sprintf("creating budget %q: %v", b.ID, err), "", "")
		}
	}
	books, err := e.books()
	if err != nil {
		return err
	}
	e.prev = books
	return nil
}

func (e *engine) teardown() error {
	var errs []error
	// A failed run may stop with actors parked past the simulated-time
	// limit; teardown is not part of the scenario, so it may go past it.
	e.w.unlimit()
	// Locks still held are released now: the scenario is over.
	e.endHolds()
	if e.sup != nil {
		if err := e.w.do(func() { e.sup.Shutdown(0); e.sup.Wait() }); err != nil {
			errs = append(errs, err)
		}
	}
	for _, wait := range e.bg {
		if err := wait(); err != nil {
			errs = append(errs, err)
		}
	}
	// Actors of a step that failed (nobody waits for them any more).
	if err := e.w.unwind(); err != nil {
		errs = append(errs, err)
	}
	if e.store != nil && len(errs) == 0 {
		errs = append(errs, e.store.Close())
	}
	return errors.Join(errs...)
}

// step runs one top-level step.
func (e *engine) step(s *scenario.Step) error {
	k := s.Kind()
	e.rec.add(Event{Kind: EvStep, Step: k.String(), Line: s.Pos.Line})
	switch {
	case k == scenario.KindAdvance:
		return e.wrap(s, e.w.advanceTo(e.w.now().Add(*s.Advance)))
	case k == scenario.KindAdvanceTo:
		target := e.start.Add(*s.AdvanceTo)
		if now := e.w.now(); target.Before(now) {
			return e.fail(s.Pos, k.String(), fmt.Sprintf("advance_to %v is in the past: the scenario is already at %v", *s.AdvanceTo, now.Sub(e.start)), "", "")
		}
		return e.wrap(s, e.w.advanceTo(target))
	case k == scenario.KindConcurrently:
		return e.concurrently(s)
	case k.Info().Check:
		if err := e.w.settle(); err != nil {
			return e.wrap(s, err)
		}
		return e.check(s)
	}
	var out scenario.Outcome
	var opErr error
	if err := e.w.do(func() { out, opErr = e.act(s) }); err != nil {
		return e.wrap(s, err)
	}
	return e.judge(s, out, opErr)
}

func (e *engine) wrap(s *scenario.Step, err error) error {
	if err == nil {
		return nil
	}
	var se *stepError
	if errors.As(err, &se) {
		return err
	}
	return e.fail(s.Pos, s.Kind().String(), err.Error(), "", "")
}

// concurrently releases the inner steps at one instant, in an order the
// seed decides, then judges each one's outcome in the order written.
func (e *engine) concurrently(s *scenario.Step) error {
	subs := s.Concurrently
	order := e.rng.Perm(len(subs))
	e.rec.add(Event{Kind: EvStep, Step: "concurrently_order", Line: s.Pos.Line, Detail: fmt.Sprint(order)})
	outs := make([]scenario.Outcome, len(subs))
	errs := make([]error, len(subs))
	fns := make([]func(), 0, len(subs))
	for _, i := range order {
		sub := &subs[i]
		fns = append(fns, func() {
			e.rec.add(Event{Kind: EvStep, Step: sub.Kind().String(), Line: sub.Pos.Line})
			outs[i], errs[i] = e.act(sub)
		})
	}
	if err := e.w.all(fns); err != nil {
		return e.wrap(s, err)
	}
	for i := range subs {
		if err := e.judge(&subs[i], outs[i], errs[i]); err != nil {
			return err
		}
	}
	return nil
}

// sleep waits d of simulated time, or until ctx ends (an abort).
func (e *engine) sleep(ctx context.Context, d time.Duration) error {
	w, cancel := e.w.clock().WithTimeout(ctx, d)
	<-w.Done()
	cancel()
	return ctx.Err()
}

// offset converts a Unix-ms value to an offset from the start.
func (e *engine) offset(ms int64) time.Duration {
	return time.UnixMilli(ms).Sub(e.start)
}

func (e *engine) ms(o time.Duration) int64 { return e.start.Add(o).UnixMilli() }

func (e *engine) msOffset(ms *int64) *scenario.Offset {
	if ms == nil {
		return scenario.Null()
	}
	return scenario.At(e.offset(*ms))
}

func ptr[T any](v T) *T { return &v }
