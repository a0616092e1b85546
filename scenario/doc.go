// Package scenario is ffsim's scenario model: what a scenario says, as plain
// Go values, with no YAML in sight.
//
// A [Scenario] is a supervisor configuration, budgets created at t=0 and a
// list of [Step] values. Each step holds exactly one action (one of its
// pointer or slice fields) and, for the kinds that take one, an [Expect].
// Every kind of step is described once, in the registry behind [Kind]
// ([Kind.Info] says its name, whether it takes an expect and which
// outcomes, whether it may run inside concurrently, and whether it is a
// check); the YAML loader in package harness, the JSON Schema, the engine in
// package sim and [Scenario.Validate] all read that one table.
//
// The harness package decodes scenario files into these types and reports
// problems as file:line:col; Go users may build scenarios by hand and call
// [Scenario.Validate], which checks every rule that does not need the YAML
// text (one action per step, expectations only where a kind takes them,
// what may run inside concurrently, references to declared budgets, value
// ranges). The engine validates again before it runs anything, so a
// malformed hand-built scenario fails loudly instead of running its first
// action.
//
// Positions ([Pos]) are filled in by the loader and are zero for scenarios
// built in Go; errors then name the step by its index.
package scenario
