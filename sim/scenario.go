package sim

import (
	"fmt"
	"time"
)

// Pos is where something was written in a scenario file, for reports.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// String returns "file:line".
func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("line %d", p.Line)
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// DefaultStart is the wall-clock time of t=0 when a scenario names none.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Scenario is a validated scenario, ready to run. The harness package builds
// it from YAML; Go users may build one by hand.
type Scenario struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	File        string     `json:"file,omitempty"`
	Start       time.Time  `json:"start"`
	Seed        uint64     `json:"seed"`
	Supervisor  Supervisor `json:"supervisor"`
	Budgets     []Budget   `json:"budgets,omitempty"`
	Steps       []Step     `json:"steps"`
}

// Supervisor is the supervisor configuration used by spawn steps.
type Supervisor struct {
	BudgetResetInterval time.Duration `json:"budget_reset_interval"`
}

// Budget declares a budget (under budgets: or in a create_budget step).
type Budget struct {
	Pos             Pos           `json:"pos"`
	ID              string        `json:"id"`
	ScopeType       string        `json:"scope_type"`
	ScopeID         string        `json:"scope_id"`
	EnforcementMode string        `json:"enforcement_mode"`
	OnHardLimit     string        `json:"on_hard_limit"`
	OnSoftLimit     string        `json:"on_soft_limit"`
	ResetInterval   time.Duration `json:"reset_interval"`
	// Dimensions are sorted by name.
	Dimensions []Dimension `json:"dimensions"`
}

// Dimension is one budget dimension and its limits (0 = no limit).
type Dimension struct {
	Name string `json:"name"`
	Hard int64  `json:"hard"`
	Soft int64  `json:"soft"`
}

// Offset is a time relative to the scenario start, or null.
type Offset struct {
	Null bool          `json:"null,omitempty"`
	At   time.Duration `json:"at,omitempty"`
}

// Step is one scenario step. Exactly one of the action fields is set.
type Step struct {
	Pos Pos `json:"pos"`

	Advance       *time.Duration     `json:"advance,omitempty"`
	AdvanceTo     *time.Duration     `json:"advance_to,omitempty"`
	Spawn         *SpawnStep         `json:"spawn,omitempty"`
	Shutdown      *ShutdownStep      `json:"shutdown,omitempty"`
	Close         *struct{}          `json:"close,omitempty"`
	CreateBudget  *Budget            `json:"create_budget,omitempty"`
	ReportUsage   *ReportUsageStep   `json:"report_usage,omitempty"`
	ResetBudget   *BudgetRef         `json:"reset_budget,omitempty"`
	SetNextReset  *SetNextResetStep  `json:"set_next_reset,omitempty"`
	ScanTick      *struct{}          `json:"scan_tick,omitempty"`
	ExpectBudget  []BudgetExpect     `json:"expect_budget,omitempty"`
	ExpectTicks   []TicksExpect      `json:"expect_ticks,omitempty"`
	ExpectRunning *int               `json:"expect_running,omitempty"`
	ExpectLog     *LogExpect         `json:"expect_log,omitempty"`
	SlowTick      *SlowTickStep      `json:"slow_tick,omitempty"`
	TickError     *TickErrorStep     `json:"tick_error,omitempty"`
	Busy          *BusyStep          `json:"busy,omitempty"`
	HoldWriteLock *HoldWriteLockStep `json:"hold_write_lock,omitempty"`
	Concurrently  []Step             `json:"concurrently,omitempty"`

	// Expect is the step's optional `expect`.
	Expect *Expect `json:"expect,omitempty"`
}

// SpawnStep starts the supervisor; Interval overrides the scenario's.
type SpawnStep struct {
	BudgetResetInterval *time.Duration `json:"budget_reset_interval,omitempty"`
}

// ShutdownStep calls Shutdown(Grace).
type ShutdownStep struct {
	Grace time.Duration `json:"grace"`
}

