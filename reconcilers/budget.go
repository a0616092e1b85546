package reconcilers

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// dedupTTL is how long a report_usage dedup key is remembered (R5).
const dedupTTL = 24 * time.Hour

// BudgetSpec describes a budget to create (R5).
//
// Dimensions, HardLimits and SoftLimits are parallel lists: limit i belongs
// to dimension i. A limit of 0 means "no limit" for that dimension.
type BudgetSpec struct {
	ID              string
	Scope           Scope
	EnforcementMode string
	OnHardLimit     string
	OnSoftLimit     string
	// ResetInterval is the cadence of automatic resets, in whole
	// milliseconds; 0 means the budget is never reset automatically.
	ResetInterval time.Duration
	Dimensions    []string
	HardLimits    []int64
	SoftLimits    []int64
}

// CreateResult says what [Store.CreateBudget] did.
type CreateResult int

// The results of CreateBudget.
const (
	// Created: the budget did not exist and now does.
	Created CreateResult = iota + 1
	// AlreadySatisfied: a budget with that id exists; nothing changed.
	AlreadySatisfied
)

// String returns "created" or "already_satisfied", as scenarios spell them.
func (r CreateResult) String() string {
	switch r {
	case Created:
		return "created"
	case AlreadySatisfied:
		return "already_satisfied"
	}
	return "unknown"
}

// OutcomeKind classifies a [Store.ReportUsage] outcome.
type OutcomeKind int

// The outcomes of ReportUsage.
const (
	// OutcomeOK: every delta was applied and no soft limit was exceeded.
	OutcomeOK OutcomeKind = iota + 1
	// OutcomeAlreadyApplied: the dedup key was seen with an Ok outcome;
	// nothing changed this time.
	OutcomeAlreadyApplied
	// OutcomeSoftBreach: every delta was applied; a soft limit is exceeded.
	OutcomeSoftBreach
	// OutcomeHardBreach: a hard limit would be exceeded; nothing applied.
	OutcomeHardBreach
)

var outcomeNames = [...]string{
	OutcomeOK:             "ok",
	OutcomeAlreadyApplied: "already_applied",
	OutcomeSoftBreach:     "soft_breach",
	OutcomeHardBreach:     "hard_breach",
}

// String returns the outcome's snake_case name, as scenarios spell it.
func (k OutcomeKind) String() string {
	if k > 0 && int(k) < len(outcomeNames) {
		return outcomeNames[k]
	}
	return "unknown"
}

// UsageOutcome is the result of [Store.ReportUsage]. Dimension, CurrentUsage
// and Limit are set for breaches only: for a hard breach CurrentUsage is the
// usage before the rejected delta and Limit the hard limit; for a soft breach
// CurrentUsage is the usage after the delta and Limit the soft limit.
type UsageOutcome struct {
	Kind         OutcomeKind
	Dimension    string
	CurrentUsage int64
	Limit        int64
}

// Status is a budget as [Store.BudgetStatus] reports it.
type Status struct {
	BudgetID        string
	Scope           Scope
	EnforcementMode string
	OnHardLimit     string
	OnSoftLimit     string
	// Usage holds every dimension that has a usage row or a limit; a
	// dimension without a row reads as 0.
	Usage           map[string]int64
	HardLimits      map[string]int64
	SoftLimits      map[string]int64
	BreachCount     int64
	SoftBreachCount int64
	LastBreachAtMs  *int64
	LastBreachDim   *string
	NextResetAtMs   *int64
	CreatedAtMs     int64
	UpdatedAtMs     int64
	ResetIntervalMs int64
}

// policyDoc is the layout of ff_budget_policy.policy_json.
type policyDoc struct {
	HardLimits      map[string]int64 `json:"hard_limits"`
	SoftLimits      map[string]int64 `json:"soft_limits"`
	ResetIntervalMs int64            `json:"reset_interval_ms"`
	OnHardLimit     string           `json:"on_hard_limit"`
	OnSoftLimit     string           `json:"on_soft_limit"`
}

func decodePolicy(raw string) (policyDoc, error) {
	var p policyDoc
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return policyDoc{}, fmt.Errorf("decode policy_json: %w", err)
	}
	return p, nil
}

