package wasmhost

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ffsimModule is the module path the wasm host builds its guest from.
const ffsimModule = "github.com/ffsim/ffsim"

// guestPkg is the guest's main package, relative to the module root.
const guestPkg = "./sim/wasmguest"

// guestBuildFlags are the go build flags of the guest; they are part of the
// cache key.
var guestBuildFlags = []string{"-trimpath", "-buildvcs=false"}

// guestKeyVersion changes when the way the key or the guest is made changes.
const guestKeyVersion = "ffsim-wasm-guest/1"

// findModuleDir walks up from dir to the go.mod that declares the ffsim
// module.
func findModuleDir(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; {
		if path, err := readModulePath(filepath.Join(d, "go.mod")); err == nil && path == ffsimModule {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	return "", fmt.Errorf("wasm host: no go.mod for module %s in %s or any parent: the wasm host builds its guest from the ffsim source with a Go toolchain, so run it inside an ffsim checkout or set Config.WithModuleDir", ffsimModule, dir)
}

// readModulePath returns the module path a go.mod declares.
func readModulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		rest = strings.TrimSpace(rest)
		if i := strings.Index(rest, "//"); i >= 0 {
			rest = strings.TrimSpace(rest[:i])
		}
		if uq, err := strconv.Unquote(rest); err == nil {
			rest = uq
		}
		return rest, nil
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s declares no module", gomod)
}

// guestEnv is the environment of go list and go build for the guest.
func guestEnv() []string {
	return append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
}

// lookGo finds the go command the guest is built with.
func lookGo() (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("wasm host: no Go toolchain: the wasm host builds its guest from the ffsim source with go build: %w", err)
	}
	return goBin, nil
}

// goTool runs the go command in dir and returns its stdout.
func goTool(ctx context.Context, goBin, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	cmd.Env = guestEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// listedPackage is the part of `go list -json` output the key needs.
type listedPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	GoFiles    []string
	SFiles     []string
	HFiles     []string
	EmbedFiles []string
	Module     *struct {
		Path    string
		Version string
		Main    bool
		Replace *struct {
			Path    string
			Version string
		}
	}
}

// guestKey hashes everything the guest binary depends on: the toolchain
// version, the build settings, go.mod and go.sum, and, for every package the
// guest imports that does not come from the read-only module cache (the
// ffsim module itself, a workspace module or a directory replacement), the
// contents of its source files. A package from the module cache is named by
// its module path and version, which fix its contents.
func guestKey(ctx context.Context, goBin, moduleDir string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\nflags %q\n", guestKeyVersion, guestBuildFlags)
	for _, v := range []string{"GOFLAGS", "GOEXPERIMENT", "GOWASM", "GOTOOLCHAIN"} {
		fmt.Fprintf(h, "%s=%s\n", v, os.Getenv(v))
	}
	ver, err := goTool(ctx, goBin, moduleDir, "version")
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "%s", ver)
	for _, name := range []string{"go.mod", "go.sum"} {
		if err := hashFile(h, filepath.Join(moduleDir, name)); err != nil && !(name == "go.sum" && errors.Is(err, os.ErrNotExist)) {
			return "", err
		}
	}
	out, err := goTool(ctx, goBin, moduleDir, "list", "-deps",
		"-json=ImportPath,Dir,Standard,GoFiles,SFiles,HFiles,EmbedFiles,Module", guestPkg)
	if err != nil {
		return "", err
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return "", fmt.Errorf("go list output: %w", err)
		}
		if p.Standard {
			continue // fixed by the toolchain version
		}
		fmt.Fprintf(h, "pkg %s\n", p.ImportPath)
		if m := p.Module; m != nil && !m.Main && m.Version != "" && (m.Replace == nil || m.Replace.Version != "") {
			fmt.Fprintf(h, "mod %s@%s", m.Path, m.Version)
			if m.Replace != nil {
				fmt.Fprintf(h, " => %s@%s", m.Replace.Path, m.Replace.Version)
			}
			fmt.Fprintln(h)
			continue
		}
		files := slices.Concat(p.GoFiles, p.SFiles, p.HFiles, p.EmbedFiles)
		sort.Strings(files)
		for _, f := range files {
			fmt.Fprintf(h, "file %s\n", f)
			if err := hashFile(h, filepath.Join(p.Dir, f)); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile writes the file's length and contents to h.
func hashFile(h io.Writer, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "%d\n", len(data))
	_, err = h.Write(data)
	return err
}

// buildGuest builds the guest into dst: into a temporary file in dst's
// directory first, renamed into place when complete, so a concurrent
// process sees either no file or the whole one.
func buildGuest(ctx context.Context, goBin, moduleDir, dst string) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".*.tmp")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName) // a no-op once renamed
	args := append([]string{"build"}, guestBuildFlags...)
	args = append(args, "-o", tmpName, guestPkg)
	if _, err := goTool(ctx, goBin, moduleDir, args...); err != nil {
		return fmt.Errorf("wasm host: building the guest: %w", err)
	}
	return os.Rename(tmpName, dst)
}

// pruneGuests removes all but the keep most recent guest builds in dir, so
// a cache that sees many source trees does not grow without bound. A
// process still using a removed file has already read it.
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
	sort.Slice(es, func(i, j int) bool { return es[i].mod.After(es[j].mod) })
	for i := keep; i < len(es); i++ {
		os.Remove(es[i].path)
	}
}
