package harness_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ffsim/ffsim/fuzz/gen"
	"github.com/ffsim/ffsim/fuzz/model"
	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/scenario"
)

// ignorePositions skips every position and the file name: a marshalled
// scenario is laid out anew.
var ignorePositions = cmp.Options{
	cmpopts.IgnoreTypes(scenario.Pos{}),
	cmpopts.IgnoreFields(scenario.Scenario{}, "File"),
}

// roundTrip marshals sc, loads the text back and reports any difference.
func roundTrip(t *testing.T, sc *scenario.Scenario) {
	t.Helper()
	data, err := harness.Marshal(sc)
	if err != nil {
		t.Fatalf("%s: Marshal: %v", sc.Name, err)
	}
	back, err := harness.LoadBytes("roundtrip.yaml", data)
	if err != nil {
		t.Fatalf("%s: the marshalled text does not load: %v\n%s", sc.Name, err, data)
	}
	if d := cmp.Diff(sc, back, ignorePositions); d != "" {
		t.Fatalf("%s: round trip changed the scenario (-before +after):\n%s\n%s", sc.Name, d, data)
	}
}

// TestMarshalRoundTripLibrary: every library and testdata scenario reads
// back as itself.
func TestMarshalRoundTripLibrary(t *testing.T) {
	scs, err := harness.LoadPaths([]string{library, "testdata/ok"})
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs {
		roundTrip(t, sc)
	}
}

// TestMarshalRoundTripGenerated: 1,000 generated scenarios read back as
// themselves, and so do a hundred of them carrying the model's
// expectations (every expect and check shape, any_of, nulls).
func TestMarshalRoundTripGenerated(t *testing.T) {
	for seed := range uint64(1000) {
		sc := gen.Generate(seed, gen.Options{})
		roundTrip(t, sc)
		if seed%10 == 0 {
			a, err := model.Annotate(sc, model.Options{Checks: true})
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, a)
		}
	}
}

// TestMarshalStrings: names that YAML would read as something else, and
// text with quotes, escapes, control characters and non-ASCII, are quoted
// so that they read back as themselves.
func TestMarshalStrings(t *testing.T) {
	odd := []string{"true", "null", "yes", "No", "~", "1", "0x10", "1e3", "-a", "a: b", "a #b", "a,b", "[a]", "{a}",
		"'q'", `"dq"`, `back\slash`, "é", "✓ done", " lead", "trail ", "*star", "&amp", "!bang", "%pct", "@at", "`tick`", "?q", "|bar", ">gt"}
	// Control characters are refused in names (they would forge report
	// lines) but are what a mark_worker_dead reason may test.
	reasons := append([]string{"tab\there", "line\nbreak", "bell\x07", "nul\x00", "del\x7f", "c1\u0085", "bidi\u202e"}, odd...)
	sc := &scenario.Scenario{Name: "strings", Description: "two\nlines", Budgets: []scenario.Budget{}}
	for i, s := range odd {
		id := "b" + s
		sc.Budgets = append(sc.Budgets, scenario.Budget{ID: id, Dimensions: map[string]scenario.Limits{s: {Hard: int64(i)}}})
		sc.Steps = append(sc.Steps, scenario.Step{ReportUsage: &scenario.ReportUsageStep{Budget: id, Usage: map[string]int64{s: 1}, DedupKey: s}})
	}
	for _, r := range reasons {
		sc.Steps = append(sc.Steps, scenario.Step{MarkWorkerDead: &scenario.MarkWorkerDeadStep{Instance: "i1", Reason: r}})
	}
	roundTrip(t, sc)
	if _, err := harness.Marshal(&scenario.Scenario{Name: "bad\xff"}); err == nil {
		t.Error("a name that is not UTF-8 was written")
	}
}

// TestFormatDuration: Go's zero units are left out.
func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", time.Millisecond: "1ms", 1500 * time.Millisecond: "1.5s", time.Minute: "1m", time.Hour: "1h",
		time.Hour + 10*time.Second: "1h10s", 90 * time.Minute: "1h30m", 61 * time.Second: "1m1s", 10*time.Hour + 500*time.Millisecond: "10h0.5s",
	} {
		if got := harness.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
