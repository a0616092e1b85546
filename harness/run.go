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
//
// The seed is one token naming the host too (--seed wasm:4001), so the run
// cannot be replayed on the other host by mistake, and every argument is
// quoted for a POSIX shell: the command is safe to paste or pipe to sh
// whatever the file is called.
func ReplayCommand(res *sim.Result) string {
	host := res.Host
	if host == "" {
		host = sim.HostNative
	}
	return "ffsim replay " + ShellQuote(res.File) + " --seed " + ShellQuote(fmt.Sprintf("%s:%d", host, res.Seed))
}

// ShellQuote quotes s as one word for a POSIX shell: unchanged when it is
// made only of characters no shell treats specially, else in single
// quotes, each single quote written as '\”.
func ShellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./_-", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
