package reconcilers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// R5 create_budget: the first reset is due one interval after creation,
// and the status reflects the spec.
func TestR5_CreateBudget_SchedulesFirstReset(t *testing.T) {
	e := newEnv(t, Hooks{})
	s := BudgetSpec{
		ID: "b1", Scope: Scope{Type: "flow", ID: "flow-1"},
		EnforcementMode: "strict", OnHardLimit: "fail", OnSoftLimit: "warn",
		ResetInterval: 10 * time.Second,
		Dimensions:    []string{"tokens", "calls"},
		HardLimits:    []int64{1000, 0},
		SoftLimits:    []int64{800, 5},
	}
	e.create(t, s)

	want := Status{
		BudgetID: "b1", Scope: s.Scope,
		EnforcementMode: "strict", OnHardLimit: "fail", OnSoftLimit: "warn",
		Usage:           map[string]int64{"tokens": 0, "calls": 0},
		HardLimits:      map[string]int64{"tokens": 1000, "calls": 0},
		SoftLimits:      map[string]int64{"tokens": 800, "calls": 5},
		NextResetAtMs:   ptr(ms(t0) + 10_000),
		CreatedAtMs:     ms(t0),
		UpdatedAtMs:     ms(t0),
		ResetIntervalMs: 10_000,
	}
	if diff := cmp.Diff(want, e.status(t, "b1")); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	// Usage rows come from report_usage, not from creation.
	if rows, err := e.st.UsageRows(t.Context()); err != nil || len(rows) != 0 {
		t.Errorf("UsageRows after create = %v, %v; want none", rows, err)
	}
}

// R5 create_budget: a zero interval means no automatic reset, ever.
func TestR5_CreateBudget_ZeroIntervalHasNoNextReset(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", 0, 10, 0))
	if got := e.status(t, "b1").NextResetAtMs; got != nil {
		t.Errorf("next_reset_at_ms = %d, want NULL", *got)
	}
}

// R5 create_budget: an existing id changes nothing and says so.
func TestR5_CreateBudget_ExistingIDAlreadySatisfied(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", 10*time.Second, 100, 50))
	before := e.status(t, "b1")

	e.mock.Add(time.Second)
	other := spec("b1", time.Hour, 1, 1)
	other.EnforcementMode = "advisory"
	res, err := e.st.CreateBudget(t.Context(), other)
	if err != nil || res != AlreadySatisfied {
		t.Fatalf("CreateBudget(existing) = %v, %v; want already_satisfied", res, err)
	}
	if res.String() != "already_satisfied" || Created.String() != "created" {
		t.Errorf("String() = %q / %q", res, Created)
	}
	if diff := cmp.Diff(before, e.status(t, "b1")); diff != "" {
		t.Errorf("existing budget changed (-before +after):\n%s", diff)
	}
}

// R5 create_budget: mismatched dimension/limit lists (and other malformed
// specs) are invalid input and create nothing.
func TestR5_CreateBudget_InvalidInput(t *testing.T) {
	e := newEnv(t, Hooks{})
	cases := map[string]func(*BudgetSpec){
		"fewer hard limits": func(s *BudgetSpec) { s.HardLimits = nil },
		"more soft limits":  func(s *BudgetSpec) { s.SoftLimits = []int64{1, 2} },
		"empty id":          func(s *BudgetSpec) { s.ID = "" },
		"negative interval": func(s *BudgetSpec) { s.ResetInterval = -time.Second },
		"sub-ms interval":   func(s *BudgetSpec) { s.ResetInterval = 1500 * time.Microsecond },
		"duplicate dimension": func(s *BudgetSpec) {
			s.Dimensions, s.HardLimits, s.SoftLimits = []string{"a", "a"}, []int64{1, 1}, []int64{0, 0}
		},
		"empty dimension":     func(s *BudgetSpec) { s.Dimensions = []string{""} },
		"negative hard limit": func(s *BudgetSpec) { s.HardLimits = []int64{-1} },
		"negative soft limit": func(s *BudgetSpec) { s.SoftLimits = []int64{-1} },
	}
	for name, mutate := range cases {
		s := spec("bad", time.Second, 10, 5)
		mutate(&s)
		if _, err := e.st.CreateBudget(t.Context(), s); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: err = %v, want ErrInvalidInput", name, err)
		}
	}
	if ids, err := e.st.BudgetIDs(t.Context()); err != nil || len(ids) != 0 {
		t.Errorf("BudgetIDs after invalid creates = %v, %v; want none", ids, err)
	}
}

