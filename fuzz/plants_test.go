package fuzz_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/sim"
)

// plant is the planted bug TestPlantedBugIsCaught applies: one the
// scenario library misses (see fuzz/plants/RESULTS.md).
const plant = "plants/04-shutdown-zero-counts-live.patch"

// TestPlantedBugIsCaught applies a planted bug to a copy of the module
// (the working tree is never touched), builds ffsim there and fuzzes it:
// the fuzzer must find the bug, shrink it to at most 10 steps, and the
// shrunk file must fail with the bug and pass without it (here, in this
// process, on the unmodified tree). It builds a binary, so it runs only
// with FFSIM_PLANTS=1 (fuzz/plants/run.sh measures every plant).
func TestPlantedBugIsCaught(t *testing.T) {
	if os.Getenv("FFSIM_PLANTS") != "1" || testing.Short() {
		t.Skip("builds a patched ffsim: set FFSIM_PLANTS=1")
	}
	for _, tool := range []string{"go", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
	tree := t.TempDir()
	copyTree(t, "..", tree)
	patch, err := filepath.Abs(plant)
	if err != nil {
		t.Fatal(err)
	}
	command(t, tree, "git", "apply", patch)
	bin := filepath.Join(t.TempDir(), "ffsim")
	command(t, tree, "go", "build", "-o", bin, "./cmd/ffsim")

	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(bin, "fuzz", "--seeds", "300", "--max-failures", "1", "--json", "--out", out)
	cmd.Dir = tree
	stdout, _ := cmd.Output() // exit 1: a failure was found
	var failure struct {
		Seed   uint64 `json:"seed"`
		Status string `json:"status"`
		File   string `json:"shrunk_file"`
		Steps  int    `json:"shrunk_steps"`
	}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"status":"fail"`) {
			if err := json.Unmarshal(sc.Bytes(), &failure); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if failure.File == "" {
		t.Fatalf("the planted bug was not found in 300 seeds:\n%s", stdout)
	}
	if failure.Steps > 10 {
		t.Errorf("shrunk to %d steps, want at most 10", failure.Steps)
	}
	// With the bug: the shrunk file fails.
	run := exec.Command(bin, "run", failure.File)
	run.Dir = tree
	if b, err := run.CombinedOutput(); err == nil {
		t.Errorf("the shrunk file passes with the bug:\n%s", b)
	}
	// Without it: it passes (this test runs on the unmodified tree).
	loaded, err := harness.Load(failure.File)
	if err != nil {
		t.Fatal(err)
	}
	if res := sim.Native().Run(context.Background(), loaded, sim.Options{}); res.Status != sim.Pass {
		text, _ := os.ReadFile(failure.File)
		t.Errorf("the shrunk file fails on the unmodified tree: %+v\n%s", res.Failure, text)
	}
}

// copyTree copies the module at src to dst, leaving out version control,
// fuzz output and test binaries.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "ffsim-fuzz") {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() || strings.HasSuffix(d.Name(), ".test") {
			return nil
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		o, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(o, in); err != nil {
			o.Close()
			return err
		}
		return o.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func command(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
	}
}

// Every planted bug still applies to the tree: a plant that no longer
// applies would silently drop out of fuzz/plants/run.sh's measurement.
func TestPlantsStillApply(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	patches, err := filepath.Glob("plants/*.patch")
	if err != nil || len(patches) < 20 {
		t.Fatalf("%d planted bugs (%v), want at least 20", len(patches), err)
	}
	for _, p := range patches {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("git", "apply", "--check", abs)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s no longer applies: %v\n%s", p, err, out)
		}
	}
}
