package gen

import (
	"math/rand/v2"
	"time"
)

// rnd is the generator's source of choices: a PCG seeded from the seed, or
// the bytes a fuzzing engine supplies (so that its coverage guidance steers
// the choices; bytes run out as zeros, which always picks the first, most
// basic alternative).
type rnd struct {
	pcg  *rand.Rand
	data []byte
}

func newSeeded(seed uint64) *rnd {
	return &rnd{pcg: rand.New(rand.NewPCG(seed, 0x5eed_f022))}
}

func newBytes(data []byte) *rnd { return &rnd{data: data} }

// intn returns a number in [0, n); 0 when n <= 1.
func (r *rnd) intn(n int) int {
	if n <= 1 {
		return 0
	}
	if r.pcg != nil {
		return r.pcg.IntN(n)
	}
	v := int(r.byte())
	if n > 256 {
		v = v<<8 | int(r.byte())
	}
	return v % n
}

func (r *rnd) byte() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

// pct is true with probability p percent. On fuzzer bytes a zero byte
// says no.
func (r *rnd) pct(p int) bool { return r.intn(100) >= 100-p }

// weighted picks an index with probability proportional to its weight.
func (r *rnd) weighted(weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := r.intn(total)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return 0
}

// between returns a number in [lo, hi].
func (r *rnd) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

func pick[T any](r *rnd, xs ...T) T { return xs[r.intn(len(xs))] }

// ms returns a whole number of milliseconds in [lo, hi] ms.
func (r *rnd) ms(lo, hi int) time.Duration {
	return time.Duration(r.between(lo, hi)) * time.Millisecond
}
