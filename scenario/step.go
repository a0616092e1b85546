package scenario

import (
	"reflect"
	"time"
)

// Step is one scenario step: exactly one action field set (which one is its
// [Kind]) and, for the kinds that take one, an optional Expect. The field
// names in YAML are the kinds' names.
type Step struct {
	Advance       *time.Duration    `yaml:"advance" json:"advance,omitempty"`
	AdvanceTo     *time.Duration    `yaml:"advance_to" json:"advance_to,omitempty"`
	Spawn         *SpawnStep        `yaml:"spawn" json:"spawn,omitempty"`
	Shutdown      *ShutdownStep     `yaml:"shutdown" json:"shutdown,omitempty"`
	Close         *Empty            `yaml:"close" json:"close,omitempty"`
	CreateBudget  *Budget           `yaml:"create_budget" json:"create_budget,omitempty"`
	ReportUsage   *ReportUsageStep  `yaml:"report_usage" json:"report_usage,omitempty"`
	ResetBudget   *BudgetRef        `yaml:"reset_budget" json:"reset_budget,omitempty"`
	SetNextReset  *SetNextResetStep `yaml:"set_next_reset" json:"set_next_reset,omitempty"`
	ScanTick      *Empty            `yaml:"scan_tick" json:"scan_tick,omitempty"`
	ExpectBudget  []BudgetExpect    `yaml:"expect_budget" json:"expect_budget,omitempty"`
	ExpectTicks   []TicksExpect     `yaml:"expect_ticks" json:"expect_ticks,omitempty"`
	ExpectRunning *int              `yaml:"expect_running" json:"expect_running,omitempty"`
	// The worker registry (SPEC §3b).
	RegisterWorker  *RegisterWorkerStep `yaml:"register_worker" json:"register_worker,omitempty"`
	HeartbeatWorker *WorkerRef          `yaml:"heartbeat_worker" json:"heartbeat_worker,omitempty"`
	MarkWorkerDead  *MarkWorkerDeadStep `yaml:"mark_worker_dead" json:"mark_worker_dead,omitempty"`
	SweepTick       *Empty              `yaml:"sweep_tick" json:"sweep_tick,omitempty"`
	ExpectWorkers   *WorkersExpect      `yaml:"expect_workers" json:"expect_workers,omitempty"`
	ExpectLog       *LogExpect          `yaml:"expect_log" json:"expect_log,omitempty"`
	SlowTick        *SlowTickStep       `yaml:"slow_tick" json:"slow_tick,omitempty"`
	TickError       *TickErrorStep      `yaml:"tick_error" json:"tick_error,omitempty"`
	Busy            *BusyStep           `yaml:"busy" json:"busy,omitempty"`
	DBError         *DBErrorStep        `yaml:"db_error" json:"db_error,omitempty"`
	HoldWriteLock   *HoldWriteLockStep  `yaml:"hold_write_lock" json:"hold_write_lock,omitempty"`
	Concurrently    []Step              `yaml:"concurrently" json:"concurrently,omitempty"`

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
	BudgetResetInterval       *time.Duration `yaml:"budget_reset_interval" json:"budget_reset_interval,omitempty" jsonschema_description:"Overrides supervisor.budget_reset_interval for this spawn."`
	WorkerRegistryTTLInterval *time.Duration `yaml:"worker_registry_ttl_interval" json:"worker_registry_ttl_interval,omitempty" jsonschema_description:"Overrides supervisor.worker_registry_ttl_interval for this spawn."`
}

