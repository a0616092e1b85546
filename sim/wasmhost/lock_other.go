//go:build !unix

package wasmhost

import (
	"os"
	"os/exec"
)

// lockDir is a no-op where flock is missing: concurrent processes may then
// build the guest twice, which the atomic rename keeps harmless.
func lockDir(string) (func(), error) { return func() {}, nil }

func ownProcessGroup(*exec.Cmd) {}

// interruptProcess stops p; without signals, by killing it.
func interruptProcess(p *os.Process) error { return p.Kill() }
