package fuzz

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ffsim/ffsim/fuzz/gen"
	"github.com/ffsim/ffsim/sim"
)

// RunOptions say which seeds to check, where, and what to do with the
// verdicts.
type RunOptions struct {
	// Host runs the scenarios; the checks follow its tie order
	// (OptionsFor).
	Host sim.Host
	// FirstSeed is the first seed; seeds are taken in order from it.
	FirstSeed uint64
	// Seeds is how many seeds to check; 0 means no limit (then Duration
	// or the context ends the run).
	Seeds uint64
	// Duration stops handing out seeds once it has passed (wall-clock);
	// 0 means no limit. Checks in flight, and their shrinking, finish.
	Duration time.Duration
	// Parallel is the number of workers (default 1).
	Parallel int
	// Gen tunes the generator.
	Gen gen.Options
	// Shrink shrinks the first failure of each signature, on the worker
	// that found it, with these options; nil does not shrink.
	Shrink *ShrinkOptions
	// MaxFailures stops handing out seeds after this many failures
	// (0: no limit).
	MaxFailures int
	// OnVerdict is called for every verdict, one call at a time, in the
	// order the checks finish (not the seeds' order). A failure comes
	// with its shrunk form when it was shrunk.
	OnVerdict func(v *Verdict, shrunk *Shrunk)
	// Now is the clock for Duration and the summary (default time.Now).
	Now func() time.Time
}

// Summary counts a run's verdicts.
type Summary struct {
	Seeds, Passed, Failed, Unmodellable, Errors int
	// Elapsed is the wall-clock time the run took.
	Elapsed time.Duration
	// FirstFailure is when the first failure was found (0 for none).
	FirstFailure time.Duration
	// Signatures are the distinct failure signatures, in the order found.
	Signatures []string
}

// Run checks generated scenarios, seed after seed, on o.Parallel workers,
// until o.Seeds are done, o.Duration has passed, o.MaxFailures failures
// were found or ctx ends. Seeds are generated when a worker takes them.
func Run(ctx context.Context, o RunOptions) Summary {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	copts := OptionsFor(o.Host)
	var next atomic.Uint64
	var failures atomic.Int64
	stop := func() bool {
		return ctx.Err() != nil ||
			(o.Duration > 0 && now().Sub(start) >= o.Duration) ||
			(o.MaxFailures > 0 && failures.Load() >= int64(o.MaxFailures))
	}
	var mu sync.Mutex
	var sum Summary
	seen := map[string]bool{}
	report := func(v *Verdict, shrunk *Shrunk) {
		mu.Lock()
		defer mu.Unlock()
		sum.Seeds++
		switch v.Status {
		case Pass:
			sum.Passed++
		case Fail:
			sum.Failed++
		case Unmodellable:
			sum.Unmodellable++
		case Error:
			sum.Errors++
		}
		if o.OnVerdict != nil {
			o.OnVerdict(v, shrunk)
		}
	}
	// firstOf records a failure and reports whether it is the first of its
	// signature.
	firstOf := func(v *Verdict) bool {
		mu.Lock()
		defer mu.Unlock()
		if sum.FirstFailure == 0 {
			sum.FirstFailure = max(now().Sub(start), time.Nanosecond)
		}
		sig := v.Disagreement.Signature()
		if seen[sig] {
			return false
		}
		seen[sig] = true
		sum.Signatures = append(sum.Signatures, sig)
		return true
	}
	var wg sync.WaitGroup
	for range max(o.Parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop() {
				i := next.Add(1) - 1
				if o.Seeds > 0 && i >= o.Seeds {
					return
				}
				seed := o.FirstSeed + i
				v := Check(ctx, o.Host, gen.Generate(seed, o.Gen), copts)
				var shrunk *Shrunk
				if v.Status == Fail {
					failures.Add(1)
					if firstOf(v) && o.Shrink != nil {
						shrunk = Shrink(ctx, o.Host, v, *o.Shrink)
					}
				}
				if v.Status == Error && ctx.Err() != nil {
					return // stopped: not the host's fault
				}
				report(v, shrunk)
			}
		}()
	}
	wg.Wait()
	sum.Elapsed = now().Sub(start)
	return sum
}
