package harness

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ffsim/ffsim/sim"
)

// The replay command is safe to paste or pipe to sh whatever the file is
// called: every argument is quoted, and the seed names its host.
func TestReplayCommandIsShellSafe(t *testing.T) {
	for file, want := range map[string]string{
		"scenarios/x.yaml":     "ffsim replay scenarios/x.yaml --seed wasm:4001",
		"my dir/x.yaml":        "ffsim replay 'my dir/x.yaml' --seed wasm:4001",
		"x;touch PWNED;#.yaml": "ffsim replay 'x;touch PWNED;#.yaml' --seed wasm:4001",
		"it's $(here).yaml":    `ffsim replay 'it'\''s $(here).yaml' --seed wasm:4001`,
		"`back`\n$HOME.yaml":   "ffsim replay '`back`\n$HOME.yaml' --seed wasm:4001",
	} {
		if got := ReplayCommand(&sim.Result{File: file, Seed: 4001, Host: sim.HostWasm}); got != want {
			t.Errorf("ReplayCommand(%q) = %q, want %q", file, got, want)
		}
	}
	// The shell reads each quoted name back as one argument, unchanged,
	// and runs nothing else.
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	for _, name := range []string{"x;touch PWNED;#.yaml", "it's $(touch PWNED2).yaml", "a b\tc.yaml"} {
		cmd := exec.Command(sh, "-c", `printf '%s' `+ShellQuote(name))
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil || string(out) != name {
			t.Errorf("sh read %q back as %q (%v)", name, out, err)
		}
	}
	if ms, _ := filepath.Glob(filepath.Join(dir, "PWNED*")); len(ms) > 0 {
		t.Errorf("quoting let the shell run a command: %v", ms)
	}
	if _, err := os.Stat(filepath.Join(dir, "PWNED")); err == nil {
		t.Error("PWNED exists")
	}
}
