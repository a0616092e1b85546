package scenario_test

import (
	"fmt"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// Building a scenario in Go and checking it before running it. Validate
// reports every rule it breaks; here, a step inside concurrently that
// cannot run there and a reference to a budget nobody declared.
func Example() {
	second := time.Second
	sc := &scenario.Scenario{
		Name:    "by hand",
		Budgets: []scenario.Budget{{ID: "b1", ResetInterval: 10 * time.Second}},
		Steps: []scenario.Step{
			{Spawn: &scenario.SpawnStep{}},
			{Concurrently: []scenario.Step{
				{ReportUsage: &scenario.ReportUsageStep{Budget: "b2", Usage: map[string]int64{"tokens": 5}}},
				{Advance: &second},
			}},
		},
	}
	fmt.Println(sc.Validate())
	// Output:
	// steps[1].concurrently[0]: unknown budget "b2" (did you mean "b1"?); declare it under budgets: or create it in an earlier create_budget step
	// steps[1].concurrently[1]: advance cannot run inside concurrently: only actions can, not time steps, checks or concurrently
}

// Every kind of step, from the registry.
func ExampleKinds() {
	for _, k := range scenario.Kinds()[:4] {
		info := k.Info()
		fmt.Printf("%s expect=%v concurrent=%v\n", info.Name, info.Expect != nil, info.Concurrent)
	}
	// Output:
	// advance expect=false concurrent=false
	// advance_to expect=false concurrent=false
	// spawn expect=true concurrent=true
	// shutdown expect=true concurrent=true
}
