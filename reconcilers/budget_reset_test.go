package reconcilers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/google/go-cmp/cmp"
	"github.com/ncruces/go-sqlite3"
)

// TestR1_ScanBatchOf20 — R1: 22 due budgets take two ticks, 20 then 2,
// earliest next_reset_at first (here the reverse of id order, so ordering
// by id would pick the wrong ones).
func TestR1_ScanBatchOf20(t *testing.T) {
	e := newEnv(t, Hooks{})
	const n = 22
	id := func(i int) string { return fmt.Sprintf("b%02d", i) }
	for i := range n {
		e.create(t, spec(id(i), time.Minute, 0, 0))
		e.report(t, id(i), map[string]int64{"tokens": 1}, "")
		// b21 is the most overdue, b00 the least.
		if err := e.st.SetNextReset(t.Context(), id(i), ptr(ms(t0)+int64(n-i))); err != nil {
			t.Fatal(err)
		}
	}
	e.mock.Add(time.Second)
	now := e.mock.Now()

	wasReset := func(i int) bool { return e.status(t, id(i)).Usage["tokens"] == 0 }

	rep, err := e.st.ScanTick(t.Context(), now)
	if err != nil || rep != (Report{Processed: 20}) {
		t.Fatalf("first tick = %+v, %v; want 20 processed", rep, err)
	}
	for i := range n {
		if want := i >= 2; wasReset(i) != want {
			t.Errorf("after first tick %s reset = %v, want %v", id(i), !want, want)
		}
	}
	rep, err = e.st.ScanTick(t.Context(), now)
	if err != nil || rep != (Report{Processed: 2}) {
		t.Fatalf("second tick = %+v, %v; want 2 processed", rep, err)
	}
	for i := range n {
		if !wasReset(i) {
			t.Errorf("after second tick %s not reset", id(i))
		}
	}
	rep, err = e.st.ScanTick(t.Context(), now)
	if err != nil || rep != (Report{}) {
		t.Errorf("third tick = %+v, %v; want nothing due", rep, err)
	}
}

// R1: budgets with no schedule, or one in the future, are not selected;
// one due exactly now is.
func TestR1_OnlyDueBudgetsSelected(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("never", 0, 0, 0))
	e.create(t, spec("later", 10*time.Second, 0, 0))
	e.create(t, spec("now", 5*time.Second, 0, 0))
	e.mock.Add(5 * time.Second)

	ids, err := e.st.dueBudgets(t.Context(), ms(e.mock.Now()))
	if err != nil || !cmp.Equal(ids, []string{"now"}) {
		t.Errorf("due = %v, %v; want [now]", ids, err)
	}
}

// R2: a reset zeroes every usage row at the tick's time, clears the last
// breach, keeps the lifetime breach counters, and schedules the next reset
// one interval after this reset — not after the old schedule.
func TestR2_ResetTransition(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, BudgetSpec{
		ID: "b1", ResetInterval: 10 * time.Second,
		Dimensions: []string{"tokens", "calls"},
		HardLimits: []int64{100, 0}, SoftLimits: []int64{50, 0},
	})
	e.create(t, spec("other", time.Hour, 0, 0))
	e.report(t, "b1", map[string]int64{"tokens": 60, "calls": 4}, "") // soft
	e.report(t, "b1", map[string]int64{"tokens": 60}, "")             // hard
	e.report(t, "other", map[string]int64{"tokens": 9}, "")

	// The tick runs 25 s late: the next reset is 10 s from now, not 20 s.
	e.mock.Add(35 * time.Second)
	now := ms(e.mock.Now())
	rep, err := e.st.ScanTick(t.Context(), e.mock.Now())
	if err != nil || rep != (Report{Processed: 1}) {
		t.Fatalf("tick = %+v, %v", rep, err)
	}
	st := e.status(t, "b1")
	if diff := cmp.Diff(map[string]int64{"tokens": 0, "calls": 0}, st.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if st.BreachCount != 1 || st.SoftBreachCount != 1 {
		t.Errorf("breach counters = %d/%d, want 1/1 (never zeroed)", st.BreachCount, st.SoftBreachCount)
	}
	if st.LastBreachAtMs != nil || st.LastBreachDim != nil {
		t.Errorf("last breach = %v/%v, want cleared", st.LastBreachAtMs, st.LastBreachDim)
	}
	if st.NextResetAtMs == nil || *st.NextResetAtMs != now+10_000 || st.UpdatedAtMs != now {
		t.Errorf("next reset / updated = %v / %d, want %d / %d", st.NextResetAtMs, st.UpdatedAtMs, now+10_000, now)
	}
	rows, err := e.st.UsageRows(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.BudgetID == "b1" && (r.LastResetAtMs != now || r.UpdatedAtMs != now) {
			t.Errorf("row %+v: want last_reset_at and updated_at %d", r, now)
		}
		if r.BudgetID == "other" && r.CurrentValue != 9 {
			t.Errorf("another budget's row was touched: %+v", r)
		}
	}
}

