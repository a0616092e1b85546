//go:build !race

package harness_test

// raceDetector is true in a test binary built with -race.
const raceDetector = false
