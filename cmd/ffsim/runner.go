package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
)

// job is one run: a scenario and the seed to run it with (nil: its own).
type job struct {
	sc   *scenario.Scenario
	seed *uint64
}

// maxParallel caps --parallel: runs are CPU-bound, so more than a couple
// per CPU only adds memory (a wasm guest can use hundreds of MiB).
func maxParallel() int { return 2 * runtime.NumCPU() }

// capParallel returns p capped at maxParallel, saying so on stderr when it
// had to.
func capParallel(p int, stderr io.Writer) int {
	if m := maxParallel(); p > m {
		fmt.Fprintf(stderr, "ffsim: --parallel %d capped at %d (2 per CPU): runs are CPU-bound\n", p, m)
		return m
	}
	return p
}

// runner runs jobs on a host, parallel at a time.
type runner struct {
	host     sim.Host
	opts     sim.Options
	parallel int
	// ordered delivers results in the order the jobs were produced (run);
	// otherwise as they finish (explore).
	ordered bool
}

// run runs the jobs next yields until it yields no more, report returns
// false, or ctx is done, and passes each result to report. Jobs are made
// lazily, as workers are free, so a billion seeds cost nothing up front.
// After ctx is done it starts no run and reports none that was still in
// flight (they were cut short); it returns whether that happened. The
// dispatch, the ordered delivery and the interruption share one select
// loop's state, which is why it is one function.
func (r *runner) run(ctx context.Context, next func() (job, bool), report func(job, *sim.Result, time.Duration) bool) (interrupted bool) {
	type done struct {
		i    int
		j    job
		res  *sim.Result
		took time.Duration
		cut  bool // the run overlapped a cancellation
	}
	type item struct {
		i int
		j job
	}
	jobs := make(chan item)
	results := make(chan done)
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }

	go func() {
		defer close(jobs)
		for i := 0; ; i++ {
			j, ok := next()
			if !ok {
				return
			}
			select {
			case jobs <- item{i, j}:
			case <-stop:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range max(r.parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range jobs {
				opts := r.opts
				if it.j.seed != nil {
					opts.Seed = it.j.seed
				}
				t0 := time.Now()
				res := r.host.Run(ctx, it.j.sc, opts)
				results <- done{it.i, it.j, res, time.Since(t0), ctx.Err() != nil}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	pending := map[int]done{}
	want := 0
	stopped := false
	deliver := func(d done) {
		if stopped || d.cut {
			return
		}
		if !report(d.j, d.res, d.took) {
			stopped = true
			halt()
		}
	}
	for d := range results {
		if !r.ordered {
			deliver(d)
			continue
		}
		pending[d.i] = d
		for {
			p, ok := pending[want]
			if !ok {
				break
			}
			delete(pending, want)
			want++
			deliver(p)
		}
	}
	// Every job handed out yields a result (cut short or not), so nothing
	// is left pending.
	halt()
	return ctx.Err() != nil
}
