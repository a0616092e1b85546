// Package harness loads, validates and runs ffsim scenario files.
//
// A scenario is one YAML file in the format of SPEC §4. [Load], [LoadBytes],
// [LoadPaths] and [LoadFS] parse it strictly into a validated
// [sim.Scenario]: unknown keys, wrong types, malformed or negative
// durations, negative counts, references to undeclared budgets, duplicate
// budget ids and misplaced expectations are all errors, each reported as an
// [*Error] ("file:line:col: message" followed by the offending source line
// with the column marked). All the errors found in a file are returned
// together as [Errors]; nothing runs if there is any.
//
// The format is described in one place: the YAML-facing types and the step
// table in format.go (whose names [StepNames] returns). The decoder walks
// the YAML AST into those types, keeping every node's position, and
// [Schema] generates a JSON Schema (draft 2020-12) from the same types, for
// editors.
//
// Choices where SPEC §4 is silent:
//
//   - seed defaults to 0 when absent; start defaults to [sim.DefaultStart];
//     supervisor (and its budget_reset_interval) defaults to 0s, which
//     disables the reconciler (S1).
//   - OFFSET values (advance_to, at, next_reset_at, last_breach_at) are
//     non-negative Go durations measured from t=0; only set_next_reset.at,
//     reset_budget's expected next_reset_at and expect_budget's
//     next_reset_at and last_breach_at may be null.
//   - Durations must be quoted or plain strings in Go syntax without a
//     sign ("0s", "250ms", "1h30m"); a bare integer such as 0 is a type
//     error.
//   - A budget needs id, scope {type, id}, enforcement_mode, on_hard_limit,
//     on_soft_limit, reset_interval and dimensions; a dimension's hard and
//     soft limits default to 0 (no limit).
//   - A budget may be referenced once it is declared under budgets: or
//     created by a create_budget step that comes before the referencing
//     step. Budgets created inside a concurrently step become known after
//     that whole step, since the order inside it is the seed's.
//   - Usage deltas, limits and every count are non-negative; tick numbers
//     and busy attempts are at least 1.
//   - YAML anchors, aliases, merge keys and explicit tags are rejected, so
//     that every value has one position in the file.
//
// Run and RunDir (in run.go) run scenarios as Go subtests.
package harness
