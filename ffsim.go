// Package ffsim holds the source of ffsim's wasm guest (package
// sim/wasmguest and every package of this module it imports), embedded so
// that any ffsim binary, installed anywhere, can build the guest on first
// use with a Go toolchain: see package sim/wasmhost. The module's packages
// are documented in the README; the program is cmd/ffsim.
package ffsim

import "embed"

// GuestSource is the guest's source tree: go.mod, go.sum and the Go files
// of the packages the guest is built from, at their module paths. Test
// files come along (embed cannot leave them out) and are ignored.
//
//go:embed go.mod go.sum
//go:embed scenario/*.go internal/suggest/*.go internal/sqlbridge/*.go
//go:embed reconcilers/*.go sim/*.go sim/wasmguest/*.go
var GuestSource embed.FS