// R2: with a zero interval the reset leaves no next reset (NULL).
func TestR2_ZeroIntervalNextResetNull(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", 0, 0, 0))
	e.report(t, "b1", map[string]int64{"tokens": 3}, "")
	if err := e.st.SetNextReset(t.Context(), "b1", ptr(ms(t0))); err != nil {
		t.Fatal(err)
	}
	if rep, err := e.st.ScanTick(t.Context(), e.mock.Now()); err != nil || rep != (Report{Processed: 1}) {
		t.Fatalf("tick = %+v, %v", rep, err)
	}
	st := e.status(t, "b1")
	if st.Usage["tokens"] != 0 || st.NextResetAtMs != nil {
		t.Errorf("after reset usage %d next %v; want 0, NULL", st.Usage["tokens"], st.NextResetAtMs)
	}
}

// R2: the apply re-reads the policy; a budget no longer due (a concurrent
// reset moved it), unscheduled, or gone is left alone and still counts as
// success.
func TestR2_RecheckSkipsBudgetNoLongerDue(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("future", 10*time.Second, 0, 0))
	e.create(t, spec("null", 0, 0, 0))
	for _, id := range []string{"future", "null"} {
		e.report(t, id, map[string]int64{"tokens": 5}, "")
	}
	before := map[string]Status{"future": e.status(t, "future"), "null": e.status(t, "null")}
	now := ms(t0) + 9_999

	for _, id := range []string{"future", "null", "gone"} {
		applied, err := e.st.applyReset(t.Context(), id, now)
		if err != nil || applied {
			t.Errorf("applyReset(%s) = %v, %v; want skipped without error", id, applied, err)
		}
	}
	for id, b := range before {
		if diff := cmp.Diff(b, e.status(t, id)); diff != "" {
			t.Errorf("%s changed by a skipped reset (-before +after):\n%s", id, diff)
		}
	}
	// And the positive control: due at now, it applies.
	if applied, err := e.st.applyReset(t.Context(), "future", ms(t0)+10_000); err != nil || !applied {
		t.Errorf("applyReset(due) = %v, %v; want applied", applied, err)
	}
}

// R2 + R4: a budget selected by the scan but moved by a concurrent admin
// write before its transaction begins is skipped, and the skip counts as
// processed.
func TestR2_RecheckAfterScanCountsAsProcessed(t *testing.T) {
	var st *Store
	var fired atomic.Bool
	e := newEnv(t, Hooks{BeforeWrite: func(ctx context.Context) error {
		if _, ok := TickFrom(ctx); !ok || !fired.CompareAndSwap(false, true) {
			return nil
		}
		// Another writer pushes the schedule out between scan and apply.
		_, err := st.DB().ExecContext(ctx,
			"UPDATE ff_budget_policy SET next_reset_at_ms = ? WHERE budget_id = 'b1'", ms(t0)+60_000)
		return err
	}})
	st = e.st
	e.create(t, spec("b1", 10*time.Second, 0, 0))
	e.report(t, "b1", map[string]int64{"tokens": 5}, "")
	e.mock.Add(10 * time.Second)

	ctx := withTick(t.Context(), Tick{Reconciler: "budget_reset", N: 1, Now: e.mock.Now()})
	rep, err := e.st.ScanTick(ctx, e.mock.Now())
	if err != nil || rep != (Report{Processed: 1}) {
		t.Fatalf("tick = %+v, %v; want 1 processed", rep, err)
	}
	if !fired.Load() {
		t.Fatal("the concurrent write never ran")
	}
	if got := e.status(t, "b1").Usage["tokens"]; got != 5 {
		t.Errorf("usage = %d, want 5 (reset skipped)", got)
	}
}

