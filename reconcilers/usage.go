package reconcilers

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

// dedupTTL is how far ahead expires_at_ms is written for a dedup key (R5).
// Upstream never reads it, so neither does the store: a key replays however
// old it is.
const dedupTTL = 24 * time.Hour

// OutcomeKind classifies a [Store.ReportUsage] outcome.
type OutcomeKind int

// The outcomes of ReportUsage.
const (
	// OutcomeOK: every delta was applied and no soft limit was exceeded.
	OutcomeOK OutcomeKind = iota + 1
	// OutcomeAlreadyApplied: the dedup key's reservation was found with no
	// outcome recorded (a caller that died before finishing); nothing
	// changed this time.
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

// outcomeDoc is ff_budget_usage_dedup.outcome_json in upstream's shape:
// {"kind":"Ok"}, or a breach with its dimension, current usage and limit
// (hard_limit or soft_limit). Fields are in the order serde_json writes
// them (sorted), so the stored text is upstream's byte for byte.
type outcomeDoc struct {
	CurrentUsage *int64 `json:"current_usage,omitempty"`
	Dimension    string `json:"dimension,omitempty"`
	HardLimit    *int64 `json:"hard_limit,omitempty"`
	Kind         string `json:"kind"`
	SoftLimit    *int64 `json:"soft_limit,omitempty"`
}

func encodeOutcome(o UsageOutcome) string {
	var doc outcomeDoc
	switch o.Kind {
	case OutcomeOK:
		doc.Kind = "Ok"
	case OutcomeAlreadyApplied:
		doc.Kind = "AlreadyApplied"
	case OutcomeSoftBreach:
		doc = outcomeDoc{Kind: "SoftBreach", Dimension: o.Dimension, CurrentUsage: new(o.CurrentUsage), SoftLimit: new(o.Limit)}
	case OutcomeHardBreach:
		doc = outcomeDoc{Kind: "HardBreach", Dimension: o.Dimension, CurrentUsage: new(o.CurrentUsage), HardLimit: new(o.Limit)}
	}
	b, _ := json.Marshal(doc) // plain strings and integers: cannot fail
	return string(b)
}

// decodeOutcome reads a stored outcome. The empty placeholder "{}" (a
// caller that died between reserving the key and recording its outcome)
// reads as AlreadyApplied; an unknown kind is corruption.
func decodeOutcome(raw string) (UsageOutcome, error) {
	var doc outcomeDoc
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return UsageOutcome{}, fmt.Errorf("decode outcome_json: %w", err)
	}
	if len(m) == 0 {
		return UsageOutcome{Kind: OutcomeAlreadyApplied}, nil
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		return UsageOutcome{}, fmt.Errorf("decode outcome_json: %w", err)
	}
	val := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	}
	switch doc.Kind {
	case "Ok":
		return UsageOutcome{Kind: OutcomeOK}, nil
	case "AlreadyApplied":
		return UsageOutcome{Kind: OutcomeAlreadyApplied}, nil
	case "SoftBreach":
		return UsageOutcome{Kind: OutcomeSoftBreach, Dimension: doc.Dimension, CurrentUsage: val(doc.CurrentUsage), Limit: val(doc.SoftLimit)}, nil
	case "HardBreach":
		return UsageOutcome{Kind: OutcomeHardBreach, Dimension: doc.Dimension, CurrentUsage: val(doc.CurrentUsage), Limit: val(doc.HardLimit)}, nil
	}
	return UsageOutcome{}, fmt.Errorf("decode outcome_json: unknown kind %q (corruption)", doc.Kind)
}

// ReportUsage adds usage (dimension → delta) to a budget in one write
// transaction (R5). Each attempt reads the store's clock once, before it
// waits for the write lock, as upstream: the times it records are when the
// attempt began, not when it won the lock.
//
// A non-empty dedupKey seen before replays the outcome stored with it,
// exactly (an Ok as Ok, a breach as the same breach) and changes nothing;
// only a reservation with no outcome replays as OutcomeAlreadyApplied.
// Keys are global, not per budget, and never expire.
//
// A budget without a policy has no limits: deltas are applied. Otherwise
// dimensions are checked in sorted order; the first whose usage plus delta
// exceeds its non-zero hard limit rejects the whole report (nothing applied,
// breach_count += 1, last breach set). Without a hard breach every delta is
// applied, and the first dimension whose new usage exceeds its non-zero
// soft limit makes the outcome a soft breach (soft_breach_count += 1,
// once). A soft breach does not set last_breach_at_ms / last_breach_dim:
// those record the last rejected report.
//
// An empty budget id or dimension, a negative delta, or usage that would
// overflow an int64 is ErrInvalidInput.
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
	err := s.writeTxAt(ctx, func(ctx context.Context, conn *sql.Conn, now int64) error {
		var err error
		out, err = s.reportUsageTx(ctx, conn, budgetID, dims, usage, dedupKey, now)
		return err
	})
	if err != nil {
		return UsageOutcome{}, fmt.Errorf("report usage on budget %q: %w", budgetID, err)
	}
	return out, nil
}

