package scenario

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
	// Result is a scalar outcome: create_budget (created,
	// already_satisfied) and report_usage (ok, already_applied,
	// soft_breach, hard_breach).
	Result      string  `yaml:"-" json:"result,omitempty"`
	Installed   *bool   `yaml:"installed" json:"installed,omitempty" jsonschema_description:"Whether this spawn installed the reconcilers (a second spawn is a no-op: false)."`
	TimedOut    *int    `yaml:"timed_out" json:"timed_out,omitempty" jsonschema_description:"Number of tasks Shutdown aborted at the grace deadline."`
	NextResetAt *Offset `yaml:"next_reset_at" json:"next_reset_at,omitempty" jsonschema_description:"The returned next reset time as an offset from t=0, or null when the budget's interval is 0."`
	Processed   *int    `yaml:"processed" json:"processed,omitempty" jsonschema_description:"Applies that succeeded (a skipped re-check counts)."`
	Errors      *int    `yaml:"errors" json:"errors,omitempty" jsonschema_description:"Applies that failed."`
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
	HardLimits      map[string]int64 `yaml:"hard_limits" json:"hard_limits,omitempty" jsonschema_description:"Hard limits per dimension."`
	SoftLimits      map[string]int64 `yaml:"soft_limits" json:"soft_limits,omitempty" jsonschema_description:"Soft limits per dimension."`
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

// LogExpect checks that a line at Level whose message or attributes
// contain Contains was logged.
type LogExpect struct {
	Level    string `yaml:"level" json:"level" jsonschema:"required,enum=debug,enum=info,enum=warn,enum=error" jsonschema_description:"The line's level."`
	Contains string `yaml:"contains" json:"contains" jsonschema:"required" jsonschema_description:"Text the line's message or attributes contain."`
}

// LogLevels are the levels expect_log can name.
var LogLevels = []string{"debug", "info", "warn", "error"}
