package scenario

import (
	"fmt"
	"time"
)

// Pos is where something was written in a scenario file. It is zero for
// scenarios built in Go.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// String returns "file:line", or "line N" without a file, or just the
// file when there is no line (a failure of the whole run, not of a step:
// "file:0" read as a position that does not exist).
func (p Pos) String() string {
	switch {
	case p.File == "":
		return fmt.Sprintf("line %d", p.Line)
	case p.Line == 0:
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// IsZero reports whether p was never set.
func (p Pos) IsZero() bool { return p.Line == 0 }

// DefaultStart is the wall-clock time of t=0 when a scenario names none.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Scenario is one scenario: a configuration and the steps that drive it.
// The zero Start means [DefaultStart].
type Scenario struct {
	Name        string     `yaml:"name" json:"name" jsonschema:"required,minLength=1" jsonschema_description:"The scenario's name, unique within its directory."`
	Description string     `yaml:"description" json:"description,omitempty" jsonschema_description:"What the scenario shows; the SPEC items it covers."`
	Start       time.Time  `yaml:"start" json:"start" jsonschema_description:"Wall-clock time of t=0 (RFC 3339); default 2026-01-01T00:00:00Z."`
	Seed        uint64     `yaml:"seed" json:"seed" jsonschema_description:"Default seed for the run (overridable on the command line); default 0."`
	Supervisor  Supervisor `yaml:"supervisor" json:"supervisor" jsonschema_description:"Supervisor configuration used by spawn steps; default: every reconciler disabled."`
	Store       Store      `yaml:"store" json:"store" jsonschema_description:"Store configuration: how the SQLite connections behave."`
	Budgets     []Budget   `yaml:"budgets" json:"budgets,omitempty" jsonschema_description:"Budgets created at t=0, before the first step."`
	Steps       []Step     `yaml:"steps" json:"steps" jsonschema:"required" jsonschema_description:"The steps, run in order."`

	// File is the file the scenario was loaded from, for reports.
	File string `yaml:"-" json:"file,omitempty"`
	// NamePos is where the name was written.
	NamePos Pos `yaml:"-" json:"-"`
}

// StartTime is the wall-clock time of t=0: Start, or [DefaultStart].
func (sc *Scenario) StartTime() time.Time {
	if sc.Start.IsZero() {
		return DefaultStart
	}
	return sc.Start
}

// Supervisor is the supervisor configuration spawn steps use (S1). A zero
// interval disables its reconciler.
type Supervisor struct {
	BudgetResetInterval       time.Duration `yaml:"budget_reset_interval" json:"budget_reset_interval" jsonschema_description:"Period of the budget_reset reconciler; 0s (the default) disables it."`
	WorkerRegistryTTLInterval time.Duration `yaml:"worker_registry_ttl_interval" json:"worker_registry_ttl_interval" jsonschema_description:"Period of the worker_registry_ttl_sweep reconciler; 0s (the default here, so that older scenarios keep their meaning; upstream's is 30s) disables it."`
}

// DefaultBusyTimeout is a store connection's busy timeout when a scenario
// names none: sqlx's default, as upstream (R3b).
const DefaultBusyTimeout = 5 * time.Second

// Store is the store configuration.
type Store struct {
	// BusyTimeout is how long a statement waits for a held write lock, on
	// SQLite's busy-handler schedule, before SQLITE_BUSY reaches R3 (R3b).
	// Nil means [DefaultBusyTimeout]; 0 fails at once.
	BusyTimeout *time.Duration `yaml:"busy_timeout" json:"busy_timeout,omitempty" jsonschema_description:"How long a statement waits for a held write lock before SQLITE_BUSY (R3b); default 5s, 0s fails at once."`
}

// BusyTimeoutOrDefault is BusyTimeout, defaulted.
func (s Store) BusyTimeoutOrDefault() time.Duration {
	if s.BusyTimeout == nil {
		return DefaultBusyTimeout
	}
	return *s.BusyTimeout
}

// Offset is a time measured from the scenario start (t=0), or null where a
// value may be absent (an unscheduled reset, no breach yet).
type Offset struct {
	Null bool          `json:"null,omitempty"`
	At   time.Duration `json:"at,omitempty"`
}

// At returns the offset d from t=0.
func At(d time.Duration) *Offset { return &Offset{At: d} }

// Null returns the null offset.
func Null() *Offset { return &Offset{Null: true} }

// String renders the offset as a duration, or "null".
func (o *Offset) String() string {
	if o == nil || o.Null {
		return "null"
	}
	return o.At.String()
}

// Equal reports whether two offsets name the same millisecond (the store
// keeps times in whole milliseconds), or are both null.
func (o Offset) Equal(p Offset) bool {
	if o.Null || p.Null {
		return o.Null == p.Null
	}
	return o.At.Milliseconds() == p.At.Milliseconds()
}

// NullString is a string that an expectation may also give as null.
type NullString struct {
	Null  bool   `json:"null,omitempty"`
	Value string `json:"value,omitempty"`
}

// String renders the value, or "null".
func (s *NullString) String() string {
	if s == nil || s.Null {
		return "null"
	}
	return s.Value
}
