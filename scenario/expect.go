package scenario

import "time"

// Expect is a step's expectation: one outcome, or several acceptable ones
// (any_of) where a race allows more than one. It holds if any alternative
// does.
type Expect struct {
	AnyOf []Outcome `json:"any_of"`

	// Pos is where the expect key is written.
	Pos Pos `json:"pos"`
}

// Outcome is one acceptable outcome of a step. Which fields a kind's
// outcome may set is in its [ExpectSpec]; only the fields set are checked.
type Outcome struct {
	// Result is a named outcome (expect: ok): see each kind's
	// ExpectSpec.Results.
	Result string `yaml:"result" json:"result,omitempty" jsonschema_description:"The named outcome (the scalar form of the expectation)."`
	// HardBreach and SoftBreach are a report's breach with its details
	// (each optional); giving one implies the result of that name.
	HardBreach *Breach `yaml:"hard_breach" json:"hard_breach,omitempty" jsonschema_description:"A hard breach: nothing was applied; current_usage is the usage before the report, limit the hard limit."`
	SoftBreach *Breach `yaml:"soft_breach" json:"soft_breach,omitempty" jsonschema_description:"A soft breach: every delta was applied; current_usage is the usage after, limit the soft limit."`
	// Refreshed is a heartbeat's refresh with its next expiry.
	Refreshed *Refreshed `yaml:"refreshed" json:"refreshed,omitempty" jsonschema_description:"The heartbeat refreshed the worker's liveness."`
	// Error names the error the step's operation returned: one of
	// [ErrorKinds]. Without it an operation error fails the step.
	Error string `yaml:"error" json:"error,omitempty" jsonschema:"enum=busy,enum=locked,enum=full,enum=ioerr,enum=corrupt,enum=interrupted,enum=not_found,enum=invalid,enum=other" jsonschema_description:"The error the operation returned: busy or locked (after R3's attempts), full, ioerr, corrupt, interrupted, not_found, invalid or other."`
	// ReturnedAt is when the step's operation returned, as an offset from
	// t=0: a blocking step (a Shutdown waiting for another, a write
	// waiting for a lock) says when it was released.
	ReturnedAt  *Offset `yaml:"returned_at" json:"returned_at,omitempty" jsonschema_description:"When the step returned, as an offset from t=0."`
	Installed   *bool   `yaml:"installed" json:"installed,omitempty" jsonschema_description:"Whether this spawn installed the reconcilers (a second spawn is a no-op: false)."`
	TimedOut    *int    `yaml:"timed_out" json:"timed_out,omitempty" jsonschema_description:"Number of tasks Shutdown aborted at the grace deadline."`
	NextResetAt *Offset `yaml:"next_reset_at" json:"next_reset_at,omitempty" jsonschema_description:"The returned next reset time as an offset from t=0, or null when the budget's interval is 0."`
	Processed   *int    `yaml:"processed" json:"processed,omitempty" jsonschema_description:"Applies that succeeded (a skipped re-check counts)."`
	Errors      *int    `yaml:"errors" json:"errors,omitempty" jsonschema_description:"Applies that failed."`
}

// ResultName is the outcome's named result: Result, or the result its
// details imply (hard_breach, soft_breach, refreshed).
func (o *Outcome) ResultName() string {
	switch {
	case o.HardBreach != nil:
		return "hard_breach"
	case o.SoftBreach != nil:
		return "soft_breach"
	case o.Refreshed != nil:
		return "refreshed"
	}
	return o.Result
}

// ErrorKinds are the names of operation errors (Outcome.Error).
var ErrorKinds = []string{"busy", "locked", "full", "ioerr", "corrupt", "interrupted", "not_found", "invalid", "other"}

// Breach details a report's breach; only the fields given are checked.
type Breach struct {
	Dimension    *string `yaml:"dimension" json:"dimension,omitempty" jsonschema:"minLength=1" jsonschema_description:"The breached dimension (the first, in sorted order)."`
	CurrentUsage *int64  `yaml:"current_usage" json:"current_usage,omitempty" jsonschema_description:"For a hard breach the usage before the report; for a soft breach the usage after it."`
	Limit        *int64  `yaml:"limit" json:"limit,omitempty" jsonschema_description:"The limit breached: hard for a hard breach, soft for a soft one."`
}

// Refreshed details a heartbeat's refresh.
type Refreshed struct {
	NextExpiry *Offset `yaml:"next_expiry" json:"next_expiry,omitempty" jsonschema_description:"now + ttl, as an offset from t=0: when the worker expires unless it heartbeats again."`
}

// BudgetExpect checks one budget's state against one or more alternatives.
type BudgetExpect struct {
	Budget string        `json:"budget"`
	AnyOf  []BudgetState `json:"any_of"`

	// Pos is where the budget's id is written.
	Pos Pos `json:"pos"`
}

