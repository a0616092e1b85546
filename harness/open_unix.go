//go:build unix

package harness

import (
	"os"
	"syscall"
)

// openFlags open a scenario file for reading without blocking: a file
// swapped for a FIFO after it was checked must not hang the open (it is
// then refused by the second check).
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
