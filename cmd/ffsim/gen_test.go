package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ffsim/ffsim/harness"
)

// TestGenPrintsValidScenario: ffsim gen --seed N prints a scenario that
// ffsim validate accepts, the same one every time.
func TestGenPrintsValidScenario(t *testing.T) {
	code, out, errs := ffsim(t, "gen", "--seed", "42")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.HasPrefix(out, "# yaml-language-server: $schema=") || !strings.Contains(out, "name: gen seed 42\n") {
		t.Errorf("output:\n%s", out)
	}
	if _, again, _ := ffsim(t, "gen", "--seed", "42"); again != out {
		t.Error("two runs print different scenarios")
	}
	path := writeScenario(t, t.TempDir(), "gen.yaml", out)
	if code, vout, verr := ffsim(t, "validate", path); code != 0 {
		t.Fatalf("validate: exit %d\n%s%s", code, vout, verr)
	}
}

// TestGenAnnotatePasses: with --annotate, the scenario carries the model's
// expectations and passes on this (unmodified) tree.
func TestGenAnnotatePasses(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"--annotate"}, {"--annotate", "--native"}} {
		code, out, errs := ffsim(t, append([]string{"gen", "--seed", "7"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		if !strings.Contains(out, "expect") {
			t.Fatalf("%v: no expectations:\n%s", args, out)
		}
		path := filepath.Join(dir, "a.yaml")
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := harness.Load(path); err != nil {
			t.Fatal(err)
		}
		if code, rout, rerr := ffsim(t, "run", path); code != 0 {
			t.Fatalf("%v: run: exit %d\n%s%s", args, code, rout, rerr)
		}
	}
}

// TestGenUsage: gen needs --seed; --native needs --annotate.
func TestGenUsage(t *testing.T) {
	for _, args := range [][]string{{"gen"}, {"gen", "--seed", "1", "--native"}, {"gen", "--seed", "x"}, {"gen", "--seed", "1", "extra"}} {
		if code, _, _ := ffsim(t, args...); code != exitInvalid {
			t.Errorf("%v: exit %d, want %d", args, code, exitInvalid)
		}
	}
}
