package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
	"github.com/spf13/cobra"
)

type exploreFlags struct {
	host          string
	sqliteInGuest bool
	seeds         uint64
	first         uint64
	shard         string
	parallel      int
	junit         string
}

func newExploreCmd() *cobra.Command {
	var f exploreFlags
	cmd := &cobra.Command{
		Use:   "explore [PATH...] --seeds N [--shard K/M] [--parallel P]",
		Short: "Run each scenario once per seed (wasm host by default) and list the failing seeds",
		RunE: func(cmd *cobra.Command, args []string) error {
			k, m, err := parseShard(f.shard)
			if err != nil {
				return err
			}
			if f.seeds == 0 {
				return invalid("--seeds must be at least 1")
			}
			if f.parallel < 1 {
				return invalid("--parallel must be at least 1")
			}
			scs, err := loadScenarios(args)
			if err != nil {
				return err
			}
			return explore(cmd, scs, &f, k, m)
		},
	}
	cmd.Flags().StringVar(&f.host, "host", sim.HostWasm, "where to run: wasm (seeds change goroutine interleavings) or native (seeds change only the simulator's own choices)")
	cmd.Flags().Uint64Var(&f.seeds, "seeds", 0, "number of seeds to run per scenario")
	cmd.Flags().BoolVar(&f.sqliteInGuest, "sqlite-in-guest", false, "wasm host: run SQLite inside the guest instead of in the host (slower; the results are the same)")
	cmd.Flags().Uint64Var(&f.first, "first-seed", 1, "first seed; seeds are first-seed … first-seed+seeds-1")
	cmd.Flags().StringVar(&f.shard, "shard", "1/1", "run only shard `K/M` of the seeds (seed index ≡ K-1 mod M), for a CI matrix of M jobs")
	cmd.Flags().IntVar(&f.parallel, "parallel", runtime.GOMAXPROCS(0), "runs in flight at once")
	cmd.Flags().StringVar(&f.junit, "junit", "", "write a JUnit XML report (one testcase per scenario and seed) to `FILE`")
	return cmd
}

func parseShard(s string) (k, m uint64, err error) {
	a, b, ok := strings.Cut(s, "/")
	k, err1 := strconv.ParseUint(a, 10, 64)
	m, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || m == 0 || k == 0 || k > m {
		return 0, 0, invalid("--shard %q: want K/M with 1 <= K <= M", s)
	}
	return k, m, nil
}

type job struct {
	sc   *scenario.Scenario
	seed uint64
}

func explore(cmd *cobra.Command, scs []*scenario.Scenario, f *exploreFlags, k, m uint64) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	h, err := openHost(ctx, f.host, f.sqliteInGuest, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer h.Close()

	var jobs []job
	for _, sc := range scs {
		for i := range f.seeds {
			if i%m == k-1 {
				jobs = append(jobs, job{sc, f.first + i})
			}
		}
	}
	results := make([]*sim.Result, len(jobs))
	prog := newProgress(os.Stderr, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range f.parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				seed := jobs[i].seed
				results[i] = h.Run(ctx, jobs[i].sc, sim.Options{Seed: &seed})
				prog.done(results[i].Status != sim.Pass)
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	prog.finish()

	out := cmd.OutOrStdout()
	failed, errored := 0, 0
	type summary struct {
		runs, fails int
		digests     map[string]bool
	}
	per := map[string]*summary{}
	var names []string
	for _, res := range results {
		s := per[res.File]
		if s == nil {
			s = &summary{digests: map[string]bool{}}
			per[res.File] = s
			names = append(names, res.File)
		}
		s.runs++
		s.digests[res.Digest] = true
		switch res.Status {
		case sim.Error:
			errored++
			harness.WriteFailure(out, res, 0)
		case sim.Fail:
			s.fails++
			failed++
			fmt.Fprintf(out, "FAIL %s seed %d: %s: %s\n    %s\n", res.File, res.Seed, res.Failure.Pos, res.Failure.Message, harness.ReplayCommand(res))
		}
	}
	sort.Strings(names)
	for _, n := range names {
		s := per[n]
		fmt.Fprintf(out, "%-52s %4d runs %4d failed %4d distinct traces\n", n, s.runs, s.fails, len(s.digests))
	}
	if f.junit != "" {
		if err := writeFile(f.junit, func(w io.Writer) error { return harness.WriteJUnit(w, results) }); err != nil {
			return err
		}
	}
	if h.replayNote != "" {
		fmt.Fprintln(out, h.replayNote)
	}
	fmt.Fprintf(out, "%d passed, %d failed", len(results)-failed-errored, failed)
	if errored > 0 {
		fmt.Fprintf(out, ", %d could not run", errored)
	}
	fmt.Fprintln(out)
	return verdict(failed, errored)
}
