package scenario

import (
	"fmt"
	"reflect"
	"strings"
)

// Kind is the kind of a step's action.
type Kind uint8

// The step kinds, in SPEC §4's order.
const (
	// Invalid is the kind of a step with no action or more than one.
	Invalid Kind = iota
	KindAdvance
	KindAdvanceTo
	KindSpawn
	KindShutdown
	KindClose
	KindCreateBudget
	KindReportUsage
	KindResetBudget
	KindSetNextReset
	KindScanTick
	KindExpectBudget
	KindExpectTicks
	KindExpectRunning
	KindRegisterWorker
	KindHeartbeatWorker
	KindMarkWorkerDead
	KindSweepTick
	KindExpectWorkers
	KindExpectLog
	KindSlowTick
	KindTickError
	KindBusy
	KindDBError
	KindHoldWriteLock
	KindConcurrently

	numKinds
)

// KindInfo describes one kind of step: everything the loader, the schema,
// the engine and Validate need to know about it besides its argument's Go
// type (the type of its field in [Step]).
type KindInfo struct {
	Kind Kind
	// Name is the step's key in YAML.
	Name string
	// Doc is one line of documentation, for the schema and the reference.
	Doc string
	// Check marks the expect_* steps: they read the state at the current
	// instant, once every due tick has run, and change nothing.
	Check bool
	// Concurrent is true for the kinds that may run inside concurrently:
	// actions that run as an actor. Time steps, checks and concurrently
	// itself may not.
	Concurrent bool
	// Fault marks the steps that arm a fault.
	Fault bool
	// Expect describes the step's expect; nil when it takes none.
	Expect *ExpectSpec
}

// ExpectSpec is the shape of a kind's expect: a scalar result, a mapping of
// some of [Outcome]'s keys, or {any_of: [...]} of either.
type ExpectSpec struct {
	// Doc describes the expectation.
	Doc string
	// Results are the named outcomes (expect: ok), if the kind has any.
	Results []string
	// Fields are the Outcome keys (YAML names) a mapping may give, and
	// Required those it must unless it names a result or an error.
	Fields, Required []string
}

// Outcome keys every kind with an expect may give: when its operation
// returned, and the error it returned.
var commonFields = []string{"returned_at", "error"}

func fields(f ...string) []string { return append(f, commonFields...) }

