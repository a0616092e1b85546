package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestResetProblems(t *testing.T) {
	tests := []struct {
		name     string
		was, now map[string]int64
		want     string // a substring of the one problem, "" for none
	}{
		{"nothing moved", map[string]int64{"a": 5, "b": 5}, map[string]int64{"a": 5, "b": 5}, ""},
		{"all moved to one time", map[string]int64{"a": 0, "b": 5}, map[string]int64{"a": 9, "b": 9}, ""},
		{"new rows are not judged", map[string]int64{"a": 0}, map[string]int64{"a": 9, "b": 0}, ""},
		{"second reset at the same ms moves only new rows", map[string]int64{"a": 9, "b": 0}, map[string]int64{"a": 9, "b": 9}, ""},
		{"one moved, one left behind", map[string]int64{"a": 0, "b": 0}, map[string]int64{"a": 9, "b": 0}, "partial reset: rows [a] were reset, rows [b] were not"},
		{"moved to two times", map[string]int64{"a": 0, "b": 0}, map[string]int64{"a": 9, "b": 8}, "partial reset"},
		{"kept at an older reset time", map[string]int64{"a": 0, "b": 4}, map[string]int64{"a": 9, "b": 4}, "partial reset"},
		{"row deleted", map[string]int64{"a": 0, "b": 0}, map[string]int64{"a": 0}, "usage row b disappeared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resetProblems("b1", tt.was, tt.now)
			switch {
			case tt.want == "" && len(got) > 0:
				t.Fatalf("problems %q, want none", got)
			case tt.want != "" && !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, tt.want) }):
				t.Fatalf("problems %q, want one containing %q", got, tt.want)
			}
		})
	}
}

// Violations kept between two checks are bounded: the first maxViolations,
// then how many more.
func TestViolationsAreBounded(t *testing.T) {
	var tl tally
	tl.mu.Lock()
	for i := range 5 * maxViolations {
		tl.violate("v%d", i)
	}
	tl.mu.Unlock()
	v := tl.takeViolations()
	if len(v) != maxViolations+1 || v[0] != "v0" || v[len(v)-1] != fmt.Sprintf("and %d more", 4*maxViolations) {
		t.Errorf("%d violations kept, last %q", len(v), v[len(v)-1])
	}
	if v := tl.takeViolations(); len(v) != 0 {
		t.Errorf("taken twice: %v", v)
	}
}
