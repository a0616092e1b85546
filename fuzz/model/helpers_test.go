package model

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// Scenario builders for the tests: each returns one step.

const (
	ms = time.Millisecond
	s  = time.Second
)

func dptr(d time.Duration) *time.Duration { return &d }

func adv(d time.Duration) scenario.Step   { return scenario.Step{Advance: dptr(d)} }
func advTo(d time.Duration) scenario.Step { return scenario.Step{AdvanceTo: dptr(d)} }
func spawn() scenario.Step                { return scenario.Step{Spawn: &scenario.SpawnStep{}} }
func spawnWith(reset, sweep time.Duration) scenario.Step {
	return scenario.Step{Spawn: &scenario.SpawnStep{BudgetResetInterval: &reset, WorkerRegistryTTLInterval: &sweep}}
}
func shutdown(g time.Duration) scenario.Step {
	return scenario.Step{Shutdown: &scenario.ShutdownStep{Grace: g}}
}
func closeStep() scenario.Step { return scenario.Step{Close: &scenario.Empty{}} }
func create(b scenario.Budget) scenario.Step {
	return scenario.Step{CreateBudget: &b}
}
func report(b string, key string, kv ...any) scenario.Step {
	u := map[string]int64{}
	for i := 0; i < len(kv); i += 2 {
		u[kv[i].(string)] = int64(kv[i+1].(int))
	}
	return scenario.Step{ReportUsage: &scenario.ReportUsageStep{Budget: b, Usage: u, DedupKey: key}}
}
func resetB(b string) scenario.Step {
	return scenario.Step{ResetBudget: &scenario.BudgetRef{Budget: b}}
}
func setNext(b string, at time.Duration) scenario.Step {
	return scenario.Step{SetNextReset: &scenario.SetNextResetStep{Budget: b, At: scenario.Offset{At: at}}}
}
func scan() scenario.Step  { return scenario.Step{ScanTick: &scenario.Empty{}} }
func sweep() scenario.Step { return scenario.Step{SweepTick: &scenario.Empty{}} }
func register(inst, wid string, ttl time.Duration, lanes ...string) scenario.Step {
	return scenario.Step{RegisterWorker: &scenario.RegisterWorkerStep{Instance: inst, WorkerID: wid, TTL: ttl, Lanes: lanes}}
}
func heartbeat(inst string) scenario.Step {
	return scenario.Step{HeartbeatWorker: &scenario.WorkerRef{Instance: inst}}
}
func mark(inst, reason string) scenario.Step {
	return scenario.Step{MarkWorkerDead: &scenario.MarkWorkerDeadStep{Instance: inst, Reason: reason}}
}
func slow(rec string, n int, d time.Duration, where string) scenario.Step {
	return scenario.Step{SlowTick: &scenario.SlowTickStep{Reconciler: rec, Tick: n, Duration: d, Where: where}}
}
func tickErr(rec string, n int) scenario.Step {
	return scenario.Step{TickError: &scenario.TickErrorStep{Reconciler: rec, Tick: n}}
}
func busy(n int) scenario.Step { return scenario.Step{Busy: &scenario.BusyStep{Attempts: n}} }
func dbErr(code string, n int, on string) scenario.Step {
	return scenario.Step{DBError: &scenario.DBErrorStep{Code: code, Attempts: n, On: on}}
}
func hold(d time.Duration) scenario.Step {
	return scenario.Step{HoldWriteLock: &scenario.HoldWriteLockStep{Duration: d}}
}
func together(steps ...scenario.Step) scenario.Step { return scenario.Step{Concurrently: steps} }

// Checks (their content is replaced by the model's prediction).
func budgets(ids ...string) scenario.Step {
	var eb []scenario.BudgetExpect
	for _, id := range ids {
		eb = append(eb, scenario.BudgetExpect{Budget: id, AnyOf: []scenario.BudgetState{{}}})
	}
	return scenario.Step{ExpectBudget: eb}
}
func ticksOf(rec string) scenario.Step {
	return scenario.Step{ExpectTicks: []scenario.TicksExpect{{Reconciler: rec}}}
}
func runningN() scenario.Step { n := 0; return scenario.Step{ExpectRunning: &n} }
func workers(insts ...string) scenario.Step {
	we := &scenario.WorkersExpect{}
	for _, i := range insts {
		we.Workers = append(we.Workers, scenario.WorkerExpect{Instance: i})
	}
	return scenario.Step{ExpectWorkers: we}
}

const (
	BR = scenario.BudgetReset
	WS = scenario.WorkerRegistryTTLSweep
	BT = scenario.BeforeTx
	IT = scenario.InsideTx
)

// bud is a budget with one dimension "tok" (hard 1000, soft 800) and a
// reset interval.
func bud(id string, interval time.Duration) scenario.Budget {
	return scenario.Budget{ID: id, ResetInterval: interval, Scope: scenario.Scope{Type: "flow", ID: id},
		Dimensions: map[string]scenario.Limits{"tok": {Hard: 1000, Soft: 800}}}
}

// sc builds a scenario.
func sc(sup scenario.Supervisor, bs []scenario.Budget, steps ...scenario.Step) *scenario.Scenario {
	return &scenario.Scenario{Name: "t", Supervisor: sup, Budgets: bs, Steps: steps}
}

func every(reset, sweep time.Duration) scenario.Supervisor {
	return scenario.Supervisor{BudgetResetInterval: reset, WorkerRegistryTTLInterval: sweep}
}