// R2: now is the tick's time, even when the transaction commits later.
func TestR2_NowIsTickTime(t *testing.T) {
	var mock *clock.Mock
	e := newEnv(t, Hooks{InsideReset: func(ctx context.Context, id string) error {
		mock.Add(3 * time.Second) // a slow transaction
		return nil
	}})
	mock = e.mock
	e.create(t, spec("b1", 10*time.Second, 0, 0))
	e.report(t, "b1", map[string]int64{"tokens": 5}, "")
	e.mock.Add(10 * time.Second)
	tick := e.mock.Now()
	// The tick body starts late too (a slow BeforeTick), so the clock at
	// ScanTick's start is not the tick's time either.
	e.mock.Add(2 * time.Second)

	if rep, err := e.st.ScanTick(t.Context(), tick); err != nil || rep != (Report{Processed: 1}) {
		t.Fatalf("tick = %+v, %v", rep, err)
	}
	if e.mock.Now() != tick.Add(5*time.Second) {
		t.Fatalf("the hook did not advance the clock")
	}
	st := e.status(t, "b1")
	if st.UpdatedAtMs != ms(tick) || st.NextResetAtMs == nil || *st.NextResetAtMs != ms(tick)+10_000 {
		t.Errorf("updated %d next %v; want %d and %d (the tick's time)", st.UpdatedAtMs, st.NextResetAtMs, ms(tick), ms(tick)+10_000)
	}
	rows, _ := e.st.UsageRows(t.Context())
	if len(rows) != 1 || rows[0].LastResetAtMs != ms(tick) || rows[0].UpdatedAtMs != ms(tick) {
		t.Errorf("usage rows %+v; want last_reset_at = updated_at = %d", rows, ms(tick))
	}
}

// R2 / S5: an abort inside the reset transaction (after the usage rows are
// zeroed) rolls the whole reset back; the tick stops, leaving later budgets
// unattempted. Covers a hook that returns the context error and one that
// swallows it (the next statement or the pre-COMMIT check must catch it).
func TestR2_AbortInsideResetRollsBack(t *testing.T) {
	for _, swallow := range []bool{false, true} {
		t.Run(fmt.Sprintf("swallow=%v", swallow), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			e := newEnv(t, Hooks{InsideReset: func(hctx context.Context, id string) error {
				cancel()
				if swallow {
					return nil
				}
				return hctx.Err()
			}})
			for _, id := range []string{"b1", "b2"} {
				e.create(t, spec(id, 10*time.Second, 10, 0))
				e.report(t, id, map[string]int64{"tokens": 5}, "")
				e.report(t, id, map[string]int64{"tokens": 50}, "") // hard breach: last_breach set
			}
			e.mock.Add(10 * time.Second)
			before := map[string]Status{"b1": e.status(t, "b1"), "b2": e.status(t, "b2")}
			rowsBefore, _ := e.st.UsageRows(t.Context())

			rep, err := e.st.ScanTick(ctx, e.mock.Now())
			if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "1 of 2") {
				t.Errorf("tick error = %v; want context.Canceled with 1 of 2 not attempted", err)
			}
			if rep != (Report{Errors: 1}) {
				t.Errorf("report = %+v; want the aborted apply as 1 error", rep)
			}
			for id, b := range before {
				if diff := cmp.Diff(b, e.status(t, id)); diff != "" {
					t.Errorf("%s changed by an aborted reset (-before +after):\n%s", id, diff)
				}
			}
			rowsAfter, _ := e.st.UsageRows(t.Context())
			if diff := cmp.Diff(rowsBefore, rowsAfter); diff != "" {
				t.Errorf("usage rows changed (-before +after):\n%s", diff)
			}
			// The aborted connection went back to the pool clean: with a
			// live context (the hook's cancel no longer matters) a reset
			// commits.
			if _, err := e.st.ResetBudget(t.Context(), "b1"); err != nil {
				t.Errorf("ResetBudget after the abort: %v", err)
			}
			if got := e.status(t, "b1").Usage["tokens"]; got != 0 {
				t.Errorf("usage after a live reset = %d, want 0", got)
			}
		})
	}
}

