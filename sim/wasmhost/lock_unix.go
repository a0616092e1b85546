//go:build unix

package wasmhost

import (
	"os"
	"os/exec"
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

// ownProcessGroup starts cmd in a process group of its own, so that
// interruptProcess reaches the compilers the go command starts as well.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// interruptProcess asks p's process group to stop, as Ctrl-C would.
func interruptProcess(p *os.Process) error { return syscall.Kill(-p.Pid, syscall.SIGINT) }