var registry = [numKinds]KindInfo{
	KindAdvance: {Name: "advance",
		Doc: "Advance simulated time by a duration, running every due tick to completion."},
	KindAdvanceTo: {Name: "advance_to",
		Doc: "Advance simulated time to an offset from t=0, running every due tick to completion."},
	KindSpawn: {Name: "spawn", Concurrent: true,
		Doc: "Start the supervisor at the current time: {} or any of {budget_reset_interval: D, worker_registry_ttl_interval: D}.",
		Expect: &ExpectSpec{Doc: "{installed: bool}: whether this spawn installed the reconcilers.",
			Fields: fields("installed"), Required: []string{"installed"}}},
	KindShutdown: {Name: "shutdown", Concurrent: true,
		Doc: "Call Shutdown(grace) and wait for it to return; simulated time passes while it waits.",
		Expect: &ExpectSpec{Doc: "{timed_out: N, returned_at?: OFFSET}: the number of tasks aborted.",
			Fields: fields("timed_out"), Required: []string{"timed_out"}}},
	KindClose: {Name: "close", Concurrent: true,
		Doc: "Close the supervisor (the port of Drop): signal without waiting. Takes {}."},
	KindCreateBudget: {Name: "create_budget", Concurrent: true,
		Doc: "Create a budget (admin, R5), written as under budgets:.",
		Expect: &ExpectSpec{Doc: "created or already_satisfied.",
			Results: []string{"created", "already_satisfied"}, Fields: fields("result")}},
	KindReportUsage: {Name: "report_usage", Concurrent: true,
		Doc: "Report usage deltas against a budget (R5): {budget, usage: {DIM: N}, dedup_key?}.",
		Expect: &ExpectSpec{Doc: "ok, already_applied, soft_breach or hard_breach; or {hard_breach: {dimension, current_usage, limit}} (likewise soft_breach), each detail optional.",
			Results: []string{"ok", "already_applied", "soft_breach", "hard_breach"}, Fields: fields("result", "hard_breach", "soft_breach")}},
	KindResetBudget: {Name: "reset_budget", Concurrent: true,
		Doc: "Reset a budget now (admin, R5): {budget}.",
		Expect: &ExpectSpec{Doc: "{next_reset_at: OFFSET or null}: the returned next reset; or not_found.",
			Results: []string{"not_found"}, Fields: fields("result", "next_reset_at"), Required: []string{"next_reset_at"}}},
	KindSetNextReset: {Name: "set_next_reset", Concurrent: true,
		Doc: "Force a budget's schedule: {budget, at: OFFSET or null}."},
	KindScanTick: {Name: "scan_tick", Concurrent: true,
		Doc: "Run one budget_reset tick directly at the current time. Takes {}.",
		Expect: &ExpectSpec{Doc: "{processed: N, errors: N}: the tick's report.",
			Fields: fields("processed", "errors")}},
	KindExpectBudget: {Name: "expect_budget", Check: true,
		Doc: "Check budgets' state: {ID: {usage, next_reset_at, ...}} or {ID: not_found}; only the fields given are checked. Each value may be {any_of: [...]}."},
	KindExpectTicks: {Name: "expect_ticks", Check: true,
		Doc: "Check a reconciler's ticks completed since spawn and the sums of their reports: {budget_reset: {count, processed, errors}}, likewise worker_registry_ttl_sweep."},
	KindExpectRunning: {Name: "expect_running", Check: true,
		Doc: "Check the number of live reconciler tasks."},
	KindRegisterWorker: {Name: "register_worker", Concurrent: true,
		Doc: "Register a worker instance (W1): {namespace?, instance, worker_id, lanes?, capabilities?, ttl: D}.",
		Expect: &ExpectSpec{Doc: "registered, refreshed (the instance was registered already) or invalid (it is registered under another worker_id).",
			Results: []string{"registered", "refreshed", "invalid"}, Fields: fields("result")}},
	KindHeartbeatWorker: {Name: "heartbeat_worker", Concurrent: true,
		Doc: "Heartbeat a worker instance (W2): {namespace?, instance}.",
		Expect: &ExpectSpec{Doc: "{refreshed: {next_expiry: OFFSET}} (next_expiry optional) or not_registered.",
			Results: []string{"refreshed", "not_registered"}, Fields: fields("result", "refreshed")}},
	KindMarkWorkerDead: {Name: "mark_worker_dead", Concurrent: true,
		Doc: "Remove a worker instance, with a reason (W3): {namespace?, instance, reason}.",
		Expect: &ExpectSpec{Doc: "marked, not_registered, or invalid (a reason over 256 bytes or with control characters).",
			Results: []string{"marked", "not_registered", "invalid"}, Fields: fields("result")}},
	KindSweepTick: {Name: "sweep_tick", Concurrent: true,
		Doc: "Run one worker_registry_ttl_sweep tick directly at the current time (W4). Takes {}.",
		Expect: &ExpectSpec{Doc: "{processed: N, errors: N}: the tick's report (processed: rows swept).",
			Fields: fields("processed", "errors")}},
	KindExpectWorkers: {Name: "expect_workers", Check: true,
		Doc: "Check the worker registry (W5): {INSTANCE: {last_heartbeat, ttl, worker_id, ...} or absent} in namespace default, or {namespace: NS, workers: {...}}; only the fields given are checked."},
	KindExpectLog: {Name: "expect_log", Check: true,
		Doc: "Check that a line at a level containing a text was logged: {level, contains}."},
	KindSlowTick: {Name: "slow_tick", Concurrent: true, Fault: true,
		Doc: "Fault: make tick N of a reconciler take D of simulated time, before its transaction or inside it (before its commit)."},
	KindTickError: {Name: "tick_error", Concurrent: true, Fault: true,
		Doc: "Fault: make tick N of a reconciler fail."},
	KindBusy: {Name: "busy", Concurrent: true, Fault: true,
		Doc: "Fault: the next N write attempts fail with SQLITE_BUSY at once, without a busy wait (R3)."},
	KindDBError: {Name: "db_error", Concurrent: true, Fault: true,
		Doc: "Fault: the next N write attempts (or budget_reset scans) fail with a SQLite error: {code, attempts, on?}."},
	KindHoldWriteLock: {Name: "hold_write_lock", Concurrent: true, Fault: true,
		Doc: "Fault: another connection holds a write transaction for D of simulated time; writers wait for it (R3b)."},
	KindConcurrently: {Name: "concurrently",
		Doc: "Steps released at the same instant, in an order the seed decides. Expectations go on the inner steps."},
}

