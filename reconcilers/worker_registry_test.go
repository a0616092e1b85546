package reconcilers

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func (e *env) register(t *testing.T, r Registration) RegisterResult {
	t.Helper()
	res, err := e.st.RegisterWorker(t.Context(), r)
	if err != nil {
		t.Fatalf("RegisterWorker(%+v): %v", r, err)
	}
	return res
}

func worker(instance, id string, ttl time.Duration) Registration {
	return Registration{Namespace: "default", Instance: instance, WorkerID: id, TTL: ttl}
}

func (e *env) workers(t *testing.T) []Worker {
	t.Helper()
	ws, err := e.st.ListWorkers(t.Context(), "default")
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func (e *env) events(t *testing.T) []string {
	t.Helper()
	rows, err := e.st.DB().QueryContext(t.Context(), `
		SELECT worker_instance_id || ' ' || event_kind || ' ' || (event_at_ms - ?) || ' ' || coalesce(reason, '')
		FROM ff_worker_registry_event ORDER BY event_at_ms, worker_instance_id, event_kind`, ms(t0))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

// W1: registration, refresh, reassignment refused with nothing written;
// lanes and capabilities stored sorted and deduplicated.
func TestW1_RegisterWorker(t *testing.T) {
	e := newEnv(t, Hooks{})
	r := worker("i1", "w1", 30*time.Second)
	r.Lanes = []string{"b", "a", "b"}
	r.Capabilities = []string{"gpu", "cpu"}
	if got := e.register(t, r); got != Registered {
		t.Errorf("first register = %v, want registered", got)
	}
	e.mock.Add(time.Second)
	r.TTL = 10 * time.Second
	if got := e.register(t, r); got != Refreshed {
		t.Errorf("second register = %v, want refreshed", got)
	}
	other := worker("i1", "w2", 30*time.Second)
	if _, err := e.st.RegisterWorker(t.Context(), other); !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "instance_id reassigned") {
		t.Errorf("register under another worker id = %v, want invalid input (instance_id reassigned)", err)
	}
	ws := e.workers(t)
	want := Worker{Namespace: "default", Instance: "i1", WorkerID: "w1", Lanes: []string{"a", "b"}, Capabilities: []string{"cpu", "gpu"},
		LastHeartbeatMs: ms(t0) + 1000, TTLMs: 10_000, RegisteredAtMs: ms(t0)}
	if len(ws) != 1 || !equalWorker(ws[0], want) {
		t.Errorf("workers = %+v, want [%+v]", ws, want)
	}
	if got := e.events(t); !slices.Equal(got, []string{"i1 registered 0", "i1 registered 1000"}) {
		t.Errorf("events = %q", got)
	}
}

func equalWorker(a, b Worker) bool {
	return a.Namespace == b.Namespace && a.Instance == b.Instance && a.WorkerID == b.WorkerID &&
		slices.Equal(a.Lanes, b.Lanes) && slices.Equal(a.Capabilities, b.Capabilities) &&
		a.LastHeartbeatMs == b.LastHeartbeatMs && a.TTLMs == b.TTLMs && a.RegisteredAtMs == b.RegisteredAtMs
}

// W2 and W4 at the boundary: at last_heartbeat + ttl == now a worker is
// neither refreshable nor swept; one millisecond later it is swept.
func TestW2W4_Boundary(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.register(t, worker("i1", "w1", 30*time.Second))
	e.mock.Add(10 * time.Second)
	hb, err := e.st.HeartbeatWorker(t.Context(), "default", "i1")
	if err != nil || hb != (Heartbeat{Refreshed: true, NextExpiryMs: ms(t0) + 40_000}) {
		t.Errorf("heartbeat at 10s = %+v, %v", hb, err)
	}
	e.mock.Add(30 * time.Second) // now == last_heartbeat + ttl
	if hb, err := e.st.HeartbeatWorker(t.Context(), "default", "i1"); err != nil || hb.Refreshed {
		t.Errorf("heartbeat at expiry = %+v, %v; want not registered", hb, err)
	}
	if rep, err := e.st.TTLSweepTick(t.Context(), e.mock.Now()); err != nil || rep != (Report{}) {
		t.Errorf("sweep at expiry = %+v, %v; want nothing swept", rep, err)
	}
	if len(e.workers(t)) != 1 {
		t.Errorf("the row is gone at the boundary")
	}
	e.mock.Add(time.Millisecond)
	if rep, err := e.st.TTLSweepTick(t.Context(), e.mock.Now()); err != nil || rep != (Report{Processed: 1}) {
		t.Errorf("sweep after expiry = %+v, %v; want 1 swept", rep, err)
	}
	if len(e.workers(t)) != 0 {
		t.Errorf("the row survived the sweep")
	}
	if got := e.events(t); !slices.Equal(got, []string{"i1 registered 0", "i1 heartbeat 10000", "i1 ttl_swept 40001"}) {
		t.Errorf("events = %q", got)
	}
}

// W3: a reason over 256 bytes or with a control character is refused before
// any write; a live worker is marked dead, an absent one is not registered.
func TestW3_MarkWorkerDead(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.register(t, worker("i1", "w1", time.Minute))
	for _, reason := range []string{strings.Repeat("x", 257), "bad\nline", "del\x7f"} {
		if _, err := e.st.MarkWorkerDead(t.Context(), "default", "i1", reason); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("reason %q: %v, want invalid input", reason, err)
		}
	}
	if marked, err := e.st.MarkWorkerDead(t.Context(), "default", "i1", strings.Repeat("é", 128)); err != nil || !marked {
		t.Errorf("256-byte reason: %v, %v; want marked", marked, err)
	}
	if marked, err := e.st.MarkWorkerDead(t.Context(), "default", "i1", "again"); err != nil || marked {
		t.Errorf("second mark: %v, %v; want not registered", marked, err)
	}
	if len(e.workers(t)) != 0 {
		t.Errorf("marked worker still listed")
	}
}

