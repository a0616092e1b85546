package wasmhost

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero/sys"
)

// monoEpoch is the guest's monotonic reading at elapsed 0. It is not 0
// because the Go runtime uses a timer deadline of 0 as "not set".
const monoEpoch = int64(time.Second)

// errSimLimit stops a guest whose simulated time ran past the limit.
var errSimLimit = errors.New("simulated-time limit")

// guestClock is one run's virtual time. The guest reads it through WASI
// clock_time_get (walltime = start + elapsed, nanotime = monoEpoch +
// elapsed) and "sleeps" through poll_oneoff, which calls nanosleep. The Go
// runtime of a single-threaded wasip1 guest only sleeps when every
// goroutine is blocked, for exactly as long as the earliest timer needs, so
// advancing elapsed by the requested amount skips time forward to the next
// event and never past it. Nothing else moves it: a computation takes no
// simulated time.
type guestClock struct {
	// ctx is the run's: a guest is stopped at its next clock reading once
	// it is done (see Host.instantiate).
	ctx     context.Context
	start   time.Time
	elapsed atomic.Int64 // ns since start
	limit   int64        // ns since start; sleeping past it stops the run
	stop    context.CancelCauseFunc
}

func newGuestClock(ctx context.Context, start time.Time, limit time.Duration, stop context.CancelCauseFunc) *guestClock {
	return &guestClock{ctx: ctx, start: start, limit: int64(limit), stop: stop}
}

// exitCancelled is the exit status a cancelled guest is stopped with; the
// run reports the cancellation's cause, not the status.
const exitCancelled = 130

// checkStop ends the guest if its run is cancelled (timeout, simulated-time
// limit, the caller's context): a host function that panics with an exit
// error stops the guest at once.
func checkStop(ctx context.Context) {
	if ctx.Err() != nil {
		panic(sys.NewExitError(exitCancelled))
	}
}

func (c *guestClock) now() time.Duration { return time.Duration(c.elapsed.Load()) }

func (c *guestClock) walltime() (sec int64, nsec int32) {
	checkStop(c.ctx)
	t := c.start.Add(c.now())
	return t.Unix(), int32(t.Nanosecond())
}

func (c *guestClock) nanotime() int64 {
	checkStop(c.ctx)
	return monoEpoch + c.elapsed.Load()
}

// nanosleep advances virtual time by ns instead of sleeping. The guest is
// single-threaded, so there is one caller at a time.
func (c *guestClock) nanosleep(ns int64) {
	if ns <= 0 {
		return
	}
	checkStop(c.ctx)
	cur := c.elapsed.Load()
	if ns > c.limit-cur {
		c.elapsed.Store(c.limit)
		c.stop(errSimLimit)
		checkStop(c.ctx)
	}
	c.elapsed.Store(cur + ns)
}

// seededRand is the guest's random source for a seed: ChaCha8 keyed by a
// hash of the seed, so the guest runtime's own randomness (map iteration,
// select, scheduling of timers' goroutines) is fixed by the seed too.
func seededRand(seed uint64) io.Reader {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	key := sha256.Sum256(append([]byte("ffsim-wasm-rand/"), b[:]...))
	return rand.NewChaCha8(key)
}