// outcomeDoc is the layout of ff_budget_usage_dedup.outcome_json. An Ok
// outcome is stored empty ("{}"): replaying it means "already applied".
type outcomeDoc struct {
	Kind         string `json:"kind,omitempty"`
	Dimension    string `json:"dimension,omitempty"`
	CurrentUsage int64  `json:"current_usage,omitempty"`
	Limit        int64  `json:"limit,omitempty"`
}

func encodeOutcome(o UsageOutcome) (string, error) {
	doc := outcomeDoc{}
	if o.Kind != OutcomeOK {
		doc = outcomeDoc{Kind: o.Kind.String(), Dimension: o.Dimension, CurrentUsage: o.CurrentUsage, Limit: o.Limit}
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

func decodeOutcome(raw string) (UsageOutcome, error) {
	var doc outcomeDoc
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &doc); err != nil {
			return UsageOutcome{}, fmt.Errorf("decode outcome_json: %w", err)
		}
	}
	o := UsageOutcome{Dimension: doc.Dimension, CurrentUsage: doc.CurrentUsage, Limit: doc.Limit}
	switch doc.Kind {
	case "":
		return UsageOutcome{Kind: OutcomeAlreadyApplied}, nil
	case OutcomeSoftBreach.String():
		o.Kind = OutcomeSoftBreach
	case OutcomeHardBreach.String():
		o.Kind = OutcomeHardBreach
	default:
		return UsageOutcome{}, fmt.Errorf("decode outcome_json: unknown kind %q", doc.Kind)
	}
	return o, nil
}

// CreateBudget creates a budget (R5). Its first automatic reset is due one
// ResetInterval from now, or never for an interval of 0. If the id exists,
// nothing changes (not even to match spec) and the result is
// AlreadySatisfied. Mismatched dimension and limit lists, duplicate or empty
// dimensions, negative limits, and a negative or sub-millisecond interval are
// ErrInvalidInput.
func (s *Store) CreateBudget(ctx context.Context, spec BudgetSpec) (CreateResult, error) {
	policy, err := validateSpec(spec)
	if err != nil {
		return 0, err
	}
	policyJSON, err := json.Marshal(policy)
	if err != nil {
		return 0, err
	}
	var res CreateResult
	err = s.writeTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		now := unixMilli(s.o.clock)
		var next *int64
		if policy.ResetIntervalMs > 0 {
			next = new(now + policy.ResetIntervalMs)
		}
		r, err := conn.ExecContext(ctx, `
			INSERT INTO ff_budget_policy (partition_key, budget_id, policy_json, scope_type,
				scope_id, enforcement_mode, next_reset_at_ms, created_at_ms, updated_at_ms)
			VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (partition_key, budget_id) DO NOTHING`,
			spec.ID, string(policyJSON), spec.Scope.Type, spec.Scope.ID, spec.EnforcementMode,
			next, now, now)
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		if err != nil {
			return err
		}
		res = AlreadySatisfied
		if n == 1 {
			res = Created
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("create budget %q: %w", spec.ID, err)
	}
	return res, nil
}

func validateSpec(spec BudgetSpec) (policyDoc, error) {
	invalid := func(format string, args ...any) (policyDoc, error) {
		return policyDoc{}, fmt.Errorf("%w: budget %q: %s", ErrInvalidInput, spec.ID, fmt.Sprintf(format, args...))
	}
	if spec.ID == "" {
		return invalid("empty budget id")
	}
	if len(spec.HardLimits) != len(spec.Dimensions) || len(spec.SoftLimits) != len(spec.Dimensions) {
		return invalid("%d dimensions but %d hard and %d soft limits",
			len(spec.Dimensions), len(spec.HardLimits), len(spec.SoftLimits))
	}
	if spec.ResetInterval < 0 {
		return invalid("negative reset interval %v", spec.ResetInterval)
	}
	// Truncating to whole ms would turn e.g. 500µs into 0, silently
	// disabling resets.
	if spec.ResetInterval%time.Millisecond != 0 {
		return invalid("reset interval %v is not a whole number of milliseconds", spec.ResetInterval)
	}
	p := policyDoc{
		HardLimits:      make(map[string]int64, len(spec.Dimensions)),
		SoftLimits:      make(map[string]int64, len(spec.Dimensions)),
		ResetIntervalMs: spec.ResetInterval.Milliseconds(),
		OnHardLimit:     spec.OnHardLimit,
		OnSoftLimit:     spec.OnSoftLimit,
	}
	for i, d := range spec.Dimensions {
		if d == "" {
			return invalid("empty dimension name")
		}
		if _, dup := p.HardLimits[d]; dup {
			return invalid("duplicate dimension %q", d)
		}
		if spec.HardLimits[i] < 0 || spec.SoftLimits[i] < 0 {
			return invalid("negative limit for dimension %q", d)
		}
		p.HardLimits[d] = spec.HardLimits[i]
		p.SoftLimits[d] = spec.SoftLimits[i]
	}
	return p, nil
}

