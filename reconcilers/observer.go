package reconcilers

import "time"

// EventKind names a supervisor lifecycle event (S7).
type EventKind int

// The lifecycle events, in the order a task meets them.
const (
	// EventSpawned: Spawn registered Count tasks. Emitted before any task
	// goroutine starts, so an observer can count them as live from here.
	EventSpawned EventKind = iota + 1
	// EventTickStarted: a reconciler started tick N at Now.
	EventTickStarted
	// EventTickFinished: tick N finished with Report, or with Err.
	EventTickFinished
	// EventShutdownRequested: Shutdown or Close signalled the tasks.
	EventShutdownRequested
	// EventAborted: Shutdown's grace elapsed with this task still running;
	// its context has been cancelled.
	EventAborted
	// EventExited: the task's goroutine is returning.
	EventExited
	// EventShutdownReturned: Shutdown returned Count timed-out tasks.
	EventShutdownReturned
)

var kindNames = [...]string{
	EventSpawned:           "spawned",
	EventTickStarted:       "tick_started",
	EventTickFinished:      "tick_finished",
	EventShutdownRequested: "shutdown_requested",
	EventAborted:           "aborted",
	EventExited:            "exited",
	EventShutdownReturned:  "shutdown_returned",
}

// String returns the event's snake_case name, as used in traces.
func (k EventKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Event is one lifecycle report from the supervisor.
type Event struct {
	Kind EventKind
	// Reconciler is the task's name; empty for supervisor-wide events.
	Reconciler string
	// Tick counts the reconciler's ticks from 1 (tick events only).
	Tick int
	// Now is the tick's time (tick events only).
	Now time.Time
	// Report is the tick's result (EventTickFinished without Err).
	Report Report
	// Err is the tick's error (EventTickFinished).
	Err error
	// Count is the number of tasks spawned (EventSpawned) or timed out
	// (EventShutdownReturned).
	Count int
}

// Observer receives lifecycle events. It is called synchronously from the
// goroutine where the event happens, so it must be safe for concurrent use
// and should return quickly. Events that change the set of live tasks
// (spawned, aborted, exited) are delivered under the supervisor's lock, in
// the order they take effect.
type Observer func(Event)

// Report is what one reconciler tick did (R4).
type Report struct {
	// Processed counts applies that succeeded, including re-checks that
	// found nothing to do.
	Processed int `json:"processed"`
	// Errors counts applies that failed.
	Errors int `json:"errors"`
}
