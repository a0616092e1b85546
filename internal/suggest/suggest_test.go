package suggest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestHint(t *testing.T) {
	names := []string{"advance", "advance_to", "expect_budget", "shutdown", "warn", "ok", "spawn"}
	for _, tt := range []struct{ in, want string }{
		{"advnce", "advance"},
		{"spwan", "spawn"}, // a swap is one edit
		{"shtudown", "shutdown"},
		{"advance_too", "advance_to"},
		{"expect_budgets", "expect_budget"},
		{"shutdwn", "shutdown"},
		{"warning", "warn"},
		{"okay", "ok"},
		{"x", ""},
		{"frobnicate", ""},
		{"", ""},
	} {
		if got := Closest(tt.in, names); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The banded distance agrees with the full one wherever it is within the
// band, and says "more" otherwise.
func TestDistanceWithinAgreesWithDistance(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		n := r.IntN(12)
		var b strings.Builder
		for range n {
			b.WriteRune([]rune("abcé")[r.IntN(4)])
		}
		return b.String()
	}
	for range 5000 {
		a, b := word(), word()
		for k := 0; k <= 4; k++ {
			want := min(Distance(a, b), k+1)
			if got := distanceWithin(a, b, k); got != want {
				t.Fatalf("distanceWithin(%q, %q, %d) = %d, want %d", a, b, k, got, want)
			}
		}
	}
}

// A 100,000-character unknown name costs nothing: unbounded, comparing it
// with 256 candidates of the same length would fill 256 * 10^10 cells.
func TestHugeNameIsNotCompared(t *testing.T) {
	huge := strings.Repeat("a", 100_000)
	cands := make([]string, 256)
	for i := range cands {
		cands[i] = strings.Repeat("a", 100_000-1) + fmt.Sprint(i%10)
	}
	before := Cells()
	if got := Hint(huge, cands); got != "" {
		t.Errorf("Hint of a huge name = %q, want none", got)
	}
	if n := Cells() - before; n != 0 {
		t.Errorf("computed %d distance cells for a name over MaxLen, want 0", n)
	}
}

// One hint costs at most MaxCandidates banded comparisons of MaxLen-rune
// names, however many candidates there are.
func TestHintWorkIsBounded(t *testing.T) {
	cands := make([]string, 100_000)
	for i := range cands {
		cands[i] = fmt.Sprintf("%060d", i)
	}
	name := fmt.Sprintf("%059dx", 0)
	before := Cells()
	Hint(name, cands)
	n := Cells() - before
	if bound := int64(MaxCandidates * 7 * MaxLen); n > bound {
		t.Errorf("one hint computed %d cells, want at most %d", n, bound)
	}
	if n == 0 {
		t.Errorf("no work counted: the test measures nothing")
	}
}

// A Limiter stops hinting after its budget.
func TestLimiter(t *testing.T) {
	l := NewLimiter(2)
	names := []string{"advance"}
	for i, want := range []string{` (did you mean "advance"?)`, ` (did you mean "advance"?)`, "", ""} {
		if got := l.Hint("advnce", names); got != want {
			t.Errorf("hint %d = %q, want %q", i, got, want)
		}
	}
	var unlimited *Limiter
	if got := unlimited.Hint("advnce", names); got == "" {
		t.Errorf("a nil Limiter gave no hint")
	}
}