// parkClock is the test's mock clock, telling the test each time the store
// parks on it. The test then advances the mock by exactly the wait: the
// retry schedule is observed, not raced (advancing in a loop could move
// time before the store has set its timer).
type parkClock struct {
	*clock.Mock
	parked chan time.Duration
}

func (c *parkClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	w, cancel := c.Mock.WithTimeout(ctx, d)
	c.parked <- d
	return w, cancel
}

func newParkEnv(t *testing.T, hooks Hooks) (*env, *parkClock) {
	t.Helper()
	checkLeaks(t)
	mock := clock.NewMock()
	mock.Set(t0)
	pc := &parkClock{Mock: mock, parked: make(chan time.Duration)}
	return newEnvClock(t, pc, mock, hooks), pc
}

// drive runs op in a goroutine, advancing the clock by each wait the store
// parks on, and returns op's error and the waits in order.
func drive(pc *parkClock, op func() error) ([]time.Duration, error) {
	done := make(chan error, 1)
	go func() { done <- op() }()
	var waits []time.Duration
	for {
		select {
		case err := <-done:
			return waits, err
		case d := <-pc.parked:
			waits = append(waits, d)
			pc.Add(d)
		}
	}
}

// busyHook makes the first n write attempts fail as SQLITE_BUSY would, and
// counts every attempt with the clock time it started.
type busyHook struct {
	n        atomic.Int32
	attempts []time.Time
	clk      Clock
}

func (b *busyHook) beforeWrite(ctx context.Context) error {
	b.attempts = append(b.attempts, b.clk.Now())
	if b.n.Add(-1) >= 0 {
		return fmt.Errorf("injected: %w", ErrBusy)
	}
	return nil
}

// R3: two busy failures are retried after 5 ms and 10 ms of the injected
// clock, and the third attempt succeeds.
func TestR3_TwoBusyFailuresRecover(t *testing.T) {
	bh := &busyHook{}
	e, pc := newParkEnv(t, Hooks{BeforeWrite: bh.beforeWrite})
	bh.clk = pc
	e.create(t, spec("b1", 10*time.Second, 0, 0))
	e.report(t, "b1", map[string]int64{"tokens": 5}, "")

	bh.n.Store(2)
	bh.attempts = nil
	start := pc.Now()
	var next *int64
	waits, err := drive(pc, func() (err error) {
		next, err = e.st.ResetBudget(context.Background(), "b1")
		return err
	})
	if err != nil {
		t.Fatalf("ResetBudget after 2 busy attempts: %v", err)
	}
	if !cmp.Equal(waits, []time.Duration{5 * time.Millisecond, 10 * time.Millisecond}) {
		t.Errorf("waits = %v, want [5ms 10ms]", waits)
	}
	wantAt := []time.Time{start, start.Add(5 * time.Millisecond), start.Add(15 * time.Millisecond)}
	if !cmp.Equal(bh.attempts, wantAt) {
		t.Errorf("attempts at %v, want %v", bh.attempts, wantAt)
	}
	if used := pc.Now().Sub(start); used != 15*time.Millisecond {
		t.Errorf("mock time consumed = %v, want 15ms", used)
	}
	// The admin reset takes its time at the call, and keeps it across R3's
	// retries (upstream's caller-supplied now).
	if next == nil || *next != ms(start)+10_000 {
		t.Errorf("next reset = %v, want %d", next, ms(start)+10_000)
	}
	if got := e.status(t, "b1").Usage["tokens"]; got != 0 {
		t.Errorf("usage = %d, want 0", got)
	}
}

