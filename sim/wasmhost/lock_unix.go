//go:build unix

package wasmhost

import (
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive lock on the cache directory, so that test
// binaries and CLI processes started together build the guest once: the
// others wait for it and then find it in the cache.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
