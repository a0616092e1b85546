// Package suggest finds the candidate a misspelt name most likely meant, for
// "did you mean" hints in error messages.
package suggest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxLen bounds the names compared by edit distance: a hint is for a typo,
// and comparing a hostile 100,000-character name with every candidate would
// cost the square of that.
const maxLen = 64

// Hint returns ` (did you mean "x"?)` for the candidate closest to s within
// a small edit distance, or one s is a prefix of (or that is a prefix of
// s), or "" when nothing is close. Only the first 256 candidates are
// considered.
func Hint(s string, candidates []string) string {
	if c := Closest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// Closest returns the candidate s most likely meant, or "".
func Closest(s string, candidates []string) string {
	n := utf8.RuneCountInString(s)
	if n == 0 || n > maxLen {
		return ""
	}
	if len(candidates) > 256 {
		candidates = candidates[:256]
	}
	limit := max(1, min(3, n/3))
	best, bestDist := "", limit+1
	for _, c := range candidates {
		m := utf8.RuneCountInString(c)
		// The distance is at least the difference in length: skip what
		// cannot beat the best so far without computing it.
		if m > maxLen || abs(m-n) >= bestDist {
			continue
		}
		if d := Distance(s, c); d < bestDist {
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

// Distance is the Levenshtein distance between a and b, in runes.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
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
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