// R3: three busy failures give up with ErrBusy and leave the budget
// untouched; only two sleeps happen.
func TestR3_ThreeBusyFailuresGiveUp(t *testing.T) {
	bh := &busyHook{}
	e, pc := newParkEnv(t, Hooks{BeforeWrite: bh.beforeWrite})
	bh.clk = pc
	e.create(t, spec("b1", 10*time.Second, 0, 0))
	e.report(t, "b1", map[string]int64{"tokens": 5}, "")
	e.mock.Add(10 * time.Second)
	before := e.status(t, "b1")

	bh.n.Store(3)
	bh.attempts = nil
	start := pc.Now()
	var rep Report
	waits, err := drive(pc, func() (err error) {
		rep, err = e.st.ScanTick(context.Background(), start)
		return err
	})
	if err != nil || rep != (Report{Errors: 1}) {
		t.Errorf("tick = %+v, %v; want 1 error", rep, err)
	}
	if len(bh.attempts) != 3 || !cmp.Equal(waits, []time.Duration{5 * time.Millisecond, 10 * time.Millisecond}) {
		t.Errorf("%d attempts, waits %v; want 3 attempts, [5ms 10ms]", len(bh.attempts), waits)
	}
	if used := pc.Now().Sub(start); used != 15*time.Millisecond {
		t.Errorf("mock time consumed = %v, want 15ms", used)
	}
	if diff := cmp.Diff(before, e.status(t, "b1")); diff != "" {
		t.Errorf("budget changed (-before +after):\n%s", diff)
	}
	if !strings.Contains(e.logs.String(), "budget_id=b1") || !strings.Contains(e.logs.String(), ErrBusy.Error()) {
		t.Errorf("log lacks the failed apply:\n%s", e.logs)
	}

	// The same through the admin path returns an error wrapping ErrBusy.
	bh.n.Store(3)
	_, err = drive(pc, func() error {
		_, err := e.st.ResetBudget(context.Background(), "b1")
		return err
	})
	if !errors.Is(err, ErrBusy) {
		t.Errorf("ResetBudget after 3 busy attempts = %v, want ErrBusy", err)
	}
}

// R3 + R2: a retried tick apply still stamps the tick's time, although the
// clock moved 15 ms while retrying.
func TestR3_RetriedApplyUsesTickTime(t *testing.T) {
	bh := &busyHook{}
	e, pc := newParkEnv(t, Hooks{BeforeWrite: bh.beforeWrite})
	bh.clk = pc
	e.create(t, spec("b1", 10*time.Second, 0, 0))
	e.mock.Add(10 * time.Second)
	tick := pc.Now()

	bh.n.Store(2)
	var rep Report
	_, err := drive(pc, func() (err error) {
		rep, err = e.st.ScanTick(context.Background(), tick)
		return err
	})
	if err != nil || rep != (Report{Processed: 1}) {
		t.Fatalf("tick = %+v, %v", rep, err)
	}
	if st := e.status(t, "b1"); st.UpdatedAtMs != ms(tick) || *st.NextResetAtMs != ms(tick)+10_000 {
		t.Errorf("updated %d next %d; want the tick's time %d", st.UpdatedAtMs, *st.NextResetAtMs, ms(tick))
	}
}

