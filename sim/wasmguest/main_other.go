//go:build !wasip1

package main

import (
	"fmt"
	"os"
)

// main explains itself: the guest only makes sense as GOOS=wasip1 inside
// the wasm host, which builds and runs it.
func main() {
	fmt.Fprintln(os.Stderr, "wasmguest is the ffsim wasm guest: it runs only as GOOS=wasip1 inside ffsim's wasm host (ffsim run --host wasm)")
	os.Exit(2)
}
