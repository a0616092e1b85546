package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/ffsim/ffsim/reconcilers"
)

// Options tune a run. The zero value is ready to use.
type Options struct {
	// Seed, when non-nil, overrides the scenario's seed.
	Seed *uint64
	// MaxSimTime bounds simulated time from the scenario start; a run that
	// needs more fails instead of hanging. Default 400 days.
	MaxSimTime time.Duration
	// StallTimeout is the wall-clock time the native host waits for the
	// world to become idle before failing the run. It never decides an
	// outcome; it turns a hang into an error. Default 30s.
	StallTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxSimTime <= 0 {
		o.MaxSimTime = 400 * 24 * time.Hour
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = 30 * time.Second
	}
	return o
}

// Host names.
const (
	HostNative = "native"
	HostWasm   = "wasm"
)

var storeSeq atomic.Uint64

// Run runs sc on the native host: event-driven virtual time, ties resolved
// in timer-creation order, a byte-identical trace for the same scenario and
// seed.
func Run(sc *Scenario, opts Options) *Result {
	opts = opts.withDefaults()
	vc := NewVirtualClock(sc.Start)
	vc.limit = sc.Start.Add(opts.MaxSimTime)
	vc.stall = opts.StallTimeout
	e := newEngine(sc, opts, &nativeWorld{vc: vc}, HostNative, true)
	vc.onIdle = e.rec.flush
	return e.run()
}

// RunOnRealClock runs sc on the real clock, clock.New(). It exists for the
// wasm guest, where the host makes the real clock virtual and seeds the
// runtime's scheduling; on an ordinary machine it would take as long as the
// scenario's simulated time.
func RunOnRealClock(sc *Scenario, opts Options) *Result {
	opts = opts.withDefaults()
	seed := sc.Seed
	if opts.Seed != nil {
		seed = *opts.Seed
	}
	w := &realWorld{
		clk:   clock.New(),
		rng:   rand.New(rand.NewPCG(seed, 0x5eed)),
		limit: sc.Start.Add(opts.MaxSimTime),
		spins: 8,
	}
	e := newEngine(sc, opts, w, HostWasm, false)
	return e.run()
}

type engine struct {
	sc    *Scenario
	w     world
	rec   *recorder
	rng   *rand.Rand
	seed  uint64
	host  string
	start time.Time
	logs  *logCapture

	store *reconcilers.Store
	sup   *reconcilers.Supervisor
	bg    []func() error // waits for background actors

	mu               sync.Mutex
	faults           faults
	ticks            map[string]*tickTally
	spawned          int
	shutdownReturned bool
	violations       []string

	prev     map[string]budgetBooks
	stepsRun int
}

type tickTally struct{ count, processed, errors int }

type faults struct {
	slow     []SlowTickStep
	slowDone map[string]bool // inside_tx slowdowns already served, by reconciler/tick
	tickErrs []TickErrorStep
	busyLeft int
}

func newEngine(sc *Scenario, opts Options, w world, host string, sorted bool) *engine {
	seed := sc.Seed
	if opts.Seed != nil {
		seed = *opts.Seed
	}
	e := &engine{
		sc:    sc,
		w:     w,
		seed:  seed,
		host:  host,
		rng:   rand.New(rand.NewPCG(seed, 0xff51)),
		start: sc.Start,
		logs:  &logCapture{},
		ticks: map[string]*tickTally{},
	}
	e.faults.slowDone = map[string]bool{}
	e.rec = &recorder{start: sc.Start, now: w.now, sorted: sorted}
	return e
}

// stepError fails the run at a step.
type stepError struct {
	f Failure
}

func (e *stepError) Error() string { return e.f.Message }

func (e *engine) fail(pos Pos, step, msg string, expected, actual string) error {
	return &stepError{Failure{Pos: pos, Step: step, Message: msg, Expected: expected, Actual: actual}}
}

