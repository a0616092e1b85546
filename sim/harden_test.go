//go:build !wasip1

package sim_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
)

// Regression tests for issue 10's engine items: counts and durations that
// add up saturate instead of wrapping, a run's events are bounded, and a
// lock held past the end of the scenario does not fail teardown.

func load(t *testing.T, src string) *scenario.Scenario {
	t.Helper()
	sc, err := harness.LoadBytes("h.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func runNative(t *testing.T, sc *scenario.Scenario, opts sim.Options) *sim.Result {
	t.Helper()
	return sim.Native().Run(context.Background(), sc, opts)
}

func passes(t *testing.T, res *sim.Result) {
	t.Helper()
	if res.Status != sim.Pass {
		var b strings.Builder
		harness.WriteFailure(&b, res, 20)
		t.Fatalf("%s", b.String())
	}
}

const maxInt64 = "9223372036854775807"

// The largest duration: 2562047h47m16.854775807s.
const maxDuration = "2562047h47m16.854775807s"

// Fault counts and durations that add up never wrap: two busy steps of
// MaxInt64 attempts (which summed into a negative count, so no write
// failed and "expect: ok" passed), two db_error steps likewise, on writes
// and on scans, and two slow_tick steps of 2562047h on one tick, before and
// inside its transaction (whose sum wrapped negative and the slowdown
// vanished).
func TestFaultCountsDoNotOverflow(t *testing.T) {
	const budgets = "budgets:\n  - {id: b1, scope: {type: t, id: i}, reset_interval: 1s}\n"
	for _, tt := range []struct{ name, steps string }{
		{"busy", `
  - busy: {attempts: ` + maxInt64 + `}
  - busy: {attempts: ` + maxInt64 + `}
  - report_usage: {budget: b1, usage: {t: 1}}
    expect: {error: busy}
  - create_budget: {id: b2, scope: {type: t, id: i}}
    expect: {error: busy}
  - register_worker: {instance: i, worker_id: w, ttl: 1s}
    expect: {error: busy}
  - advance: 1h
  - report_usage: {budget: b1, usage: {t: 1}}
    expect: {error: busy}
`},
		{"busy inside concurrently", `
  - concurrently:
      - busy: {attempts: ` + maxInt64 + `}
      - busy: {attempts: ` + maxInt64 + `}
      - db_error: {code: busy, attempts: ` + maxInt64 + `}
  - report_usage: {budget: b1, usage: {t: 1}}
    expect: {error: busy}
`},
		{"db_error on writes", `
  - db_error: {code: ioerr, attempts: ` + maxInt64 + `}
  - db_error: {code: ioerr, attempts: ` + maxInt64 + `}
  - report_usage: {budget: b1, usage: {t: 1}}
    expect: {error: ioerr}
  - reset_budget: {budget: b1}
    expect: {error: ioerr}
`},
		{"db_error on scans", `
  - db_error: {code: corrupt, on: scan, attempts: ` + maxInt64 + `}
  - db_error: {code: corrupt, on: scan, attempts: ` + maxInt64 + `}
  - scan_tick: {}
    expect: {error: corrupt}
  - spawn: {}
  - advance: 10s
  - scan_tick: {}
    expect: {error: corrupt}
  - expect_ticks: {budget_reset: {count: 10, processed: 0, errors: 0}}
`},
		{"slow_tick before the transaction", `
  - slow_tick: {tick: 1, duration: 2562047h}
  - slow_tick: {tick: 1, duration: 2562047h}
  - spawn: {}
  - advance: 1h
  - expect_ticks: {budget_reset: {count: 0}}
`},
		{"slow_tick inside the transaction", `
  - slow_tick: {tick: 1, duration: 2562047h, where: inside_tx}
  - slow_tick: {tick: 1, duration: 2562047h, where: inside_tx}
  - spawn: {}
  - advance: 1h
  - expect_ticks: {budget_reset: {count: 0}}
`},
		{"slow_tick of the largest duration", `
  - slow_tick: {tick: 1, duration: ` + maxDuration + `}
  - slow_tick: {tick: 1, duration: ` + maxDuration + `}
  - slow_tick: {tick: 1, duration: 1ns}
  - spawn: {}
  - advance: 1h
  - expect_ticks: {budget_reset: {count: 0}}
`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := load(t, "name: n\nsupervisor: {budget_reset_interval: 1s}\n"+budgets+"steps:"+tt.steps)
			passes(t, runNative(t, sc, sim.Options{}))
		})
	}
}

