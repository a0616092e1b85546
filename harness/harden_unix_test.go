//go:build unix

package harness

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A FIFO named x.yaml in a scenario directory hung `validate DIR` (reading
// it waits for a writer forever); a symbolic link to /dev/zero exhausted
// memory. Only regular files are read: these are refused, unopened, with
// a clear error, alongside the errors of the other files.
func TestLoadRefusesIrregularFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.yaml"), strings.Replace(okScenario, "%s", "a", 1))
	fifo := filepath.Join(dir, "x.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	zero := filepath.Join(dir, "zero.yaml")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Skipf("symlink: %v", err)
	}
	const why = ", not a regular file: only regular files are loaded as scenarios"
	want := fifo + ": a named pipe (FIFO)" + why + "\n" + zero + ": a device" + why
	for _, args := range [][]string{{dir}, {filepath.Join(dir, "...")}, {fifo, zero}} {
		_, err := LoadPaths(args)
		if err == nil || err.Error() != want {
			t.Errorf("LoadPaths(%v):\ngot  %v\nwant %s", args, err, want)
		}
	}
	if _, err := Load(fifo); err == nil || err.Error() != fifo+": a named pipe (FIFO)"+why {
		t.Errorf("Load(FIFO) = %v", err)
	}
	// A link to a regular file is fine.
	link := filepath.Join(t.TempDir(), "link.yaml")
	if err := os.Symlink(filepath.Join(dir, "a.yaml"), link); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPaths([]string{link}); err != nil {
		t.Errorf("a link to a regular file: %v", err)
	}
}
