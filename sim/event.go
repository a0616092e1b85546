package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
// per event, fields in declaration order, each followed by a newline.
func Digest(events []Event) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, e := range events {
		_ = enc.Encode(e) // writing to a hash cannot fail
	}
	return hex.EncodeToString(h.Sum(nil))
}
