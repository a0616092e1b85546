package reconcilers_test

// Micro-benchmarks that split the budget_reset tick (the floor of every
// simulated tick, see sim/bench_test.go and docs/PERFORMANCE.md) into its
// two costs: the scan every tick pays, and the reset transaction each due
// budget pays.

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/ffsim/ffsim/reconcilers"
)

var benchStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fixedClock reads what the benchmark set; the workloads never wait on it.
type fixedClock struct{ now time.Time }

func (c *fixedClock) Now() time.Time { return c.now }
func (c *fixedClock) WithTimeout(p context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(p, d)
}

// benchStore holds n budgets with one dimension and some usage, created at
// benchStart with reset_interval 60s.
func benchStore(b *testing.B, n int) (*reconcilers.Store, *fixedClock) {
	b.Helper()
	clk := &fixedClock{now: benchStart}
	st, err := reconcilers.OpenMemory("", reconcilers.WithClock(clk), reconcilers.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ctx := context.Background()
	for i := range n {
		id := fmt.Sprintf("b%03d", i)
		if _, err := st.CreateBudget(ctx, reconcilers.BudgetSpec{
			ID: id, Scope: reconcilers.Scope{Type: "flow", ID: id}, EnforcementMode: "strict",
			OnHardLimit: "fail", OnSoftLimit: "warn", ResetInterval: time.Minute,
			Dimensions: []string{"tokens"}, HardLimits: []int64{1_000_000}, SoftLimits: []int64{0},
		}); err != nil {
			b.Fatal(err)
		}
		if _, err := st.ReportUsage(ctx, id, map[string]int64{"tokens": 10}, ""); err != nil {
			b.Fatal(err)
		}
	}
	return st, clk
}

// BenchmarkScanTickNothingDue is a tick that finds nothing due: the scan
// query alone. 55 of every 60 ticks of the soak workload are like this.
func BenchmarkScanTickNothingDue(b *testing.B) {
	st, _ := benchStore(b, 100)
	ctx := context.Background()
	for b.Loop() {
		rep, err := st.ScanTick(ctx, benchStart.Add(time.Second))
		if err != nil || rep.Processed != 0 {
			b.Fatalf("%+v %v", rep, err)
		}
	}
}

// BenchmarkScanTickBatchOf20 is a tick that resets a full batch (R1: 20
// budgets, each in its own write transaction); ns/reset is its cost per
// budget. Each operation moves time on by the reset interval, so 20
// budgets are due every time.
func BenchmarkScanTickBatchOf20(b *testing.B) {
	st, clk := benchStore(b, 100)
	ctx := context.Background()
	now := benchStart
	for b.Loop() {
		now = now.Add(time.Minute)
		clk.now = now
		rep, err := st.ScanTick(ctx, now)
		if err != nil || rep.Processed != 20 || rep.Errors != 0 {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/20, "ns/reset")
}