// R3: errors other than contention are not retried.
func TestR3_OtherErrorsNotRetried(t *testing.T) {
	var attempts atomic.Int32
	boom := errors.New("boom")
	var armed atomic.Bool
	e := newEnv(t, Hooks{BeforeWrite: func(ctx context.Context) error {
		if !armed.Load() {
			return nil
		}
		attempts.Add(1)
		return boom
	}})
	e.create(t, spec("b1", 10*time.Second, 0, 0))
	armed.Store(true)
	if _, err := e.st.ResetBudget(t.Context(), "b1"); !errors.Is(err, boom) || errors.Is(err, ErrBusy) {
		t.Errorf("err = %v, want boom, not busy", err)
	}
	if attempts.Load() != 1 {
		t.Errorf("attempts = %d, want 1", attempts.Load())
	}
}

// busySchedule is SQLite's default busy-handler waits for a 5 s timeout:
// 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms, then 100 ms until the
// total is 5 s (the last cut to 72 ms).
func busySchedule() []time.Duration {
	var out []time.Duration
	total := time.Duration(0)
	for _, ms := range []int{1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50} {
		out = append(out, time.Duration(ms)*time.Millisecond)
		total += time.Duration(ms) * time.Millisecond
	}
	for total < 5*time.Second {
		d := min(100*time.Millisecond, 5*time.Second-total)
		out = append(out, d)
		total += d
	}
	return out
}

// R3 + R3b against real contention: another connection holding the write
// lock makes each attempt wait 5 s on SQLite's busy-handler schedule (on
// the injected clock) before SQLITE_BUSY reaches R3, which retries twice;
// the reset then gives up, and succeeds once the lock is released.
func TestR3b_HeldLockWaitsThenRetries(t *testing.T) {
	var attempts atomic.Int32
	e, pc := newParkEnv(t, Hooks{BeforeWrite: func(context.Context) error {
		attempts.Add(1)
		return nil
	}})
	e.create(t, spec("b1", 10*time.Second, 0, 0))
	e.report(t, "b1", map[string]int64{"tokens": 5}, "")
	release := holdWriteLock(t, e.st)

	attempts.Store(0)
	start := pc.Now()
	waits, err := drive(pc, func() error {
		_, err := e.st.ResetBudget(context.Background(), "b1")
		return err
	})
	if !errors.Is(err, ErrBusy) || !errors.Is(err, sqlite3.BUSY) {
		t.Errorf("ResetBudget under a held write lock = %v; want ErrBusy wrapping SQLITE_BUSY", err)
	}
	want := slices.Concat(busySchedule(), []time.Duration{5 * time.Millisecond}, busySchedule(),
		[]time.Duration{10 * time.Millisecond}, busySchedule())
	if attempts.Load() != 3 || !cmp.Equal(waits, want) {
		t.Errorf("%d attempts, waits %v; want 3 attempts and waits %v", attempts.Load(), waits, want)
	}
	if used := pc.Now().Sub(start); used != 15015*time.Millisecond {
		t.Errorf("simulated time used = %v, want 15.015s", used)
	}
	if got := e.status(t, "b1").Usage["tokens"]; got != 5 {
		t.Errorf("usage = %d, want 5 (untouched)", got)
	}

	release()
	if _, err := e.st.ResetBudget(t.Context(), "b1"); err != nil {
		t.Fatalf("ResetBudget after release: %v", err)
	}
	if got := e.status(t, "b1").Usage["tokens"]; got != 0 {
		t.Errorf("usage = %d, want 0", got)
	}
}

// R3b: a write blocked behind a lock released at 300 ms gets it at the
// first poll after the release (328 ms: 0, 1, 3, 8, 18, 33, 53, 78, 103,
// 128, 178, 228, 328) and needs no retry.
func TestR3b_LockReleasedMidWait(t *testing.T) {
	e, pc := newParkEnv(t, Hooks{})
	e.create(t, spec("b1", 10*time.Second, 0, 0))
	release := holdWriteLock(t, e.st)
	start := pc.Now()
	done := make(chan error, 1)
	go func() {
		_, err := e.st.ResetBudget(context.Background(), "b1")
		done <- err
	}()
	var waits []time.Duration
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("ResetBudget: %v", err)
			}
			if used := pc.Now().Sub(start); used != 328*time.Millisecond {
				t.Errorf("returned after %v, want 328ms (waits %v)", used, waits)
			}
			return
		case d := <-pc.parked:
			waits = append(waits, d)
			// Release before the clock moves past 300 ms, so the lock is
			// free when the poll that time wakes runs.
			if pc.Now().Add(d).Sub(start) >= 300*time.Millisecond {
				release()
			}
			pc.Add(d)
		}
	}
}

