package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/scenarios"
)

// ffsim runs the command line in process and returns its exit code,
// stdout and stderr.
func ffsim(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func libraryCount(t *testing.T) int {
	t.Helper()
	files, err := fs.Glob(scenarios.FS, "*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded library: %v files, %v", len(files), err)
	}
	return len(files)
}

const good = `name: cadence
supervisor: {budget_reset_interval: 5s}
budgets:
  - id: b1
    scope: {type: flow, id: f}
    enforcement_mode: strict
    on_hard_limit: fail
    on_soft_limit: warn
    reset_interval: 10s
    dimensions: {tokens: {hard: 100, soft: 80}}
steps:
  - report_usage: {budget: b1, usage: {tokens: 50}}
  - spawn: {}
  - advance: 10s
`

// writeScenario writes a scenario file into dir and returns its path.
func writeScenario(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunLibrary(t *testing.T) {
	code, out, errs := ffsim(t, "run")
	want := fmt.Sprintf("%d passed, 0 failed in ", libraryCount(t))
	if code != 0 || !strings.Contains(out, want) {
		t.Fatalf("exit %d, want 0 and %q at the end; stdout:\n%s\nstderr:\n%s", code, want, out, errs)
	}
}

// TestRunJSON: one result object per scenario, one per line, nothing else
// on stdout; two runs give the same digests.
func TestRunJSON(t *testing.T) {
	n := libraryCount(t)
	digests := func() []string {
		code, out, errs := ffsim(t, "run", "--json")
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, errs)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != n {
			t.Fatalf("%d stdout lines, want one per scenario (%d)", len(lines), n)
		}
		var ds []string
		for i, l := range lines {
			var r map[string]any
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("line %d is not a JSON object: %v: %s", i+1, err, l)
			}
			for _, k := range []string{"name", "file", "host", "seed", "status", "sim_duration_ns", "steps_run", "digest"} {
				if _, ok := r[k]; !ok {
					t.Errorf("line %d lacks %q", i+1, k)
				}
			}
			if r["status"] != "pass" {
				t.Errorf("line %d: status %v", i+1, r["status"])
			}
			if _, ok := r["trace"]; ok {
				t.Errorf("line %d carries the trace", i+1)
			}
			ds = append(ds, r["digest"].(string))
		}
		return ds
	}
	a, b := digests(), digests()
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("two runs of the library gave different digests:\n%v\n%v", a, b)
	}
}

