package harness

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
)

// Option configures [Run] and [RunDir].
type Option func(*runConfig)

type runConfig struct {
	host sim.Host
	opts sim.Options
}

// WithHost runs the scenarios on h (default: [sim.Native]). The caller
// owns h and closes it.
func WithHost(h sim.Host) Option { return func(c *runConfig) { c.host = h } }

// WithSeed runs every scenario with seed instead of its own.
func WithSeed(seed uint64) Option { return func(c *runConfig) { c.opts.Seed = &seed } }

func newRunConfig(opts []Option) runConfig {
	c := runConfig{host: sim.Native()}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Run loads the scenario file at path and runs it as a subtest named after
// the scenario. A load error or a failed run fails the test with the same
// report `ffsim run` prints.
func Run(t *testing.T, path string, opts ...Option) {
	t.Helper()
	sc, err := Load(path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	runOne(t, sc, newRunConfig(opts))
}

// RunDir runs every scenario file in dir (*.yaml and *.yml, not its
// subdirectories; dir/... includes them, as for [LoadPaths]) as subtests.
// The whole directory is validated first: one malformed file fails the
// test before anything runs.
func RunDir(t *testing.T, dir string, opts ...Option) {
	t.Helper()
	scs, err := LoadPaths([]string{dir})
	if err != nil {
		t.Fatalf("%v", err)
	}
	if len(scs) == 0 {
		t.Fatalf("no scenario files in %s", dir)
	}
	c := newRunConfig(opts)
	for _, sc := range scs {
		runOne(t, sc, c)
	}
}

func runOne(t *testing.T, sc *scenario.Scenario, c runConfig) {
	t.Helper()
	t.Run(sc.Name, func(t *testing.T) {
		res := c.host.Run(context.Background(), sc, c.opts)
		if res.Status != sim.Pass {
			var b strings.Builder
			WriteFailure(&b, res, 12)
			t.Error("\n" + b.String())
		}
	})
}

// ReplayCommand is the command line that reruns a result's scenario with the
// same seed on the same host.
func ReplayCommand(res *sim.Result) string {
	cmd := fmt.Sprintf("ffsim replay %s --seed %d", res.File, res.Seed)
	if res.Host == sim.HostWasm {
		cmd += " --host wasm"
	}
	return cmd
}