// W5: workers are listed per namespace, ordered by instance.
func TestW5_ListWorkers(t *testing.T) {
	e := newEnv(t, Hooks{})
	for _, i := range []string{"c", "a", "b"} {
		e.register(t, worker(i, "w-"+i, time.Minute))
	}
	r := worker("a", "other", time.Minute)
	r.Namespace = "ns2"
	e.register(t, r)
	var got []string
	for _, w := range e.workers(t) {
		got = append(got, w.Instance)
	}
	if !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("default namespace lists %v", got)
	}
	all, err := e.st.AllWorkers(t.Context())
	if err != nil || len(all) != 4 || all[3].Namespace != "ns2" {
		t.Errorf("AllWorkers = %+v, %v", all, err)
	}
}

// The registry's transactions read or write first, and SQLite waits for a
// held lock only on a first write: a heartbeat waits (R3b) while a
// registration, which reads first, fails at once with SQLITE_BUSY and is
// not retried.
func TestW_HeldLockWaitOrFailAtOnce(t *testing.T) {
	e, pc := newParkEnv(t, Hooks{})
	_, err := drive(pc, func() error {
		_, err := e.st.RegisterWorker(context.Background(), worker("i1", "w1", time.Minute))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	holdWriteLock(t, e.st)
	waits, err := drive(pc, func() error {
		_, err := e.st.RegisterWorker(context.Background(), worker("i2", "w2", time.Minute))
		return err
	})
	if code, _ := SQLiteCode(err); code != 5 || len(waits) != 0 || errors.Is(err, ErrBusy) {
		t.Errorf("register under a held lock = %v after waits %v; want SQLITE_BUSY at once, no retry", err, waits)
	}
	waits, err = drive(pc, func() error {
		_, err := e.st.HeartbeatWorker(context.Background(), "default", "i1")
		return err
	})
	if code, _ := SQLiteCode(err); code != 5 || !slices.Equal(waits, busySchedule()) {
		t.Errorf("heartbeat under a held lock = %v after waits %v; want SQLITE_BUSY after the 5 s busy wait", err, waits)
	}
}

// The status hides the "_init" usage rows, as upstream's.
func TestR5_StatusHidesInitRows(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", 0, 0, 0))
	e.report(t, "b1", map[string]int64{"_init": 1, "tokens": 2}, "")
	if u := e.status(t, "b1").Usage; u["tokens"] != 2 || len(u) != 1 {
		t.Errorf("usage = %v, want only tokens", u)
	}
}

// Misuse is an error, never a panic: a nil store, a nil clock, a negative
// busy timeout.
func TestMisuseIsAnError(t *testing.T) {
	checkLeaks(t)
	if _, err := Spawn(nil, Config{BudgetResetInterval: time.Second}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("Spawn(nil) = %v", err)
	}
	if _, err := OpenMemory("", WithClock(nil)); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("OpenMemory(WithClock(nil)) = %v", err)
	}
	if _, err := OpenMemory("", WithBusyTimeout(-time.Second)); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("OpenMemory(WithBusyTimeout(-1s)) = %v", err)
	}
	st, err := OpenMemory("", nil, WithLogger(nil))
	if err != nil {
		t.Fatalf("nil options are ignored: %v", err)
	}
	defer st.Close()
	// Siblings: a nil *sql.DB or connector panicked in the migrations.
	if _, err := NewStore(nil); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("NewStore(nil) = %v", err)
	}
	if _, err := Open(nil); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("Open(nil) = %v", err)
	}
	if _, err := Spawn(st, Config{}, WithClock(nil)); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("Spawn(WithClock(nil)) = %v", err)
	}
	sup, err := Spawn(st, Config{}, nil, WithObserver(nil), WithLogger(nil))
	if err != nil {
		t.Fatalf("Spawn with nil options: %v", err)
	}
	sup.Shutdown(0)
}

// wholeMs rounds up to whole milliseconds without overflowing: the largest
// busy timeout (2562047h47m16.854775807s) added 999,999ns before dividing
// and wrapped negative, so a scenario asking to wait for ever failed at
// once.
func TestWholeMsDoesNotOverflow(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want int64
	}{
		{0, 0}, {-time.Second, 0}, {1, 1}, {time.Millisecond, 1}, {1500 * time.Microsecond, 2},
		{math.MaxInt64, math.MaxInt64/int64(time.Millisecond) + 1},
		{time.Duration(math.MaxInt64 - math.MaxInt64%int64(time.Millisecond)), math.MaxInt64 / int64(time.Millisecond)},
	} {
		if got := wholeMs(tt.d); got != tt.want {
			t.Errorf("wholeMs(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}
