package gen

import (
	"slices"
	"time"

	"github.com/ffsim/ffsim/scenario"
)

// horizon bounds how far ahead an aimed advance looks, and roughly how
// long a scenario runs in simulated time: long runs cost ticks without
// adding interleavings.
const horizon = 40 * time.Second

// ties lists the instants ahead worth landing on: the reconcilers' next
// ticks, the budgets' scheduled resets, the workers' expiries, lock
// releases and busy-wait polls, slow ticks' ends.
func (g *generator) ties() []time.Duration {
	s := &g.s
	var out []time.Duration
	for rec := range 2 {
		out = append(out, s.tickInstants(rec, 3)...)
	}
	out = append(out, s.resetInstants()...)
	out = append(out, s.expiries()...)
	out = append(out, s.ties...)
	kept := out[:0]
	for _, t := range out {
		if t >= s.lo && t-s.lo <= horizon {
			kept = append(kept, t)
		}
	}
	slices.Sort(kept)
	return slices.Compact(kept)
}

// jitter moves an aimed instant onto or around the tie: most often exactly
// on it, else a millisecond either side (strict vs non-strict
// comparisons) or S4's 5 ms tolerance and just past it.
func (g *generator) jitter() time.Duration {
	return pick(g.r, 0, 0, 0, 0, 0, 0, -time.Millisecond, time.Millisecond, time.Millisecond,
		5*time.Millisecond, 6*time.Millisecond)
}

// aim returns how far to move from s.lo: to a tie instant (jittered) most
// of the time, else a plain duration.
func (g *generator) aim() time.Duration {
	s := &g.s
	if ts := g.ties(); len(ts) > 0 && g.r.pct(70) {
		// Nearer instants are likelier: they are what the next step meets.
		i := min(g.r.intn(len(ts)), g.r.intn(len(ts)))
		d := ts[i] - s.lo + g.jitter()
		if d >= 0 {
			return d
		}
	}
	if s.hi > 3*horizon {
		return pick(g.r, 0, time.Millisecond, 10*time.Millisecond, 100*time.Millisecond)
	}
	d := pick(g.r, 0, time.Millisecond, 5*time.Millisecond, 15*time.Millisecond, 100*time.Millisecond,
		500*time.Millisecond, time.Second, 2*time.Second, 3*time.Second, 5*time.Second, 10*time.Second)
	if p := s.sup.periods[g.r.intn(2)]; p > 0 && g.r.pct(30) {
		d = time.Duration(g.r.between(1, 3)) * p
	}
	return d
}

// advance moves time, aimed at a tie.
func (g *generator) advance(c stepCtx) (scenario.Step, bool) {
	if c.group {
		return scenario.Step{}, false
	}
	d := g.aim()
	g.s.lo += d
	g.s.hi += d
	return scenario.Step{Advance: &d}, true
}

// advanceTo moves time to an offset past every bound of the current time
// (a target in the past fails the run).
func (g *generator) advanceTo(c stepCtx) (scenario.Step, bool) {
	if c.group {
		return scenario.Step{}, false
	}
	s := &g.s
	t := s.lo + g.aim()
	if t < s.hi {
		t = s.hi + g.r.ms(0, 20)*100
	}
	s.at(t)
	return scenario.Step{AdvanceTo: &t}, true
}