// reportUsageTx is ReportUsage's transaction body, upstream's statement for
// statement: reserve the dedup key (or replay it), read the policy, then
// per dimension ensure a usage row and check the hard limit, then apply
// every delta and check the soft limits, and record the outcome with the
// key. dims are usage's keys, sorted.
func (s *Store) reportUsageTx(ctx context.Context, conn *sql.Conn, budgetID string, dims []string, usage map[string]int64, dedupKey string, now int64) (UsageOutcome, error) {
	if dedupKey != "" {
		replay, done, err := reserveDedup(ctx, conn, dedupKey, now)
		if done || err != nil {
			return replay, err
		}
	}
	var policy policyDoc // zero: no limits
	var raw string
	err := conn.QueryRowContext(queryCtx(ctx), `
		SELECT policy_json FROM ff_budget_policy WHERE partition_key = 0 AND budget_id = ?`,
		budgetID).Scan(&raw)
	switch {
	case err == nil:
		if policy, err = s.policies.decode(raw); err != nil {
			return UsageOutcome{}, err
		}
	case !errNoRows(err):
		return UsageOutcome{}, err
	}

	out, err := applyUsage(ctx, conn, budgetID, dims, usage, policy, now)
	if err != nil {
		return UsageOutcome{}, err
	}
	if dedupKey != "" {
		if _, err := conn.ExecContext(ctx, `
			UPDATE ff_budget_usage_dedup SET outcome_json = ?
			WHERE partition_key = 0 AND dedup_key = ?`, encodeOutcome(out), dedupKey); err != nil {
			return UsageOutcome{}, err
		}
	}
	return out, nil
}

// reserveDedup inserts the key's placeholder. If the key was there already
// it returns the stored outcome and done.
func reserveDedup(ctx context.Context, conn *sql.Conn, key string, now int64) (UsageOutcome, bool, error) {
	r, err := conn.ExecContext(ctx, `
		INSERT INTO ff_budget_usage_dedup (partition_key, dedup_key, outcome_json, applied_at_ms, expires_at_ms)
		VALUES (0, ?, '{}', ?, ?)
		ON CONFLICT (partition_key, dedup_key) DO NOTHING`,
		key, now, now+dedupTTL.Milliseconds())
	if err != nil {
		return UsageOutcome{}, false, err
	}
	if n, err := r.RowsAffected(); err != nil || n == 1 {
		return UsageOutcome{}, false, err
	}
	var stored string
	if err := conn.QueryRowContext(queryCtx(ctx), `
		SELECT outcome_json FROM ff_budget_usage_dedup WHERE partition_key = 0 AND dedup_key = ?`,
		key).Scan(&stored); err != nil {
		return UsageOutcome{}, false, err
	}
	out, err := decodeOutcome(stored)
	return out, true, err
}

// applyUsage checks the limits and writes the report's effect. Like
// upstream, it ensures each dimension's usage row (at 0) as it checks the
// hard limits, so the rows of the dimensions checked before a hard breach
// exist afterwards, at 0.
func applyUsage(ctx context.Context, conn *sql.Conn, budgetID string, dims []string, usage map[string]int64, policy policyDoc, now int64) (UsageOutcome, error) {
	after := make(map[string]int64, len(dims))
	for _, d := range dims {
		// A new row starts with last_reset_at_ms 0: "never reset".
		if _, err := conn.ExecContext(ctx, `
			INSERT INTO ff_budget_usage (partition_key, budget_id, dimensions_key, current_value, last_reset_at_ms, updated_at_ms)
			VALUES (0, ?, ?, 0, 0, ?)
			ON CONFLICT (partition_key, budget_id, dimensions_key) DO NOTHING`,
			budgetID, d, now); err != nil {
			return UsageOutcome{}, err
		}
		var cur int64
		if err := conn.QueryRowContext(queryCtx(ctx), `
			SELECT current_value FROM ff_budget_usage
			WHERE partition_key = 0 AND budget_id = ? AND dimensions_key = ?`,
			budgetID, d).Scan(&cur); err != nil {
			return UsageOutcome{}, err
		}
		delta := usage[d]
		if delta > math.MaxInt64-cur {
			return UsageOutcome{}, fmt.Errorf("%w: dimension %q: usage %d + %d overflows", ErrInvalidInput, d, cur, delta)
		}
		if hard := policy.HardLimits[d]; hard > 0 && cur+delta > hard {
			_, err := conn.ExecContext(ctx, `
				UPDATE ff_budget_policy SET
					breach_count = breach_count + 1,
					last_breach_at_ms = ?, last_breach_dim = ?, updated_at_ms = ?
				WHERE partition_key = 0 AND budget_id = ?`,
				now, d, now, budgetID)
			return UsageOutcome{Kind: OutcomeHardBreach, Dimension: d, CurrentUsage: cur, Limit: hard}, err
		}
		after[d] = cur + delta
	}

	out := UsageOutcome{Kind: OutcomeOK}
	for _, d := range dims {
		if _, err := conn.ExecContext(ctx, `
			UPDATE ff_budget_usage SET current_value = current_value + ?, updated_at_ms = ?
			WHERE partition_key = 0 AND budget_id = ? AND dimensions_key = ?`,
			usage[d], now, budgetID, d); err != nil {
			return UsageOutcome{}, err
		}
		if soft := policy.SoftLimits[d]; out.Kind == OutcomeOK && soft > 0 && after[d] > soft {
			out = UsageOutcome{Kind: OutcomeSoftBreach, Dimension: d, CurrentUsage: after[d], Limit: soft}
		}
	}
	if out.Kind == OutcomeSoftBreach {
		if _, err := conn.ExecContext(ctx, `
			UPDATE ff_budget_policy SET soft_breach_count = soft_breach_count + 1, updated_at_ms = ?
			WHERE partition_key = 0 AND budget_id = ?`,
			now, budgetID); err != nil {
			return UsageOutcome{}, err
		}
	}
	return out, nil
}
