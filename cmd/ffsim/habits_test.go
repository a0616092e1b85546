package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var wrong = strings.Replace(good, "name: cadence", "name: wrong", 1) + "  - expect_budget: {b1: {usage: {tokens: 50}}}\n"

// Go test's habits: -run selects by name or file, -count repeats with the
// same digest, single-dash long flags work, a -run that matches nothing is
// an error rather than a silent pass.
func TestRunSelectAndCount(t *testing.T) {
	dir := t.TempDir()
	writeScenario(t, dir, "a.yaml", good)
	writeScenario(t, dir, "b.yaml", wrong)
	code, out, errs := ffsim(t, "run", "-run", "^cad", "-count", "3", dir)
	if code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	digests := regexp.MustCompile(`(?m)^PASS  cadence .* ([0-9a-f]{16})  `).FindAllStringSubmatch(out, -1)
	if len(digests) != 3 || digests[0][1] != digests[1][1] || digests[1][1] != digests[2][1] {
		t.Fatalf("want 3 runs of cadence with one digest:\n%s", out)
	}
	if strings.Contains(out, "wrong") {
		t.Errorf("-run ^cad ran wrong:\n%s", out)
	}
	if code, _, errs := ffsim(t, "run", "-run", "nothing-matches", dir); code != exitInvalid || !strings.Contains(errs, "matches none") {
		t.Errorf("-run matching nothing: exit %d, %q", code, errs)
	}
	if code, _, errs := ffsim(t, "run", "-count=0", dir); code != exitInvalid || !strings.Contains(errs, "-count") {
		t.Errorf("-count=0: exit %d, %q", code, errs)
	}
}

// -failfast stops starting runs after the first failure; --parallel
// prints results in the same order as a sequential run.
func TestRunFailfastAndParallel(t *testing.T) {
	dir := t.TempDir()
	writeScenario(t, dir, "a.yaml", wrong)
	writeScenario(t, dir, "b.yaml", good)
	code, out, _ := ffsim(t, "run", "-failfast", dir)
	if code != exitFail || strings.Contains(out, "PASS") || !strings.Contains(out, "-failfast: stopped after the first failure; 1 of 2 runs not started") {
		t.Fatalf("-failfast: exit %d:\n%s", code, out)
	}
	strip := regexp.MustCompile(`\d+(\.\d+)?(ms|µs|s)\n`)
	_, seq, _ := ffsim(t, "run", "-count", "4", dir)
	_, par, _ := ffsim(t, "run", "-count", "4", "--parallel", "3", dir)
	if strip.ReplaceAllString(seq, "") != strip.ReplaceAllString(par, "") {
		t.Errorf("--parallel changed the report:\n%s\nvs\n%s", seq, par)
	}
	_, _, errs := ffsim(t, "run", "--parallel", "100000", dir)
	if !strings.Contains(errs, "capped at") {
		t.Errorf("--parallel 100000 not capped: %q", errs)
	}
}

// A failure's identity is one token, host included: replay accepts it and
// picks the host from it; a contradicting --host is refused.
func TestSeedTokens(t *testing.T) {
	p := writeScenario(t, t.TempDir(), "good.yaml", good)
	code, out, errs := ffsim(t, "replay", p, "--seed", "native:42", "--json")
	var r struct {
		Seed uint64
		Host string
	}
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Seed != 42 || r.Host != "native" {
		t.Fatalf("replay --seed native:42: exit %d %+v %s%s", code, r, out, errs)
	}
	for _, args := range [][]string{
		{"replay", p, "--seed", "wasm:42", "--host", "native"},
		{"replay", p, "--seed", "moon:42"},
		{"replay", p, "--seed", "wasm:"},
		{"replay", p, "--seed", "-1"},
		{"replay", filepath.Dir(p), "--seed", "1"},
	} {
		if code, _, errs := ffsim(t, args...); code != exitInvalid || !strings.HasPrefix(errs, "ffsim: ") {
			t.Errorf("%q: exit %d, want %d; %q", args, code, exitInvalid, errs)
		}
	}
}

// An unknown flag names the command's --help.
func TestUnknownFlagHint(t *testing.T) {
	_, _, errs := ffsim(t, "explore", "--seedz", "3")
	if !strings.Contains(errs, "run 'ffsim explore --help' for usage") {
		t.Errorf("no usage hint: %q", errs)
	}
}

