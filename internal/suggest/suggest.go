// Package suggest finds the candidate a misspelt name most likely meant, for
// "did you mean" hints in error messages.
//
// The work is bounded whatever the input: names longer than [MaxLen] runes
// get no hint, at most [MaxCandidates] candidates are looked at, only
// candidates whose length is within the distance limit of the name's are
// compared, and the comparison is a banded edit distance that stops at
// the limit. One hint therefore costs at most a few hundred thousand
// steps; a [Limiter] also bounds how many hints one file or one validation
// computes, so that a file with thousands of unknown names stays fast.
package suggest

import (
	"fmt"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// MaxLen bounds the names compared by edit distance: a hint is for a typo,
// and comparing a hostile 100,000-character name with every candidate would
// cost the square of that.
const MaxLen = 64

// MaxCandidates bounds the candidates looked at for one hint: only the
// first MaxCandidates are considered.
const MaxCandidates = 256

// cells counts the edit-distance cells computed, for tests that bound the
// work.
var cells atomic.Int64

// Cells returns the number of edit-distance cells computed so far by this
// process. Tests use it to check that the work done is bounded.
func Cells() int64 { return cells.Load() }

// Hint returns ` (did you mean "x"?)` for the candidate closest to s within
// a small edit distance, or one s is a prefix of (or that is a prefix of
// s), or "" when nothing is close.
func Hint(s string, candidates []string) string {
	if c := Closest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// Closest returns the candidate s most likely meant, or "".
func Closest(s string, candidates []string) string {
	// A name longer than MaxLen runes has more than MaxLen bytes: a cheap
	// test first, so a huge name is not even counted.
	if s == "" || (len(s) > utf8.UTFMax*MaxLen) {
		return ""
	}
	n := utf8.RuneCountInString(s)
	if n > MaxLen {
		return ""
	}
	if len(candidates) > MaxCandidates {
		candidates = candidates[:MaxCandidates]
	}
	limit := max(1, min(3, n/3))
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if len(c) > utf8.UTFMax*MaxLen {
			continue
		}
		m := utf8.RuneCountInString(c)
		// The distance is at least the difference in length: skip what
		// cannot beat the best so far without computing it.
		if m > MaxLen || abs(m-n) >= bestDist {
			continue
		}
		if d := distanceWithin(s, c, bestDist-1); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best != "" {
		return best
	}
	// "warning" for "warn", "okay" for "ok": a candidate that begins the
	// word (or that the word begins) is likely meant.
	for _, c := range candidates {
		if len(c) >= 2 && len(s) >= 2 && (strings.HasPrefix(s, c) || strings.HasPrefix(c, s)) {
			return c
		}
	}
	return ""
}

// Distance is the edit distance between a and b, in runes: insertions,
// deletions, substitutions and swaps of two adjacent runes (optimal string
// alignment). It costs len(a)*len(b): callers with untrusted input use
// [Closest].
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	cells.Add(int64(len(ra) * len(rb)))
	return prev[len(rb)]
}

// distanceWithin is the edit distance between a and b when it is at most
// k, and k+1 otherwise: Levenshtein's, with the swap of two adjacent runes
// counting as one edit (optimal string alignment), since "spwan" for
// "spawn" is the commonest typo of all. It fills only the band of cells
// within k of the diagonal (Ukkonen), so it costs about (2k+1)*len(a).
func distanceWithin(a, b string, k int) int {
	ra, rb := []rune(a), []rune(b)
	if abs(len(ra)-len(rb)) > k {
		return k + 1
	}
	inf := k + 1
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = min(j, inf)
	}
	var work int64
	prevMin := 0
	for i := 1; i <= len(ra); i++ {
		lo, hi := max(1, i-k), min(len(rb), i+k)
		for j := range cur {
			cur[j] = inf
		}
		if i <= k {
			cur[0] = i
		}
		rowMin := cur[0]
		for j := lo; j <= hi; j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost, inf)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		work += int64(hi - lo + 1)
		// A swap reaches two rows down, so both rows must be out of reach.
		if rowMin > k && prevMin > k {
			cells.Add(work)
			return inf
		}
		prevMin = rowMin
		prev2, prev, cur = prev, cur, prev2
	}
	cells.Add(work)
	return prev[len(rb)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// DefaultHints is how many hints a [Limiter] from [NewLimiter] computes:
// far more than an error list shows.
const DefaultHints = 200

// A Limiter computes at most a fixed number of hints, then returns "" for
// every other name: one per file or per validation keeps a file with
// thousands of unknown names from costing thousands of hints. The zero
// value computes none; a nil *Limiter computes every hint.
type Limiter struct {
	left atomic.Int64
}

// NewLimiter returns a Limiter that computes at most n hints.
func NewLimiter(n int) *Limiter {
	l := &Limiter{}
	l.left.Store(int64(n))
	return l
}

// Exhausted reports whether the limiter has no hint left, so a caller can
// skip gathering candidates.
func (l *Limiter) Exhausted() bool { return l != nil && l.left.Load() <= 0 }

// Hint is [Hint], while the limiter has hints left.
func (l *Limiter) Hint(s string, candidates []string) string {
	if l != nil && l.left.Add(-1) < 0 {
		return ""
	}
	return Hint(s, candidates)
}

// Quote quotes a name for an error message as %q does, cut to its first
// MaxLen runes (marked "…") so that a hostile 100,000-character name does
// not make every message that echoes it as long.
func Quote(s string) string {
	if utf8.RuneCountInString(s) <= MaxLen {
		return fmt.Sprintf("%q", s)
	}
	r := []rune(s)
	return fmt.Sprintf("%q…", string(r[:MaxLen]))
}
