package reconcilers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/benbjohnson/clock"
)

// Option configures [Spawn] and the store constructors ([OpenMemory],
// [OpenFile], [Open], [NewStore]). An option that does not concern the
// callee is ignored, so one option list can be shared by the store and the
// supervisor.
type Option func(*options)

type options struct {
	clock       Clock
	logger      *slog.Logger
	observer    Observer
	hooks       Hooks
	busyTimeout time.Duration
	err         error
}

// DefaultBusyTimeout is a store connection's busy timeout (R3b): sqlx's
// default connection options, as upstream.
const DefaultBusyTimeout = 5 * time.Second

func buildOptions(opts []Option) (options, error) {
	o := options{clock: clock.New(), logger: slog.Default(), busyTimeout: DefaultBusyTimeout}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o, o.err
}

// WithClock sets the time source. The default is clock.New(), the real
// clock. A nil clock is an error from the constructor it is passed to.
func WithClock(c Clock) Option {
	return func(o *options) {
		if c == nil {
			o.err = errors.Join(o.err, fmt.Errorf("%w: WithClock(nil): pass clock.New() for the real clock", ErrInvalidInput))
			return
		}
		o.clock = c
	}
}

// WithLogger sets the slog logger. The default is slog.Default(); nil
// discards the logs.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		o.logger = l
	}
}

// WithBusyTimeout sets how long a store statement waits for a held write
// lock, on the injected clock and SQLite's default busy-handler schedule,
// before SQLITE_BUSY reaches the retries of R3 (R3b). The default is
// [DefaultBusyTimeout]; 0 fails at once. A negative timeout is an error.
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) {
		if d < 0 {
			o.err = errors.Join(o.err, fmt.Errorf("%w: negative busy timeout %v", ErrInvalidInput, d))
			return
		}
		o.busyTimeout = d
	}
}

// WithObserver sets the lifecycle observer (S7). The default observes nothing.
func WithObserver(obs Observer) Option { return func(o *options) { o.observer = obs } }

// WithHooks installs fault points. Unset fields cost nothing.
func WithHooks(h Hooks) Option { return func(o *options) { o.hooks = h } }

// Hooks are the fault points a simulator (or a test) uses to slow down or
// fail the system at precise places. Every field is optional.
//
// A hook that waits must wait on the injected clock and honour ctx: when the
// supervisor aborts a task at the end of the grace period it cancels ctx, and
// the hook's error then rolls back the transaction it is in.
type Hooks struct {
	// BeforeTick runs at the start of every reconciler tick, after `now` is
	// taken and before the tick's first query. A non-nil error fails the tick.
	// The tick being run is available from ctx through [TickFrom].
	BeforeTick func(ctx context.Context) error
	// BeforeWrite runs before every write-transaction attempt the store
	// makes (R3's BEGIN IMMEDIATE attempts, and the worker registry's plain
	// transactions). An error with a SQLite code ([*SQLiteError]) is
	// treated exactly like that error from SQLite, including the retries
	// of R3 for BUSY and LOCKED, but without a busy wait.
	BeforeWrite func(ctx context.Context) error
	// BeforeScan runs before budget_reset's scan query (R1). An error fails
	// the whole tick (R4).
	BeforeScan func(ctx context.Context) error
	// InsideReset runs inside each budget reset transaction, after the usage
	// rows are zeroed and before COMMIT. A non-nil error rolls the reset back.
	InsideReset func(ctx context.Context, budgetID string) error
	// InsideSweep runs inside the TTL sweep's transaction, after the expired
	// rows are deleted and before COMMIT. A non-nil error rolls it back.
	InsideSweep func(ctx context.Context) error
}

// Tick identifies one run of a reconciler's tick body.
type Tick struct {
	// Reconciler is the reconciler's name, e.g. "budget_reset".
	Reconciler string
	// N counts the reconciler's ticks from 1.
	N int
	// Now is the tick's time, taken when the tick starts.
	Now time.Time
}

type tickKey struct{}

// TickFrom returns the tick that ctx belongs to, if any. Hooks use it to
// decide which tick to slow down or fail.
func TickFrom(ctx context.Context) (Tick, bool) {
	t, ok := ctx.Value(tickKey{}).(Tick)
	return t, ok
}

func withTick(ctx context.Context, t Tick) context.Context {
	return context.WithValue(ctx, tickKey{}, t)
}
