package sim

import (
	"context"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// Host runs scenarios: [Native] in this process, or the wasm host of
// package sim/wasmhost as a wasip1 guest. Every host validates the
// scenario first and never returns nil: whatever goes wrong (an invalid
// scenario, a deadlock, a time limit, a crashed guest) becomes a failed
// [Result] that says so.
type Host interface {
	// Name is the host's name in results: "native" or "wasm".
	Name() string
	// Run runs sc once with the seed opts gives (or the scenario's own).
	// A done ctx stops the run where the host can (the wasm host at once,
	// the native host between steps).
	Run(ctx context.Context, sc *scenario.Scenario, opts Options) *Result
	// Close releases what the host holds (the wasm host's runtime and
	// compiled guest). Runs still in progress are stopped.
	Close() error
}

// Host names.
const (
	HostNative = "native"
	HostWasm   = "wasm"
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
	// outcome; it turns a hang into an error. Default 30s. The wasm host
	// has its own wall-clock limit per run instead.
	StallTimeout time.Duration
	// TraceTail is how many of the trace's last events Result.Trace keeps
	// (default [DefaultTraceTail]). The digest covers the whole trace
	// whatever it is: a run's memory does not grow with its length.
	TraceTail int
	// FullTrace keeps every event in Result.Trace, for a trace file or a
	// verbose replay. Memory then grows with the run.
	FullTrace bool
	// MaxEvents bounds the trace events a run may record (default
	// [DefaultMaxEvents]). A run that reaches it fails at the step that
	// was running, with a message naming the limit and how to raise it
	// (ffsim's --max-events), instead of running for hours: a 1ms
	// reconciler advanced by a year would record some 10^11 events.
	MaxEvents int
}

// Default limits of [Options].
const (
	DefaultMaxSimTime   = 400 * 24 * time.Hour
	DefaultStallTimeout = 30 * time.Second
	DefaultTraceTail    = 256
	// DefaultMaxEvents is about a minute or two of a fast reconciler's
	// ticks on the native host (100,000 to 300,000 events a second), and
	// fifty times what a day of 1s ticks records; the library's scenarios
	// record a few hundred at most.
	DefaultMaxEvents = 10_000_000
)

// WithDefaults returns o with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.MaxSimTime <= 0 {
		o.MaxSimTime = DefaultMaxSimTime
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = DefaultStallTimeout
	}
	if o.TraceTail <= 0 {
		o.TraceTail = DefaultTraceTail
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = DefaultMaxEvents
	}
	return o
}

// traceKept is the recorder's tail: -1 for every event.
func (o Options) traceKept() int {
	if o.FullTrace {
		return -1
	}
	return o.TraceTail
}

// SeedFor returns the seed a run of sc with these options uses.
func (o Options) SeedFor(sc *scenario.Scenario) uint64 {
	if o.Seed != nil {
		return *o.Seed
	}
	return sc.Seed
}

// Native returns the in-process host: event-driven virtual time, ties
// resolved in timer-creation order, a byte-identical trace for the same
// scenario and seed. It holds nothing; Close is a no-op.
func Native() Host { return nativeHost{} }

type nativeHost struct{}

func (nativeHost) Name() string { return HostNative }
func (nativeHost) Close() error { return nil }

func (nativeHost) Run(ctx context.Context, sc *scenario.Scenario, opts Options) *Result {
	opts = opts.WithDefaults()
	if res := invalidResult(sc, HostNative, opts); res != nil {
		return res
	}
	start := sc.StartTime()
	vc := NewVirtualClock(start, WithMaxSimTime(opts.MaxSimTime), WithStallTimeout(opts.StallTimeout))
	e := newEngine(ctx, sc, opts, &nativeWorld{vc: vc}, HostNative, true, nativeStore)
	vc.onIdle = e.rec.flush
	vc.halt = e.rec.budgetError
	return e.run()
}

// invalidResult is the failed result of a scenario that does not
// validate, or nil when it does.
func invalidResult(sc *scenario.Scenario, host string, opts Options) *Result {
	errs := sc.Check()
	if len(errs) == 0 {
		return nil
	}
	f := &Failure{Pos: errs[0].Pos, Message: "invalid scenario: " + errs.Error()}
	if f.Pos.File == "" {
		f.Pos.File = sc.File
	}
	return &Result{Name: sc.Name, File: sc.File, Host: host, Seed: opts.SeedFor(sc), Status: Fail, Failure: f}
}
