package scenario

import (
	"reflect"
	"time"
)

// Step is one scenario step: exactly one action field set (which one is its
// [Kind]) and, for the kinds that take one, an optional Expect. The field
// names in YAML are the kinds' names.
type Step struct {
	Advance       *time.Duration     `yaml:"advance" json:"advance,omitempty"`
	AdvanceTo     *time.Duration     `yaml:"advance_to" json:"advance_to,omitempty"`
	Spawn         *SpawnStep         `yaml:"spawn" json:"spawn,omitempty"`
	Shutdown      *ShutdownStep      `yaml:"shutdown" json:"shutdown,omitempty"`
	Close         *Empty             `yaml:"close" json:"close,omitempty"`
	CreateBudget  *Budget            `yaml:"create_budget" json:"create_budget,omitempty"`
	ReportUsage   *ReportUsageStep   `yaml:"report_usage" json:"report_usage,omitempty"`
	ResetBudget   *BudgetRef         `yaml:"reset_budget" json:"reset_budget,omitempty"`
	SetNextReset  *SetNextResetStep  `yaml:"set_next_reset" json:"set_next_reset,omitempty"`
	ScanTick      *Empty             `yaml:"scan_tick" json:"scan_tick,omitempty"`
	ExpectBudget  []BudgetExpect     `yaml:"expect_budget" json:"expect_budget,omitempty"`
	ExpectTicks   []TicksExpect      `yaml:"expect_ticks" json:"expect_ticks,omitempty"`
	ExpectRunning *int               `yaml:"expect_running" json:"expect_running,omitempty"`
	ExpectLog     *LogExpect         `yaml:"expect_log" json:"expect_log,omitempty"`
	SlowTick      *SlowTickStep      `yaml:"slow_tick" json:"slow_tick,omitempty"`
	TickError     *TickErrorStep     `yaml:"tick_error" json:"tick_error,omitempty"`
	Busy          *BusyStep          `yaml:"busy" json:"busy,omitempty"`
	HoldWriteLock *HoldWriteLockStep `yaml:"hold_write_lock" json:"hold_write_lock,omitempty"`
	Concurrently  []Step             `yaml:"concurrently" json:"concurrently,omitempty"`

	// Expect is the step's optional expectation.
	Expect *Expect `yaml:"expect" json:"expect,omitempty"`

	// Pos is where the step starts (its first key).
	Pos Pos `yaml:"-" json:"pos"`
}

// Kind returns the kind of the step's action, or Invalid when the step has
// no action or more than one.
func (s *Step) Kind() Kind {
	kinds := s.Actions()
	if len(kinds) != 1 {
		return Invalid
	}
	return kinds[0]
}

// Actions lists the kinds of every action field that is set, in registry
// order. A valid step has exactly one.
func (s *Step) Actions() []Kind {
	var out []Kind
	v := reflect.ValueOf(s).Elem()
	for _, f := range actionFields {
		if !v.Field(f.index).IsNil() {
			out = append(out, f.kind)
		}
	}
	return out
}

// Empty is the {} argument of steps that take none.
type Empty struct{}

// SpawnStep starts the supervisor; a set interval overrides the
// scenario's supervisor configuration for this spawn.
type SpawnStep struct {
	BudgetResetInterval *time.Duration `yaml:"budget_reset_interval" json:"budget_reset_interval,omitempty" jsonschema_description:"Overrides supervisor.budget_reset_interval for this spawn."`
}

// ShutdownStep calls Shutdown(Grace).
type ShutdownStep struct {
	Grace time.Duration `yaml:"grace" json:"grace" jsonschema:"required" jsonschema_description:"How long Shutdown waits for tasks to exit before aborting them; simulated time passes while it waits."`
}