// A report file may not overwrite an input or another report; nothing is
// run and the input is left as it was.
func TestReportPathsRefused(t *testing.T) {
	dir := t.TempDir()
	p := writeScenario(t, dir, "good.yaml", good)
	other := filepath.Join(dir, "r.xml")
	for _, args := range [][]string{
		{"run", "--junit", p, p},
		{"run", "--trace", p, dir},
		{"run", "--junit", other, "--trace", other, p},
		{"explore", "--host", "native", "--seeds", "1", "--junit", p, p},
	} {
		code, out, errs := ffsim(t, args...)
		if code != exitInvalid || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	if b, _ := os.ReadFile(p); string(b) != good {
		t.Fatal("the scenario file was changed")
	}
	// A report that cannot be written is exit 2 and leaves nothing behind.
	missing := filepath.Join(dir, "no", "such", "dir", "r.xml")
	if code, _, errs := ffsim(t, "run", "--junit", missing, p); code != exitInvalid || !strings.Contains(errs, "--junit") {
		t.Errorf("unwritable --junit: exit %d, %q", code, errs)
	}
}

// failingWriter fails every write, as /dev/full does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// Results that cannot be written are exit 2, not a silent success.
func TestWriteErrorIsExit2(t *testing.T) {
	p := writeScenario(t, t.TempDir(), "good.yaml", good)
	var e bytes.Buffer
	if code := run([]string{"run", p}, failingWriter{}, &e); code != exitInvalid || !strings.Contains(e.String(), "no space left") {
		t.Fatalf("exit %d, stderr %q", code, e.String())
	}
}

// cancelOnWrite cancels a context at the first line written: a signal
// arriving while a command runs.
type cancelOnWrite struct {
	bytes.Buffer
	cancel context.CancelFunc
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	c.cancel()
	return c.Buffer.Write(p)
}

// An interrupted command reports what ran and exits 130.
func TestInterruptedIsExit130(t *testing.T) {
	dir := t.TempDir()
	writeScenario(t, dir, "a.yaml", good)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelOnWrite{cancel: cancel}
	var e bytes.Buffer
	code := runContext(ctx, []string{"run", "-count", "50", dir}, out, &e)
	if code != exitInterrupted || !strings.Contains(out.String(), "interrupted: ") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, out.String(), e.String())
	}
}