// BudgetState is the part of a budget's state an expectation checks: only
// the fields given are compared. Under Usage, only the dimensions given are
// checked, and a dimension with no usage row reads as 0.
type BudgetState struct {
	Usage           map[string]int64 `yaml:"usage" json:"usage,omitempty" jsonschema_description:"Usage per dimension; only the dimensions given are checked, one with no row reads as 0."`
	NextResetAt     *Offset          `yaml:"next_reset_at" json:"next_reset_at,omitempty" jsonschema_description:"Next scheduled reset as an offset from t=0, or null."`
	BreachCount     *int64           `yaml:"breach_count" json:"breach_count,omitempty" jsonschema_description:"Lifetime hard breaches."`
	SoftBreachCount *int64           `yaml:"soft_breach_count" json:"soft_breach_count,omitempty" jsonschema_description:"Lifetime soft breaches."`
	LastBreachDim   *NullString      `yaml:"last_breach_dim" json:"last_breach_dim,omitempty" jsonschema_description:"Dimension of the last hard breach, or null."`
	LastBreachAt    *Offset          `yaml:"last_breach_at" json:"last_breach_at,omitempty" jsonschema_description:"Time of the last hard breach as an offset from t=0, or null."`
	HardLimits      map[string]int64 `yaml:"hard_limits" json:"hard_limits" jsonschema_description:"Hard limits per dimension."`
	SoftLimits      map[string]int64 `yaml:"soft_limits" json:"soft_limits" jsonschema_description:"Soft limits per dimension."`
	Scope           *Scope           `yaml:"scope" json:"scope,omitempty" jsonschema_description:"The budget's scope."`
	EnforcementMode *string          `yaml:"enforcement_mode" json:"enforcement_mode,omitempty" jsonschema_description:"The policy's enforcement mode."`
	OnHardLimit     *string          `yaml:"on_hard_limit" json:"on_hard_limit,omitempty" jsonschema_description:"The policy's action on a hard breach."`
	OnSoftLimit     *string          `yaml:"on_soft_limit" json:"on_soft_limit,omitempty" jsonschema_description:"The policy's action on a soft breach."`
	ResetInterval   *time.Duration   `yaml:"reset_interval" json:"reset_interval,omitempty" jsonschema_description:"The policy's reset interval."`
	CreatedAt       *Offset          `yaml:"created_at" json:"created_at,omitempty" jsonschema_description:"When the budget was created, as an offset from t=0."`
	// NotFound expects no such budget (the scalar not_found): status says
	// not found.
	NotFound bool `yaml:"-" json:"not_found,omitempty"`
}

// TicksExpect checks a reconciler's ticks completed since spawn and the
// sums of their reports; only the fields given are checked.
type TicksExpect struct {
	Reconciler string `yaml:"-" json:"reconciler"`
	Count      *int   `yaml:"count" json:"count,omitempty" jsonschema_description:"Ticks completed since spawn."`
	Processed  *int   `yaml:"processed" json:"processed,omitempty" jsonschema_description:"Sum of the ticks' processed counts."`
	Errors     *int   `yaml:"errors" json:"errors,omitempty" jsonschema_description:"Sum of the ticks' error counts."`

	// Pos is where the reconciler's name is written.
	Pos Pos `yaml:"-" json:"pos"`
}

// hasFields reports whether the state gives any field to check.
func (st *BudgetState) hasFields() bool {
	return st.Usage != nil || st.NextResetAt != nil || st.BreachCount != nil || st.SoftBreachCount != nil ||
		st.LastBreachDim != nil || st.LastBreachAt != nil || st.HardLimits != nil || st.SoftLimits != nil ||
		st.Scope != nil || st.EnforcementMode != nil || st.OnHardLimit != nil || st.OnSoftLimit != nil ||
		st.ResetInterval != nil || st.CreatedAt != nil
}

// WorkersExpect checks the worker registry of one namespace (W5): each
// instance given is live with the fields given, or absent.
type WorkersExpect struct {
	Namespace string         `yaml:"namespace" json:"namespace,omitempty" jsonschema:"minLength=1" jsonschema_description:"The registry namespace (default: default)."`
	Workers   []WorkerExpect `yaml:"workers" json:"workers" jsonschema:"required" jsonschema_description:"Expected state per instance id: a mapping of fields, or absent."`
}

// NS is the namespace, defaulted.
func (w *WorkersExpect) NS() string { return orDefault(w.Namespace, DefaultNamespace) }

// WorkerExpect checks one worker instance; only the fields given are
// checked.
type WorkerExpect struct {
	Instance      string         `yaml:"-" json:"instance"`
	Absent        bool           `yaml:"-" json:"absent,omitempty"`
	WorkerID      *string        `yaml:"worker_id" json:"worker_id,omitempty" jsonschema:"minLength=1" jsonschema_description:"The worker id."`
	LastHeartbeat *Offset        `yaml:"last_heartbeat" json:"last_heartbeat,omitempty" jsonschema_description:"The last heartbeat (or registration), as an offset from t=0."`
	TTL           *time.Duration `yaml:"ttl" json:"ttl,omitempty" jsonschema_description:"The liveness TTL."`
	RegisteredAt  *Offset        `yaml:"registered_at" json:"registered_at,omitempty" jsonschema_description:"When the instance was first registered, as an offset from t=0."`
	Lanes         []string       `yaml:"lanes" json:"lanes" jsonschema_description:"The lanes, sorted."`
	Capabilities  []string       `yaml:"capabilities" json:"capabilities" jsonschema_description:"The capabilities, sorted."`

	// Pos is where the instance id is written.
	Pos Pos `yaml:"-" json:"pos"`
}

// LogExpect checks that a line at Level whose message or attributes
// contain Contains was logged.
type LogExpect struct {
	Level    string `yaml:"level" json:"level" jsonschema:"required,enum=debug,enum=info,enum=warn,enum=error" jsonschema_description:"The line's level."`
	Contains string `yaml:"contains" json:"contains" jsonschema:"required" jsonschema_description:"Text the line's message or attributes contain."`
}

// LogLevels are the levels expect_log can name.
var LogLevels = []string{"debug", "info", "warn", "error"}
