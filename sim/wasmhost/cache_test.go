package wasmhost

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// cacheFile writes a cache entry of size bytes, last written age ago.
func cacheFile(t *testing.T, dir, rel string, size int, age time.Duration) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	when := time.Now().Add(-age)
	if err := os.Chtimes(p, when, when); err != nil {
		t.Fatal(err)
	}
	return p
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestPruneCacheRemovesLeastRecentlyWritten(t *testing.T) {
	dir := t.TempDir()
	old := cacheFile(t, dir, "wazero/wazero-dev-amd64-linux/aaa", 400, 3*time.Hour)
	mid := cacheFile(t, dir, "wazero/wazero-v1-amd64-linux/bbb", 400, 2*time.Hour)
	recent := cacheFile(t, dir, "guest-123.wasm", 400, time.Hour)
	fresh := cacheFile(t, dir, "wazero/wazero-dev-amd64-linux/ccc", 400, 0) // in use: never removed
	leftover := cacheFile(t, dir, "src-1/go.mod", 10, 2*time.Hour)
	mine := cacheFile(t, dir, "notes.txt", 10_000, 5*time.Hour) // not ffsim's

	removed, err := PruneCache(dir, 900)
	if err != nil {
		t.Fatal(err)
	}
	if exists(old) || exists(mid) || exists(leftover) {
		t.Error("the oldest entries and the build leftover were kept")
	}
	if !exists(recent) || !exists(fresh) || !exists(mine) {
		t.Error("a recent entry, an entry in use or a file ffsim did not write was removed")
	}
	if removed != 810 {
		t.Errorf("removed %d bytes, want 810", removed)
	}
	u, err := Usage(dir)
	if err != nil || u.Bytes != 800 || u.Guests != 1 {
		t.Errorf("usage after pruning %+v, %v; want 800 bytes in 1 guest and 1 module", u, err)
	}
}

func TestCleanCacheLeavesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	cacheFile(t, dir, "wazero/wazero-dev-amd64-linux/aaa", 100, 0)
	cacheFile(t, dir, "guest-1.wasm", 100, 0)
	cacheFile(t, dir, "guest-1.wasm.sha256", 65, 0)
	mine := cacheFile(t, dir, "keep/me.txt", 10, 0)
	if _, err := CleanCache(dir); err != nil {
		t.Fatal(err)
	}
	if u, _ := Usage(dir); u.Files != 0 {
		t.Errorf("%d of ffsim's files left after clean", u.Files)
	}
	if !exists(mine) || exists(filepath.Join(dir, "wazero")) {
		t.Error("clean removed a file that is not ffsim's, or left wazero/")
	}
	if _, err := PruneCache(filepath.Join(dir, "absent"), 0); err != nil {
		t.Errorf("pruning a cache that does not exist: %v", err)
	}
}
