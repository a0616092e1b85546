//go:build !unix

package wasmhost

// lockDir is a no-op where flock is missing: concurrent processes may then
// build the guest twice, which the atomic rename keeps harmless.
func lockDir(string) (func(), error) { return func() {}, nil }