// explore groups failures: each distinct failure is printed once as found
// and summarised with its count and smallest seed; --json gives lines.
func TestExploreGroupsFailures(t *testing.T) {
	dir := t.TempDir()
	writeScenario(t, dir, "a.yaml", good)
	bad := writeScenario(t, dir, "b.yaml", wrong)
	code, out, _ := ffsim(t, "explore", "--host", "native", "--seeds", "5", "--first-seed", "10", "--parallel", "2", dir)
	if code != exitFail {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if n := strings.Count(out, "(new failure)"); n != 1 {
		t.Errorf("the one kind of failure printed %d times as new:\n%s", n, out)
	}
	for _, want := range []string{"1 distinct failure(s):", "5× " + bad + ":15", "smallest seed 10", "expected: b1: {usage: {tokens: 50}}"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = ffsim(t, "explore", "--host", "native", "--seeds", "5", "--json", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var last struct {
		Event    string
		Runs     int
		Failed   int
		Failures []struct{ Count int }
	}
	if code != exitFail || len(lines) != 6 || json.Unmarshal([]byte(lines[5]), &last) != nil ||
		last.Event != "summary" || last.Runs != 10 || last.Failed != 5 || len(last.Failures) != 1 || last.Failures[0].Count != 5 {
		t.Fatalf("--json: exit %d, %d lines, summary %+v:\n%s", code, len(lines), last, out)
	}
}

// explore makes its jobs lazily: a billion seeds stop at the first failure
// at once, without allocating them.
func TestExploreIsLazy(t *testing.T) {
	bad := writeScenario(t, t.TempDir(), "b.yaml", wrong)
	code, out, _ := ffsim(t, "explore", "--host", "native", "--seeds", "1000000000", "--failfast", "--parallel", "1", bad)
	if code != exitFail || !strings.Contains(out, "stopped after 1 failing runs") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestExploreSeedRange(t *testing.T) {
	p := writeScenario(t, t.TempDir(), "good.yaml", good)
	for _, args := range [][]string{
		{"--seeds", "5", "--shard", "9/10"},                      // the shard holds no seed
		{"--seeds", "2", "--first-seed", "18446744073709551615"}, // wraps past 2^64-1
		{"--seeds", "1", "--max-failures", "-1"},
	} {
		args = append([]string{"explore", "--host", "native", p}, args...)
		if code, _, errs := ffsim(t, args...); code != exitInvalid {
			t.Errorf("%q: exit %d, %q", args, code, errs)
		}
	}
	if code, _, _ := ffsim(t, "explore", "--host", "native", "--seeds", "1", "--first-seed", "18446744073709551615", p); code != 0 {
		t.Errorf("the largest seed itself: exit %d", code)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := ffsim(t, "version")
	for _, want := range []string{"ffsim ", "revision ", "go         go1.", "guest key  ", "cache      "} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d; version lacks %q:\n%s", code, want, out)
		}
	}
}

func TestCacheCommands(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", home)
	t.Setenv("HOME", home)
	dir := filepath.Join(home, "ffsim")
	if err := os.MkdirAll(filepath.Join(dir, "wazero", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wazero", "x", "m"), make([]byte, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := ffsim(t, "cache", "dir"); code != 0 || strings.TrimSpace(out) != dir {
		t.Fatalf("cache dir: exit %d, %q, want %q", code, out, dir)
	}
	if code, out, _ := ffsim(t, "cache", "clean"); code != 0 || !strings.Contains(out, "removed 3.1 MB") {
		t.Fatalf("cache clean: exit %d, %q", code, out)
	}
	if code, _, _ := ffsim(t, "cache", "prune", "--max-size", "-1"); code != exitInvalid {
		t.Errorf("prune --max-size -1: exit %d", code)
	}
}

// ffsim new writes a scenario that validates and runs, and never
// overwrites.
func TestNewScaffold(t *testing.T) {
	p := filepath.Join(t.TempDir(), "first_try")
	if code, _, errs := ffsim(t, "new", p); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if code, out, errs := ffsim(t, "run", p+".yaml"); code != 0 {
		t.Fatalf("the scaffold does not pass: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := ffsim(t, "new", p); code != exitInvalid || !strings.Contains(errs, "already exists") {
		t.Fatalf("second new: exit %d, %q", code, errs)
	}
}

// Colour only when asked for by a terminal; never escape codes in a pipe.
func TestNoColourWhenPiped(t *testing.T) {
	p := writeScenario(t, t.TempDir(), "good.yaml", good)
	_, out, _ := ffsim(t, "run", p)
	if strings.Contains(out, "\033[") {
		t.Errorf("escape codes in piped output: %q", out)
	}
	if s := (style{color: true}).status("pass"); s != colorGreen+"PASS "+colorReset {
		t.Errorf("coloured status %q", s)
	}
}

func TestValidateSummary(t *testing.T) {
	dir := t.TempDir()
	writeScenario(t, dir, "a.yaml", good+"  - advnce: 1s\n  - spwan: {}\n")
	writeScenario(t, dir, "b.yaml", good)
	code, _, errs := ffsim(t, "validate", dir)
	if code != exitInvalid || !strings.Contains(errs, "2 error(s) in 1 file(s); nothing was run") {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine("a\nFAIL injected"); got != `a\nFAIL injected` {
		t.Errorf("oneLine = %q", got)
	}
}

// fuzz: an interruption is exit 130 with what ran reported; a seed range
// past 2^64-1 is refused.
func TestFuzzInterruptedAndRange(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var o, e bytes.Buffer
	dir := t.TempDir()
	if code := runContext(ctx, []string{"fuzz", "--seeds", "100000", "--out", dir}, &o, &e); code != exitInterrupted || !strings.Contains(o.String(), "interrupted after") {
		t.Errorf("interrupted fuzz: exit %d\n%s%s", code, o.String(), e.String())
	}
	if code, _, errs := ffsim(t, "fuzz", "--first-seed", "18446744073709551615", "--seeds", "2"); code != exitInvalid {
		t.Errorf("fuzz past the largest seed: exit %d %s", code, errs)
	}
}
