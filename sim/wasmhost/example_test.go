package wasmhost_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/ffsim/ffsim/internal/testscenarios"
	"github.com/ffsim/ffsim/sim"
	"github.com/ffsim/ffsim/sim/wasmhost"
)

// Running one scenario under many seeds on the wasm host: each seed fixes
// the guest runtime's choices, so a seed that fails replays exactly. (Not
// run as a test: the first New builds and compiles the guest, which takes
// a minute.)
func Example() {
	ctx := context.Background()
	h, err := wasmhost.New(ctx, wasmhost.NewConfig().WithTimeout(time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	defer h.Close()
	sc := testscenarios.RacyShutdown()
	for seed := uint64(1); seed <= 8; seed++ {
		res := h.Run(ctx, sc, sim.Options{Seed: &seed})
		fmt.Println(seed, res.Status, res.Digest[:12])
	}
}
