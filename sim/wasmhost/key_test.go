package wasmhost

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The guest's cache key covers what the guest is built from and nothing
// else: editing the host (this package) keeps the cached guest, editing
// the engine rebuilds it. Checked on a copy of the module.
func TestGuestKeyIgnoresHostSources(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list on a copy of the module: skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	wd, _ := os.Getwd()
	src, err := findModuleDir(wd)
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	copyModule(t, src, dst)
	ctx := context.Background()
	key := func() string {
		t.Helper()
		k, err := guestKey(ctx, goBin, dst)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := key()
	appendTo(t, filepath.Join(dst, "sim", "wasmhost", "host.go"), "\n// an edit to the host\n")
	if k := key(); k != base {
		t.Errorf("editing sim/wasmhost/host.go changed the guest key")
	}
	appendTo(t, filepath.Join(dst, "sim", "engine.go"), "\n// an edit to the engine\n")
	if k := key(); k == base {
		t.Errorf("editing sim/engine.go left the guest key unchanged")
	}
}

// The guest imports no wazero, no os/exec and not the host.
func TestGuestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list: skipped with -short")
	}
	wd, _ := os.Getwd()
	dir, err := findModuleDir(wd)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-deps", guestPkg)
	cmd.Dir = dir
	cmd.Env = guestEnv()
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(p, "wazero") || p == "os/exec" || p == "github.com/ffsim/ffsim/sim/wasmhost" {
			t.Errorf("the guest depends on %s", p)
		}
	}
}

func copyModule(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !strings.HasSuffix(path, ".go") && d.Name() != "go.mod" && d.Name() != "go.sum" && !strings.HasSuffix(path, ".yaml") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
