package harness

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ffsim/ffsim/internal/suggest"
	"github.com/ffsim/ffsim/scenario"

	"github.com/google/go-cmp/cmp"
)

// checkExcerpt checks that e.Source shows e's line (whose text is line,
// when given) followed by a caret under e.Col.
func checkExcerpt(t *testing.T, e *Error, line string) {
	t.Helper()
	rows := strings.Split(e.Source, "\n")
	if len(rows) < 2 {
		t.Errorf("%s: excerpt too short:\n%s", e.Msg, e.Source)
		return
	}
	src, caret := rows[len(rows)-2], rows[len(rows)-1]
	gutter := " " + strconv.Itoa(e.Line) + " | "
	i := strings.Index(src, gutter)
	if i < 0 {
		t.Errorf("%s: excerpt does not show line %d:\n%s", e.Msg, e.Line, e.Source)
		return
	}
	text := src[i+len(gutter):]
	if line != "" && text != line {
		t.Errorf("%s: excerpt shows %q, want %q", e.Msg, text, line)
	}
	j := strings.Index(caret, " | ")
	if j < 0 || !strings.HasSuffix(caret, "^") {
		t.Errorf("%s: no caret line in excerpt:\n%s", e.Msg, e.Source)
		return
	}
	pad := []rune(strings.TrimSuffix(caret[j+3:], "^"))
	if strings.TrimSpace(string(pad)) != "" || len(pad) != e.Col-1 {
		t.Errorf("%s: caret at column %d, want %d:\n%s", e.Msg, len(pad)+1, e.Col, e.Source)
	}
}

// budgetsOK declares b1 for the cases below.
const budgetsOK = `budgets:
  - id: b1
    scope: {type: flow, id: f}
    enforcement_mode: strict
    on_hard_limit: fail
    on_soft_limit: warn
    reset_interval: 10s
    dimensions: {tokens: {hard: 10}}
`