// ReportUsage adds usage (dimension → delta) to a budget in one write
// transaction (R5), with the time taken from the store's clock.
//
// A non-empty dedupKey seen in the last 24 h replays the outcome stored with
// it: an Ok outcome replays as OutcomeAlreadyApplied, a breach as the same
// breach, and nothing changes. Dedup keys are global, not per budget.
//
// A budget without a policy has no limits: deltas are applied. Otherwise
// dimensions are checked in sorted order; the first whose usage plus delta
// exceeds its non-zero hard limit rejects the whole report (nothing applied,
// breach_count += 1, last breach set). Without a hard breach every delta is
// applied, and the first dimension whose new usage exceeds its non-zero soft
// limit makes the outcome a soft breach (soft_breach_count += 1, once).
// A soft breach does not set last_breach_at_ms / last_breach_dim: those
// record the last rejected report.
//
// An empty budget id or dimension, or a negative delta, is ErrInvalidInput.
func (s *Store) ReportUsage(ctx context.Context, budgetID string, usage map[string]int64, dedupKey string) (UsageOutcome, error) {
	if budgetID == "" {
		return UsageOutcome{}, fmt.Errorf("%w: empty budget id", ErrInvalidInput)
	}
	dims := make([]string, 0, len(usage))
	for d, delta := range usage {
		if d == "" {
			return UsageOutcome{}, fmt.Errorf("%w: budget %q: empty dimension name", ErrInvalidInput, budgetID)
		}
		if delta < 0 {
			return UsageOutcome{}, fmt.Errorf("%w: budget %q: negative delta %d for dimension %q", ErrInvalidInput, budgetID, delta, d)
		}
		dims = append(dims, d)
	}
	slices.Sort(dims)

	var out UsageOutcome
	err := s.writeTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var err error
		out, err = reportUsageTx(ctx, conn, budgetID, dims, usage, dedupKey, unixMilli(s.o.clock))
		return err
	})
	if err != nil {
		return UsageOutcome{}, fmt.Errorf("report usage on budget %q: %w", budgetID, err)
	}
	return out, nil
}

// reportUsageTx is ReportUsage's transaction body; dims are usage's keys,
// sorted.
func reportUsageTx(ctx context.Context, conn *sql.Conn, budgetID string, dims []string, usage map[string]int64, dedupKey string, now int64) (UsageOutcome, error) {
	if dedupKey != "" {
		var stored string
		err := conn.QueryRowContext(ctx, `
			SELECT outcome_json FROM ff_budget_usage_dedup
			WHERE partition_key = 0 AND dedup_key = ? AND expires_at_ms > ?`,
			dedupKey, now).Scan(&stored)
		switch {
		case err == nil:
			return decodeOutcome(stored)
		case !errors.Is(err, sql.ErrNoRows):
			return UsageOutcome{}, err
		}
	}

	var policy policyDoc // zero: no limits
	var raw string
	err := conn.QueryRowContext(ctx, `
		SELECT policy_json FROM ff_budget_policy WHERE partition_key = 0 AND budget_id = ?`,
		budgetID).Scan(&raw)
	switch {
	case err == nil:
		if policy, err = decodePolicy(raw); err != nil {
			return UsageOutcome{}, err
		}
	case !errors.Is(err, sql.ErrNoRows):
		return UsageOutcome{}, err
	}

	current, err := loadUsage(ctx, conn, budgetID)
	if err != nil {
		return UsageOutcome{}, err
	}

	out, err := applyUsage(ctx, conn, budgetID, dims, usage, current, policy, now)
	if err != nil {
		return UsageOutcome{}, err
	}

	if dedupKey != "" {
		stored, err := encodeOutcome(out)
		if err != nil {
			return UsageOutcome{}, err
		}
		// An expired entry with the same key is replaced.
		if _, err := conn.ExecContext(ctx, `
			INSERT INTO ff_budget_usage_dedup (partition_key, dedup_key, outcome_json, applied_at_ms, expires_at_ms)
			VALUES (0, ?, ?, ?, ?)
			ON CONFLICT (partition_key, dedup_key) DO UPDATE SET
				outcome_json = excluded.outcome_json,
				applied_at_ms = excluded.applied_at_ms,
				expires_at_ms = excluded.expires_at_ms`,
			dedupKey, stored, now, now+dedupTTL.Milliseconds()); err != nil {
			return UsageOutcome{}, err
		}
	}
	return out, nil
}

