// Package scenarios embeds ffsim's built-in scenario library: the YAML files
// in this directory, which together cover every SPEC item (S1–S7, R1–R5)
// and every fault step. `ffsim run` with no path runs them.
package scenarios

import "embed"

// FS holds the library's *.yaml files at its root.
//
//go:embed *.yaml
var FS embed.FS

// Dir is the library's path relative to the module root, used to name the
// embedded files in reports so that a replay command works from a checkout.
const Dir = "scenarios"
