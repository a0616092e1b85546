// Package reconcilers is a Go port of FlowFabric's SQLite scanner supervisor,
// its budget_reset reconciler and the budget tables they act on.
//
// The supervisor ([Spawn], [Supervisor.Shutdown], [Supervisor.Close]) runs each
// registered reconciler as a goroutine with a fixed-period tick loop and drains
// them on shutdown within a grace period. The budget store ([Store]) holds the
// ff_budget_* tables and the admin operations that build and inspect them.
//
// All time comes from an injected [Clock]: clock.New() from
// github.com/benbjohnson/clock in production, clock.NewMock() in tests, or a
// simulator's virtual clock. Nothing in this package reads time.Now directly,
// and every blocking wait is a context bound to that clock, so a simulator
// that owns the clock owns every wait.
//
// Contract items from the ffsim SPEC are named in comments (S1–S7, R1–R5).
package reconcilers