// applyUsage checks the limits and writes the report's effect.
func applyUsage(ctx context.Context, conn *sql.Conn, budgetID string, dims []string, usage, current map[string]int64, policy policyDoc, now int64) (UsageOutcome, error) {
	for _, d := range dims {
		cur, delta := current[d], usage[d]
		if delta > math.MaxInt64-cur {
			return UsageOutcome{}, fmt.Errorf("%w: dimension %q: usage %d + %d overflows", ErrInvalidInput, d, cur, delta)
		}
		if hard := policy.HardLimits[d]; hard != 0 && cur+delta > hard {
			_, err := conn.ExecContext(ctx, `
				UPDATE ff_budget_policy SET
					breach_count = breach_count + 1,
					last_breach_at_ms = ?, last_breach_dim = ?, updated_at_ms = ?
				WHERE partition_key = 0 AND budget_id = ?`,
				now, d, now, budgetID)
			return UsageOutcome{Kind: OutcomeHardBreach, Dimension: d, CurrentUsage: cur, Limit: hard}, err
		}
	}

	for _, d := range dims {
		// A new row starts with last_reset_at_ms 0: "never reset".
		if _, err := conn.ExecContext(ctx, `
			INSERT INTO ff_budget_usage (partition_key, budget_id, dimensions_key, current_value, last_reset_at_ms, updated_at_ms)
			VALUES (0, ?, ?, ?, 0, ?)
			ON CONFLICT (partition_key, budget_id, dimensions_key) DO UPDATE SET
				current_value = current_value + excluded.current_value,
				updated_at_ms = excluded.updated_at_ms`,
			budgetID, d, usage[d], now); err != nil {
			return UsageOutcome{}, err
		}
	}

	for _, d := range dims {
		after := current[d] + usage[d]
		if soft := policy.SoftLimits[d]; soft != 0 && after > soft {
			_, err := conn.ExecContext(ctx, `
				UPDATE ff_budget_policy SET soft_breach_count = soft_breach_count + 1, updated_at_ms = ?
				WHERE partition_key = 0 AND budget_id = ?`,
				now, budgetID)
			return UsageOutcome{Kind: OutcomeSoftBreach, Dimension: d, CurrentUsage: after, Limit: soft}, err
		}
	}
	return UsageOutcome{Kind: OutcomeOK}, nil
}

