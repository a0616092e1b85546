package harness

import (
	"fmt"
	"io"
	"strings"

	"github.com/ffsim/ffsim/sim"
)

// WriteFailure writes the report of a failed run: where, expected vs actual,
// the seed and how to replay it, and the last tail trace events.
func WriteFailure(w io.Writer, res *sim.Result, tail int) {
	f := res.Failure
	if f == nil {
		return
	}
	if res.Status == sim.Error {
		fmt.Fprintf(w, "ERROR %s (%s): the %s host could not run it (this says nothing about the scenario)\n  %s\n",
			res.Name, res.File, res.Host, strings.ReplaceAll(f.Message, "\n", "\n  "))
		return
	}
	fmt.Fprintf(w, "FAIL %s (%s)\n", res.Name, res.File)
	where := f.Pos.String()
	if f.Step != "" {
		where += " (" + f.Step + ")"
	}
	fmt.Fprintf(w, "  at %s: %s\n", where, f.Message)
	if f.Expected != "" || f.Actual != "" {
		fmt.Fprintf(w, "    expected: %s\n", f.Expected)
		fmt.Fprintf(w, "    actual:   %s\n", f.Actual)
	}
	digest := res.Digest
	if len(digest) > 16 {
		digest = digest[:16]
	}
	fmt.Fprintf(w, "  seed %d on the %s host (trace digest %s); replay with:\n    %s\n", res.Seed, res.Host, digest, ReplayCommand(res))
	if tail > 0 && len(res.Trace) > 0 {
		from := max(0, len(res.Trace)-tail)
		fmt.Fprintf(w, "  last %d trace events:\n", len(res.Trace)-from)
		for _, e := range res.Trace[from:] {
			fmt.Fprintf(w, "    %s\n", FormatEvent(e))
		}
	}
}

// FormatEvent renders one trace event on one line.
func FormatEvent(e sim.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %-18s", e.T, e.Kind)
	add := func(k, v string) { fmt.Fprintf(&b, " %s=%s", k, v) }
	if e.Source != "" {
		add("src", e.Source)
	}
	if e.Step != "" {
		add("step", e.Step)
	}
	if e.Line != 0 {
		add("line", fmt.Sprint(e.Line))
	}
	if e.Tick != 0 {
		add("tick", fmt.Sprint(e.Tick))
	}
	if e.Budget != "" {
		add("budget", e.Budget)
	}
	if e.Report != nil {
		add("report", fmt.Sprintf("{processed: %d, errors: %d}", e.Report.Processed, e.Report.Errors))
	}
	if e.Count != nil {
		add("count", fmt.Sprint(*e.Count))
	}
	if e.OK != nil {
		add("ok", fmt.Sprint(*e.OK))
	}
	if e.Err != "" {
		add("err", fmt.Sprintf("%q", e.Err))
	}
	if e.Detail != "" {
		add("detail", fmt.Sprintf("%q", e.Detail))
	}
	return b.String()
}