func (e *engine) run() *Result {
	res := &Result{Name: e.sc.Name, File: e.sc.File, Host: e.host, Seed: e.seed, Status: Pass}
	err := e.setup()
	if err == nil {
		for i := range e.sc.Steps {
			e.stepsRun++
			if err = e.step(&e.sc.Steps[i]); err != nil {
				break
			}
			if err = e.checkInvariants(&e.sc.Steps[i]); err != nil {
				break
			}
		}
	}
	if err == nil {
		res.Final, err = e.snapshot()
	}
	if err != nil {
		res.Status = Fail
		var se *stepError
		if errors.As(err, &se) {
			res.Failure = &se.f
		} else {
			res.Failure = &Failure{Pos: Pos{File: e.sc.File}, Message: err.Error()}
		}
	}
	res.SimDuration = e.w.now().Sub(e.start)
	res.StepsRun = e.stepsRun
	res.Trace = e.rec.stop()
	res.Digest = Digest(res.Trace)
	if terr := e.teardown(); terr != nil && res.Status == Pass {
		res.Status = Fail
		res.Failure = &Failure{Pos: Pos{File: e.sc.File}, Message: "teardown: " + terr.Error()}
	}
	return res
}

func (e *engine) setup() error {
	opts := []reconcilers.Option{
		reconcilers.WithClock(e.w.clock()),
		reconcilers.WithLogger(e.logs.logger()),
		reconcilers.WithObserver(e.observe),
		reconcilers.WithHooks(reconcilers.Hooks{
			BeforeTick:  e.beforeTick,
			BeforeWrite: e.beforeWrite,
			InsideReset: e.insideReset,
		}),
	}
	st, err := reconcilers.OpenMemory(fmt.Sprintf("/ffsim-%d-%d", e.seed, storeSeq.Add(1)), opts...)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	e.store = st
	for i := range e.sc.Budgets {
		b := &e.sc.Budgets[i]
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

func budgetSpec(b *Budget) reconcilers.BudgetSpec {
	s := reconcilers.BudgetSpec{
		ID:              b.ID,
		Scope:           reconcilers.Scope{Type: b.ScopeType, ID: b.ScopeID},
		EnforcementMode: b.EnforcementMode,
		OnHardLimit:     b.OnHardLimit,
		OnSoftLimit:     b.OnSoftLimit,
		ResetInterval:   b.ResetInterval,
	}
	for _, d := range b.Dimensions {
		s.Dimensions = append(s.Dimensions, d.Name)
		s.HardLimits = append(s.HardLimits, d.Hard)
		s.SoftLimits = append(s.SoftLimits, d.Soft)
	}
	return s
}

// observe receives every supervisor event.
func (e *engine) observe(ev reconcilers.Event) {
	te := Event{Kind: ev.Kind.String(), Source: ev.Reconciler, Tick: ev.Tick}
	e.mu.Lock()
	switch ev.Kind {
	case reconcilers.EventSpawned:
		n := ev.Count
		te.Count = &n
		e.spawned += n
	case reconcilers.EventTickStarted:
		if e.shutdownReturned {
			e.violations = append(e.violations, fmt.Sprintf("%s tick %d started after Shutdown returned", ev.Reconciler, ev.Tick))
		}
	case reconcilers.EventTickFinished:
		t := e.ticks[ev.Reconciler]
		if t == nil {
			t = &tickTally{}
			e.ticks[ev.Reconciler] = t
		}
		t.count++
		if ev.Err != nil {
			te.Err = ev.Err.Error()
		} else {
			rep := ev.Report
			te.Report = &rep
			t.processed += rep.Processed
			t.errors += rep.Errors
		}
	case reconcilers.EventShutdownReturned:
		n := ev.Count
		te.Count = &n
		e.shutdownReturned = true
		if n > e.spawned {
			e.violations = append(e.violations, fmt.Sprintf("Shutdown reported %d timed-out tasks but only %d were spawned", n, e.spawned))
		}
	}
	e.mu.Unlock()
	e.rec.add(te)
	// The books come last: an exit may make the world idle.
	e.w.observe(ev)
}

func (e *engine) beforeTick(ctx context.Context) error {
	e.w.yield()
	t, _ := reconcilers.TickFrom(ctx)
	e.mu.Lock()
	var fail bool
	for _, f := range e.faults.tickErrs {
		if f.Reconciler == t.Reconciler && f.Tick == t.N {
			fail = true
		}
	}
	var slow time.Duration
	for _, f := range e.faults.slow {
		if f.Reconciler == t.Reconciler && f.Tick == t.N && f.Where == BeforeTx {
			slow += f.Duration
		}
	}
	e.mu.Unlock()
	if fail {
		e.rec.add(Event{Kind: "fault", Source: t.Reconciler, Step: "tick_error", Tick: t.N})
		return fmt.Errorf("injected tick error (tick %d)", t.N)
	}
	if slow > 0 {
		e.rec.add(Event{Kind: "fault", Source: t.Reconciler, Step: "slow_tick", Tick: t.N, Detail: "before_tx " + slow.String()})
		return e.sleep(ctx, slow)
	}
	return nil
}

func (e *engine) insideReset(ctx context.Context, budget string) error {
	e.w.yield()
	t, ok := reconcilers.TickFrom(ctx)
	e.rec.add(Event{Kind: "reset_zeroed", Source: t.Reconciler, Tick: t.N, Budget: budget})
	if !ok {
		return nil
	}
	key := fmt.Sprintf("%s/%d", t.Reconciler, t.N)
	e.mu.Lock()
	var slow time.Duration
	if !e.faults.slowDone[key] {
		for _, f := range e.faults.slow {
			if f.Reconciler == t.Reconciler && f.Tick == t.N && f.Where == InsideTx {
				slow += f.Duration
			}
		}
		e.faults.slowDone[key] = true
	}
	e.mu.Unlock()
	if slow > 0 {
		e.rec.add(Event{Kind: "fault", Source: t.Reconciler, Step: "slow_tick", Tick: t.N, Budget: budget, Detail: "inside_tx " + slow.String()})
		return e.sleep(ctx, slow)
	}
	return nil
}

func (e *engine) beforeWrite(ctx context.Context) error {
	e.w.yield()
	e.mu.Lock()
	busy := e.faults.busyLeft > 0
	if busy {
		e.faults.busyLeft--
	}
	e.mu.Unlock()
	if busy {
		t, _ := reconcilers.TickFrom(ctx)
		e.rec.add(Event{Kind: "fault", Source: t.Reconciler, Step: "busy", Tick: t.N})
		return fmt.Errorf("%w: injected SQLITE_BUSY", reconcilers.ErrBusy)
	}
	return nil
}

// sleep waits d of simulated time, or until ctx ends (an abort).
func (e *engine) sleep(ctx context.Context, d time.Duration) error {
	w, cancel := e.w.clock().WithTimeout(ctx, d)
	<-w.Done()
	cancel()
	// A scheduling point for the seed: a task woken at the same instant as
	// a grace deadline would otherwise always reach its exit first.
	e.w.yield()
	return ctx.Err()
}

// offset converts a Unix-ms value to an offset from the start.
func (e *engine) offset(ms int64) time.Duration {
	return time.UnixMilli(ms).Sub(e.start)
}

func (e *engine) ms(o time.Duration) int64 { return e.start.Add(o).UnixMilli() }

func fmtOffset(o *Offset) string {
	if o == nil || o.Null {
		return "null"
	}
	return o.At.String()
}

func (e *engine) msOffset(ms *int64) *Offset {
	if ms == nil {
		return &Offset{Null: true}
	}
	return &Offset{At: e.offset(*ms)}
}

// stepKind names the step's action, as written in YAML.
func stepKind(s *Step) string {
	switch {
	case s.Advance != nil:
		return "advance"
	case s.AdvanceTo != nil:
		return "advance_to"
	case s.Spawn != nil:
		return "spawn"
	case s.Shutdown != nil:
		return "shutdown"
	case s.Close != nil:
		return "close"
	case s.CreateBudget != nil:
		return "create_budget"
	case s.ReportUsage != nil:
		return "report_usage"
	case s.ResetBudget != nil:
		return "reset_budget"
	case s.SetNextReset != nil:
		return "set_next_reset"
	case s.ScanTick != nil:
		return "scan_tick"
	case s.ExpectBudget != nil:
		return "expect_budget"
	case s.ExpectTicks != nil:
		return "expect_ticks"
	case s.ExpectRunning != nil:
		return "expect_running"
	case s.ExpectLog != nil:
		return "expect_log"
	case s.SlowTick != nil:
		return "slow_tick"
	case s.TickError != nil:
		return "tick_error"
	case s.Busy != nil:
		return "busy"
	case s.HoldWriteLock != nil:
		return "hold_write_lock"
	case s.Concurrently != nil:
		return "concurrently"
	}
	return "unknown"
}

// StepKind names the step's action, as written in YAML.
func (s *Step) Kind() string { return stepKind(s) }

func (e *engine) step(s *Step) error {
	kind := stepKind(s)
	e.rec.add(Event{Kind: "step", Step: kind, Line: s.Pos.Line})
	switch kind {
	case "advance":
		return e.wrap(s, e.w.advanceTo(e.w.now().Add(*s.Advance)))
	case "advance_to":
		target := e.start.Add(*s.AdvanceTo)
		if now := e.w.now(); target.Before(now) {
			return e.fail(s.Pos, kind, fmt.Sprintf("advance_to %v is in the past: the scenario is already at %v", *s.AdvanceTo, now.Sub(e.start)), "", "")
		}
		return e.wrap(s, e.w.advanceTo(target))
	case "concurrently":
		return e.concurrently(s)
	case "expect_budget", "expect_ticks", "expect_running", "expect_log":
		if err := e.w.settle(); err != nil {
			return e.wrap(s, err)
		}
		return e.check(s)
	}
	var out StepOutcome
	var opErr error
	if err := e.w.do(func() { out, opErr = e.act(s) }); err != nil {
		return e.wrap(s, err)
	}
	return e.judge(s, out, opErr)
}

func (e *engine) wrap(s *Step, err error) error {
	if err == nil {
		return nil
	}
	var se *stepError
	if errors.As(err, &se) {
		return err
	}
	return e.fail(s.Pos, stepKind(s), err.Error(), "", "")
}

// judge compares a step's outcome with its expect.
func (e *engine) judge(s *Step, out StepOutcome, opErr error) error {
	kind := stepKind(s)
	if opErr != nil {
		return e.fail(s.Pos, kind, fmt.Sprintf("%s failed: %v", kind, opErr), "", "")
	}
	if s.Expect == nil {
		return nil
	}
	actual := fmtOutcome(out)
	for _, alt := range s.Expect.AnyOf {
		if outcomeMatches(alt, out) {
			e.rec.add(Event{Kind: "expect", Step: kind, Line: s.Expect.Pos.Line, Detail: actual, OK: ptr(true)})
			return nil
		}
	}
	e.rec.add(Event{Kind: "expect", Step: kind, Line: s.Expect.Pos.Line, Detail: actual, OK: ptr(false)})
	var exp []string
	for _, alt := range s.Expect.AnyOf {
		exp = append(exp, fmtOutcome(alt))
	}
	return e.fail(s.Expect.Pos, kind, fmt.Sprintf("%s: unexpected outcome", kind), strings.Join(exp, " or "), actual)
}

func ptr[T any](v T) *T { return &v }

func outcomeMatches(want, got StepOutcome) bool {
	if want.Result != "" && want.Result != got.Result {
		return false
	}
	if want.Installed != nil && (got.Installed == nil || *want.Installed != *got.Installed) {
		return false
	}
	if want.TimedOut != nil && (got.TimedOut == nil || *want.TimedOut != *got.TimedOut) {
		return false
	}
	if want.NextResetAt != nil && (got.NextResetAt == nil || !offsetEq(*want.NextResetAt, *got.NextResetAt)) {
		return false
	}
	if want.Processed != nil && (got.Processed == nil || *want.Processed != *got.Processed) {
		return false
	}
	if want.Errors != nil && (got.Errors == nil || *want.Errors != *got.Errors) {
		return false
	}
	return true
}

func offsetEq(a, b Offset) bool {
	if a.Null || b.Null {
		return a.Null == b.Null
	}
	return a.At.Milliseconds() == b.At.Milliseconds()
}

func fmtOutcome(o StepOutcome) string {
	var parts []string
	if o.Result != "" {
		parts = append(parts, o.Result)
	}
	if o.Installed != nil {
		parts = append(parts, fmt.Sprintf("installed: %v", *o.Installed))
	}
	if o.TimedOut != nil {
		parts = append(parts, fmt.Sprintf("timed_out: %d", *o.TimedOut))
	}
	if o.NextResetAt != nil {
		parts = append(parts, "next_reset_at: "+fmtOffset(o.NextResetAt))
	}
	if o.Processed != nil {
		parts = append(parts, fmt.Sprintf("processed: %d", *o.Processed))
	}
	if o.Errors != nil {
		parts = append(parts, fmt.Sprintf("errors: %d", *o.Errors))
	}
	if len(parts) == 1 && o.Result != "" {
		return o.Result
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// act performs an action step and returns its outcome. It runs as an actor:
// it may wait on the clock.
func (e *engine) act(s *Step) (StepOutcome, error) {
	ctx := context.Background()
	var out StepOutcome
	switch {
	case s.Spawn != nil:
		installed := e.sup == nil
		out.Installed = &installed
		if !installed {
			return out, nil
		}
		cfg := reconcilers.Config{BudgetResetInterval: e.sc.Supervisor.BudgetResetInterval}
		if s.Spawn.BudgetResetInterval != nil {
			cfg.BudgetResetInterval = *s.Spawn.BudgetResetInterval
		}
		sup, err := reconcilers.Spawn(e.store, cfg,
			reconcilers.WithClock(e.w.clock()),
			reconcilers.WithLogger(e.logs.logger()),
			reconcilers.WithObserver(e.observe),
			reconcilers.WithHooks(reconcilers.Hooks{BeforeTick: e.beforeTick}))
		if err != nil {
			return out, err
		}
		e.mu.Lock()
		e.sup = sup
		e.ticks = map[string]*tickTally{}
		e.mu.Unlock()
	case s.Shutdown != nil:
		n := 0
		if e.sup != nil {
			n = e.sup.Shutdown(s.Shutdown.Grace)
		}
		out.TimedOut = &n
	case s.Close != nil:
		if e.sup != nil {
			e.sup.Close()
		}
	case s.CreateBudget != nil:
		res, err := e.store.CreateBudget(ctx, budgetSpec(s.CreateBudget))
		if err != nil {
			return out, err
		}
		out.Result = res.String()
	case s.ReportUsage != nil:
		r := s.ReportUsage
		res, err := e.store.ReportUsage(ctx, r.Budget, r.Usage, r.DedupKey)
		if err != nil {
			return out, err
		}
		out.Result = res.Kind.String()
	case s.ResetBudget != nil:
		next, err := e.store.ResetBudget(ctx, s.ResetBudget.Budget)
		if err != nil {
			return out, err
		}
		out.NextResetAt = e.msOffset(next)
	case s.SetNextReset != nil:
		var at *int64
		if !s.SetNextReset.At.Null {
			at = ptr(e.ms(s.SetNextReset.At.At))
		}
		return out, e.store.SetNextReset(ctx, s.SetNextReset.Budget, at)
	case s.ScanTick != nil:
		rep, err := e.store.ScanTick(ctx, e.w.now())
		if err != nil {
			return out, err
		}
		out.Processed, out.Errors = &rep.Processed, &rep.Errors
	case s.SlowTick != nil:
		e.arm(s, func(f *faults) { f.slow = append(f.slow, *s.SlowTick) })
	case s.TickError != nil:
		e.arm(s, func(f *faults) { f.tickErrs = append(f.tickErrs, *s.TickError) })
	case s.Busy != nil:
		e.arm(s, func(f *faults) { f.busyLeft += s.Busy.Attempts })
	case s.HoldWriteLock != nil:
		return out, e.holdWriteLock(s.HoldWriteLock.Duration)
	default:
		return out, fmt.Errorf("step %s cannot run here", stepKind(s))
	}
	return out, nil
}

func (e *engine) arm(s *Step, f func(*faults)) {
	e.mu.Lock()
	f(&e.faults)
	e.mu.Unlock()
	e.rec.add(Event{Kind: "fault", Step: stepKind(s), Line: s.Pos.Line, Detail: "armed"})
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
	e.rec.add(Event{Kind: "fault", Step: "hold_write_lock", Detail: "lock taken for " + d.String()})
	finished, finish := context.WithCancel(ctx)
	var relErr error
	release := func() {
		defer finish()
		_ = e.sleep(ctx, d)
		_, err := conn.ExecContext(ctx, "ROLLBACK")
		e.rec.add(Event{Kind: "fault", Step: "hold_write_lock", Detail: "lock released"})
		relErr = errors.Join(err, conn.Close())
	}
	e.bg = append(e.bg, func() error {
		if err := e.w.do(func() { e.waitCtx(finished) }); err != nil {
			return err
		}
		return relErr
	})
	return e.w.background(release)
}

// waitCtx blocks until ctx is done, parked on the clock.
func (e *engine) waitCtx(ctx context.Context) {
	w, cancel := e.w.clock().WithTimeout(ctx, time.Duration(math.MaxInt64))
	<-w.Done()
	cancel()
}

func (e *engine) concurrently(s *Step) error {
	subs := s.Concurrently
	order := e.rng.Perm(len(subs))
	e.rec.add(Event{Kind: "step", Step: "concurrently_order", Line: s.Pos.Line, Detail: fmt.Sprint(order)})
	outs := make([]StepOutcome, len(subs))
	errs := make([]error, len(subs))
	var fns []func()
	for _, i := range order {
		sub := &subs[i]
		switch stepKind(sub) {
		case "advance", "advance_to", "concurrently", "expect_budget", "expect_ticks", "expect_running", "expect_log":
			return e.fail(sub.Pos, stepKind(sub), fmt.Sprintf("%s cannot run inside concurrently", stepKind(sub)), "", "")
		}
		fns = append(fns, func() {
			e.rec.add(Event{Kind: "step", Step: stepKind(sub), Line: sub.Pos.Line})
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

// check evaluates an expect_* step against the world as it is now.
func (e *engine) check(s *Step) error {
	kind := stepKind(s)
	switch {
	case s.ExpectRunning != nil:
		n := 0
		if e.sup != nil {
			n = e.sup.Running()
		}
		return e.verdict(s.Pos, kind, *s.ExpectRunning == n, fmt.Sprint(*s.ExpectRunning), fmt.Sprint(n))
	case s.ExpectLog != nil:
		want := *s.ExpectLog
		ok := e.logs.has(want.Level, want.Contains)
		return e.verdict(s.Pos, kind, ok, fmt.Sprintf("a %s line containing %q", want.Level, want.Contains), e.logs.summary())
	case s.ExpectTicks != nil:
		for _, t := range s.ExpectTicks {
			e.mu.Lock()
			got := tickTally{}
			if p := e.ticks[t.Reconciler]; p != nil {
				got = *p
			}
			e.mu.Unlock()
			ok := (t.Count == nil || *t.Count == got.count) &&
				(t.Processed == nil || *t.Processed == got.processed) &&
				(t.Errors == nil || *t.Errors == got.errors)
			exp := fmtTicks(t.Count, t.Processed, t.Errors)
			act := fmtTicks(&got.count, &got.processed, &got.errors)
			if err := e.verdict(t.Pos, kind, ok, t.Reconciler+": "+exp, t.Reconciler+": "+act); err != nil {
				return err
			}
		}
		return nil
	case s.ExpectBudget != nil:
		for _, b := range s.ExpectBudget {
			st, err := e.store.BudgetStatus(context.Background(), b.Budget)
			if err != nil {
				return e.fail(b.Pos, kind, fmt.Sprintf("budget %q: %v", b.Budget, err), "", "")
			}
			var exp []string
			ok := false
			var act string
			for _, alt := range b.AnyOf {
				match, a := e.budgetMatches(alt, st)
				act = a
				exp = append(exp, fmtBudgetState(alt))
				if match {
					ok = true
					break
				}
			}
			if err := e.verdict(b.Pos, kind, ok, b.Budget+": "+strings.Join(exp, " or "), b.Budget+": "+act); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

func (e *engine) verdict(pos Pos, kind string, ok bool, expected, actual string) error {
	e.rec.add(Event{Kind: "expect", Step: kind, Line: pos.Line, Detail: actual, OK: ptr(ok)})
	if ok {
		return nil
	}
	return e.fail(pos, kind, kind+": expectation not met", expected, actual)
}

func fmtTicks(count, processed, errs *int) string {
	var parts []string
	if count != nil {
		parts = append(parts, fmt.Sprintf("count: %d", *count))
	}
	if processed != nil {
		parts = append(parts, fmt.Sprintf("processed: %d", *processed))
	}
	if errs != nil {
		parts = append(parts, fmt.Sprintf("errors: %d", *errs))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// budgetMatches compares the fields want gives and describes those fields
// of got.
func (e *engine) budgetMatches(want BudgetState, got reconcilers.Status) (bool, string) {
	ok := true
	var parts []string
	if want.Usage != nil {
		ok = ok && sameDims(want.Usage, got.Usage)
		parts = append(parts, fmtDims("usage", want.Usage, func(d string) int64 { return got.Usage[d] }))
	}
	if want.NextResetAt != nil {
		g := e.msOffset(got.NextResetAtMs)
		if !offsetEq(*want.NextResetAt, *g) {
			ok = false
		}
		parts = append(parts, "next_reset_at: "+fmtOffset(g))
	}
	if want.BreachCount != nil {
		if *want.BreachCount != got.BreachCount {
			ok = false
		}
		parts = append(parts, fmt.Sprintf("breach_count: %d", got.BreachCount))
	}
	if want.SoftBreachCount != nil {
		if *want.SoftBreachCount != got.SoftBreachCount {
			ok = false
		}
		parts = append(parts, fmt.Sprintf("soft_breach_count: %d", got.SoftBreachCount))
	}
	if want.LastBreachDim != nil || want.LastBreachDimNull {
		g := "null"
		if got.LastBreachDim != nil {
			g = *got.LastBreachDim
		}
		if want.LastBreachDimNull {
			ok = ok && got.LastBreachDim == nil
		} else {
			ok = ok && got.LastBreachDim != nil && *got.LastBreachDim == *want.LastBreachDim
		}
		parts = append(parts, "last_breach_dim: "+g)
	}
	if want.LastBreachAt != nil {
		g := e.msOffset(got.LastBreachAtMs)
		if !offsetEq(*want.LastBreachAt, *g) {
			ok = false
		}
		parts = append(parts, "last_breach_at: "+fmtOffset(g))
	}
	for _, l := range []struct {
		name       string
		want, have map[string]int64
	}{{"hard_limits", want.HardLimits, got.HardLimits}, {"soft_limits", want.SoftLimits, got.SoftLimits}} {
		if l.want == nil {
			continue
		}
		ok = ok && sameDims(l.want, l.have)
		parts = append(parts, fmtDims(l.name, l.want, func(d string) int64 { return l.have[d] }))
	}
	return ok, "{" + strings.Join(parts, ", ") + "}"
}

func fmtBudgetState(s BudgetState) string {
	var parts []string
	if s.Usage != nil {
		parts = append(parts, fmtDims("usage", s.Usage, func(d string) int64 { return s.Usage[d] }))
	}
	if s.NextResetAt != nil {
		parts = append(parts, "next_reset_at: "+fmtOffset(s.NextResetAt))
	}
	if s.BreachCount != nil {
		parts = append(parts, fmt.Sprintf("breach_count: %d", *s.BreachCount))
	}
	if s.SoftBreachCount != nil {
		parts = append(parts, fmt.Sprintf("soft_breach_count: %d", *s.SoftBreachCount))
	}
	if s.LastBreachDimNull {
		parts = append(parts, "last_breach_dim: null")
	} else if s.LastBreachDim != nil {
		parts = append(parts, "last_breach_dim: "+*s.LastBreachDim)
	}
	if s.LastBreachAt != nil {
		parts = append(parts, "last_breach_at: "+fmtOffset(s.LastBreachAt))
	}
	for _, l := range []struct {
		name string
		m    map[string]int64
	}{{"hard_limits", s.HardLimits}, {"soft_limits", s.SoftLimits}} {
		if l.m == nil {
			continue
		}
		parts = append(parts, fmtDims(l.name, l.m, func(d string) int64 { return l.m[d] }))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// fmtDims renders the dimensions of keys, sorted, with the value val gives
// each: "name: {a: 1, b: 2}".
func fmtDims(name string, keys map[string]int64, val func(string) int64) string {
	dims := make([]string, 0, len(keys))
	for d := range keys {
		dims = append(dims, d)
	}
	sort.Strings(dims)
	u := make([]string, len(dims))
	for i, d := range dims {
		u[i] = fmt.Sprintf("%s: %d", d, val(d))
	}
	return name + ": {" + strings.Join(u, ", ") + "}"
}

// sameDims reports whether have agrees with want on every key of want.
func sameDims(want, have map[string]int64) bool {
	for d, v := range want {
		if have[d] != v {
			return false
		}
	}
	return true
}