// TestErrors checks each class of error: its exact file:line:col: message
// and that the excerpt shows the line with the column marked. Each case's
// source is the name line, budgetsOK (lines 2-9) when withBudgets is set,
// and then src.
func TestErrors(t *testing.T) {
	tests := []struct {
		name        string
		withBudgets bool
		src         string
		want        string // first line of the error
		line        string // the offending source line
	}{
		// YAML itself.
		{name: "syntax", src: "steps: [advance: 1s\n", want: "t.yaml:2:8: sequence end token ']' not found", line: "steps: [advance: 1s"},
		{name: "duplicate key", src: "steps: []\nsteps: []\n", want: `t.yaml:3:1: mapping key "steps" already defined at [2:1]`, line: "steps: []"},
		{name: "second document", src: "steps: []\n---\nname: y\n", want: "t.yaml:4:1: a scenario file holds one YAML document; found 2", line: "name: y"},
		{name: "anchor", src: "steps: &s []\n", want: "t.yaml:2:8: YAML anchors are not supported in scenarios", line: "steps: &s []"},
		{name: "tag", src: "steps: !!seq []\n", want: "t.yaml:2:8: YAML tags (!!seq) are not supported in scenarios", line: "steps: !!seq []"},

		// Top level.
		{name: "unknown key", src: "steps: []\nsed: 1\n", want: `t.yaml:3:1: unknown key "sed" (did you mean "seed"?)`, line: "sed: 1"},
		{name: "unknown key lists keys", src: "steps: []\nsupervisor: {xyz: 1s}\n", want: `t.yaml:3:14: unknown key "xyz" (valid keys: budget_reset_interval, worker_registry_ttl_interval)`, line: "supervisor: {xyz: 1s}"},
		{name: "wrong type seed", src: "seed: seven\nsteps: []\n", want: "t.yaml:2:7: expected an integer, got string", line: "seed: seven"},
		{name: "negative seed", src: "seed: -1\nsteps: []\n", want: "t.yaml:2:7: seed must not be negative, got -1", line: "seed: -1"},
		{name: "wrong type steps", src: "steps: {advance: 1s}\n", want: "t.yaml:2:8: expected a list of steps, got mapping", line: "steps: {advance: 1s}"},
		{name: "wrong type description", src: "description: 12\nsteps: []\n", want: "t.yaml:2:14: expected a string, got integer (quote it)", line: "description: 12"},
		{name: "bad start", src: "start: 2026-01-01\nsteps: []\n", want: `t.yaml:2:8: invalid time "2026-01-01" (want RFC 3339 such as 2026-01-01T00:00:00Z)`, line: "start: 2026-01-01"},
		{name: "missing steps", src: "seed: 1\n", want: `t.yaml:1:1: missing required key "steps"`, line: "name: t"},

		// Durations and counts.
		{name: "malformed duration", src: "steps:\n  - advance: 5 s\n", want: `t.yaml:3:14: invalid duration "5 s" (want a Go duration such as "250ms", "5s" or "1h")`, line: "  - advance: 5 s"},
		{name: "unitless duration", src: "steps:\n  - advance: \"5\"\n", want: `t.yaml:3:14: invalid duration "5" (want a Go duration such as "250ms", "5s" or "1h")`, line: `  - advance: "5"`},
		{name: "integer duration", src: "steps:\n  - advance: 5\n", want: `t.yaml:3:14: expected a duration such as "5s", got integer`, line: "  - advance: 5"},
		{name: "negative duration", src: "supervisor: {budget_reset_interval: -5s}\nsteps: []\n", want: `t.yaml:2:37: negative duration "-5s"`, line: "supervisor: {budget_reset_interval: -5s}"},
		{name: "huge duration", src: "steps:\n  - advance_to: 9999999999h\n", want: `t.yaml:3:17: invalid duration "9999999999h": out of range`, line: "  - advance_to: 9999999999h"},
		{name: "bad offset", src: "steps:\n  - set_next_reset: {budget: b1, at: soon}\n", withBudgets: true, want: `t.yaml:11:38: invalid duration "soon" (want a Go duration such as "250ms", "5s" or "1h")`, line: "  - set_next_reset: {budget: b1, at: soon}"},
		{name: "null advance_to", src: "steps:\n  - advance_to: null\n", want: `t.yaml:3:17: expected a duration such as "5s", got null`, line: "  - advance_to: null"},
		{name: "negative count", src: "steps:\n  - expect_running: -1\n", want: "t.yaml:3:21: expect_running must not be negative, got -1", line: "  - expect_running: -1"},
		{name: "zero attempts", src: "steps:\n  - busy: {attempts: 0}\n", want: "t.yaml:3:22: attempts must be 1 or more, got 0", line: "  - busy: {attempts: 0}"},
		{name: "negative usage", withBudgets: true, src: "steps:\n  - report_usage: {budget: b1, usage: {tokens: -3}}\n", want: "t.yaml:11:48: tokens must not be negative, got -3", line: "  - report_usage: {budget: b1, usage: {tokens: -3}}"},
		{name: "negative limit", src: "budgets:\n  - {id: b, scope: {type: a, id: b}, enforcement_mode: s, on_hard_limit: f, on_soft_limit: w, reset_interval: 0s, dimensions: {t: {soft: -1}}}\nsteps: []\n",
			want: "t.yaml:3:138: soft must not be negative, got -1"},
		{name: "negative expected count", withBudgets: true, src: "steps:\n  - expect_budget: {b1: {breach_count: -1}}\n", want: "t.yaml:11:40: breach_count must not be negative, got -1"},

		// Budgets.
		{name: "sub-millisecond reset interval", src: "budgets:\n  - id: b1\n    reset_interval: 1500us\nsteps: []\n", want: `t.yaml:3:5: budget "b1": reset_interval 1.5ms is not a whole number of milliseconds`, line: "  - id: b1"},
		{name: "missing budget id", src: "budgets:\n  - reset_interval: 5s\nsteps: []\n", want: `t.yaml:3:5: missing required key "id"`, line: "  - reset_interval: 5s"},
		{name: "missing scope id", src: "budgets:\n  - id: b1\n    scope: {type: flow}\nsteps: []\n", want: `t.yaml:4:12: missing required key "id"`, line: "    scope: {type: flow}"},
		{name: "duplicate budget", withBudgets: true, src: "  - {id: b1, scope: {type: a, id: b}, enforcement_mode: s, on_hard_limit: f, on_soft_limit: w, reset_interval: 0s, dimensions: {}}\nsteps: []\n",
			want: `t.yaml:10:10: duplicate budget id "b1" (first declared at line 3)`},
		{name: "empty budget id", src: "budgets:\n  - {id: \"\", scope: {type: a, id: b}, enforcement_mode: s, on_hard_limit: f, on_soft_limit: w, reset_interval: 0s, dimensions: {}}\nsteps: []\n",
			want: "t.yaml:3:10: must not be empty"},
		{name: "unknown budget", withBudgets: true, src: "steps:\n  - reset_budget: {budget: b2}\n", want: `t.yaml:11:28: unknown budget "b2" (did you mean "b1"?); declare it under budgets: or create it in an earlier create_budget step`, line: "  - reset_budget: {budget: b2}"},
		{name: "unknown budget in expect_budget", src: "steps:\n  - expect_budget: {zz: {}}\n", want: `t.yaml:3:21: unknown budget "zz"; declare it under budgets: or create it in an earlier create_budget step`, line: "  - expect_budget: {zz: {}}"},
		{name: "budget created later", src: "steps:\n  - set_next_reset: {budget: b3, at: null}\n  - create_budget: {id: b3, scope: {type: a, id: b}, enforcement_mode: s, on_hard_limit: f, on_soft_limit: w, reset_interval: 0s, dimensions: {}}\n",
			want: `t.yaml:3:30: unknown budget "b3"; it is created only by a later create_budget step`},
		{name: "budget created concurrently", src: "steps:\n  - concurrently:\n    - create_budget: {id: b3, scope: {type: a, id: b}, enforcement_mode: s, on_hard_limit: f, on_soft_limit: w, reset_interval: 0s, dimensions: {}}\n    - report_usage: {budget: b3, usage: {}}\n",
			want: `t.yaml:5:30: unknown budget "b3"; it is created in the same concurrently step, in an order the seed decides`},

		// Steps.
		{name: "unknown step", src: "steps:\n  - advnce: 9s\n", want: `t.yaml:3:5: unknown step "advnce" (did you mean "advance"?)`, line: "  - advnce: 9s"},
		{name: "unknown step no suggestion", src: "steps:\n  - teleport: 9s\n", want: `t.yaml:3:5: unknown step "teleport"`, line: "  - teleport: 9s"},
		{name: "two actions", src: "steps:\n  - advance: 1s\n    spawn: {}\n", want: `t.yaml:4:5: step has 2 actions ("advance", "spawn"); write one action per step`, line: "    spawn: {}"},
		{name: "no action", src: "steps:\n  - expect: ok\n", want: "t.yaml:3:5: step has no action; want one of: " + strings.Join(scenario.Names(), ", "), line: "  - expect: ok"},
		{name: "empty step", src: "steps:\n  - {}\n", want: "t.yaml:3:5: step has no action; want one of: " + strings.Join(scenario.Names(), ", "), line: "  - {}"},
		{name: "step not a mapping", src: "steps:\n  - close\n", want: `t.yaml:3:5: expected a step (a mapping with one action key, such as "advance: 1s"), got string`, line: "  - close"},
		{name: "null argument", src: "steps:\n  - close:\n", want: "t.yaml:3:12: expected a mapping, got null (write {} for an empty mapping)", line: "  - close:"},
		{name: "close takes no keys", src: "steps:\n  - close: {now: true}\n", want: `t.yaml:3:13: unknown key "now" (this mapping takes no keys)`, line: "  - close: {now: true}"},
		{name: "empty concurrently", src: "steps:\n  - concurrently: []\n", want: "t.yaml:3:19: concurrently needs at least one step", line: "  - concurrently: []"},
		{name: "nested concurrently", src: "steps:\n  - concurrently:\n      - concurrently: [{close: {}}]\n", want: "t.yaml:4:9: concurrently cannot run inside concurrently: only actions can, not time steps, checks or concurrently", line: "      - concurrently: [{close: {}}]"},
		{name: "advance inside concurrently", src: "steps:\n  - concurrently: [{close: {}}, {advance: 1s}]\n", want: "t.yaml:3:34: advance cannot run inside concurrently: only actions can, not time steps, checks or concurrently"},
		{name: "check inside concurrently", src: "steps:\n  - concurrently:\n      - expect_running: 0\n", want: "t.yaml:4:9: expect_running cannot run inside concurrently: only actions can, not time steps, checks or concurrently"},
		{name: "bad where", src: "steps:\n  - slow_tick: {reconciler: budget_reset, tick: 1, duration: 1s, where: inside}\n", want: `t.yaml:3:73: unknown where "inside" (did you mean "inside_tx"?)`},
		{name: "bad reconciler", src: "steps:\n  - tick_error: {reconciler: budget_rest, tick: 1}\n", want: `t.yaml:3:30: unknown reconciler "budget_rest" (did you mean "budget_reset"?)`},
		{name: "bad ticks reconciler", src: "steps:\n  - expect_ticks: {scanner: {count: 1}}\n", want: `t.yaml:3:20: unknown reconciler "scanner" (want budget_reset or worker_registry_ttl_sweep)`},
		{name: "bad level", src: "steps:\n  - expect_log: {level: warning, contains: x}\n", want: `t.yaml:3:25: unknown log level "warning" (did you mean "warn"?)`},

		// Expectations.
		{name: "expect not allowed", src: "steps:\n  - advance: 1s\n    expect: ok\n", want: `t.yaml:4:5: step "advance" takes no expect`, line: "    expect: ok"},
		{name: "expect on concurrently", src: "steps:\n  - concurrently: [{close: {}}]\n    expect: ok\n", want: "t.yaml:4:5: concurrently takes no expect; put expectations on the steps inside it", line: "    expect: ok"},
		{name: "expect wrong shape scalar", src: "steps:\n  - spawn: {}\n    expect: ok\n", want: "t.yaml:4:13: expected a mapping, got string", line: "    expect: ok"},
		{name: "expect wrong shape mapping", withBudgets: true, src: "steps:\n  - create_budget: {id: b1, scope: {type: a, id: b}, enforcement_mode: s, on_hard_limit: f, on_soft_limit: w, reset_interval: 0s, dimensions: {}}\n    expect: {created: true}\n",
			want: `t.yaml:12:14: unknown key "created" (valid keys: result, returned_at, error)`, line: "    expect: {created: true}"},
		{name: "expect unknown outcome", withBudgets: true, src: "steps:\n  - report_usage: {budget: b1, usage: {}}\n    expect: okay\n", want: `t.yaml:12:13: unknown report_usage outcome "okay" (did you mean "ok"?)`},
		{name: "expect missing key", src: "steps:\n  - shutdown: {grace: 1s}\n    expect: {}\n", want: `t.yaml:4:13: missing required key "timed_out"`},
		{name: "any_of empty", src: "steps:\n  - spawn: {}\n    expect: {any_of: []}\n", want: "t.yaml:4:22: any_of needs at least one alternative"},
		{name: "any_of not a list", src: "steps:\n  - spawn: {}\n    expect: {any_of: {installed: true}}\n", want: "t.yaml:4:22: any_of must be a list of alternatives, got mapping"},
		{name: "any_of mixed", src: "steps:\n  - spawn: {}\n    expect: {installed: true, any_of: [{installed: true}]}\n", want: `t.yaml:4:14: any_of cannot be combined with other keys ("installed")`},
		{name: "any_of nested", src: "steps:\n  - spawn: {}\n    expect: {any_of: [{any_of: [{installed: true}]}]}\n", want: "t.yaml:4:24: any_of cannot be nested"},
		{name: "any_of alternative wrong shape", src: "steps:\n  - spawn: {}\n    expect: {any_of: [{timed_out: 1}]}\n", want: `t.yaml:4:23: missing required key "installed"`},
		{name: "budget any_of empty", withBudgets: true, src: "steps:\n  - expect_budget: {b1: {any_of: []}}\n", want: "t.yaml:11:34: any_of needs at least one alternative"},
		{name: "budget state unknown field", withBudgets: true, src: "steps:\n  - expect_budget: {b1: {usge: {}}}\n", want: `t.yaml:11:26: unknown key "usge" (did you mean "usage"?)`},
		{name: "last_breach_dim type", withBudgets: true, src: "steps:\n  - expect_budget: {b1: {last_breach_dim: 3}}\n", want: "t.yaml:11:43: expected a string or null, got integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "name: t\n"
			if tt.withBudgets {
				src += budgetsOK
			}
			src += tt.src
			sc, err := LoadBytes("t.yaml", []byte(src))
			if err == nil {
				t.Fatalf("no error; loaded %+v", sc)
			}
			if sc != nil {
				t.Errorf("scenario returned with an error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			if got := strings.SplitN(err.Error(), "\n", 2)[0]; got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !strings.HasPrefix(e.Error(), e.File+":"+strconv.Itoa(e.Line)+":"+strconv.Itoa(e.Col)+": "+e.Msg+"\n") {
				t.Errorf("Error() does not start with file:line:col: msg and a newline: %q", e.Error())
			}
			want := tt.line
			if want == "" {
				want = strings.Split(src, "\n")[e.Line-1]
			}
			checkExcerpt(t, e, want)
		})
	}
}