// R5 report_usage: within limits, deltas are applied at the server's clock
// time and the outcome is Ok.
func TestR5_ReportUsage_OkAppliesAtServerTime(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", 10*time.Second, 1000, 800))
	e.mock.Add(2 * time.Second)

	out := e.report(t, "b1", map[string]int64{"tokens": 200, "calls": 3}, "")
	if out != (UsageOutcome{Kind: OutcomeOK}) || out.Kind.String() != "ok" {
		t.Errorf("outcome = %+v, want ok", out)
	}
	e.report(t, "b1", map[string]int64{"tokens": 100}, "")

	rows, err := e.st.UsageRows(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	now := ms(t0) + 2000
	want := []UsageRow{
		{BudgetID: "b1", Dimension: "calls", CurrentValue: 3, LastResetAtMs: 0, UpdatedAtMs: now},
		{BudgetID: "b1", Dimension: "tokens", CurrentValue: 300, LastResetAtMs: 0, UpdatedAtMs: now},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("usage rows (-want +got):\n%s", diff)
	}
	// Exactly at the hard limit is not over it.
	if out := e.report(t, "b1", map[string]int64{"tokens": 700}, ""); out.Kind != OutcomeSoftBreach {
		t.Errorf("reaching the hard limit exactly: %v, want soft_breach (1000 > 800)", out.Kind)
	}
	if got := e.status(t, "b1").BreachCount; got != 0 {
		t.Errorf("breach_count = %d after reaching (not exceeding) the hard limit", got)
	}
}

// R5 report_usage: exceeding a hard limit applies nothing (in any
// dimension), counts a breach and records when and where; the outcome
// carries the usage before the delta. Dimensions are checked in sorted
// order.
func TestR5_ReportUsage_HardBreach(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, BudgetSpec{
		ID: "b1", ResetInterval: time.Minute,
		Dimensions: []string{"a", "b", "c"},
		HardLimits: []int64{100, 10, 10},
		SoftLimits: []int64{0, 0, 0},
	})
	e.report(t, "b1", map[string]int64{"a": 90, "b": 5}, "")
	e.mock.Add(time.Second)

	// b and c both breach; b is first in sorted order. a would fit.
	out := e.report(t, "b1", map[string]int64{"a": 1, "c": 11, "b": 6}, "")
	want := UsageOutcome{Kind: OutcomeHardBreach, Dimension: "b", CurrentUsage: 5, Limit: 10}
	if out != want {
		t.Errorf("outcome = %+v, want %+v", out, want)
	}
	st := e.status(t, "b1")
	if diff := cmp.Diff(map[string]int64{"a": 90, "b": 5, "c": 0}, st.Usage); diff != "" {
		t.Errorf("usage changed by a rejected report (-want +got):\n%s", diff)
	}
	if st.BreachCount != 1 || st.SoftBreachCount != 0 {
		t.Errorf("breach counts = %d/%d, want 1/0", st.BreachCount, st.SoftBreachCount)
	}
	if st.LastBreachAtMs == nil || *st.LastBreachAtMs != ms(t0)+1000 || st.LastBreachDim == nil || *st.LastBreachDim != "b" {
		t.Errorf("last breach = %v/%v, want %d/b", st.LastBreachAtMs, st.LastBreachDim, ms(t0)+1000)
	}

	// A hard limit of 0 is no limit.
	e.create(t, spec("free", time.Minute, 0, 0))
	if out := e.report(t, "free", map[string]int64{"tokens": 1 << 40}, ""); out.Kind != OutcomeOK {
		t.Errorf("zero hard limit: outcome %v, want ok", out.Kind)
	}
}