// ReportUsageStep reports usage deltas.
type ReportUsageStep struct {
	Budget   string           `json:"budget"`
	Usage    map[string]int64 `json:"usage"`
	DedupKey string           `json:"dedup_key,omitempty"`
}

// BudgetRef names a budget.
type BudgetRef struct {
	Budget string `json:"budget"`
}

// SetNextResetStep forces a budget's schedule.
type SetNextResetStep struct {
	Budget string `json:"budget"`
	At     Offset `json:"at"`
}

// SlowTickStep makes tick N of a reconciler take Duration of simulated time,
// before its transaction or inside the reset transaction.
type SlowTickStep struct {
	Reconciler string        `json:"reconciler"`
	Tick       int           `json:"tick"`
	Duration   time.Duration `json:"duration"`
	// Where is "before_tx" or "inside_tx".
	Where string `json:"where"`
}

// Where values for SlowTickStep.
const (
	BeforeTx = "before_tx"
	InsideTx = "inside_tx"
)

// TickErrorStep makes tick N of a reconciler fail.
type TickErrorStep struct {
	Reconciler string `json:"reconciler"`
	Tick       int    `json:"tick"`
}

// BusyStep makes the next Attempts write attempts fail with SQLITE_BUSY.
type BusyStep struct {
	Attempts int `json:"attempts"`
}

// HoldWriteLockStep has another connection hold a write transaction.
type HoldWriteLockStep struct {
	Duration time.Duration `json:"duration"`
}

// Expect is a step's expectation: one outcome, or several allowed ones
// (any_of) where a race allows more than one.
type Expect struct {
	Pos   Pos           `json:"pos"`
	AnyOf []StepOutcome `json:"any_of"`
}

// StepOutcome is one acceptable outcome of a step. Only the fields that
// belong to the step's kind are set; the harness checks that.
type StepOutcome struct {
	// Result: create_budget (created | already_satisfied) and report_usage
	// (ok | already_applied | soft_breach | hard_breach).
	Result      string  `json:"result,omitempty"`
	Installed   *bool   `json:"installed,omitempty"`
	TimedOut    *int    `json:"timed_out,omitempty"`
	NextResetAt *Offset `json:"next_reset_at,omitempty"`
	Processed   *int    `json:"processed,omitempty"`
	Errors      *int    `json:"errors,omitempty"`
}

// BudgetExpect checks one budget's state against one or more alternatives.
type BudgetExpect struct {
	Pos    Pos           `json:"pos"`
	Budget string        `json:"budget"`
	AnyOf  []BudgetState `json:"any_of"`
}

// BudgetState is the part of a budget's state an expectation checks: only
// the fields given are compared.
type BudgetState struct {
	Usage           map[string]int64 `json:"usage,omitempty"`
	NextResetAt     *Offset          `json:"next_reset_at,omitempty"`
	BreachCount     *int64           `json:"breach_count,omitempty"`
	SoftBreachCount *int64           `json:"soft_breach_count,omitempty"`
	// LastBreachDim: nil = not checked; "" with LastBreachDimNull = null.
	LastBreachDim     *string          `json:"last_breach_dim,omitempty"`
	LastBreachDimNull bool             `json:"last_breach_dim_null,omitempty"`
	LastBreachAt      *Offset          `json:"last_breach_at,omitempty"`
	HardLimits        map[string]int64 `json:"hard_limits,omitempty"`
	SoftLimits        map[string]int64 `json:"soft_limits,omitempty"`
}

// TicksExpect checks a reconciler's completed ticks since spawn.
type TicksExpect struct {
	Pos        Pos    `json:"pos"`
	Reconciler string `json:"reconciler"`
	Count      *int   `json:"count,omitempty"`
	Processed  *int   `json:"processed,omitempty"`
	Errors     *int   `json:"errors,omitempty"`
}

// LogExpect checks that a log line at Level containing Contains was logged.
type LogExpect struct {
	Level    string `json:"level"`
	Contains string `json:"contains"`
}
