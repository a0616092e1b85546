package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/ffsim/ffsim/reconcilers"
)

// EventKind is what a trace event records.
type EventKind string

// The trace's event kinds. The supervisor's lifecycle events carry the
// names of reconcilers.EventKind.
const (
	// EvStep: a step (or a step inside concurrently, or the order the seed
	// chose for one: Step "concurrently_order") started.
	EvStep EventKind = "step"
	// EvSpawned: Spawn registered Count tasks.
	EvSpawned EventKind = "spawned"
	// EvTickStarted and EvTickFinished bracket a reconciler tick; the
	// finish carries its Report or Err.
	EvTickStarted  EventKind = "tick_started"
	EvTickFinished EventKind = "tick_finished"
	// EvShutdownRequested: Shutdown or Close signalled the tasks.
	EvShutdownRequested EventKind = "shutdown_requested"
	// EvAborted: Shutdown's grace ran out with this task still running.
	EvAborted EventKind = "aborted"
	// EvExited: a reconciler task returned.
	EvExited EventKind = "exited"
	// EvShutdownReturned: Shutdown returned Count timed-out tasks.
	EvShutdownReturned EventKind = "shutdown_returned"
	// EvResetZeroed: a reset transaction zeroed a budget's usage (before
	// its commit, which an abort may still prevent).
	EvResetZeroed EventKind = "reset_zeroed"
	// EvFault: a fault was armed or fired; Step names it.
	EvFault EventKind = "fault"
	// EvExpect: an expectation was checked; OK says whether it held.
	EvExpect EventKind = "expect"
	// EvInvariant: the invariants were checked after a step.
	EvInvariant EventKind = "invariant"
)

// Event is one entry of a run's trace.
type Event struct {
	// T is the simulated time since the scenario start.
	T time.Duration `json:"t"`
	// Kind is what happened.
	Kind EventKind `json:"kind"`
	// Source is the reconciler the event belongs to; empty for the
	// scenario driver and the supervisor itself.
	Source string `json:"src,omitempty"`
	// Line is the scenario line of the step or expectation.
	Line int `json:"line,omitempty"`
	// Step is the step's kind (step, fault and expect events).
	Step   string              `json:"step,omitempty"`
	Tick   int                 `json:"tick,omitempty"`
	Budget string              `json:"budget,omitempty"`
	Report *reconcilers.Report `json:"report,omitempty"`
	Count  *int                `json:"count,omitempty"`
	Err    string              `json:"err,omitempty"`
	// Detail is free text: a fault's parameters, an expectation's outcome.
	Detail string `json:"detail,omitempty"`
	// OK is set on expect and invariant events.
	OK *bool `json:"ok,omitempty"`
}

// Digest is the SHA-256 of the trace's canonical encoding: one JSON object
// per event, fields in declaration order, each followed by a newline (what
// encoding/json's Encoder writes). A run computes it as it goes (see
// Result.Digest); this is the same function over a trace kept whole.
func Digest(events []Event) string {
	h := sha256.New()
	var buf []byte
	for i := range events {
		buf = events[i].appendJSON(buf[:0])
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// appendJSON appends e's canonical encoding to b: byte for byte what
// json.Encoder.Encode writes for e, newline included, without reflection
// or allocation on the common path. The digest is computed from it on
// every event of every run, so it is on the hot path; TestEventEncoding
// and FuzzEventEncoding hold it to encoding/json.
func (e *Event) appendJSON(b []byte) []byte {
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, int64(e.T), 10)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, string(e.Kind))
	b = appendStringField(b, "src", e.Source)
	if e.Line != 0 {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(e.Line), 10)
	}
	b = appendStringField(b, "step", e.Step)
	if e.Tick != 0 {
		b = append(b, `,"tick":`...)
		b = strconv.AppendInt(b, int64(e.Tick), 10)
	}
	b = appendStringField(b, "budget", e.Budget)
	if r := e.Report; r != nil {
		b = append(b, `,"report":{"processed":`...)
		b = strconv.AppendInt(b, int64(r.Processed), 10)
		b = append(b, `,"errors":`...)
		b = strconv.AppendInt(b, int64(r.Errors), 10)
		b = append(b, '}')
	}
	if e.Count != nil {
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, int64(*e.Count), 10)
	}
	b = appendStringField(b, "err", e.Err)
	b = appendStringField(b, "detail", e.Detail)
	if e.OK != nil {
		b = append(b, `,"ok":`...)
		b = strconv.AppendBool(b, *e.OK)
	}
	return append(b, "}\n"...)
}

// appendStringField appends an omitempty string field.
func appendStringField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

// appendJSONString appends s quoted as encoding/json quotes it. Plain
// printable ASCII (most of a trace) is copied; anything encoding/json would
// escape (quotes, backslashes, control bytes, <, >, &, non-ASCII that may
// be invalid UTF-8 or U+2028/9) goes through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