// R5 report_usage: exceeding a soft limit applies every delta, counts one
// soft breach however many dimensions are over, and reports the first
// (sorted) with its usage after the delta. Soft breaches do not touch
// last_breach_*.
func TestR5_ReportUsage_SoftBreach(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, BudgetSpec{
		ID: "b1", ResetInterval: time.Minute,
		Dimensions: []string{"x", "y", "z"},
		HardLimits: []int64{0, 0, 0},
		SoftLimits: []int64{0, 10, 10},
	})
	out := e.report(t, "b1", map[string]int64{"x": 1000, "z": 12, "y": 11}, "")
	want := UsageOutcome{Kind: OutcomeSoftBreach, Dimension: "y", CurrentUsage: 11, Limit: 10}
	if out != want {
		t.Errorf("outcome = %+v, want %+v", out, want)
	}
	st := e.status(t, "b1")
	if diff := cmp.Diff(map[string]int64{"x": 1000, "y": 11, "z": 12}, st.Usage); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	if st.SoftBreachCount != 1 || st.BreachCount != 0 || st.LastBreachAtMs != nil || st.LastBreachDim != nil {
		t.Errorf("after soft breach: soft=%d hard=%d last=%v/%v; want 1, 0, nil/nil",
			st.SoftBreachCount, st.BreachCount, st.LastBreachAtMs, st.LastBreachDim)
	}
}

// R5 report_usage: a dedup key replays its stored outcome without applying
// anything again: Ok as Ok (upstream's wave9_budget.rs asserts it), breaches
// as the same breach with the same details.
func TestR5_ReportUsage_DedupReplays(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", time.Hour, 100, 50))

	if out := e.report(t, "b1", map[string]int64{"tokens": 10}, "k-ok"); out.Kind != OutcomeOK {
		t.Fatalf("first report: %v", out.Kind)
	}
	if out := e.report(t, "b1", map[string]int64{"tokens": 10}, "k-ok"); out != (UsageOutcome{Kind: OutcomeOK}) {
		t.Errorf("replayed ok = %+v, want ok", out)
	}
	if got := e.status(t, "b1").Usage["tokens"]; got != 10 {
		t.Errorf("usage after a replay = %d, want 10 (not applied twice)", got)
	}
	soft := e.report(t, "b1", map[string]int64{"tokens": 45}, "k-soft")
	hard := e.report(t, "b1", map[string]int64{"tokens": 60}, "k-hard")
	if soft.Kind != OutcomeSoftBreach || hard.Kind != OutcomeHardBreach {
		t.Fatalf("soft, hard = %v, %v", soft.Kind, hard.Kind)
	}
	before := e.status(t, "b1")

	e.mock.Add(time.Hour - time.Millisecond)
	// Different deltas: a replay ignores the request and returns the stored
	// outcome.
	if out := e.report(t, "b1", map[string]int64{"tokens": 1}, "k-soft"); out != soft {
		t.Errorf("replayed soft = %+v, want %+v", out, soft)
	}
	if out := e.report(t, "b1", map[string]int64{"tokens": 1}, "k-hard"); out != hard {
		t.Errorf("replayed hard = %+v, want %+v", out, hard)
	}
	after := e.status(t, "b1")
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("replays changed the budget (-before +after):\n%s", diff)
	}
	if after.Usage["tokens"] != 55 || after.BreachCount != 1 || after.SoftBreachCount != 1 {
		t.Errorf("usage/breach/soft = %d/%d/%d, want 55/1/1", after.Usage["tokens"], after.BreachCount, after.SoftBreachCount)
	}
}

