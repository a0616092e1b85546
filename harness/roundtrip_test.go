package harness_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/scenario"
)

// TestScenarioJSONRoundTrip: a scenario reaches the wasm guest as JSON, so
// encoding must keep everything a check depends on. The classic loss is
// omitempty on a slice or map where empty means "check that it is empty"
// and nil means "do not check": the guest would then skip the check
// silently.
func TestScenarioJSONRoundTrip(t *testing.T) {
	// The library only: "testdata" was also listed here, but a directory's
	// subdirectories are not searched, so it contributed nothing (an empty
	// directory argument is now an error).
	scs, err := harness.LoadPaths([]string{library})
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) < 40 {
		t.Fatalf("only %d scenarios loaded", len(scs))
	}
	for _, sc := range scs {
		data, err := json.Marshal(sc)
		if err != nil {
			t.Fatalf("%s: %v", sc.File, err)
		}
		var back scenario.Scenario
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("%s: %v", sc.File, err)
		}
		if d := cmp.Diff(sc, &back, ignoreKeyPositions); d != "" {
			t.Errorf("%s: JSON round trip lost something (-loaded +decoded):\n%s", sc.File, d)
		}
	}
}

// ignoreKeyPositions skips the XPos fields that locate one key for load
// errors: they serve the loader only and are not sent to the guest. Pos,
// which names the step in traces and failures, is compared.
var ignoreKeyPositions = cmp.FilterPath(func(p cmp.Path) bool {
	sf, ok := p.Last().(cmp.StructField)
	return ok && sf.Name() != "Pos" && strings.HasSuffix(sf.Name(), "Pos")
}, cmp.Ignore())
