package reconcilers

import (
	"context"
	"log/slog"
	"time"

	"github.com/benbjohnson/clock"
)

// Option configures [Spawn] and the store constructors ([OpenMemory],
// [OpenFile], [NewStore]). An option that does not concern the callee is
// ignored, so one option list can be shared by the store and the supervisor.
type Option func(*options)

type options struct {
	clock    Clock
	logger   *slog.Logger
	observer Observer
	hooks    Hooks
}

func buildOptions(opts []Option) options {
	o := options{clock: clock.New(), logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithClock sets the time source. The default is clock.New(), the real clock.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithLogger sets the slog logger. The default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

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
	// BeforeWrite runs before every write-transaction attempt (BEGIN
	// IMMEDIATE) the store makes. An error wrapping [ErrBusy] is treated
	// exactly like SQLITE_BUSY, including the retries of R3.
	BeforeWrite func(ctx context.Context) error
	// InsideReset runs inside each budget reset transaction, after the usage
	// rows are zeroed and before COMMIT. A non-nil error rolls the reset back.
	InsideReset func(ctx context.Context, budgetID string) error
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
