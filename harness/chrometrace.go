package harness

import (
	"encoding/json"
	"fmt"
	"io"

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
// driver is one track and each reconciler another. A tick is a span on its
// reconciler's track with its report in args; a shutdown call is a span on
// the driver track covering its grace window; aborts, faults and
// expectation checks are instant events. The time axis is simulated time.
func WriteChromeTrace(w io.Writer, results []*sim.Result) error {
	var out []traceEvent
	for i, r := range results {
		pid := i + 1
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
		for _, e := range r.Trace {
			ts := float64(e.T.Nanoseconds()) / 1e3
			base := traceEvent{Ts: ts, Pid: pid, Tid: tid(e.Source)}
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
			ev := base
			ev.Args = args
			switch e.Kind {
			case "tick_started":
				ev.Name, ev.Cat, ev.Ph = fmt.Sprintf("tick %d", e.Tick), "tick", "B"
			case "tick_finished":
				ev.Name, ev.Cat, ev.Ph = fmt.Sprintf("tick %d", e.Tick), "tick", "E"
				if e.Report != nil {
					args["processed"], args["errors"] = e.Report.Processed, e.Report.Errors
				}
			case "step":
				if e.Step != "shutdown" {
					ev.Name, ev.Cat, ev.Ph, ev.S = e.Step, "step", "i", "t"
					break
				}
				ev.Name, ev.Cat, ev.Ph = "shutdown", "shutdown", "B"
			case "shutdown_returned":
				ev.Name, ev.Cat, ev.Ph = "shutdown", "shutdown", "E"
				if e.Count != nil {
					args["timed_out"] = *e.Count
				}
			case "expect", "invariant":
				if e.Kind == "invariant" && e.OK != nil && *e.OK {
					continue // one per step; only violations are worth a mark
				}
				ev.Name, ev.Cat, ev.Ph, ev.S = e.Kind+" "+e.Step, e.Kind, "i", "t"
			default:
				ev.Name, ev.Cat, ev.Ph, ev.S = e.Kind, e.Kind, "i", "t"
				if e.Step != "" {
					ev.Name = e.Kind + " " + e.Step
				}
			}
			if len(ev.Args) == 0 {
				ev.Args = nil
			}
			out = append(out, ev)
		}
	}
	enc := json.NewEncoder(w)
	return enc.Encode(struct {
		TraceEvents     []traceEvent `json:"traceEvents"`
		DisplayTimeUnit string       `json:"displayTimeUnit"`
	}{out, "ms"})
}