// predicted annotates a scenario (no inserted checks) and renders each
// step's prediction, indexed like the input's steps.
func predicted(t *testing.T, in *scenario.Scenario, opts Options) []string {
	t.Helper()
	out, err := Annotate(in, opts)
	if err != nil {
		t.Fatalf("Annotate: %v", err)
	}
	if err := out.Validate(); err != nil {
		t.Fatalf("annotated scenario is invalid: %v", err)
	}
	if len(out.Steps) != len(in.Steps) {
		t.Fatalf("annotated scenario has %d steps, want %d", len(out.Steps), len(in.Steps))
	}
	r := make([]string, len(out.Steps))
	for i := range out.Steps {
		r[i] = render(&out.Steps[i])
	}
	return r
}

// render is a compact, stable rendering of a step's prediction:
// alternatives sorted and joined by " | ".
func render(st *scenario.Step) string {
	switch {
	case st.Concurrently != nil:
		var parts []string
		for i := range st.Concurrently {
			parts = append(parts, "["+render(&st.Concurrently[i])+"]")
		}
		return strings.Join(parts, " ")
	case st.ExpectBudget != nil:
		var parts []string
		for _, be := range st.ExpectBudget {
			var alts []string
			for _, bs := range be.AnyOf {
				alts = append(alts, renderBudget(bs))
			}
			slices.Sort(alts)
			parts = append(parts, be.Budget+": "+strings.Join(alts, " | "))
		}
		return strings.Join(parts, "; ")
	case st.ExpectTicks != nil:
		var parts []string
		for _, te := range st.ExpectTicks {
			parts = append(parts, fmt.Sprintf("count=%s processed=%s errors=%s", ip(te.Count), ip(te.Processed), ip(te.Errors)))
		}
		return strings.Join(parts, "; ")
	case st.ExpectRunning != nil:
		return fmt.Sprint(*st.ExpectRunning)
	case st.ExpectWorkers != nil:
		var parts []string
		for _, w := range st.ExpectWorkers.Workers {
			if w.Absent {
				parts = append(parts, w.Instance+": absent")
				continue
			}
			parts = append(parts, fmt.Sprintf("%s: %s hb=%s ttl=%v reg=%s lanes=%v", w.Instance, sp(w.WorkerID), w.LastHeartbeat, dp(w.TTL), w.RegisteredAt, w.Lanes))
		}
		return strings.Join(parts, "; ")
	case st.Expect == nil:
		return ""
	}
	var alts []string
	for _, o := range st.Expect.AnyOf {
		alts = append(alts, renderOutcome(o))
	}
	slices.Sort(alts)
	return strings.Join(slices.Compact(alts), " | ")
}

func ip(p *int) string {
	if p == nil {
		return "?"
	}
	return fmt.Sprint(*p)
}

func sp(p *string) string {
	if p == nil {
		return "?"
	}
	return *p
}

func dp(p *time.Duration) string {
	if p == nil {
		return "?"
	}
	return p.String()
}

func renderOutcome(o scenario.Outcome) string {
	var b strings.Builder
	switch {
	case o.Error != "":
		b.WriteString("error=" + o.Error)
	case o.HardBreach != nil:
		fmt.Fprintf(&b, "hard_breach(%s,%d,%d)", *o.HardBreach.Dimension, *o.HardBreach.CurrentUsage, *o.HardBreach.Limit)
	case o.SoftBreach != nil:
		fmt.Fprintf(&b, "soft_breach(%s,%d,%d)", *o.SoftBreach.Dimension, *o.SoftBreach.CurrentUsage, *o.SoftBreach.Limit)
	case o.Refreshed != nil:
		fmt.Fprintf(&b, "refreshed(%s)", o.Refreshed.NextExpiry)
	case o.Result != "":
		b.WriteString(o.Result)
	case o.Installed != nil:
		fmt.Fprintf(&b, "installed=%v", *o.Installed)
	case o.TimedOut != nil:
		fmt.Fprintf(&b, "timed_out=%d", *o.TimedOut)
	case o.NextResetAt != nil:
		fmt.Fprintf(&b, "next=%s", o.NextResetAt)
	case o.Processed != nil:
		fmt.Fprintf(&b, "processed=%d errors=%d", *o.Processed, *o.Errors)
	}
	if o.ReturnedAt != nil {
		fmt.Fprintf(&b, " @%s", o.ReturnedAt)
	}
	return b.String()
}

func renderBudget(st scenario.BudgetState) string {
	if st.NotFound {
		return "not_found"
	}
	var usage []string
	for _, d := range slices.Sorted(maps.Keys(st.Usage)) {
		usage = append(usage, fmt.Sprintf("%s=%d", d, st.Usage[d]))
	}
	return fmt.Sprintf("usage{%s} next=%s breach=%d soft=%d last=%s@%s",
		strings.Join(usage, ","), st.NextResetAt, *st.BreachCount, *st.SoftBreachCount, st.LastBreachDim, st.LastBreachAt)
}

// want maps a step index to its expected rendering.
type want map[int]string

type modelCase struct {
	name string
	sc   *scenario.Scenario
	want want
	// native selects Options.Native.
	native bool
}

func runCases(t *testing.T, cases []modelCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := predicted(t, c.sc, Options{Native: c.native})
			for i, w := range c.want {
				if i >= len(got) {
					t.Fatalf("no step %d", i)
				}
				if got[i] != w {
					t.Errorf("step %d (%s):\n got  %s\n want %s", i, c.sc.Steps[i].Kind(), got[i], w)
				}
			}
		})
	}
}
