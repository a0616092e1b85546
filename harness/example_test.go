package harness_test

import (
	"context"
	"fmt"
	"os"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/sim"
)

// Loading a scenario and running it on the native host; a failing run's
// report names the line, what was expected, what happened and how to
// replay it.
func ExampleLoadBytes() {
	src := `name: resets on cadence
supervisor: {budget_reset_interval: 5s}
budgets:
  - {id: b1, reset_interval: 10s, dimensions: {tokens: {hard: 1000}}}
steps:
  - report_usage: {budget: b1, usage: {tokens: 200}}
    expect: ok
  - spawn: {}
  - advance: 10s
  - expect_budget: {b1: {usage: {tokens: 0}, next_reset_at: 25s}}
`
	sc, err := harness.LoadBytes("my.yaml", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	res := sim.Native().Run(context.Background(), sc, sim.Options{})
	harness.WriteFailure(os.Stdout, res, 0)
	// Output:
	// FAIL resets on cadence (my.yaml)
	//   at my.yaml:10 (expect_budget): expect_budget: expectation not met
	//     expected: b1: {usage: {tokens: 0}, next_reset_at: 25s}
	//     actual:   b1: {usage: {tokens: 0}, next_reset_at: 20s}
	//   seed 0 on the native host (trace digest 054c3af46f5afcab); replay with:
	//     ffsim replay my.yaml --seed native:0
}

// A malformed file is refused before anything runs, with file:line:col and
// the line shown.
func ExampleLoadBytes_error() {
	_, err := harness.LoadBytes("typo.yaml", []byte("name: t\nsteps:\n  - advnce: 9s\n"))
	fmt.Println(err)
	// Output:
	// typo.yaml:3:5: unknown step "advnce" (did you mean "advance"?)
	//    2 | steps:
	//    3 |   - advnce: 9s
	//      |     ^
}
