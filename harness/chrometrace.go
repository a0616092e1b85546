package harness

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/ffsim/ffsim/sim"
)

// traceEvent is one Chrome trace-event record. Timestamps are microseconds of
// simulated time since the scenario start.
type traceEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat,omitempty"`
	Ph   string         `json:"ph"`
	Ts   float64        `json:"ts"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	S    string         `json:"s,omitempty"`
	Args map[string]any `json:"args,omitempty"`
}

// WriteChromeTrace writes results as Chrome trace-event JSON, which Perfetto
// and chrome://tracing open. Each run is a process; within it the scenario
// driver is one track and each reconciler another. A tick is a span (a B/E
// pair) on its reconciler's track with its report, or error, in the E's
// args; a tick cut short by an abort ends when the aborted tick returns. A
// Shutdown call is a span on the driver track from the call to its return,
// which for a call that times out is exactly its grace window; a call made
// while another is in progress ends when that one returns, and one made
// after Shutdown has returned ends at once. Aborts, faults, expectation
// checks and invariant violations are instant events. A span still open
// when the run ends (it failed mid-tick, say) is closed at the run's end
// with args.unfinished set. The time axis is simulated time.
func WriteChromeTrace(w io.Writer, results []*sim.Result) error {
	var out []traceEvent
	for i, r := range results {
		out = appendRun(out, i+1, r)
	}
	enc := json.NewEncoder(w)
	return enc.Encode(struct {
		TraceEvents     []traceEvent `json:"traceEvents"`
		DisplayTimeUnit string       `json:"displayTimeUnit"`
	}{out, "ms"})
}

// micros converts simulated time to trace-event microseconds.
func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// runTrace builds one run's trace events as process pid: a track per
// source, the spans open on each, and the state of Shutdown calls.
type runTrace struct {
	out  []traceEvent
	pid  int
	tids map[string]int
	// open holds each track's open spans, innermost last, so every E
	// closes the span it belongs to and nothing is left open.
	open map[int][]traceEvent
	// shutdowns counts the open Shutdown calls on the driver track;
	// returned says Shutdown has returned once, after which every call
	// returns at once.
	shutdowns int
	returned  bool
}

// appendRun appends one run's events as process pid.
func appendRun(out []traceEvent, pid int, r *sim.Result) []traceEvent {
	out = append(out, traceEvent{Name: "process_name", Ph: "M", Pid: pid, Args: map[string]any{
		"name": fmt.Sprintf("%s (seed %d, %s)", r.Name, r.Seed, r.Host)}})
	out = append(out, traceEvent{Name: "thread_name", Ph: "M", Pid: pid, Tid: 0, Args: map[string]any{"name": "scenario"}})
	rt := &runTrace{out: out, pid: pid, tids: map[string]int{"": 0}, open: map[int][]traceEvent{}}
	last := r.SimDuration
	for _, e := range r.Trace {
		last = max(last, e.T)
		rt.add(e)
	}
	// A no-op Shutdown call that was the run's last event rt.returned at once.
	if rt.returned {
		for ; rt.shutdowns > 0; rt.shutdowns-- {
			rt.end(0, rt.open[0][len(rt.open[0])-1].Ts, nil)
		}
	}
	// Close what the run left open, innermost first, at its end.
	ts := micros(last)
	for t := range len(rt.tids) {
		for len(rt.open[t]) > 0 {
			rt.end(t, ts, map[string]any{"unfinished": true})
		}
	}
	return rt.out
}

// tid is the track of a source, announced on first use.
func (rt *runTrace) tid(src string) int {
	t, ok := rt.tids[src]
	if !ok {
		t = len(rt.tids)
		rt.tids[src] = t
		rt.out = append(rt.out, traceEvent{Name: "thread_name", Ph: "M", Pid: rt.pid, Tid: t, Args: map[string]any{"name": src}})
	}
	return t
}

// end closes the innermost open span of a track at ts.
func (rt *runTrace) end(track int, ts float64, args map[string]any) {
	stack := rt.open[track]
	b := stack[len(stack)-1]
	rt.open[track] = stack[:len(stack)-1]
	e := traceEvent{Name: b.Name, Cat: b.Cat, Ph: "E", Ts: ts, Pid: rt.pid, Tid: track}
	if len(args) > 0 {
		e.Args = args
	}
	rt.out = append(rt.out, e)
}

// add turns one trace event into trace events.
func (rt *runTrace) add(e sim.Event) {
	ts := micros(e.T)
	t := rt.tid(e.Source)
	// A Shutdown call made after the first one returned is a no-op:
	// it ends before whatever the driver records next.
	if rt.returned && t == 0 && rt.shutdowns > 0 {
		for ; rt.shutdowns > 0; rt.shutdowns-- {
			rt.end(0, ts, nil)
		}
	}
	args := eventArgs(e)
	ev := traceEvent{Ts: ts, Pid: rt.pid, Tid: t, Args: args}
	kind := string(e.Kind)
	switch e.Kind {
	case sim.EvTickStarted:
		ev.Name, ev.Cat, ev.Ph = fmt.Sprintf("tick %d", e.Tick), "tick", "B"
		rt.open[t] = append(rt.open[t], ev)
	case sim.EvTickFinished:
		if len(rt.open[t]) == 0 {
			// Not ours to close (a truncated trace): mark it.
			ev.Name, ev.Cat, ev.Ph, ev.S = fmt.Sprintf("tick %d finished", e.Tick), "tick", "i", "t"
			break
		}
		if e.Report != nil {
			args["processed"], args["errors"] = e.Report.Processed, e.Report.Errors
		}
		rt.end(t, ts, args)
		return
	case sim.EvStep:
		if e.Step != "shutdown" {
			ev.Name, ev.Cat, ev.Ph, ev.S = e.Step, "step", "i", "t"
			break
		}
		ev.Name, ev.Cat, ev.Ph = "shutdown", "shutdown", "B"
		rt.open[t] = append(rt.open[t], ev)
		rt.shutdowns++
	case sim.EvShutdownReturned:
		// The call that did the work returns, and with it every call
		// that was waiting for it. The first call made is the
		// outermost span and carries the count.
		if e.Count != nil {
			args["timed_out"] = *e.Count
		}
		rt.returned = true
		if rt.shutdowns == 0 {
			ev.Name, ev.Cat, ev.Ph, ev.S = "shutdown rt.returned", "shutdown", "i", "t"
			break
		}
		for ; rt.shutdowns > 1; rt.shutdowns-- {
			rt.end(t, ts, nil)
		}
		rt.end(t, ts, args)
		rt.shutdowns = 0
		return
	case sim.EvExpect, sim.EvInvariant:
		if e.OK != nil && *e.OK {
			if e.Kind == sim.EvInvariant {
				return // one per step; only violations are worth a mark
			}
			ev.Name = "expect " + e.Step
		} else {
			ev.Name = kind + " " + e.Step + " FAILED"
			if e.Step == "" {
				ev.Name = kind + " FAILED"
			}
		}
		ev.Cat, ev.Ph, ev.S = kind, "i", "t"
	default:
		ev.Name, ev.Cat, ev.Ph, ev.S = kind, kind, "i", "t"
		if e.Step != "" {
			ev.Name = kind + " " + e.Step
		}
	}
	if len(ev.Args) == 0 {
		ev.Args = nil
	}
	rt.out = append(rt.out, ev)
}

// eventArgs are the fields of e worth showing beside it.
func eventArgs(e sim.Event) map[string]any {
	args := map[string]any{}
	if e.Line != 0 {
		args["line"] = e.Line
	}
	if e.Tick != 0 {
		args["tick"] = e.Tick
	}
	if e.Budget != "" {
		args["budget"] = e.Budget
	}
	if e.Detail != "" {
		args["detail"] = e.Detail
	}
	if e.Err != "" {
		args["error"] = e.Err
	}
	if e.OK != nil {
		args["ok"] = *e.OK
	}
	if e.Count != nil && e.Kind != sim.EvShutdownReturned {
		args["count"] = *e.Count
	}
	return args
}
