package main

import (
	"os"
	"runtime/debug"
)

// defaultMemoryLimit is the process's soft memory limit unless GOMEMLIMIT
// says otherwise: past it the Go runtime collects garbage harder rather
// than let the heap grow. Runs keep bounded state (a trace tail, capped
// inputs), so a run near it is a bug; the limit makes running out of memory
// less likely to look like exit 2 ("invalid input"), which is the code a
// Go runtime crash exits with.
const defaultMemoryLimit = 4 << 30

func setMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
