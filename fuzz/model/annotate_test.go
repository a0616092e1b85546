package model

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ffsim/ffsim/internal/testscenarios"
	"github.com/ffsim/ffsim/scenario"
)

// The API: a deep copy, a valid result, Checks, errors.

func TestAnnotateLeavesInputAlone(t *testing.T) {
	in := testscenarios.SpecExample()
	before := in.Clone()
	out, err := Annotate(in, Options{Checks: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, before) {
		t.Fatal("Annotate changed its input")
	}
	// The copy shares nothing: changing it leaves the input alone.
	out.Steps[0].ReportUsage.Usage["tokens"] = 1
	out.Budgets[0].Dimensions["tokens"] = scenario.Limits{}
	if !reflect.DeepEqual(in, before) {
		t.Fatal("the annotated scenario shares memory with the input")
	}
}

func TestAnnotateSpecExampleWithChecks(t *testing.T) {
	out, err := Annotate(testscenarios.SpecExample(), Options{Checks: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Validate(); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, st := range out.Steps {
		if st.Kind().Info().Check && st.Pos != (scenario.Pos{Line: st.Pos.Line}) {
			t.Errorf("inserted check %s has a position beyond its line: %+v", st.Kind(), st.Pos)
		}
		kinds = append(kinds, st.Kind().String())
	}
	// After each action or time step: expect_budget, expect_ticks,
	// expect_running (no worker was named); none after a check step.
	want := "report_usage expect_budget expect_ticks expect_running " +
		"spawn expect_budget expect_ticks expect_running " +
		"advance expect_budget expect_ticks expect_running " +
		"expect_budget " +
		"advance expect_budget expect_ticks expect_running " +
		"expect_budget " +
		"shutdown expect_budget expect_ticks expect_running"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("steps:\n got  %s\n want %s", got, want)
	}
	// The scenario's own check at 10s is restated with the model's full
	// prediction.
	got := render(&out.Steps[17])
	if w := "b1: usage{tokens=0} next=20s breach=0 soft=0 last=null@null"; got != w {
		t.Errorf("restated check: got %s, want %s", got, w)
	}
	if got := render(&out.Steps[18]); got != "timed_out=0 @10s" {
		t.Errorf("shutdown: got %s", got)
	}
}

func TestAnnotateReplacesExpectations(t *testing.T) {
	in := sc(every(5*s, 0), []scenario.Budget{bud("b1", 10*s)}, report("b1", "", "tok", 900), spawn())
	in.Steps[0].Expect = &scenario.Expect{AnyOf: []scenario.Outcome{{Result: "ok"}}}
	in.Steps[1].Expect = &scenario.Expect{AnyOf: []scenario.Outcome{{Installed: ptr(false)}}}
	got := predicted(t, in, Options{})
	if got[0] != "soft_breach(tok,900,800) @0s" || got[1] != "installed=true @0s" {
		t.Errorf("got %q", got)
	}
}

func TestAnnotateDropsChecksItCannotState(t *testing.T) {
	// Whether the task is still running after a concurrent close and
	// shutdown race is open, so expect_running is dropped; expect_log is
	// kept as it is.
	in := sc(every(5*s, 0), []scenario.Budget{bud("b1", 5*s)}, slow(BR, 1, 3*s, BT), spawn(), adv(6*s), shutdown(2*s), runningN(),
		scenario.Step{ExpectLog: &scenario.LogExpect{Level: "warn", Contains: "x"}})
	out, err := Annotate(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Steps) != len(in.Steps) {
		t.Fatalf("expect_running 0 is certain here; got %d steps", len(out.Steps))
	}
	in2 := sc(every(5*s, 0), []scenario.Budget{bud("b1", 5*s)}, slow(BR, 1, 3*s, BT), spawn(), adv(6*s),
		together(shutdown(2*s), closeStep()), adv(2*s), ticksOf(BR))
	out2, err := Annotate(in2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := out2.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := render(&out2.Steps[5]); got != "count=1 processed=? errors=?" {
		t.Errorf("ticks after a possibly aborted tick: got %s", got)
	}
}

func TestAnnotateErrors(t *testing.T) {
	cases := []struct {
		name string
		sc   *scenario.Scenario
		want string
	}{
		{"invalid scenario", sc(every(0, 0), nil, report("nope", "", "tok", 1)), "invalid scenario"},
		{"advance_to the past", sc(every(0, 0), nil, adv(2*s), advTo(s)), "step 1 (advance_to, line 0): advance_to 1s is in the past"},
		{"set_next_reset without a policy row", sc(every(0, 0), []scenario.Budget{{ID: "n", Policy: scenario.PolicyNone}}, setNext("n", s)),
			"no policy row"},
		{"set_next_reset past the busy timeout", sc(every(0, 0), []scenario.Budget{bud("b", 0)}, hold(6*s), setNext("b", s)),
			"set_next_reset would fail with busy"},
		{"hold_write_lock past the busy timeout", sc(every(0, 0), nil, hold(6*s), hold(s)),
			"hold_write_lock would fail with busy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Annotate(c.sc, Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}

// BenchmarkAnnotateLongRun is an hour of 1s ticks of both reconcilers with
// a budget reset every second and a worker expiring.
func BenchmarkAnnotateLongRun(b *testing.B) {
	in := sc(every(s, s), []scenario.Budget{bud("b1", s), bud("b2", time.Minute)}, register("i1", "w", 90*s), spawn(),
		report("b1", "k", "tok", 5), adv(time.Hour), shutdown(s))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Annotate(in, Options{Checks: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLongRunIsEventDriven checks that the model moves from event to event:
// an hour of 1s ticks of both reconcilers is a few iterations per tick, not
// one per millisecond of simulated time. (How long it takes is
// BenchmarkAnnotateLongRun's business, not a test's.)
func TestLongRunIsEventDriven(t *testing.T) {
	// A millisecond past the hour: on the wasm host the last sweep may meet
	// the reset's transaction in flight and finish at its first poll.
	in := sc(every(s, s), []scenario.Budget{bud("b1", s)}, spawn(), adv(time.Hour+ms), ticksOf(BR), ticksOf(WS))
	got := predicted(t, in, Options{})
	if got[2] != "count=3600 processed=3600 errors=0" || got[3] != "count=3600 processed=0 errors=0" {
		t.Errorf("got %q", got)
	}
	_, a, err := annotate(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const ticks = 2 * 3600
	if a.iterations < ticks || a.iterations > 16*ticks {
		t.Errorf("%d iterations for %d ticks: want between one and 16 per tick", a.iterations, ticks)
	}
	t.Logf("an hour of 1s ticks of both reconcilers: %d iterations", a.iterations)
}