// R5 report_usage: upstream writes expires_at_ms but never reads it, so a
// key replays however old it is: after 24 h, after 25 h, after a year.
func TestR5_ReportUsage_DedupNeverExpires(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", 0, 0, 0))
	e.report(t, "b1", map[string]int64{"tokens": 1}, "k")
	for _, d := range []time.Duration{24 * time.Hour, time.Hour, 365 * 24 * time.Hour} {
		e.mock.Add(d)
		if out := e.report(t, "b1", map[string]int64{"tokens": 1}, "k"); out.Kind != OutcomeOK {
			t.Errorf("replay after +%v: %v, want ok", d, out.Kind)
		}
	}
	if got := e.status(t, "b1").Usage["tokens"]; got != 1 {
		t.Errorf("usage = %d, want 1 (applied once)", got)
	}
	var stored string
	var expires int64
	if err := e.st.DB().QueryRowContext(t.Context(),
		"SELECT outcome_json, expires_at_ms FROM ff_budget_usage_dedup WHERE dedup_key = 'k'").Scan(&stored, &expires); err != nil {
		t.Fatal(err)
	}
	if stored != `{"kind":"Ok"}` || expires != ms(t0)+24*3600*1000 {
		t.Errorf("dedup row = %s, expires %d; want {\"kind\":\"Ok\"} and t0+24h", stored, expires)
	}
}