// actionField maps a Step field to its kind.
type actionField struct {
	index int
	kind  Kind
}

// actionFields are Step's action fields in kind order. Building them at
// init ties the registry to the Step type: a kind without a field, or a
// field without a kind, panics when the package loads.
var actionFields = func() []actionField {
	byName := map[string]Kind{}
	for k := Kind(1); k < numKinds; k++ {
		registry[k].Kind = k
		if registry[k].Name == "" {
			panic(fmt.Sprintf("scenario: kind %d has no registry entry", k))
		}
		byName[registry[k].Name] = k
	}
	t := reflect.TypeFor[Step]()
	fields := make([]actionField, numKinds)
	seen := 0
	for i := range t.NumField() {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if name == "-" || name == "expect" {
			continue
		}
		k, ok := byName[name]
		if !ok {
			panic(fmt.Sprintf("scenario: Step.%s (%q) is not a registered kind", f.Name, name))
		}
		fields[k] = actionField{index: i, kind: k}
		seen++
	}
	if seen != int(numKinds)-1 {
		panic("scenario: a registered kind has no Step field")
	}
	return fields[1:]
}()

// Info returns the kind's registry entry. Invalid has an empty entry.
func (k Kind) Info() *KindInfo {
	if k >= numKinds {
		return &registry[Invalid]
	}
	return &registry[k]
}

// String returns the kind's YAML name, or "invalid".
func (k Kind) String() string {
	if k == Invalid || k >= numKinds {
		return "invalid"
	}
	return registry[k].Name
}

// Kinds returns every valid kind, in SPEC §4's order.
func Kinds() []Kind {
	out := make([]Kind, 0, numKinds-1)
	for k := Kind(1); k < numKinds; k++ {
		out = append(out, k)
	}
	return out
}

// Names returns every kind's YAML name, in SPEC §4's order.
func Names() []string {
	out := make([]string, 0, numKinds-1)
	for k := Kind(1); k < numKinds; k++ {
		out = append(out, registry[k].Name)
	}
	return out
}

// KindByName returns the kind named name in YAML.
func KindByName(name string) (Kind, bool) {
	for k := Kind(1); k < numKinds; k++ {
		if registry[k].Name == name {
			return k, true
		}
	}
	return Invalid, false
}

// StepField returns the index of the Step field that holds kind k's
// action, for code that fills steps by reflection (the YAML loader).
func StepField(k Kind) int {
	if k == Invalid || k >= numKinds {
		return -1
	}
	return actionFields[k-1].index
}

// enumTags ties the enum lists in struct tags (which the loader and the
// schema read) to the lists Validate uses: they must agree, or the package
// panics when it loads.
var _ = func() bool {
	check := func(t reflect.Type, field string, want []string) {
		f, ok := t.FieldByName(field)
		if !ok {
			panic("scenario: no field " + t.Name() + "." + field)
		}
		var got []string
		for _, part := range strings.Split(f.Tag.Get("jsonschema"), ",") {
			if v, ok := strings.CutPrefix(part, "enum="); ok {
				got = append(got, v)
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			panic(fmt.Sprintf("scenario: %s.%s enum tag %v disagrees with %v", t.Name(), field, got, want))
		}
	}
	check(reflect.TypeFor[SlowTickStep](), "Reconciler", Reconcilers)
	check(reflect.TypeFor[SlowTickStep](), "Where", WhereValues)
	check(reflect.TypeFor[TickErrorStep](), "Reconciler", Reconcilers)
	check(reflect.TypeFor[LogExpect](), "Level", LogLevels)
	check(reflect.TypeFor[DBErrorStep](), "Code", DBErrorCodes)
	check(reflect.TypeFor[DBErrorStep](), "On", DBErrorOn)
	check(reflect.TypeFor[Outcome](), "Error", ErrorKinds)
	check(reflect.TypeFor[Budget](), "Policy", []string{PolicyNone})
	return true
}()
