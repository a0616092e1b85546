package fuzz

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
)

// Disagreement is where and how a run left the model's prediction.
type Disagreement struct {
	// Step is the index of the checked scenario's step at which the
	// failure showed: the step itself, or the step a failing check
	// follows; -1 when the run failed outside any step (its setup).
	Step int
	// Inner is the index of the failing step inside a concurrently, or -1.
	Inner int
	// Kind is the failing step's kind: the step's own (its expect, its
	// error, an invariant after it) or the check's (expect_budget, ...).
	Kind string
	// Class is the kind of mismatch: the fields that differ (for an
	// expect: "timed_out", "next_reset_at,usage", ...), "invariant: ..."
	// for a broken invariant, "failed" for a step that returned an error
	// no expect allowed, "run: ..." for a run that could not finish.
	Class string
	// Message, Expected and Actual are the run's report.
	Message, Expected, Actual string
}

// Signature is what "the same failure" means to the shrinker: the same
// kind of failing step and the same mismatch class. It leaves out which
// budget or worker, the values and the step's position, which shrinking
// changes.
func (d *Disagreement) Signature() string { return d.Kind + " / " + d.Class }

// String renders the disagreement on one line.
func (d *Disagreement) String() string {
	s := fmt.Sprintf("%s: %s", d.Kind, d.Message)
	if d.Expected != "" || d.Actual != "" {
		s += fmt.Sprintf(" (expected %s; actual %s)", d.Expected, d.Actual)
	}
	return s
}

// subjectKinds are the checks whose reports start with the subject's name
// ("b1: {...}").
var subjectKinds = []string{"expect_budget", "expect_ticks", "expect_workers"}

// classify turns a failed run into a disagreement.
func classify(a *scenario.Scenario, origin []int, res *sim.Result) *Disagreement {
	f := res.Failure
	d := &Disagreement{Step: -1, Inner: -1, Kind: "run"}
	if f == nil {
		d.Class, d.Message = "run: failed without a report", "failed without a report"
		return d
	}
	d.Message, d.Expected, d.Actual = f.Message, f.Expected, f.Actual
	idx := f.Pos.Line - 1
	if idx < 0 || idx >= len(a.Steps) {
		// Outside the steps (a run that could not finish, teardown):
		// blame the last step run.
		idx = res.StepsRun - 1
	}
	if idx >= 0 && idx < len(a.Steps) {
		d.Step = origin[idx]
		d.Kind = a.Steps[idx].Kind().String()
		if a.Steps[idx].Concurrently != nil && f.Pos.Col > 0 {
			d.Inner = f.Pos.Col - 1
		}
	}
	if f.Step != "" {
		d.Kind = f.Step
	}
	d.setClass(f)
	return d
}

// failureOf classifies a run's failure knowing only its report.
func failureOf(f *sim.Failure) *Disagreement {
	d := &Disagreement{Step: -1, Inner: -1, Kind: f.Step, Message: f.Message, Expected: f.Expected, Actual: f.Actual}
	if d.Kind == "" {
		d.Kind = "run"
	}
	d.setClass(f)
	return d
}

// setClass sets the mismatch class from the failure's message.
func (d *Disagreement) setClass(f *sim.Failure) {
	switch {
	case strings.HasPrefix(f.Message, "invariant violated"):
		d.Class = "invariant: " + invariantClass(f.Message)
	case strings.HasSuffix(f.Message, "expectation not met") || strings.Contains(f.Message, "unexpected outcome"):
		d.Class = fieldClass(d.Kind, f.Expected, f.Actual)
	case strings.Contains(f.Message, " failed: "):
		d.Class = "failed"
	default:
		d.Kind = "run"
		d.Class = "run: " + normalize(f.Message, 60)
	}
}

// invariantClass names the kinds of the invariants broken, without ids and
// numbers.
func invariantClass(msg string) string {
	_, list, _ := strings.Cut(msg, ": ")
	var kinds []string
	for _, p := range strings.Split(list, "; ") {
		if head, rest, ok := strings.Cut(p, ": "); ok && !strings.Contains(head, " ") {
			p = rest // "b1: partial reset: ..." names the budget first
		}
		p, _, _ = strings.Cut(p, ": ")
		kinds = append(kinds, normalize(p, 60))
	}
	slices.Sort(kinds)
	return strings.Join(slices.Compact(kinds), "; ")
}

// normalize replaces digit runs with N and cuts s to n bytes.
func normalize(s string, n int) string {
	var b strings.Builder
	digit := false
	for _, r := range s {
		if unicode.IsDigit(r) {
			if !digit {
				b.WriteByte('N')
			}
			digit = true
			continue
		}
		digit = false
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// fieldClass names the fields on which the actual value differs from the
// closest expected alternative (and an error or result the actual value
// has that the expectation does not mention), sorted and comma-joined.
func fieldClass(kind, expected, actual string) string {
	subject := slices.Contains(subjectKinds, kind)
	act := fields(actual, subject)
	best := ""
	first := true
	for _, alt := range splitTop(expected, " or ") {
		want := fields(alt, subject)
		var diff []string
		for k, v := range want {
			if act[k] != v {
				diff = append(diff, k)
			}
		}
		for _, k := range []string{"error", "result"} {
			if _, ok := want[k]; !ok && act[k] != "" {
				diff = append(diff, k)
			}
		}
		slices.Sort(diff)
		c := strings.Join(diff, ",")
		if first || len(c) < len(best) || (len(c) == len(best) && c < best) {
			best, first = c, false
		}
	}
	if best == "" {
		best = "value"
	}
	return best
}

// fields parses a rendered value ("{k: v, k2: {..}}", "name: {...}", "ok",
// "3") into its top-level fields; a bare element is "result".
func fields(s string, subject bool) map[string]string {
	s = strings.TrimSpace(s)
	if subject {
		if _, rest, ok := strings.Cut(s, ": "); ok {
			s = rest
		}
	}
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		s = s[1 : len(s)-1]
	}
	out := map[string]string{}
	for _, part := range splitTop(s, ", ") {
		if k, v, ok := strings.Cut(part, ": "); ok && !strings.ContainsAny(k, "{[") {
			out[k] = v
		} else if part != "" {
			out["result"] = part
		}
	}
	return out
}

// splitTop splits s on sep where it is not inside braces or brackets.
func splitTop(s, sep string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
		if depth == 0 && strings.HasPrefix(s[i:], sep) {
			out = append(out, s[start:i])
			start = i + len(sep)
			i += len(sep) - 1
		}
	}
	return append(out, s[start:])
}
