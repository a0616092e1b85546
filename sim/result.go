package sim

import (
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// Status is a run's outcome.
type Status string

// The outcomes of a run.
const (
	// Pass: every step ran and every expectation and invariant held.
	Pass Status = "pass"
	// Fail: an expectation or an invariant did not hold, or the run could
	// not finish (deadlock, time limit, a step error).
	Fail Status = "fail"
	// Error: the host could not run the scenario at all (the wasm guest
	// could not be built, timed out in wall-clock time or ran out of
	// memory). It says nothing about the scenario; rerunning may pass.
	Error Status = "error"
)

// Result is one scenario run's outcome.
type Result struct {
	Name   string `json:"name"`
	File   string `json:"file,omitempty"`
	Host   string `json:"host"`
	Seed   uint64 `json:"seed"`
	Status Status `json:"status"`
	// SimDuration is the simulated time the run covered.
	SimDuration time.Duration `json:"sim_duration_ns"`
	// StepsRun counts the top-level steps executed (the failing one too).
	StepsRun int `json:"steps_run"`
	// Digest is the SHA-256 of the whole trace (see [Digest]), however
	// much of it Trace keeps.
	Digest  string   `json:"digest"`
	Failure *Failure `json:"failure,omitempty"`
	// Final is every budget's state at the end, for comparing hosts.
	Final []BudgetSnapshot `json:"final,omitempty"`
	// Workers is the worker registry at the end, for comparing hosts.
	Workers []WorkerSnapshot `json:"workers,omitempty"`
	// Events is the number of events in the whole trace.
	Events int `json:"events"`
	// Trace is the end of the trace: its last Options.TraceTail events, or
	// all of them with Options.FullTrace.
	Trace []Event `json:"trace,omitempty"`
}

// Failure says what went wrong and where.
type Failure struct {
	// Pos is the step or expectation that failed.
	Pos scenario.Pos `json:"pos"`
	// Step is the failing step's kind.
	Step     string `json:"step,omitempty"`
	Message  string `json:"message"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
}

// BudgetSnapshot is a budget's comparable end state.
type BudgetSnapshot struct {
	Budget          string           `json:"budget"`
	Usage           map[string]int64 `json:"usage"`
	NextResetAt     *time.Duration   `json:"next_reset_at,omitempty"`
	BreachCount     int64            `json:"breach_count"`
	SoftBreachCount int64            `json:"soft_breach_count"`
	LastBreachDim   *string          `json:"last_breach_dim,omitempty"`
	LastBreachAt    *time.Duration   `json:"last_breach_at,omitempty"`
}

// WorkerSnapshot is a registered worker's comparable end state; times are
// offsets from the scenario start.
type WorkerSnapshot struct {
	Namespace     string        `json:"namespace"`
	Instance      string        `json:"instance"`
	WorkerID      string        `json:"worker_id"`
	Lanes         []string      `json:"lanes,omitempty"`
	Capabilities  []string      `json:"capabilities,omitempty"`
	LastHeartbeat time.Duration `json:"last_heartbeat"`
	TTL           time.Duration `json:"ttl"`
	RegisteredAt  time.Duration `json:"registered_at"`
}
