package scenario

import "time"

// Budget declares a budget: under budgets:, or as a create_budget step (R5).
// Only ID is required; the defaults are listed on each field.
type Budget struct {
	ID string `yaml:"id" json:"id" jsonschema:"required,minLength=1" jsonschema_description:"The budget's id, unique among the budgets: list."`
	// Scope defaults to an empty type and id.
	Scope Scope `yaml:"scope" json:"scope" jsonschema_description:"What the budget applies to (default: empty type and id)."`
	// EnforcementMode defaults to "strict".
	EnforcementMode string `yaml:"enforcement_mode" json:"enforcement_mode,omitempty" jsonschema:"minLength=1" jsonschema_description:"Enforcement mode stored in the policy (e.g. strict; default strict)."`
	// OnHardLimit defaults to "fail".
	OnHardLimit string `yaml:"on_hard_limit" json:"on_hard_limit,omitempty" jsonschema:"minLength=1" jsonschema_description:"Action on a hard breach stored in the policy (e.g. fail; default fail)."`
	// OnSoftLimit defaults to "warn".
	OnSoftLimit string `yaml:"on_soft_limit" json:"on_soft_limit,omitempty" jsonschema:"minLength=1" jsonschema_description:"Action on a soft breach stored in the policy (e.g. warn; default warn)."`
	// ResetInterval is in whole milliseconds; 0 (the default) means the
	// budget is never scheduled for reset.
	ResetInterval time.Duration `yaml:"reset_interval" json:"reset_interval" jsonschema_description:"Time between resets; 0s (the default) means the budget is never scheduled for reset."`
	// Dimensions holds each dimension's limits (default: none).
	Dimensions map[string]Limits `yaml:"dimensions" json:"dimensions,omitempty" jsonschema_description:"Limits per dimension name (default: none)."`
	// Policy "none" declares the id without creating it: the budget has no
	// policy row (report_usage then applies no limits, status says not
	// found) until a create_budget step creates it. Only under budgets:.
	Policy string `yaml:"policy" json:"policy,omitempty" jsonschema:"enum=none" jsonschema_description:"none: declare the id without creating the budget (no policy row), e.g. to report usage against a budget with no policy."`

	// Pos is where the declaration starts; IDPos where its id is written.
	Pos   Pos `yaml:"-" json:"pos"`
	IDPos Pos `yaml:"-" json:"-"`
}

// Scope names what a budget governs.
type Scope struct {
	Type string `yaml:"type" json:"type" jsonschema:"required,minLength=1" jsonschema_description:"Scope type (e.g. flow)."`
	ID   string `yaml:"id" json:"id" jsonschema:"required,minLength=1" jsonschema_description:"Scope id (e.g. flow-1)."`
}

// Limits are one dimension's limits; 0 means no limit.
type Limits struct {
	Hard int64 `yaml:"hard" json:"hard" jsonschema_description:"Hard limit; 0 (the default) means none."`
	Soft int64 `yaml:"soft" json:"soft" jsonschema_description:"Soft limit; 0 (the default) means none."`
}

// PolicyNone is the Policy of a budget declared without a policy row.
const PolicyNone = "none"

// Budget defaults.
const (
	DefaultEnforcementMode = "strict"
	DefaultOnHardLimit     = "fail"
	DefaultOnSoftLimit     = "warn"
)

// WithDefaults returns b with the defaults of its optional fields filled
// in.
func (b Budget) WithDefaults() Budget {
	if b.EnforcementMode == "" {
		b.EnforcementMode = DefaultEnforcementMode
	}
	if b.OnHardLimit == "" {
		b.OnHardLimit = DefaultOnHardLimit
	}
	if b.OnSoftLimit == "" {
		b.OnSoftLimit = DefaultOnSoftLimit
	}
	return b
}
