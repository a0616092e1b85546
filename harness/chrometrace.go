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

// appendRun appends one run's events as process pid.
func appendRun(out []traceEvent, pid int, r *sim.Result) []traceEvent {
	out = append(out, traceEvent{Name: "process_name", Ph: "M", Pid: pid, Args: map[string]any{
		"name": fmt.Sprintf("%s (seed %d, %s)", r.Name, r.Seed, r.Host)}})
	tids := map[string]int{"": 0}
	out = append(out, traceEvent{Name: "thread_name", Ph: "M", Pid: pid, Tid: 0, Args: map[string]any{"name": "scenario"}})
	tid := func(src string) int {
		t, ok := tids[src]
		if !ok {
			t = len(tids)
			tids[src] = t
			out = append(out, traceEvent{Name: "thread_name", Ph: "M", Pid: pid, Tid: t, Args: map[string]any{"name": src}})
		}
		return t
	}
	// open holds each track's open spans, innermost last, so every E
	// closes the span it belongs to and nothing is left open.
	open := map[int][]traceEvent{}
	end := func(track int, ts float64, args map[string]any) {
		stack := open[track]
		b := stack[len(stack)-1]
		open[track] = stack[:len(stack)-1]
		e := traceEvent{Name: b.Name, Cat: b.Cat, Ph: "E", Ts: ts, Pid: pid, Tid: track}
		if len(args) > 0 {
			e.Args = args
		}
		out = append(out, e)
	}
	// shutdowns counts the open Shutdown calls on the driver track;
	// returned says Shutdown has returned once, after which every call
	// returns at once.
	shutdowns, returned := 0, false
	last := r.SimDuration
	for _, e := range r.Trace {
		ts := micros(e.T)
		last = max(last, e.T)
		t := tid(e.Source)
		// A Shutdown call made after the first one returned is a no-op:
		// it ends before whatever the driver records next.
		if returned && t == 0 && shutdowns > 0 {
			for ; shutdowns > 0; shutdowns-- {
				end(0, ts, nil)
			}
		}
		args := eventArgs(e)
		ev := traceEvent{Ts: ts, Pid: pid, Tid: t, Args: args}
		kind := string(e.Kind)
		switch e.Kind {
		case sim.EvTickStarted:
			ev.Name, ev.Cat, ev.Ph = fmt.Sprintf("tick %d", e.Tick), "tick", "B"
			open[t] = append(open[t], ev)
		case sim.EvTickFinished:
			if len(open[t]) == 0 {
				// Not ours to close (a truncated trace): mark it.
				ev.Name, ev.Cat, ev.Ph, ev.S = fmt.Sprintf("tick %d finished", e.Tick), "tick", "i", "t"
				break
			}
			if e.Report != nil {
				args["processed"], args["errors"] = e.Report.Processed, e.Report.Errors
			}
			end(t, ts, args)
			continue
		case sim.EvStep:
			if e.Step != "shutdown" {
				ev.Name, ev.Cat, ev.Ph, ev.S = e.Step, "step", "i", "t"
				break
			}
			ev.Name, ev.Cat, ev.Ph = "shutdown", "shutdown", "B"
			open[t] = append(open[t], ev)
			shutdowns++
		case sim.EvShutdownReturned:
			// The call that did the work returns, and with it every call
			// that was waiting for it. The first call made is the
			// outermost span and carries the count.
			if e.Count != nil {
				args["timed_out"] = *e.Count
			}
			returned = true
			if shutdowns == 0 {
				ev.Name, ev.Cat, ev.Ph, ev.S = "shutdown returned", "shutdown", "i", "t"
				break
			}
			for ; shutdowns > 1; shutdowns-- {
				end(t, ts, nil)
			}
			end(t, ts, args)
			shutdowns = 0
			continue
		case sim.EvExpect, sim.EvInvariant:
			if e.OK != nil && *e.OK {
				if e.Kind == sim.EvInvariant {
					continue // one per step; only violations are worth a mark
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
		out = append(out, ev)
	}
	// A no-op Shutdown call that was the run's last event returned at once.
	if returned {
		for ; shutdowns > 0; shutdowns-- {
			end(0, open[0][len(open[0])-1].Ts, nil)
		}
	}
	// Close what the run left open, innermost first, at its end.
	ts := micros(last)
	for t := range len(tids) {
		for len(open[t]) > 0 {
			end(t, ts, map[string]any{"unfinished": true})
		}
	}
	return out
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
