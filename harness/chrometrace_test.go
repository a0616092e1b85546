package harness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/sim"
)

// abortScenario: tick 1 starts at 5s and sleeps 10s inside its reset
// transaction; Shutdown at 5s with a 2s grace times out at 7s and aborts it
// (S4, S5).
const abortScenario = `name: slow tick aborted by shutdown
supervisor: {budget_reset_interval: 5s}
budgets:
  - id: b1
    scope: {type: flow, id: f}
    enforcement_mode: strict
    on_hard_limit: fail
    on_soft_limit: warn
    reset_interval: 5s
    dimensions: {tokens: {hard: 100, soft: 80}}
steps:
  - report_usage: {budget: b1, usage: {tokens: 50}}
    expect: ok
  - spawn: {}
  - slow_tick: {reconciler: budget_reset, tick: 1, duration: 10s, where: inside_tx}
  - advance: 5s
  - shutdown: {grace: 2s}
    expect: {timed_out: 1}
  - expect_budget: {b1: {usage: {tokens: 50}}}
  - shutdown: {grace: 1s}
    expect: {timed_out: 0}
  - advance: 10s
  - expect_running: 0
`

// traceDoc is the trace-event JSON as a consumer reads it. Fields are
// pointers so a missing ph or ts is told apart from a zero one.
type traceDoc struct {
	TraceEvents []struct {
		Name string         `json:"name"`
		Ph   *string        `json:"ph"`
		Ts   *float64       `json:"ts"`
		Pid  int            `json:"pid"`
		Tid  int            `json:"tid"`
		Args map[string]any `json:"args"`
	} `json:"traceEvents"`
}

type span struct {
	name     string
	tid      int
	from, to float64
	args     map[string]any
}

// parseTrace checks the trace-event form and pairs each track's B/E events
// into spans (an E closes the innermost open B of its track). It fails the
// test on an unmatched E, a B left open, an E whose name differs from its
// B's, or time going backwards on a track.
func parseTrace(t *testing.T, data []byte) (doc traceDoc, spans []span, tracks map[string]int) {
	t.Helper()
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if len(doc.TraceEvents) == 0 {
		t.Fatal("no traceEvents")
	}
	tracks = map[string]int{}
	type key struct{ pid, tid int }
	open := map[key][]span{}
	lastTs := map[key]float64{}
	for i, e := range doc.TraceEvents {
		if e.Ph == nil || e.Ts == nil {
			t.Fatalf("event %d (%s) lacks ph or ts", i, e.Name)
		}
		k := key{e.Pid, e.Tid}
		switch *e.Ph {
		case "M":
			if e.Name == "thread_name" {
				tracks[e.Args["name"].(string)] = e.Tid
			}
			continue
		case "B":
			open[k] = append(open[k], span{name: e.Name, tid: e.Tid, from: *e.Ts, args: e.Args})
		case "E":
			st := open[k]
			if len(st) == 0 {
				t.Fatalf("event %d: E %q with no open span on track %v", i, e.Name, k)
			}
			s := st[len(st)-1]
			open[k] = st[:len(st)-1]
			if s.name != e.Name {
				t.Errorf("event %d: E %q closes B %q", i, e.Name, s.name)
			}
			s.to = *e.Ts
			if s.args == nil {
				s.args = map[string]any{}
			}
			for a, v := range e.Args {
				s.args[a] = v
			}
			spans = append(spans, s)
		case "i":
		default:
			t.Errorf("event %d: unexpected ph %q", i, *e.Ph)
		}
		if *e.Ts < lastTs[k] {
			t.Errorf("event %d (%s): ts %v before %v on track %v", i, e.Name, *e.Ts, lastTs[k], k)
		}
		lastTs[k] = *e.Ts
	}
	for k, st := range open {
		if len(st) > 0 {
			t.Errorf("track %v: %d spans left open", k, len(st))
		}
	}
	return doc, spans, tracks
}

