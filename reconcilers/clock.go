package reconcilers

import (
	"context"
	"math"
	"time"
)

// Clock is the smallest time source the supervisor and the store need. Both
// clock.New() and *clock.Mock from github.com/benbjohnson/clock satisfy it.
//
// Waits are expressed as contexts (WithTimeout) rather than channels so that
// a wait can be abandoned: a goroutine woken by shutdown cancels its timer
// instead of leaving it behind. A simulator relies on that to know, without
// polling, which goroutines are parked on the clock and which are running.
type Clock interface {
	Now() time.Time
	WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc)
}

// sleep waits d on c. It returns ctx's error if ctx ends first, nil otherwise.
func sleep(ctx context.Context, c Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	w, cancel := c.WithTimeout(ctx, d)
	<-w.Done()
	cancel()
	return ctx.Err()
}

// waitDone blocks until ctx is done. It waits through the clock (with a
// timeout that never elapses in practice) rather than on ctx.Done() directly,
// so a simulator sees the goroutine parked.
func waitDone(ctx context.Context, c Clock) {
	w, cancel := c.WithTimeout(ctx, time.Duration(math.MaxInt64))
	<-w.Done()
	cancel()
}
