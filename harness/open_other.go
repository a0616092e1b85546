//go:build !unix

package harness

import "os"

// openFlags open a scenario file for reading.
const openFlags = os.O_RDONLY