func traceOf(t *testing.T, results ...*sim.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := harness.WriteChromeTrace(&b, results); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func runSource(t *testing.T, src string) *sim.Result {
	t.Helper()
	sc, err := harness.LoadBytes("inline.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return sim.Native().Run(context.Background(), sc, sim.Options{})
}

// TestChromeTraceSlowTickAbort: the tick is a span on the budget_reset
// track from 5s until the aborted tick returns at 7s with its report; the
// first Shutdown is a span on the driver track covering its 2s grace
// window (5s..7s) with the timed-out count; the abort is an instant; the
// second, no-op Shutdown is a zero-length span; expectations are instants.
func TestChromeTraceSlowTickAbort(t *testing.T) {
	res := runSource(t, abortScenario)
	if res.Status != sim.Pass {
		var b strings.Builder
		harness.WriteFailure(&b, res, 20)
		t.Fatalf("scenario failed:\n%s", b.String())
	}
	doc, spans, tracks := parseTrace(t, traceOf(t, res))
	br, ok := tracks["budget_reset"]
	if !ok {
		t.Fatalf("no budget_reset track: %v", tracks)
	}
	driver := tracks["scenario"]

	var tick, shutdowns []span
	for _, s := range spans {
		switch {
		case s.name == "tick 1" && s.tid == br:
			tick = append(tick, s)
		case s.name == "shutdown" && s.tid == driver:
			shutdowns = append(shutdowns, s)
		default:
			t.Errorf("unexpected span %+v", s)
		}
	}
	if len(tick) != 1 || tick[0].from != 5e6 || tick[0].to != 7e6 {
		t.Fatalf("tick 1 spans %+v, want one from 5e6 to 7e6 µs", tick)
	}
	if tick[0].args["errors"] != 1.0 || tick[0].args["processed"] != 0.0 {
		t.Errorf("tick 1 args %v, want its report {processed: 0, errors: 1}", tick[0].args)
	}
	if len(shutdowns) != 2 {
		t.Fatalf("shutdown spans %+v, want 2", shutdowns)
	}
	if s := shutdowns[0]; s.from != 5e6 || s.to != 7e6 || s.args["timed_out"] != 1.0 || s.args["line"] != 17.0 {
		t.Errorf("first shutdown span %+v, want 5e6..7e6 µs, line 17, timed_out 1", s)
	}
	if s := shutdowns[1]; s.from != 7e6 || s.to != 7e6 || s.args["line"] != 20.0 {
		t.Errorf("second shutdown span %+v, want 7e6..7e6 µs (a no-op call returns at once), line 20", s)
	}

	instants := map[string][]float64{}
	for _, e := range doc.TraceEvents {
		if *e.Ph == "i" {
			instants[e.Name] = append(instants[e.Name], *e.Ts)
			if e.Name == "aborted" && e.Tid != br {
				t.Errorf("aborted instant on track %d, want budget_reset's %d", e.Tid, br)
			}
		}
	}
	for name, want := range map[string][]float64{
		"aborted":               {7e6},
		"fault slow_tick":       {0, 5e6}, // armed, then fired
		"expect report_usage":   {0},
		"expect shutdown":       {7e6, 7e6},
		"expect expect_budget":  {7e6},
		"expect expect_running": {17e6},
	} {
		if got := instants[name]; !equalFloats(got, want) {
			t.Errorf("instants %q at %v, want %v", name, got, want)
		}
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestChromeTraceFailedRun: a run that fails while a tick is in progress
// still gives balanced spans (the tick closed at the run's end, marked
// unfinished) and marks the failed expectation.
func TestChromeTraceFailedRun(t *testing.T) {
	src := strings.Replace(abortScenario, "  - shutdown: {grace: 2s}\n", "  - expect_running: 0\n  - shutdown: {grace: 2s}\n", 1)
	res := runSource(t, src)
	if res.Status == sim.Pass {
		t.Fatal("a wrong expect_running passed")
	}
	doc, spans, _ := parseTrace(t, traceOf(t, res))
	if len(spans) != 1 || spans[0].name != "tick 1" || spans[0].args["unfinished"] != true || spans[0].to != float64(res.SimDuration.Microseconds()) {
		t.Errorf("spans %+v, want tick 1 closed unfinished at the run's end (%v)", spans, res.SimDuration)
	}
	failed := 0
	for _, e := range doc.TraceEvents {
		if e.Name == "expect expect_running FAILED" && *e.Ph == "i" {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d failed-expectation instants, want 1", failed)
	}
}

// TestChromeTraceConcurrentShutdowns: the library's two-shutdowns race
// gives two nested spans that both end when the first call returns; the
// later no-op call is a zero-length span.
func TestChromeTraceConcurrentShutdowns(t *testing.T) {
	sc, err := harness.Load(library + "/race_concurrent_shutdowns.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res := sim.Native().Run(context.Background(), sc, sim.Options{})
	_, spans, tracks := parseTrace(t, traceOf(t, res))
	var got []span
	for _, s := range spans {
		if s.name == "shutdown" && s.tid == tracks["scenario"] {
			got = append(got, s)
		}
	}
	if len(got) != 3 {
		t.Fatalf("shutdown spans %+v, want 3", got)
	}
	// E order: the inner (second) call closes first.
	if got[0].from != 5e6 || got[0].to != 6e6 || got[1].from != 5e6 || got[1].to != 6e6 || got[1].args["timed_out"] != 1.0 {
		t.Errorf("concurrent shutdown spans %+v %+v, want both 5e6..6e6 µs, the outer with timed_out 1", got[0], got[1])
	}
	if got[2].from != got[2].to {
		t.Errorf("late shutdown span %+v, want zero length", got[2])
	}
}

// TestChromeTraceLibrary: every library run gives well-formed trace-event
// JSON with balanced spans, one process per run.
func TestChromeTraceLibrary(t *testing.T) {
	scs, err := harness.LoadPaths([]string{library})
	if err != nil {
		t.Fatal(err)
	}
	var results []*sim.Result
	for _, sc := range scs {
		results = append(results, sim.Native().Run(context.Background(), sc, sim.Options{}))
	}
	doc, spans, _ := parseTrace(t, traceOf(t, results...))
	pids := map[int]bool{}
	for _, e := range doc.TraceEvents {
		pids[e.Pid] = true
	}
	if len(pids) != len(results) {
		t.Errorf("%d processes, want one per run (%d)", len(pids), len(results))
	}
	for _, s := range spans {
		if s.args["unfinished"] == true {
			t.Errorf("a passing library run left span %+v open", s)
		}
	}
}