// R3b: with a busy timeout of 0 a held lock fails each attempt at once, as
// busy_timeout(0) does; R3 still sleeps 5 and 10 ms between attempts.
func TestR3b_ZeroTimeoutFailsAtOnce(t *testing.T) {
	checkLeaks(t)
	mock := clock.NewMock()
	mock.Set(t0)
	pc := &parkClock{Mock: mock, parked: make(chan time.Duration)}
	st, err := OpenMemory("", WithClock(pc), WithBusyTimeout(0))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := &env{st: st, mock: mock, logs: &syncBuffer{}}
	e.create(t, spec("b1", 10*time.Second, 0, 0))
	holdWriteLock(t, st)
	waits, err := drive(pc, func() error {
		_, err := st.ResetBudget(context.Background(), "b1")
		return err
	})
	if !errors.Is(err, ErrBusy) || !cmp.Equal(waits, []time.Duration{5 * time.Millisecond, 10 * time.Millisecond}) {
		t.Errorf("err %v, waits %v; want ErrBusy after [5ms 10ms]", err, waits)
	}
}

// R3b: the busy wait is a cancellation point: an abort ends it at once and
// nothing is retried.
func TestR3b_WaitEndsOnAbort(t *testing.T) {
	e, pc := newParkEnv(t, Hooks{})
	e.create(t, spec("b1", 10*time.Second, 0, 0))
	holdWriteLock(t, e.st)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.st.ResetBudget(ctx, "b1")
		done <- err
	}()
	<-pc.parked // the first busy wait
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("ResetBudget aborted in a busy wait = %v, want context.Canceled", err)
	}
}

// R4: a failed apply is counted and logged with its budget; the others
// still run and count as processed.
func TestR4_FailedApplyCountedAndLogged(t *testing.T) {
	e := newEnv(t, Hooks{InsideReset: func(ctx context.Context, id string) error {
		if id == "b2" {
			return errors.New("disk on fire")
		}
		return nil
	}})
	for _, id := range []string{"b1", "b2", "b3"} {
		e.create(t, spec(id, 10*time.Second, 0, 0))
		e.report(t, id, map[string]int64{"tokens": 5}, "")
	}
	e.mock.Add(10 * time.Second)

	rep, err := e.st.ScanTick(t.Context(), e.mock.Now())
	if err != nil || rep != (Report{Processed: 2, Errors: 1}) {
		t.Fatalf("tick = %+v, %v; want 2 processed, 1 error", rep, err)
	}
	for id, want := range map[string]int64{"b1": 0, "b2": 5, "b3": 0} {
		if got := e.status(t, id).Usage["tokens"]; got != want {
			t.Errorf("%s usage = %d, want %d", id, got, want)
		}
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "budget_id=b2") || !strings.Contains(logs, "disk on fire") {
		t.Errorf("logs lack a warn for b2:\n%s", logs)
	}
}

// R4: a failing scan query fails the whole tick.
func TestR4_ScanFailureFailsTick(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", 10*time.Second, 0, 0))
	e.mock.Add(10 * time.Second)
	if _, err := e.st.DB().ExecContext(t.Context(), "ALTER TABLE ff_budget_policy RENAME TO moved"); err != nil {
		t.Fatal(err)
	}
	rep, err := e.st.ScanTick(t.Context(), e.mock.Now())
	if err == nil || !strings.Contains(err.Error(), "scan") || rep != (Report{}) {
		t.Errorf("tick = %+v, %v; want a scan error", rep, err)
	}
}