func TestRunJSONFailure(t *testing.T) {
	dir := t.TempDir()
	p := writeScenario(t, dir, "wrong.yaml", good+"  - expect_budget: {b1: {usage: {tokens: 50}}}\n")
	code, out, _ := ffsim(t, "run", "--json", p)
	if code != exitFail {
		t.Fatalf("exit %d, want %d", code, exitFail)
	}
	var r struct {
		Status  string `json:"status"`
		Failure struct {
			Pos struct {
				File string `json:"file"`
				Line int    `json:"line"`
			} `json:"pos"`
			Step     string `json:"step"`
			Message  string `json:"message"`
			Expected string `json:"expected"`
			Actual   string `json:"actual"`
		} `json:"failure"`
		Replay string `json:"replay"`
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("stdout is not one line:\n%s", out)
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	f := r.Failure
	if r.Status != "fail" || f.Pos.File != p || f.Pos.Line != 15 || f.Step != "expect_budget" || f.Message == "" ||
		f.Expected != "b1: {usage: {tokens: 50}}" || f.Actual != "b1: {usage: {tokens: 0}}" {
		t.Errorf("failure %+v", r)
	}
	if want := fmt.Sprintf("ffsim replay %s --seed native:0", p); r.Replay != want {
		t.Errorf("replay %q, want %q", r.Replay, want)
	}
}

// A typo is refused before anything runs, with file:line:col and the
// source line with the column marked.
func TestTypoIsInvalid(t *testing.T) {
	p := writeScenario(t, t.TempDir(), "typo.yaml", good+"  - advnce: 5s\n")
	for _, cmd := range []string{"run", "validate"} {
		code, out, errs := ffsim(t, cmd, p)
		if code != exitInvalid {
			t.Errorf("%s: exit %d, want %d", cmd, code, exitInvalid)
		}
		for _, want := range []string{p + ":15:5: ", `unknown step "advnce"`, "  15 |   - advnce: 5s\n", "     |     ^"} {
			if !strings.Contains(errs, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", cmd, want, errs)
			}
		}
		if cmd == "run" && strings.Contains(out, "PASS") {
			t.Errorf("run ran something: %s", out)
		}
	}
}

// A wrong expectation fails the run (exit 1) and the report names the
// line, expected vs actual and the replay command.
func TestWrongExpectationFails(t *testing.T) {
	dir := t.TempDir()
	p := writeScenario(t, dir, "wrong.yaml", good+"  - expect_budget: {b1: {usage: {tokens: 50}}}\n")
	code, out, _ := ffsim(t, "run", p)
	if code != exitFail {
		t.Fatalf("exit %d, want %d:\n%s", code, exitFail, out)
	}
	for _, want := range []string{
		p + ":15 (expect_budget)",
		"expected: b1: {usage: {tokens: 50}}",
		"actual:   b1: {usage: {tokens: 0}}",
		"ffsim replay " + p + " --seed native:0",
		"0 passed, 1 failed in ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	// The replay command it prints reruns the failure.
	if code, _, _ := ffsim(t, "replay", p, "--seed", "0"); code != exitFail {
		t.Errorf("replay: exit %d, want %d", code, exitFail)
	}
}

func TestValidateLibrary(t *testing.T) {
	code, out, errs := ffsim(t, "validate")
	if want := fmt.Sprintf("%d valid\n", libraryCount(t)); code != 0 || !strings.HasSuffix(out, want) {
		t.Fatalf("exit %d, want 0 and %q; stdout:\n%s\nstderr:\n%s", code, want, out, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	p := writeScenario(t, t.TempDir(), "good.yaml", good)
	for _, args := range [][]string{
		{"run", "--no-such-flag"},
		{"bogus"},
		{"replay", p}, // no --seed
		{"replay"},
		{"run", "--host", "nowhere", p},
		{"run", filepath.Join(t.TempDir(), "missing.yaml")},
		{"explore", "--host", "native", p}, // no --seeds
		{"explore", "--host", "native", "--seeds", "2", "--shard", "3/2", p},
		{"schema", "extra"},
	} {
		code, out, errs := ffsim(t, args...)
		if code != exitInvalid {
			t.Errorf("%q: exit %d, want %d", args, code, exitInvalid)
		}
		if !strings.HasPrefix(errs, "ffsim: ") {
			t.Errorf("%q: stderr %q, want an ffsim: message", args, errs)
		}
		if out != "" {
			t.Errorf("%q: printed on stdout: %q", args, out)
		}
	}
}

func TestReplay(t *testing.T) {
	p := writeScenario(t, t.TempDir(), "good.yaml", good)
	code, out, errs := ffsim(t, "replay", p, "--seed", "42", "--json")
	if code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	var r struct{ Seed uint64 }
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Seed != 42 {
		t.Fatalf("replay ran seed %d (%v), want 42", r.Seed, err)
	}
}

type junitReport struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Cases []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, path string) junitReport {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r junitReport
	if err := xml.Unmarshal(data, &r); err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	return r
}

// --junit and --trace write files a CI server and Perfetto can read.
func TestJUnitAndTraceFiles(t *testing.T) {
	dir := t.TempDir()
	writeScenario(t, dir, "a_good.yaml", good)
	bad := writeScenario(t, dir, "b_wrong.yaml", strings.Replace(good, "name: cadence", "name: wrong", 1)+"  - expect_budget: {b1: {usage: {tokens: 50}}}\n")
	junit, trace := filepath.Join(dir, "report.xml"), filepath.Join(dir, "trace.json")
	code, out, _ := ffsim(t, "run", "--junit", junit, "--trace", trace, dir)
	if code != exitFail {
		t.Fatalf("exit %d, want %d:\n%s", code, exitFail, out)
	}
	r := readJUnit(t, junit)
	if r.Tests != 2 || r.Failures != 1 || len(r.Suites) != 1 || len(r.Suites[0].Cases) != 2 {
		t.Fatalf("JUnit %+v, want 2 tests, 1 failure", r)
	}
	f := r.Suites[0].Cases[1].Failure
	if f == nil || !strings.Contains(f.Message, bad+":15") || !strings.Contains(f.Text, "ffsim replay "+bad+" --seed native:0") {
		t.Errorf("failing case %+v, want the line and the replay command", r.Suites[0].Cases[1])
	}

	data, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		TraceEvents []map[string]any `json:"traceEvents"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.TraceEvents) == 0 {
		t.Fatalf("trace does not parse or is empty: %v", err)
	}
	pids := map[float64]bool{}
	for i, e := range doc.TraceEvents {
		if _, ok := e["ph"].(string); !ok {
			t.Fatalf("event %d has no ph: %v", i, e)
		}
		if _, ok := e["ts"].(float64); !ok {
			t.Fatalf("event %d has no ts: %v", i, e)
		}
		pids[e["pid"].(float64)] = true
	}
	if len(pids) != 2 {
		t.Errorf("%d processes in the trace, want one per run", len(pids))
	}

	// The library, with both reports.
	code, _, errs := ffsim(t, "run", "--junit", junit, "--trace", trace)
	if code != 0 {
		t.Fatalf("library: exit %d:\n%s", code, errs)
	}
	if r := readJUnit(t, junit); r.Tests != libraryCount(t) || r.Failures != 0 {
		t.Errorf("library JUnit: %d tests, %d failures; want %d, 0", r.Tests, r.Failures, libraryCount(t))
	}
}

// explore on the native host: a testcase per clean scenario and one per
// distinct failure (with its smallest seed), and the failure is listed with
// its replay command.
func TestExploreJUnit(t *testing.T) {
	dir := t.TempDir()
	writeScenario(t, dir, "a_good.yaml", good)
	bad := writeScenario(t, dir, "b_wrong.yaml", strings.Replace(good, "name: cadence", "name: wrong", 1)+"  - expect_budget: {b1: {usage: {tokens: 50}}}\n")
	junit := filepath.Join(dir, "report.xml")
	code, out, errs := ffsim(t, "explore", "--host", "native", "--seeds", "4", "--shard", "2/2", "--junit", junit, dir)
	if code != exitFail {
		t.Fatalf("exit %d, want %d:\n%s%s", code, exitFail, out, errs)
	}
	r := readJUnit(t, junit)
	if r.Tests != 2 || r.Failures != 1 {
		t.Fatalf("JUnit: %d tests, %d failures; want 2 (the clean scenario, the one distinct failure of seeds 2 and 4 of shard 2/2), 1", r.Tests, r.Failures)
	}
	var names []string
	for _, c := range r.Suites[0].Cases {
		names = append(names, c.Name)
	}
	if want := "cadence (2 seeds),wrong (2 failing seeds, smallest 2)"; strings.Join(names, ",") != want {
		t.Errorf("cases %s, want %s", strings.Join(names, ","), want)
	}
	if !strings.Contains(out, "2× "+bad+":15") || !strings.Contains(out, "ffsim replay "+bad+" --seed native:2") {
		t.Errorf("explore output lacks the replay command:\n%s", out)
	}
}

func TestSchemaOutput(t *testing.T) {
	want, err := harness.Schema()
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	code, out, _ := ffsim(t, "schema")
	if code != 0 || out != string(want) {
		t.Fatalf("schema: exit %d, output differs from harness.Schema()", code)
	}
	p := filepath.Join(t.TempDir(), "s.json")
	code, out, _ = ffsim(t, "schema", "-o", p)
	got, err := os.ReadFile(p)
	if code != 0 || out != "" || err != nil || !bytes.Equal(got, want) {
		t.Fatalf("schema -o: exit %d, stdout %q, file error %v, same = %v", code, out, err, bytes.Equal(got, want))
	}
}

// fakeClock is a progress clock the test moves by hand.
type fakeClock struct{ t time.Time }

func newFakeClock() *fakeClock           { return &fakeClock{t: time.Unix(1e9, 0)} }
func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }

var barRE = regexp.MustCompile(`\r\[(#*)(\.*)\] (\d+)/(\d+) runs, (\d+) failed`)

// Off a terminal: a plain line at most every 5s, nothing at finish.
func TestProgressPlainLines(t *testing.T) {
	var b bytes.Buffer
	c := newFakeClock()
	p := newProgressWith(&b, false, 10, c.now)
	p.done(false)
	c.add(4 * time.Second)
	p.done(true)
	if b.Len() != 0 {
		t.Fatalf("printed before 5s: %q", b.String())
	}
	c.add(time.Second)
	p.done(false)
	c.add(time.Second)
	p.done(false)
	c.add(5 * time.Second)
	p.done(false)
	p.finish()
	want := []string{
		"explore: 3/10 runs, 1 failed, 5s elapsed",
		"explore: 5/10 runs, 1 failed, 11s elapsed",
	}
	if got := b.String(); got != strings.Join(want, "\n")+"\n" {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	if strings.ContainsAny(b.String(), "\r\033") {
		t.Errorf("control characters off a terminal: %q", b.String())
	}
}

// On a terminal: a bar redrawn in place at most every 100ms (and at the
// last run), then a final line.
func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	c := newFakeClock()
	p := newProgressWith(&b, true, 4, c.now)
	p.done(false) // at 0: too soon
	c.add(50 * time.Millisecond)
	p.done(true) // at 50ms: too soon
	if b.Len() != 0 {
		t.Fatalf("drew before 100ms: %q", b.String())
	}
	c.add(50 * time.Millisecond)
	p.done(false) // at 100ms: drawn
	c.add(time.Millisecond)
	p.done(false) // the last run: drawn
	p.finish()
	out := b.String()
	if n := strings.Count(out, "\r["); n != 2 {
		t.Fatalf("%d bars drawn, want 2: %q", n, out)
	}
	m := barRE.FindAllStringSubmatch(out, -1)
	if len(m[0][1]) != barWidth*3/4 || len(m[0][1])+len(m[0][2]) != barWidth || m[0][3] != "3" || m[0][5] != "1" {
		t.Errorf("first bar %q, want 3/4 filled, 3 runs, 1 failed", m[0][0])
	}
	if len(m[1][1]) != barWidth || m[1][3] != "4" {
		t.Errorf("last bar %q, want full", m[1][0])
	}
	if want := "\r4/4 runs, 1 failed, 101ms\033[K\n"; !strings.HasSuffix(out, want) {
		t.Errorf("output %q does not end with the final line %q", out, want)
	}
}
