package reconcilers_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/ffsim/ffsim/reconcilers"
)

// Embedding the supervisor in a server: the real clock, a budget store, and a
// bounded drain on shutdown.
func Example() {
	clk := clock.New() // production time; tests pass clock.NewMock() or a simulator's clock
	store, err := reconcilers.OpenMemory("", reconcilers.WithClock(clk))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	ctx := context.Background()
	if _, err := store.CreateBudget(ctx, reconcilers.BudgetSpec{
		ID:              "b1",
		Scope:           reconcilers.Scope{Type: "flow", ID: "flow-1"},
		EnforcementMode: "strict",
		OnHardLimit:     "fail",
		OnSoftLimit:     "warn",
		ResetInterval:   time.Hour,
		Dimensions:      []string{"tokens"},
		HardLimits:      []int64{1000},
		SoftLimits:      []int64{800},
	}); err != nil {
		log.Fatal(err)
	}
	out, err := store.ReportUsage(ctx, "b1", map[string]int64{"tokens": 900}, "req-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("report:", out.Kind)

	sup, err := reconcilers.Spawn(store, reconcilers.Config{BudgetResetInterval: 30 * time.Second},
		reconcilers.WithClock(clk),
		reconcilers.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	// ... serve ...
	fmt.Println("timed out:", sup.Shutdown(5*time.Second))
	// Output:
	// report: soft_breach
	// timed out: 0
}
