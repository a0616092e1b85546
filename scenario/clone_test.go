package scenario_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// A clone is equal to its original and shares nothing with it: changing
// the clone anywhere (a map, a pointer, a nested step, an expectation)
// leaves the original as it was.
func TestCloneSharesNothing(t *testing.T) {
	build := func() *scenario.Scenario {
		sc := valid()
		sc.Budgets[0].Dimensions = map[string]scenario.Limits{"t": {Hard: 10}}
		sc.Steps[0].Spawn.BudgetResetInterval = ptr(time.Second)
		return sc
	}
	sc := build()
	c := sc.Clone()
	if !reflect.DeepEqual(c, sc) {
		t.Fatalf("clone differs:\n%+v\n%+v", c, sc)
	}
	c.Name = "changed"
	c.Budgets[0].Dimensions["t"] = scenario.Limits{Hard: 1}
	*c.Steps[0].Spawn.BudgetResetInterval = time.Hour
	c.Steps[1].ReportUsage.Usage["t"] = 99
	c.Steps[1].Expect.AnyOf[0].Result = "hard_breach"
	c.Steps[2].Concurrently[0].Close = nil
	if !reflect.DeepEqual(sc, build()) {
		t.Fatalf("changing the clone changed the original: %+v", sc)
	}

	st := sc.Steps[2].Clone()
	st.Concurrently[1].ScanTick = nil
	if sc.Steps[2].Concurrently[1].ScanTick == nil {
		t.Fatal("Step.Clone shares its nested steps")
	}
	b := sc.Budgets[0].Clone()
	b.Dimensions["t"] = scenario.Limits{}
	if sc.Budgets[0].Dimensions["t"].Hard != 10 {
		t.Fatal("Budget.Clone shares its dimensions")
	}
	if (*scenario.Scenario)(nil).Clone() != nil {
		t.Fatal("Clone of nil is not nil")
	}
}
