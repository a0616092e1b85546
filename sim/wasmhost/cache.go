package wasmhost

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ffsim/ffsim"
)

// DefaultCacheLimit bounds the cache's size: after each compilation the
// least recently written entries are removed until the cache fits. A
// compiled guest is about 22 MB (90 MB with SQLite inside), and every
// source revision, toolchain and wazero version (tests and the CLI count as
// two) makes its own.
const DefaultCacheLimit = 1 << 30

// CacheDir is the directory a host with this configuration uses.
func (c Config) CacheDir() string {
	if c.cacheDir != "" {
		return c.cacheDir
	}
	return DefaultCacheDir()
}

// GuestKey is the cache key of the guest this binary would build with this
// configuration: a hash of its embedded source, the Go toolchain's version
// (it runs `go env GOVERSION`) and the build settings. A seed replays the
// same interleaving only with the same key.
func GuestKey(ctx context.Context, cfg Config) (string, error) {
	goBin, err := lookGo()
	if err != nil {
		return "", err
	}
	h := &Host{cfg: cfg.withDefaults()}
	return guestKey(ctx, goBin, ffsim.GuestSource, h.tags())
}

// CacheUsage is what a cache holds.
type CacheUsage struct {
	Dir    string
	Files  int
	Bytes  int64
	Guests int // built guests (guest-*.wasm)
}

// cacheEntries lists the files a cache holds that ffsim made: built
// guests and their digests, wazero's compiled modules, leftover build
// directories and temporary files. Anything else in dir is left alone.
func cacheEntries(dir string) ([]cacheEntry, error) {
	var out []cacheEntry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // a vanished entry: another process pruned it
		}
		rel, _ := filepath.Rel(dir, p)
		top := strings.SplitN(filepath.ToSlash(rel), "/", 2)[0]
		ours := strings.HasPrefix(top, "guest-") || top == "wazero" || strings.HasPrefix(top, "src-")
		switch {
		case p == dir:
			return nil
		case d.IsDir() && !ours:
			return fs.SkipDir
		case d.IsDir():
			return nil
		case !ours:
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		out = append(out, cacheEntry{path: p, rel: rel, size: fi.Size(), mod: fi.ModTime()})
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return out, err
}

type cacheEntry struct {
	path, rel string
	size      int64
	mod       time.Time
}

// Usage reports what the cache at dir holds.
func Usage(dir string) (CacheUsage, error) {
	es, err := cacheEntries(dir)
	u := CacheUsage{Dir: dir, Files: len(es)}
	for _, e := range es {
		u.Bytes += e.size
		if strings.HasPrefix(e.rel, "guest-") && strings.HasSuffix(e.rel, ".wasm") {
			u.Guests++
		}
	}
	return u, err
}

// PruneCache removes the least recently written entries of the cache at
// dir until it holds at most maxBytes, never one written in the last
// minute (a host may be using it), and returns the bytes removed. Leftover
// build directories and temporary files older than an hour go first.
func PruneCache(dir string, maxBytes int64) (int64, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return 0, err
	}
	defer unlock()
	return pruneLocked(dir, maxBytes, time.Now())
}

func pruneLocked(dir string, maxBytes int64, now time.Time) (int64, error) {
	es, err := cacheEntries(dir)
	if err != nil {
		return 0, err
	}
	var total, removed int64
	var keep []cacheEntry
	for _, e := range es {
		stale := strings.HasPrefix(e.rel, "src-") || strings.HasSuffix(e.rel, ".tmp")
		if stale && now.Sub(e.mod) > time.Hour {
			if os.Remove(e.path) == nil {
				removed += e.size
			}
			continue
		}
		total += e.size
		keep = append(keep, e)
	}
	slices.SortFunc(keep, func(a, b cacheEntry) int { return a.mod.Compare(b.mod) })
	for _, e := range keep {
		if total <= maxBytes {
			break
		}
		if now.Sub(e.mod) < time.Minute {
			continue
		}
		if os.Remove(e.path) == nil {
			total -= e.size
			removed += e.size
		}
	}
	removeEmptyDirs(dir)
	return removed, nil
}

// removeEmptyDirs removes the empty build directories a prune leaves.
func removeEmptyDirs(dir string) {
	stale, _ := filepath.Glob(filepath.Join(dir, "src-*"))
	for _, s := range stale {
		_ = os.Remove(s) // fails, as it should, unless empty
	}
}

// CleanCache removes everything ffsim put in the cache at dir (built
// guests, compiled modules, build leftovers) and nothing else.
func CleanCache(dir string) (int64, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return 0, err
	}
	defer unlock()
	es, err := cacheEntries(dir)
	if err != nil {
		return 0, err
	}
	var removed int64
	var errs []error
	for _, e := range es {
		if err := os.Remove(e.path); err == nil {
			removed += e.size
		} else {
			errs = append(errs, err)
		}
	}
	for _, sub := range []string{"wazero", "src-*"} {
		ms, _ := filepath.Glob(filepath.Join(dir, sub))
		for _, m := range ms {
			if err := os.RemoveAll(m); err != nil {
				errs = append(errs, fmt.Errorf("removing %s: %w", m, err))
			}
		}
	}
	return removed, errors.Join(errs...)
}