// ReportUsageStep reports usage deltas against a budget.
type ReportUsageStep struct {
	Budget   string           `yaml:"budget" json:"budget" jsonschema:"required,minLength=1" jsonschema_description:"The budget to charge."`
	Usage    map[string]int64 `yaml:"usage" json:"usage" jsonschema:"required" jsonschema_description:"Usage delta per dimension."`
	DedupKey string           `yaml:"dedup_key" json:"dedup_key,omitempty" jsonschema:"minLength=1" jsonschema_description:"Idempotency key: a key seen before replays the stored outcome."`

	BudgetPos Pos `yaml:"-" json:"-"`
}

// BudgetRef names a budget.
type BudgetRef struct {
	Budget string `yaml:"budget" json:"budget" jsonschema:"required,minLength=1" jsonschema_description:"The budget."`

	BudgetPos Pos `yaml:"-" json:"-"`
}

// SetNextResetStep forces a budget's schedule.
type SetNextResetStep struct {
	Budget string `yaml:"budget" json:"budget" jsonschema:"required,minLength=1" jsonschema_description:"The budget whose schedule is forced."`
	At     Offset `yaml:"at" json:"at" jsonschema:"required" jsonschema_description:"The new next_reset_at as an offset from t=0, or null to unschedule."`

	BudgetPos Pos `yaml:"-" json:"-"`
}

// Where a slow tick spends its time.
const (
	// BeforeTx: before the tick's first transaction.
	BeforeTx = "before_tx"
	// InsideTx: inside the reset transaction, after the usage rows are
	// zeroed and before the commit.
	InsideTx = "inside_tx"
)

// WhereValues are the values of SlowTickStep.Where.
var WhereValues = []string{BeforeTx, InsideTx}

// SlowTickStep makes tick N of a reconciler take Duration of simulated
// time. Reconciler defaults to budget_reset and Where to before_tx.
type SlowTickStep struct {
	Reconciler string        `yaml:"reconciler" json:"reconciler,omitempty" jsonschema:"enum=budget_reset" jsonschema_description:"The reconciler whose tick is slowed (default budget_reset)."`
	Tick       int           `yaml:"tick" json:"tick" jsonschema:"required,minimum=1" jsonschema_description:"Which tick (1-based, counted since spawn)."`
	Duration   time.Duration `yaml:"duration" json:"duration" jsonschema:"required" jsonschema_description:"Simulated time the tick takes."`
	Where      string        `yaml:"where" json:"where,omitempty" jsonschema:"enum=before_tx,enum=inside_tx" jsonschema_description:"Where the time is spent: before_tx (the default) or inside_tx."`
}

// Target returns the reconciler, defaulted.
func (s *SlowTickStep) Target() string { return orDefault(s.Reconciler, BudgetReset) }

// Place returns Where, defaulted.
func (s *SlowTickStep) Place() string { return orDefault(s.Where, BeforeTx) }

// TickErrorStep makes tick N of a reconciler fail. Reconciler defaults to
// budget_reset.
type TickErrorStep struct {
	Reconciler string `yaml:"reconciler" json:"reconciler,omitempty" jsonschema:"enum=budget_reset" jsonschema_description:"The reconciler whose tick fails (default budget_reset)."`
	Tick       int    `yaml:"tick" json:"tick" jsonschema:"required,minimum=1" jsonschema_description:"Which tick (1-based, counted since spawn)."`
}

// Target returns the reconciler, defaulted.
func (s *TickErrorStep) Target() string { return orDefault(s.Reconciler, BudgetReset) }

// BusyStep makes the next Attempts write attempts fail with SQLITE_BUSY.
type BusyStep struct {
	Attempts int `yaml:"attempts" json:"attempts" jsonschema:"required,minimum=1" jsonschema_description:"How many of the next write attempts fail with SQLITE_BUSY."`
}

// HoldWriteLockStep has another connection hold a write transaction for
// Duration of simulated time.
type HoldWriteLockStep struct {
	Duration time.Duration `yaml:"duration" json:"duration" jsonschema:"required" jsonschema_description:"How long another connection holds a write transaction."`
}

// Reconciler names.
const (
	BudgetReset = "budget_reset"
)

// Reconcilers are the reconciler names faults and tick expectations can
// name, in registration order.
var Reconcilers = []string{BudgetReset}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
