package sim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ffsim/ffsim/internal/testscenarios"
	"github.com/ffsim/ffsim/scenario"
)

func specExample() *scenario.Scenario { return testscenarios.SpecExample() }

func run(sc *scenario.Scenario) *Result {
	return Native().Run(context.Background(), sc, Options{})
}

func TestRunSpecExample(t *testing.T) {
	res := run(specExample())
	if res.Status != Pass {
		t.Fatalf("status %s: %+v\n%s", res.Status, res.Failure, dumpTrace(res.Trace))
	}
	if res.SimDuration != 10*time.Second {
		t.Errorf("sim duration %v, want 10s", res.SimDuration)
	}
	again := run(specExample())
	if again.Digest != res.Digest {
		t.Errorf("digest differs between runs: %s vs %s", res.Digest, again.Digest)
	}
}

// A wrong expectation must fail, naming its line (negative control).
func TestRunWrongExpectationFails(t *testing.T) {
	sc := specExample()
	sc.Steps[5].ExpectBudget[0].AnyOf[0].NextResetAt = scenario.At(25 * time.Second)
	res := run(sc)
	if res.Status != Fail || res.Failure == nil {
		t.Fatalf("status %s, want fail", res.Status)
	}
	if res.Failure.Pos.Line != 23 || !strings.Contains(res.Failure.Actual, "next_reset_at: 20s") {
		t.Errorf("failure %+v", res.Failure)
	}
}

// Misuse fails loudly: a hand-built step with two actions is refused before
// anything runs, instead of running the first.
func TestRunRefusesInvalidScenario(t *testing.T) {
	sc := specExample()
	sc.Steps[1].Close = &scenario.Empty{}
	res := run(sc)
	if res.Status != Fail || res.Failure == nil || !strings.Contains(res.Failure.Message, `steps[1] (line 19): step has 2 actions ("spawn", "close")`) {
		t.Fatalf("status %s, failure %+v", res.Status, res.Failure)
	}
	if res.StepsRun != 0 || len(res.Trace) != 0 {
		t.Errorf("ran %d steps (%d events) of an invalid scenario", res.StepsRun, len(res.Trace))
	}
}

// A VirtualClock whose books miss a goroutine parked on it panics, saying
// what to wire, instead of taking the busy world for an idle one.
func TestVirtualClockWithoutObserverPanics(t *testing.T) {
	vc := NewVirtualClock(scenario.DefaultStart)
	// A wait registered by a goroutine the clock does not track (this one).
	_, cancel := vc.WithTimeout(context.Background(), time.Second)
	defer cancel()
	defer func() {
		r := recover()
		if s, _ := r.(string); !strings.Contains(s, "VirtualClock.Observe") {
			t.Errorf("recovered %v, want a panic naming VirtualClock.Observe", r)
		}
	}()
	_ = vc.WaitIdle()
	t.Fatal("WaitIdle returned with an untracked goroutine parked")
}

func dumpTrace(ev []Event) string {
	var b strings.Builder
	for _, e := range ev {
		b.WriteString(e.T.String() + " " + string(e.Kind) + " " + e.Source + " " + e.Step + " " + e.Detail + " " + e.Err + "\n")
	}
	return b.String()
}