// loadUsage returns the budget's usage per dimension.
func loadUsage(ctx context.Context, conn *sql.Conn, budgetID string) (map[string]int64, error) {
	rows, err := conn.QueryContext(ctx, `
		SELECT dimensions_key, current_value FROM ff_budget_usage
		WHERE partition_key = 0 AND budget_id = ?`, budgetID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	usage := map[string]int64{}
	for rows.Next() {
		var d string
		var v int64
		if err := rows.Scan(&d, &v); err != nil {
			return nil, err
		}
		usage[d] = v
	}
	return usage, rows.Err()
}

// ResetBudget is the admin reset (R5): the R2 transition without the due
// check, at the store clock's time. It returns the new next_reset_at_ms, nil
// for a budget with a zero interval. An unknown budget is ErrNotFound.
// Hooks.InsideReset runs inside it as in a tick's reset.
func (s *Store) ResetBudget(ctx context.Context, budgetID string) (*int64, error) {
	var next *int64
	err := s.writeTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var err error
		var res resetResult
		next, res, err = s.resetTx(ctx, conn, budgetID, unixMilli(s.o.clock), false)
		if err == nil && res == resetMissing {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reset budget %q: %w", budgetID, err)
	}
	return next, nil
}

// BudgetStatus returns a budget's policy, usage and counters (R5), read in
// one statement so they are consistent with each other. An unknown budget is
// ErrNotFound.
func (s *Store) BudgetStatus(ctx context.Context, budgetID string) (Status, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT p.policy_json, p.scope_type, p.scope_id, p.enforcement_mode,
			p.breach_count, p.soft_breach_count, p.last_breach_at_ms, p.last_breach_dim,
			p.next_reset_at_ms, p.created_at_ms, p.updated_at_ms,
			u.dimensions_key, u.current_value
		FROM ff_budget_policy p
		LEFT JOIN ff_budget_usage u
			ON u.partition_key = p.partition_key AND u.budget_id = p.budget_id
		WHERE p.partition_key = 0 AND p.budget_id = ?`, budgetID)
	if err != nil {
		return Status{}, fmt.Errorf("budget status %q: %w", budgetID, err)
	}
	defer rows.Close()

	st := Status{BudgetID: budgetID}
	var raw string
	found := false
	usage := map[string]int64{}
	for rows.Next() {
		var lastAt, next sql.NullInt64
		var lastDim, dim sql.NullString
		var value sql.NullInt64
		if err := rows.Scan(&raw, &st.Scope.Type, &st.Scope.ID, &st.EnforcementMode,
			&st.BreachCount, &st.SoftBreachCount, &lastAt, &lastDim,
			&next, &st.CreatedAtMs, &st.UpdatedAtMs, &dim, &value); err != nil {
			return Status{}, fmt.Errorf("budget status %q: %w", budgetID, err)
		}
		found = true
		st.LastBreachAtMs = nullInt(lastAt)
		st.NextResetAtMs = nullInt(next)
		st.LastBreachDim = nil
		if lastDim.Valid {
			st.LastBreachDim = new(lastDim.String)
		}
		if dim.Valid {
			usage[dim.String] = value.Int64
		}
	}
	if err := rows.Err(); err != nil {
		return Status{}, fmt.Errorf("budget status %q: %w", budgetID, err)
	}
	if !found {
		return Status{}, fmt.Errorf("budget status %q: %w", budgetID, ErrNotFound)
	}

	policy, err := decodePolicy(raw)
	if err != nil {
		return Status{}, fmt.Errorf("budget status %q: %w", budgetID, err)
	}
	st.OnHardLimit, st.OnSoftLimit = policy.OnHardLimit, policy.OnSoftLimit
	st.ResetIntervalMs = policy.ResetIntervalMs
	st.HardLimits = nonNil(policy.HardLimits)
	st.SoftLimits = nonNil(policy.SoftLimits)
	for _, limits := range []map[string]int64{st.HardLimits, st.SoftLimits} {
		for d := range limits {
			if _, ok := usage[d]; !ok {
				usage[d] = 0
			}
		}
	}
	st.Usage = usage
	return st, nil
}

// SetNextReset forces a budget's next_reset_at_ms (nil: never), so scenarios
// can make a budget due or not due at will. It leaves updated_at_ms alone:
// it edits the schedule, not the budget. An unknown budget is ErrNotFound.
func (s *Store) SetNextReset(ctx context.Context, budgetID string, atMs *int64) error {
	err := s.writeTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		r, err := conn.ExecContext(ctx, `
			UPDATE ff_budget_policy SET next_reset_at_ms = ?
			WHERE partition_key = 0 AND budget_id = ?`, atMs, budgetID)
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		if err == nil && n == 0 {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("set next reset of budget %q: %w", budgetID, err)
	}
	return nil
}

func nullInt(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return new(v.Int64)
}

func nonNil(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}
