package harness_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/sim"
)

// wantNegative is a negative control's header: "# want: fail LINE" (the run
// fails at that line) or "# want: invalid LINE:COL" (loading refuses the
// file there; the column may be left out).
var wantNegative = regexp.MustCompile(`(?m)^# want: (fail|invalid) (\d+)(?::(\d*))?$`)

// TestNegativeControls: every file under testdata/negative is a scenario
// with a false expectation or an error, and must fail exactly where its
// header says. A control that passes means ffsim stopped checking
// something.
func TestNegativeControls(t *testing.T) {
	files, err := filepath.Glob("testdata/negative/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no negative controls: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			m := wantNegative.FindStringSubmatch(string(data))
			if m == nil {
				t.Fatalf("%s has no '# want: fail LINE' or '# want: invalid LINE:COL' header", file)
			}
			line, _ := strconv.Atoi(m[2])
			sc, err := harness.Load(file)
			if m[1] == "invalid" {
				want := file + ":" + m[2] + ":" + m[3]
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("Load = %v, want an error at %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			res := sim.Native().Run(context.Background(), sc, sim.Options{})
			if res.Status != sim.Fail || res.Failure == nil || res.Failure.Pos.Line != line {
				t.Fatalf("run: status %s, failure %+v; want a failure at line %d", res.Status, res.Failure, line)
			}
		})
	}
}
