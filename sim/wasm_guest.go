package sim

import (
	"os"
	"runtime/metrics"
	"sync"
)

// settleLimit bounds the scheduler yields of one realWorld.settle: a world
// that never becomes quiescent (a goroutine busy-waiting with Gosched) is an
// error, not a hang.
const settleLimit = 100_000

// othersReady returns how many goroutines other than the caller are ready to
// run or running. Inside the wasip1 guest (one P, no threads) it is exact:
// 0 means every other goroutine is blocked, on a channel, a lock or a timer
// that is not yet due. Elsewhere it is approximate.
func othersReady() uint64 {
	s := [...]metrics.Sample{
		{Name: "/sched/goroutines/runnable:goroutines"},
		{Name: "/sched/goroutines/running:goroutines"},
	}
	metrics.Read(s[:])
	var n uint64
	for _, v := range s {
		if v.Value.Kind() == metrics.KindUint64 {
			n += v.Value.Uint64()
		}
	}
	if n > 0 {
		n-- // the caller is running
	}
	return n
}

// perturbDisabled reports whether the guest runs with the seeded scheduling
// perturbation switched off (FFSIM_GUEST_PERTURB=off), so tests can compare
// the perturbed runtime with the unperturbed one.
var perturbDisabled = sync.OnceValue(func() bool {
	return os.Getenv("FFSIM_GUEST_PERTURB") == "off"
})
