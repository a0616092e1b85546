package harness_test

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ffsim/ffsim/harness"
	"github.com/ffsim/ffsim/sim"
)

// TestLibraryOnWasm: every library scenario passes on the wasm host, and
// the race-free ones (all but race_*.yaml, whose outcomes the seed may
// change) end in exactly the budget state the native host reaches (SPEC §5).
func TestLibraryOnWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("wasm host: skipped with -short (builds and compiles a wasip1 guest)")
	}
	ctx := context.Background()
	h, err := sim.NewWasmHost(ctx, sim.WasmConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(ctx) }) // after the parallel subtests, unlike defer
	scs, err := harness.LoadPaths([]string{library})
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			wasm := h.Run(ctx, sc, sim.Options{})
			if wasm.Status != sim.Pass {
				var b strings.Builder
				harness.WriteFailure(&b, wasm, 12)
				t.Fatal("\n" + b.String())
			}
			if strings.HasPrefix(filepath.Base(sc.File), "race_") {
				return
			}
			native := sim.Run(sc, sim.Options{})
			if !reflect.DeepEqual(native.Final, wasm.Final) {
				t.Fatalf("final state differs:\nnative %+v\nwasm   %+v", native.Final, wasm.Final)
			}
		})
	}
}