func TestEmptyFile(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "---\n"} {
		_, err := LoadBytes("e.yaml", []byte(src))
		if err == nil || !strings.HasPrefix(err.Error(), "e.yaml:1:1: empty scenario") {
			t.Errorf("LoadBytes(%q): %v", src, err)
		}
	}
	_, err := LoadBytes("e.yaml", []byte("- a\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "e.yaml:1:1: expected a mapping, got list") {
		t.Errorf("top-level list: %v", err)
	}
	_, err = LoadBytes("e.yaml", []byte("steps: []\n"))
	if err == nil || !strings.HasPrefix(err.Error(), `e.yaml:1:1: missing required key "name"`) {
		t.Errorf("missing name: %v", err)
	}
}

// TestAllErrorsCollected checks a file with several problems reports each
// of them, in position order, as Errors.
func TestAllErrorsCollected(t *testing.T) {
	src := `name: many
steps:
  - advnce: 1s
  - advance: -1s
  - spawn: {}
    expect: {installed: maybe}
  - reset_budget: {budget: nope}
  - shutdown: {grace: 1s}
    expect: {any_of: []}
`
	_, err := LoadBytes("m.yaml", []byte(src))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %T %v, want Errors", err, err)
	}
	var got []string
	for _, e := range es {
		got = append(got, strings.SplitN(e.Error(), "\n", 2)[0])
		checkExcerpt(t, e, strings.Split(src, "\n")[e.Line-1])
	}
	want := []string{
		`m.yaml:3:5: unknown step "advnce" (did you mean "advance"?)`,
		`m.yaml:4:14: negative duration "-1s"`,
		`m.yaml:6:25: expected a boolean (true or false), got string`,
		`m.yaml:7:28: unknown budget "nope"; declare it under budgets: or create it in an earlier create_budget step`,
		`m.yaml:9:22: any_of needs at least one alternative`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if !strings.Contains(err.Error(), want[0]+"\n") || !strings.Contains(err.Error(), "\n"+want[4]+"\n") {
		t.Errorf("Errors.Error() does not list every error:\n%s", err)
	}
}

