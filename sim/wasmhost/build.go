package wasmhost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ffsim/ffsim"
)

// The guest is built from the source embedded in this binary
// (ffsim.GuestSource), not from a checkout: an installed ffsim builds it on
// first use, in any directory, with the go command on PATH, into a cache
// keyed by that source, the toolchain and the build settings.

// guestPkg is the guest's main package, relative to the module root.
const guestPkg = "./sim/wasmguest"

// guestBuildFlags are the go build flags of the guest; they are part of the
// cache key.
var guestBuildFlags = []string{"-trimpath", "-buildvcs=false"}

// sqliteInGuestTag builds the guest with go-sqlite3 inside it.
const sqliteInGuestTag = "ffsim_guestsqlite"

// guestKeyVersion changes when the way the key or the guest is made changes.
const guestKeyVersion = "ffsim-wasm-guest/3" // 3: data segments merged

// lookGo finds the go command the guest is built with.
func lookGo() (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("wasm host: no Go toolchain: the wasm host builds its guest from the source in this binary with go build (Go %s or later): %w", goMinor(), err)
	}
	return goBin, nil
}

// goMinor is the go directive of the embedded go.mod, for messages.
func goMinor() string {
	data, _ := fs.ReadFile(ffsim.GuestSource, "go.mod")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			return v
		}
	}
	return "1.26"
}

// guestEnv is the environment of go for the guest. GOWORK=off and GOFLAGS
// keep a user's workspace and flags out of a build that must match its key.
func guestEnv() []string {
	return append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=readonly")
}

// goTool runs the go command in dir and returns its stdout.
func goTool(ctx context.Context, goBin, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, goBin, args...)
	// Cancelled (a SIGINT of ffsim), the go command is interrupted rather
	// than killed, so that it stops its compiler processes too; killed only
	// if it has not exited a while later.
	ownProcessGroup(cmd)
	cmd.Cancel = func() error { return interruptProcess(cmd.Process) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Dir = dir
	cmd.Env = guestEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// guestFiles lists the embedded source files a guest is built from:
// go.mod, go.sum and the non-test Go files, sorted.
func guestFiles(src fs.FS) ([]string, error) {
	var files []string
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(p, "_test.go") {
			return nil
		}
		files = append(files, p)
		return nil
	})
	sort.Strings(files)
	return files, err
}

// guestKey hashes everything the guest binary depends on: the way it is
// made, the toolchain's version, the build flags and tags, the environment
// variables that change code generation, and every source file, by path
// and content. Modules outside this one are fixed by go.sum.
func guestKey(ctx context.Context, goBin string, src fs.FS, tags []string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\nflags %q\ntags %q\n", guestKeyVersion, guestBuildFlags, tags)
	for _, v := range []string{"GOEXPERIMENT", "GOWASM", "GOTOOLCHAIN"} {
		fmt.Fprintf(h, "%s=%s\n", v, os.Getenv(v))
	}
	ver, err := goTool(ctx, goBin, os.TempDir(), "env", "GOVERSION")
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "%s", ver)
	files, err := guestFiles(src)
	if err != nil {
		return "", err
	}
	for _, f := range files {
		data, err := fs.ReadFile(src, f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "file %s %d\n", f, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// buildGuest writes the source into a fresh directory beside dst, builds
// the guest there into a temporary file, and renames it into place, so a
// concurrent process sees either no guest or the whole one. Its digest is
// written beside it, for verifying it on read.
func buildGuest(ctx context.Context, goBin string, src fs.FS, tags []string, dst string) error {
	dir, err := os.MkdirTemp(filepath.Dir(dst), "src-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	files, err := guestFiles(src)
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := fs.ReadFile(src, f)
		if err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	tmp := filepath.Join(dir, "guest.wasm")
	args := append([]string{"build"}, guestBuildFlags...)
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	args = append(args, "-o", tmp, guestPkg)
	if _, err := goTool(ctx, goBin, dir, args...); err != nil {
		return fmt.Errorf("wasm host: building the guest: %w", err)
	}
	bin, err := os.ReadFile(tmp)
	if err != nil {
		return err
	}
	bin = mergeDataSegments(bin)
	if err := os.WriteFile(tmp, bin, 0o755); err != nil {
		return err
	}
	if err := writeAtomic(dst+".sha256", []byte(digest(bin)+"\n")); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// writeAtomic writes data to path through a temporary file and a rename.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// readGuest reads a cached guest and checks it against the digest written
// when it was built: a truncated or flipped file is reported, not run.
func readGuest(p string) ([]byte, error) {
	bin, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	want, err := os.ReadFile(p + ".sha256")
	if err != nil {
		return nil, fmt.Errorf("%s has no digest beside it: %w", p, errCorrupt)
	}
	if strings.TrimSpace(string(want)) != digest(bin) {
		return nil, fmt.Errorf("%s does not match its digest: %w", p, errCorrupt)
	}
	return bin, nil
}

// errCorrupt marks a cache entry that must be discarded.
var errCorrupt = errors.New("corrupt cache entry")

// pruneGuests removes all but the keep most recently used guest builds in
// dir, so a cache that sees many source trees does not grow without bound.
// A process still using a removed file has already read it. Builds left
// half-done are PruneCache's to remove (New runs it next).
func pruneGuests(dir string, keep int) {
	matches, _ := filepath.Glob(filepath.Join(dir, "guest-*.wasm"))
	type entry struct {
		path string
		mod  time.Time
	}
	var es []entry
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil {
			es = append(es, entry{m, fi.ModTime()})
		}
	}
	slices.SortFunc(es, func(a, b entry) int { return b.mod.Compare(a.mod) })
	for i := keep; i < len(es); i++ {
		os.Remove(es[i].path)
		os.Remove(es[i].path + ".sha256")
	}
}