// The largest durations and offsets a scenario can write run as "never"
// or "far away", never as a time in the past: a lock held, a grace period,
// a TTL, a busy timeout, an interval, a forced schedule.
func TestLargestDurationsDoNotWrap(t *testing.T) {
	for _, tt := range []struct{ name, src string }{
		{"busy timeout", `
store: {busy_timeout: 2562047h47m16.854s}
budgets: [{id: b1, scope: {type: t, id: i}}]
steps:
  - hold_write_lock: {duration: 1h}
  - report_usage: {budget: b1, usage: {t: 1}}
    expect: {result: ok, returned_at: 1h0m0.028s}
`},
		{"grace", `
supervisor: {budget_reset_interval: 1s}
steps:
  - slow_tick: {tick: 1, duration: 1h}
  - spawn: {}
  - advance: 1s
  - shutdown: {grace: ` + maxDuration + `}
    expect: {timed_out: 0, returned_at: 1h0m1s}
`},
		{"ttl", `
steps:
  - register_worker: {instance: i, worker_id: w, ttl: 2562047h47m16.854s}
    expect: registered
  - sweep_tick: {}
    expect: {processed: 0, errors: 0}
  - heartbeat_worker: {instance: i}
    expect: {refreshed: {next_expiry: 2562047h47m16.854s}}
`},
		{"intervals", `
supervisor: {budget_reset_interval: 2562047h47m16.854s, worker_registry_ttl_interval: ` + maxDuration + `}
budgets: [{id: b1, scope: {type: t, id: i}, reset_interval: 2562047h47m16.854s}]
steps:
  - spawn: {}
  - advance: 24h
  - expect_ticks: {budget_reset: {count: 0}, worker_registry_ttl_sweep: {count: 0}}
  - expect_budget: {b1: {next_reset_at: 2562047h47m16.854s}}
`},
		{"far-future start", `
start: 9999-12-31T23:59:59Z
supervisor: {budget_reset_interval: 1h}
budgets: [{id: b1, scope: {type: t, id: i}, reset_interval: 2562047h47m16.854s}]
steps:
  - spawn: {}
  - set_next_reset: {budget: b1, at: 2562047h47m16.854s}
  - advance: 9000h
  - expect_budget: {b1: {next_reset_at: 2562047h47m16.854s, created_at: 0s}}
  - expect_ticks: {budget_reset: {count: 9000}}
`},
		{"set_next_reset", `
budgets: [{id: b1, scope: {type: t, id: i}, reset_interval: 1s}]
steps:
  - set_next_reset: {budget: b1, at: 2562047h47m16.854s}
  - expect_budget: {b1: {next_reset_at: 2562047h47m16.854s}}
  - scan_tick: {}
    expect: {processed: 0, errors: 0}
`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			passes(t, runNative(t, load(t, "name: n\n"+tt.src), sim.Options{}))
		})
	}
	// Two advances of the largest duration stop at the simulated-time
	// limit, at the first, rather than wrapping back to the start.
	sc := load(t, "name: n\nsteps:\n  - advance: "+maxDuration+"\n  - advance: "+maxDuration+"\n")
	res := runNative(t, sc, sim.Options{})
	if res.Status != sim.Fail || res.Failure.Pos.Line != 3 || !strings.HasPrefix(res.Failure.Message, "simulated-time limit reached") {
		t.Errorf("two huge advances: %s %+v", res.Status, res.Failure)
	}
}

// A supervisor ticking every millisecond advanced by a year recorded
// events for hours; the event budget ends the run at the step, naming the
// limit and how to raise it.
func TestEventBudget(t *testing.T) {
	sc := load(t, `name: fast ticks for a year
supervisor: {budget_reset_interval: 1ms}
steps:
  - spawn: {}
  - advance: 8760h
  - advance: 1s
`)
	res := runNative(t, sc, sim.Options{MaxEvents: 10_000})
	if res.Status != sim.Fail || res.Failure == nil {
		t.Fatalf("status %s, want fail", res.Status)
	}
	f := res.Failure
	if f.Pos.Line != 5 || f.Step != "advance" || !strings.Contains(f.Message, "event budget exhausted: the run reached the limit of 10000 trace events (raise it with --max-events, or sim.Options.MaxEvents)") {
		t.Errorf("failure %+v", f)
	}
	if res.Events != 10_000 || res.StepsRun != 2 {
		t.Errorf("%d events, %d steps run; want the budget and 2", res.Events, res.StepsRun)
	}
	if (sim.Options{}).WithDefaults().MaxEvents != sim.DefaultMaxEvents {
		t.Errorf("no default event budget")
	}
	// Within the budget the same scenario, shorter, passes.
	short := load(t, "name: short\nsupervisor: {budget_reset_interval: 1ms}\nsteps:\n  - spawn: {}\n  - advance: 1s\n")
	passes(t, runNative(t, short, sim.Options{MaxEvents: 10_000}))
}

// A hold_write_lock that outlasts the scenario, as its last step, is
// released when the scenario ends: the run passes. (Teardown waited the
// lock out and failed at "file:0" past its allowance.)
func TestHeldLockOutlastingTheRun(t *testing.T) {
	for _, src := range []string{`
budgets: [{id: b1, scope: {type: t, id: i}}]
steps:
  - spawn: {}
  - hold_write_lock: {duration: 10000h}
`, `
supervisor: {budget_reset_interval: 1s}
budgets: [{id: b1, scope: {type: t, id: i}, reset_interval: 1s}]
steps:
  - spawn: {}
  - hold_write_lock: {duration: ` + maxDuration + `}
  - advance: 3s
`} {
		res := runNative(t, load(t, "name: n\n"+src), sim.Options{})
		passes(t, res)
	}
}