var wantComment = regexp.MustCompile(`(?m)^# want: (\d+:\d+: .*)$`)

// TestBadFiles loads each file under testdata/bad and checks its errors
// are exactly those its "# want: line:col: message" comments name.
func TestBadFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, m := range wantComment.FindAllStringSubmatch(string(data), -1) {
				want = append(want, file+":"+m[1])
			}
			if len(want) == 0 {
				t.Fatalf("%s has no # want: comment", file)
			}
			_, err = Load(file)
			if err == nil {
				t.Fatalf("Load(%s): no error", file)
			}
			var es []*Error
			var e *Error
			var list Errors
			switch {
			case errors.As(err, &list):
				es = list
			case errors.As(err, &e):
				es = []*Error{e}
			default:
				t.Fatalf("error %T is neither Errors nor *Error", err)
			}
			var got []string
			lines := strings.Split(string(data), "\n")
			for _, e := range es {
				got = append(got, e.File+":"+strconv.Itoa(e.Line)+":"+strconv.Itoa(e.Col)+": "+e.Msg)
				checkExcerpt(t, e, lines[e.Line-1])
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSuggestion(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"advnce", ` (did you mean "advance"?)`},
		{"advance_too", ` (did you mean "advance_to"?)`},
		{"expect_budgets", ` (did you mean "expect_budget"?)`},
		{"shutdwn", ` (did you mean "shutdown"?)`},
		{"x", ""},
		{"frobnicate", ""},
	} {
		if got := suggest.Hint(tt.in, scenario.Names()); got != tt.want {
			t.Errorf("suggestion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExcerptTabsAndEOF(t *testing.T) {
	lines := []string{"a:", "\tb: 1"}
	got := excerpt(lines, 2, 3)
	want := "   1 | a:\n   2 | \tb: 1\n     | \t ^"
	if got != want {
		t.Errorf("excerpt with a tab:\n%q\nwant\n%q", got, want)
	}
	if got := excerpt(lines, 9, 1); !strings.HasSuffix(got, "     | \t    ^") {
		t.Errorf("excerpt past EOF: %q", got)
	}
}
