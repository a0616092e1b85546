package fuzz

import (
	"bytes"
	"context"
	"time"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
)

// ShrinkOptions bound the shrinker's work.
type ShrinkOptions struct {
	// MaxChecks bounds the candidate scenarios checked (default 2000).
	MaxChecks int
	// Timeout bounds the wall-clock time spent (default: none).
	Timeout time.Duration
	// Now is the clock for Timeout (default time.Now).
	Now func() time.Time
}

// Shrunk is a shrunk failure.
type Shrunk struct {
	// Original is the verdict that was shrunk.
	Original *Verdict
	// Verdict is the check of the smallest scenario found: it fails with
	// the original's signature.
	Verdict *Verdict
	// File is that scenario as a regression scenario (see Repro).
	File []byte
	// Native says the file's expectations follow the native host's order
	// of ties (the wasm host's seeds may choose others), because the
	// failure did not show with every order allowed.
	Native bool
	// Checks counts the candidates checked.
	Checks int
}

// Steps counts the shrunk scenario's steps (a concurrently's inner steps
// count one each).
func (s *Shrunk) Steps() int { return countSteps(s.Verdict.Scenario.Steps) }

func countSteps(steps []scenario.Step) int {
	n := 0
	for i := range steps {
		if c := steps[i].Concurrently; c != nil {
			n += len(c)
			continue
		}
		n++
	}
	return n
}

// Shrink minimises a failing verdict's scenario: it drops steps and
// budgets, shortens durations, lowers counts and simplifies values and
// ids, keeping a change only when the smaller scenario still fails with
// the same signature (the same kind of failing step, the same mismatch
// class: see Disagreement.Signature) once re-annotated by the model. It
// stops when no change helps, or at the options' bounds, and returns the
// smallest scenario found with its regression file.
func Shrink(ctx context.Context, h sim.Host, v *Verdict, o ShrinkOptions) *Shrunk {
	if o.MaxChecks <= 0 {
		o.MaxChecks = 2000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &shrinker{ctx: ctx, h: h, o: o, opts: OptionsFor(h), sig: v.Disagreement.Signature(),
		best: v, start: o.Now()}
	s.cost = s.costOf(v.Scenario)
	if d := v.Disagreement; d.Step >= 0 && d.Step+1 < len(v.Scenario.Steps) {
		// Nothing after the failing step matters.
		c := v.Scenario.Clone()
		c.Steps = c.Steps[:d.Step+1]
		s.try(c)
	}
	for progress := true; progress && !s.done(); {
		progress = false
		for _, pass := range passes {
			if pass(s) {
				progress = true
			}
			if s.done() {
				break
			}
		}
	}
	out := &Shrunk{Original: v, Verdict: s.best, Checks: s.checks}
	out.File, out.Native = s.repro()
	return out
}

// shrinker is one shrinking in progress.
type shrinker struct {
	ctx    context.Context
	h      sim.Host
	o      ShrinkOptions
	opts   Options
	sig    string
	best   *Verdict
	cost   cost
	checks int
	start  time.Time
}

func (s *shrinker) done() bool {
	return s.checks >= s.o.MaxChecks || s.ctx.Err() != nil ||
		(s.o.Timeout > 0 && s.o.Now().Sub(s.start) >= s.o.Timeout)
}

// cost orders scenarios by size: steps first, then budgets, then the
// length of the file, then its text (so that renaming b2 to b1 is
// progress). Every accepted candidate costs strictly less, so shrinking
// ends.
type cost struct {
	steps, budgets, size int
	text                 []byte
}

func (c cost) less(d cost) bool {
	switch {
	case c.steps != d.steps:
		return c.steps < d.steps
	case c.budgets != d.budgets:
		return c.budgets < d.budgets
	case c.size != d.size:
		return c.size < d.size
	}
	return bytes.Compare(c.text, d.text) < 0
}

func (s *shrinker) costOf(sc *scenario.Scenario) cost {
	text, err := harness.Marshal(sc)
	if err != nil {
		// Not writable: never preferred.
		return cost{steps: 1 << 30}
	}
	return cost{steps: countSteps(sc.Steps), budgets: len(sc.Budgets), size: len(text), text: text}
}

// try checks a candidate and keeps it when it is smaller and fails the
// same way.
func (s *shrinker) try(c *scenario.Scenario) bool {
	if s.done() {
		return false
	}
	cc := s.costOf(c)
	if !cc.less(s.cost) || c.Validate() != nil {
		return false
	}
	s.checks++
	v := Check(s.ctx, s.h, c, s.opts)
	if v.Status != Fail || v.Disagreement.Signature() != s.sig {
		return false
	}
	v.Seed = s.best.Seed
	s.best, s.cost = v, cc
	return true
}

// tryReseeded tries c, and when it does not fail the same way and has a
// concurrently group, c with a few other seeds: the seed decides a group's
// order (on the native host too), so dropping a group before the one that
// fails changes that one's order; another seed may restore it.
func (s *shrinker) tryReseeded(c *scenario.Scenario) bool {
	if s.try(c) {
		return true
	}
	if !hasGroup(c) {
		return false
	}
	orig := c.Seed
	for _, seed := range []uint64{0, 1, 2, 3, 4, 5} {
		if seed == orig {
			continue
		}
		c.Seed = seed
		if s.try(c) {
			return true
		}
	}
	c.Seed = orig
	return false
}

func hasGroup(sc *scenario.Scenario) bool {
	for i := range sc.Steps {
		if sc.Steps[i].Concurrently != nil {
			return true
		}
	}
	return false
}

// tryEach tries candidates in order and reports whether one was kept; after
// a success it asks for fresh candidates (they depend on the best so far).
func (s *shrinker) tryEach(reseed bool, next func(best *scenario.Scenario, i int) (*scenario.Scenario, bool)) bool {
	try := s.try
	if reseed {
		try = s.tryReseeded
	}
	progress := false
	for i := 0; !s.done(); {
		c, ok := next(s.best.Scenario, i)
		if !ok {
			return progress
		}
		if c != nil && try(c) {
			progress = true
			continue // the same index on the new best
		}
		i++
	}
	return progress
}