// Config returns the supervisor configuration this spawn uses: sup, with
// the intervals the step gives.
func (s *SpawnStep) Config(sup Supervisor) Supervisor {
	if s.BudgetResetInterval != nil {
		sup.BudgetResetInterval = *s.BudgetResetInterval
	}
	if s.WorkerRegistryTTLInterval != nil {
		sup.WorkerRegistryTTLInterval = *s.WorkerRegistryTTLInterval
	}
	return sup
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

// DefaultNamespace is the worker registry namespace of steps that name
// none.
const DefaultNamespace = "default"

// RegisterWorkerStep registers a worker instance (W1).
type RegisterWorkerStep struct {
	Namespace    string        `yaml:"namespace" json:"namespace,omitempty" jsonschema:"minLength=1" jsonschema_description:"The registry namespace (default: default)."`
	Instance     string        `yaml:"instance" json:"instance" jsonschema:"required,minLength=1" jsonschema_description:"The worker instance id."`
	WorkerID     string        `yaml:"worker_id" json:"worker_id" jsonschema:"required,minLength=1" jsonschema_description:"The worker id; an instance registered under another worker id is refused (invalid)."`
	Lanes        []string      `yaml:"lanes" json:"lanes,omitempty" jsonschema_description:"The lanes the worker serves (stored sorted, comma-joined)."`
	Capabilities []string      `yaml:"capabilities" json:"capabilities,omitempty" jsonschema_description:"The worker's capabilities (stored sorted, comma-joined)."`
	TTL          time.Duration `yaml:"ttl" json:"ttl" jsonschema:"required" jsonschema_description:"Liveness TTL: the worker expires this long after its last heartbeat."`
}

// NS is the namespace, defaulted.
func (s *RegisterWorkerStep) NS() string { return orDefault(s.Namespace, DefaultNamespace) }

// WorkerRef names a worker instance (heartbeat_worker, W2).
type WorkerRef struct {
	Namespace string `yaml:"namespace" json:"namespace,omitempty" jsonschema:"minLength=1" jsonschema_description:"The registry namespace (default: default)."`
	Instance  string `yaml:"instance" json:"instance" jsonschema:"required,minLength=1" jsonschema_description:"The worker instance id."`
}

// NS is the namespace, defaulted.
func (s *WorkerRef) NS() string { return orDefault(s.Namespace, DefaultNamespace) }

// MarkWorkerDeadStep removes a worker instance with a reason (W3).
type MarkWorkerDeadStep struct {
	Namespace string `yaml:"namespace" json:"namespace,omitempty" jsonschema:"minLength=1" jsonschema_description:"The registry namespace (default: default)."`
	Instance  string `yaml:"instance" json:"instance" jsonschema:"required,minLength=1" jsonschema_description:"The worker instance id."`
	Reason    string `yaml:"reason" json:"reason" jsonschema:"required" jsonschema_description:"Why; over 256 bytes or with control characters it is refused (invalid)."`
}

// NS is the namespace, defaulted.
func (s *MarkWorkerDeadStep) NS() string { return orDefault(s.Namespace, DefaultNamespace) }

// Error codes a db_error step injects: SQLite's primary codes (and
// BUSY_SNAPSHOT, a BUSY that never goes through the busy handler).
var DBErrorCodes = []string{"busy", "busy_snapshot", "locked", "full", "ioerr", "corrupt"}

// Where a db_error strikes.
const (
	// OnWrite: write-transaction attempts (BEGIN), as busy does.
	OnWrite = "write"
	// OnScan: budget_reset's scan query (R1), which fails its whole tick
	// (R4).
	OnScan = "scan"
)

// DBErrorOn are the values of DBErrorStep.On.
var DBErrorOn = []string{OnWrite, OnScan}

// DBErrorStep makes the next Attempts write attempts (or scan queries)
// fail with a SQLite error. Busy and locked are retried by R3 (without a
// busy wait: they arrive as BUSY_SNAPSHOT and LOCKED do); the others are
// not retried.
type DBErrorStep struct {
	Code     string `yaml:"code" json:"code" jsonschema:"required,enum=busy,enum=busy_snapshot,enum=locked,enum=full,enum=ioerr,enum=corrupt" jsonschema_description:"The SQLite error: busy, busy_snapshot, locked (retried by R3), full, ioerr or corrupt (not retried)."`
	Attempts int    `yaml:"attempts" json:"attempts" jsonschema:"required,minimum=1" jsonschema_description:"How many of the next attempts fail."`
	On       string `yaml:"on" json:"on,omitempty" jsonschema:"enum=write,enum=scan" jsonschema_description:"write (the default): write-transaction attempts; scan: budget_reset's scan query, failing the whole tick (R4)."`
}

// Target returns On, defaulted.
func (s *DBErrorStep) Target() string { return orDefault(s.On, OnWrite) }

// Where a slow tick spends its time.
const (
	// BeforeTx: before the tick's first transaction.
	BeforeTx = "before_tx"
	// InsideTx: inside the tick's transaction before its commit: for
	// budget_reset after a budget's usage rows are zeroed, for the sweep
	// after the expired rows are deleted.
	InsideTx = "inside_tx"
)

// WhereValues are the values of SlowTickStep.Where.
var WhereValues = []string{BeforeTx, InsideTx}

// SlowTickStep makes tick N of a reconciler take Duration of simulated
// time. Reconciler defaults to budget_reset and Where to before_tx.
type SlowTickStep struct {
	Reconciler string        `yaml:"reconciler" json:"reconciler,omitempty" jsonschema:"enum=budget_reset,enum=worker_registry_ttl_sweep" jsonschema_description:"The reconciler whose tick is slowed (default budget_reset)."`
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
	Reconciler string `yaml:"reconciler" json:"reconciler,omitempty" jsonschema:"enum=budget_reset,enum=worker_registry_ttl_sweep" jsonschema_description:"The reconciler whose tick fails (default budget_reset)."`
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
	BudgetReset            = "budget_reset"
	WorkerRegistryTTLSweep = "worker_registry_ttl_sweep"
)

// Reconcilers are the reconciler names faults and tick expectations can
// name, in registration order (S1).
var Reconcilers = []string{BudgetReset, WorkerRegistryTTLSweep}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