// R5 report_usage: outcome_json has upstream's shape, and only the empty
// placeholder (a caller that died mid-way) replays as already_applied.
func TestR5_ReportUsage_OutcomeJSON(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", 0, 100, 50))
	e.report(t, "b1", map[string]int64{"tokens": 60}, "soft")
	e.report(t, "b1", map[string]int64{"tokens": 60}, "hard")
	for key, want := range map[string]string{
		"soft": `{"current_usage":60,"dimension":"tokens","kind":"SoftBreach","soft_limit":50}`,
		"hard": `{"current_usage":60,"dimension":"tokens","hard_limit":100,"kind":"HardBreach"}`,
	} {
		var got string
		if err := e.st.DB().QueryRowContext(t.Context(),
			"SELECT outcome_json FROM ff_budget_usage_dedup WHERE dedup_key = ?", key).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: outcome_json = %s, want %s", key, got, want)
		}
	}
	if _, err := e.st.DB().ExecContext(t.Context(), `INSERT INTO ff_budget_usage_dedup
		(partition_key, dedup_key, outcome_json, applied_at_ms, expires_at_ms) VALUES (0, 'dead', '{}', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	if out := e.report(t, "b1", map[string]int64{"tokens": 1}, "dead"); out.Kind != OutcomeAlreadyApplied {
		t.Errorf("placeholder replay = %v, want already_applied", out.Kind)
	}
	if _, err := e.st.DB().ExecContext(t.Context(), `UPDATE ff_budget_usage_dedup SET outcome_json = '{"kind":"Nope"}' WHERE dedup_key = 'dead'`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.ReportUsage(t.Context(), "b1", map[string]int64{"tokens": 1}, "dead"); err == nil || !strings.Contains(err.Error(), "unknown kind") {
		t.Errorf("unknown stored kind: %v, want a corruption error", err)
	}
}

// R5 report_usage: a budget without a policy has no limits; the usage is
// recorded, but the budget itself still does not exist.
func TestR5_ReportUsage_MissingPolicyMeansNoLimits(t *testing.T) {
	e := newEnv(t, Hooks{})
	if out := e.report(t, "ghost", map[string]int64{"tokens": 1 << 50}, "g1"); out.Kind != OutcomeOK {
		t.Errorf("outcome = %v, want ok", out.Kind)
	}
	rows, err := e.st.UsageRows(t.Context())
	if err != nil || len(rows) != 1 || rows[0].BudgetID != "ghost" || rows[0].CurrentValue != 1<<50 {
		t.Errorf("UsageRows = %+v, %v", rows, err)
	}
	if _, err := e.st.BudgetStatus(t.Context(), "ghost"); !errors.Is(err, ErrNotFound) {
		t.Errorf("BudgetStatus(ghost) = %v, want ErrNotFound", err)
	}
}

// R5 report_usage: negative deltas and malformed requests are invalid
// input and change nothing.
func TestR5_ReportUsage_InvalidInput(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", 0, 0, 0))
	e.report(t, "b1", map[string]int64{"tokens": 1 << 62}, "")
	for name, tc := range map[string]struct {
		id    string
		usage map[string]int64
	}{
		"negative delta":  {"b1", map[string]int64{"tokens": 5, "calls": -1}},
		"empty budget id": {"", map[string]int64{"tokens": 1}},
		"empty dimension": {"b1", map[string]int64{"": 1}},
		"overflow":        {"b1", map[string]int64{"tokens": 1 << 62}},
	} {
		if _, err := e.st.ReportUsage(t.Context(), tc.id, tc.usage, "key-"+name); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: err = %v, want ErrInvalidInput", name, err)
		}
	}
	if got := e.status(t, "b1").Usage; got["tokens"] != 1<<62 || got["calls"] != 0 {
		t.Errorf("usage after invalid reports = %v", got)
	}
}

// R5 reset_budget: the R2 transition on demand, from the moment of the
// reset; unknown budgets are not found.
func TestR5_ResetBudget(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", 10*time.Second, 100, 50))
	e.create(t, spec("once", 0, 100, 0))
	e.report(t, "b1", map[string]int64{"tokens": 60}, "")  // soft breach
	e.report(t, "b1", map[string]int64{"tokens": 60}, "")  // hard breach
	e.report(t, "once", map[string]int64{"tokens": 5}, "") // ok

	e.mock.Add(3 * time.Second) // not due: the admin reset needs no schedule
	next, err := e.st.ResetBudget(t.Context(), "b1")
	now := ms(t0) + 3000
	if err != nil || next == nil || *next != now+10_000 {
		t.Fatalf("ResetBudget = %v, %v; want %d", next, err, now+10_000)
	}
	st := e.status(t, "b1")
	if st.Usage["tokens"] != 0 || st.BreachCount != 1 || st.SoftBreachCount != 1 ||
		st.LastBreachAtMs != nil || st.LastBreachDim != nil || st.UpdatedAtMs != now ||
		st.NextResetAtMs == nil || *st.NextResetAtMs != now+10_000 {
		t.Errorf("status after reset = %+v", st)
	}

	if next, err := e.st.ResetBudget(t.Context(), "once"); err != nil || next != nil {
		t.Errorf("ResetBudget(zero interval) = %v, %v; want nil, nil", next, err)
	}
	if got := e.status(t, "once"); got.Usage["tokens"] != 0 || got.NextResetAtMs != nil {
		t.Errorf("zero-interval budget after reset = %+v", got)
	}

	if _, err := e.st.ResetBudget(t.Context(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ResetBudget(unknown) = %v, want ErrNotFound", err)
	}
}

// R5 budget_status: an unknown budget is not found.
func TestR5_BudgetStatus_NotFound(t *testing.T) {
	e := newEnv(t, Hooks{})
	if _, err := e.st.BudgetStatus(t.Context(), "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

// SetNextReset forces the schedule (scenarios' set_next_reset), including
// to NULL; unknown budgets are not found.
func TestSetNextReset(t *testing.T) {
	e := newEnv(t, Hooks{})
	e.create(t, spec("b1", 10*time.Second, 0, 0))
	if err := e.st.SetNextReset(t.Context(), "b1", ptr(42)); err != nil {
		t.Fatal(err)
	}
	if got := e.status(t, "b1").NextResetAtMs; got == nil || *got != 42 {
		t.Errorf("next reset = %v, want 42", got)
	}
	if err := e.st.SetNextReset(t.Context(), "b1", nil); err != nil {
		t.Fatal(err)
	}
	if got := e.status(t, "b1").NextResetAtMs; got != nil {
		t.Errorf("next reset = %d, want NULL", *got)
	}
	if err := e.st.SetNextReset(t.Context(), "nope", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetNextReset(unknown) = %v, want ErrNotFound", err)
	}
}
