package wasmhost

import (
	"context"
	"io/fs"
	"os/exec"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ffsim/ffsim"
)

// copyFS copies the embedded guest source into a map file system a test
// may change.
func copyFS(t *testing.T) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(ffsim.GuestSource, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(ffsim.GuestSource, p)
		out[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The guest's cache key covers what the guest is built from and nothing
// else: the host's source is not part of the guest's, editing a test file
// keeps the key, editing the engine changes it, and so do the tags.
func TestGuestKey(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	src := copyFS(t)
	for p := range src {
		if strings.HasPrefix(p, "sim/wasmhost/") || strings.HasPrefix(p, "cmd/") || strings.HasPrefix(p, "harness/") {
			t.Errorf("the guest source holds %s, which the guest does not import", p)
		}
	}
	ctx := context.Background()
	key := func(src fs.FS, tags ...string) string {
		t.Helper()
		k, err := guestKey(ctx, goBin, src, tags)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := key(src)
	if k := key(ffsim.GuestSource); k != base {
		t.Fatalf("the copy's key differs from the embedded source's")
	}
	src["sim/engine_test.go"] = &fstest.MapFile{Data: []byte("package sim\n// a test edit\n")}
	if k := key(src); k != base {
		t.Errorf("editing a test file changed the guest key")
	}
	src["sim/engine.go"].Data = append(src["sim/engine.go"].Data, "\n// an edit to the engine\n"...)
	if k := key(src); k == base {
		t.Errorf("editing sim/engine.go left the guest key unchanged")
	}
	if k := key(ffsim.GuestSource, sqliteInGuestTag); k == base {
		t.Errorf("the tags are not part of the key")
	}
}

// The guest's dependencies: by default no wazero, no os/exec, no testing
// and no go-sqlite3; and every package of this module it imports, with
// SQLite in it or not, is in the embedded source (or the build from it
// would fail).
func TestGuestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list: skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	embedded := map[string]bool{}
	_ = fs.WalkDir(ffsim.GuestSource, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			embedded[path.Dir(p)] = true
		}
		return err
	})
	for _, tags := range []string{"", sqliteInGuestTag} {
		out, err := goTool(context.Background(), goBin, "../..", "list", "-deps", "-tags", tags, guestPkg)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range strings.Fields(string(out)) {
			if rel, ok := strings.CutPrefix(p, "github.com/ffsim/ffsim/"); ok && !embedded[rel] {
				t.Errorf("tags %q: the guest imports %s, which ffsim.GuestSource does not embed", tags, p)
			}
			if tags != "" {
				continue
			}
			if strings.Contains(p, "wazero") || strings.Contains(p, "ncruces") || p == "os/exec" || p == "testing" || strings.HasPrefix(p, "testing/") {
				t.Errorf("the guest depends on %s", p)
			}
		}
	}
}
