package reconcilers

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"
)

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

// Scope names what a budget governs, e.g. {Type: "flow", ID: "flow-1"}.
type Scope struct {
	Type string
	ID   string
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

// Status is a budget as [Store.BudgetStatus] reports it.
type Status struct {
	BudgetID        string
	Scope           Scope
	EnforcementMode string
	OnHardLimit     string
	OnSoftLimit     string
	// Usage holds every dimension that has a usage row (but the rows keyed
	// "_init", which upstream hides) or a limit; a dimension without a row
	// reads as 0.
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

// policyCache remembers decoded policy_json documents by their text. A
// reset and a usage report each read the policy, and decoding it was a
// tenth of a tick natively and more in a wasm guest, while the text of a
// budget's policy never changes. The decoded maps are shared: read only.
type policyCache struct {
	mu   sync.Mutex
	docs map[string]policyDoc
}

// maxCachedPolicies bounds the cache; past it, it starts afresh.
const maxCachedPolicies = 4096

func (c *policyCache) decode(raw string) (policyDoc, error) {
	c.mu.Lock()
	p, ok := c.docs[raw]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := decodePolicy(raw)
	if err != nil {
		return p, err
	}
	c.mu.Lock()
	if c.docs == nil || len(c.docs) >= maxCachedPolicies {
		c.docs = map[string]policyDoc{}
	}
	c.docs[raw] = p
	c.mu.Unlock()
	return p, nil
}

// CreateBudget creates a budget (R5). Its first automatic reset is due one
// ResetInterval after the call, or never for an interval of 0. The time is
// taken once, when the call is made, and kept across R3's retries, as
// upstream's caller-supplied now. If the id exists, nothing changes (not
// even to match spec) and the result is AlreadySatisfied. Mismatched
// dimension and limit lists, duplicate or empty dimensions, negative
// limits, and a negative or sub-millisecond interval are ErrInvalidInput.
func (s *Store) CreateBudget(ctx context.Context, spec BudgetSpec) (CreateResult, error) {
	policy, err := validateSpec(spec)
	if err != nil {
		return 0, err
	}
	policyJSON, err := json.Marshal(policy)
	if err != nil {
		return 0, err
	}
	now := s.nowMs()
	var next *int64
	if policy.ResetIntervalMs > 0 {
		next = new(now + policy.ResetIntervalMs)
	}
	var res CreateResult
	err = s.writeTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
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

// ResetBudget is the admin reset (R5): the R2 transition without the due
// check. Its time is taken once, when the call is made, and kept across
// R3's retries, as upstream's caller-supplied now: a reset retried after
// busy waits still schedules the next one from the call. It returns the
// new next_reset_at_ms, nil for a budget with a zero interval. An unknown
// budget is ErrNotFound. Hooks.InsideReset runs inside it as in a tick's
// reset.
func (s *Store) ResetBudget(ctx context.Context, budgetID string) (*int64, error) {
	now := s.nowMs()
	var next *int64
	err := s.writeTx(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var err error
		var res resetResult
		next, res, err = s.resetTx(ctx, conn, budgetID, now, false)
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
// one statement so they are consistent with each other. An unknown budget
// is ErrNotFound.
func (s *Store) BudgetStatus(ctx context.Context, budgetID string) (Status, error) {
	st := Status{BudgetID: budgetID}
	var raw string
	found := false
	usage := map[string]int64{}
	err := s.query(ctx, func(rows *sql.Rows) error {
		var lastAt, next sql.NullInt64
		var lastDim, dim sql.NullString
		var value sql.NullInt64
		if err := rows.Scan(&raw, &st.Scope.Type, &st.Scope.ID, &st.EnforcementMode,
			&st.BreachCount, &st.SoftBreachCount, &lastAt, &lastDim,
			&next, &st.CreatedAtMs, &st.UpdatedAtMs, &dim, &value); err != nil {
			return err
		}
		found = true
		st.LastBreachAtMs = nullInt(lastAt)
		st.NextResetAtMs = nullInt(next)
		st.LastBreachDim = nil
		if lastDim.Valid {
			st.LastBreachDim = new(lastDim.String)
		}
		// Upstream's status skips the "_init" rows.
		if dim.Valid && dim.String != "_init" {
			usage[dim.String] = value.Int64
		}
		return nil
	}, `
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
	if !found {
		return Status{}, fmt.Errorf("budget status %q: %w", budgetID, ErrNotFound)
	}
	policy, err := s.policies.decode(raw)
	if err != nil {
		return Status{}, fmt.Errorf("budget status %q: %w", budgetID, err)
	}
	st.OnHardLimit, st.OnSoftLimit = policy.OnHardLimit, policy.OnSoftLimit
	st.ResetIntervalMs = policy.ResetIntervalMs
	// Copies: the cached policy's maps are shared.
	st.HardLimits = nonNil(maps.Clone(policy.HardLimits))
	st.SoftLimits = nonNil(maps.Clone(policy.SoftLimits))
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

// SetNextReset forces a budget's next_reset_at_ms (nil: unscheduled), as
// upstream's tests do to make a budget due: one UPDATE outside any
// transaction, not retried and not subject to fault hooks (a held lock is
// still waited for, R3b). An unknown budget is ErrNotFound.
func (s *Store) SetNextReset(ctx context.Context, budgetID string, atMs *int64) error {
	r, err := s.db.ExecContext(ctx, `
		UPDATE ff_budget_policy SET next_reset_at_ms = ?
		WHERE partition_key = 0 AND budget_id = ?`, atMs, budgetID)
	if err == nil {
		var n int64
		if n, err = r.RowsAffected(); err == nil && n == 0 {
			err = ErrNotFound
		}
	}
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

// errNoRows reports whether err is database/sql's "no rows".
func errNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
