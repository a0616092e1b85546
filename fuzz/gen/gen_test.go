package gen_test

import (
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"testing"

	"github.com/ffsim/ffsim/fuzz/gen"
	"github.com/ffsim/ffsim/fuzz/model"
	"github.com/ffsim/ffsim/scenario"
)

// seeds is how many seeds the exhaustive tests cover: 10^4, a tenth with
// -short, or FFSIM_GEN_SEEDS.
func seeds(t *testing.T) uint64 {
	if s := os.Getenv("FFSIM_GEN_SEEDS"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if testing.Short() {
		return 1000
	}
	return 10000
}

// TestGeneratedScenariosAreValid: every generated scenario passes
// Validate, has the documented name and seed, and stays within the step
// bounds.
func TestGeneratedScenariosAreValid(t *testing.T) {
	for seed := range seeds(t) {
		sc := gen.Generate(seed, gen.Options{})
		if err := sc.Validate(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if sc.Name != "gen seed "+strconv.FormatUint(seed, 10) || sc.Seed != seed {
			t.Fatalf("seed %d: name %q, seed %d", seed, sc.Name, sc.Seed)
		}
		if n := len(sc.Steps); n < 5 || n > 25 {
			t.Fatalf("seed %d: %d steps", seed, n)
		}
	}
}

// TestGeneratedScenariosAreModellable: the model interprets every
// generated scenario, for the native host's order of ties; every order is
// followed for a tenth of them (it is slower). A third of seeds(t), to keep
// the test quick: FFSIM_GEN_SEEDS=10000 checks 10^4 (see
// docs/fuzzing.md).
func TestGeneratedScenariosAreModellable(t *testing.T) {
	n := seeds(t)
	if os.Getenv("FFSIM_GEN_SEEDS") == "" {
		n /= 3
	}
	for seed := range n {
		sc := gen.Generate(seed, gen.Options{})
		if _, err := model.Annotate(sc, model.Options{Checks: true, Native: true}); err != nil {
			t.Fatalf("seed %d (native): %v", seed, err)
		}
		if seed%10 == 0 {
			if _, err := model.Annotate(sc, model.Options{Checks: true}); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
		}
	}
}

// TestGenerateIsDeterministic: the same seed gives the same scenario.
func TestGenerateIsDeterministic(t *testing.T) {
	for seed := range uint64(200) {
		a, b := gen.Generate(seed, gen.Options{}), gen.Generate(seed, gen.Options{})
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: two generations differ", seed)
		}
	}
}

// TestGenerateCoversEveryStep: over a few hundred seeds, every kind of
// action step appears, top-level and inside concurrently, and so do the
// boundaries the generator aims at.
func TestGenerateCoversEveryStep(t *testing.T) {
	seen := map[string]bool{}
	var note func(s *scenario.Step, inside bool)
	note = func(s *scenario.Step, inside bool) {
		k := s.Kind().String()
		seen[k] = true
		if inside {
			seen["concurrently:"+k] = true
		}
		switch {
		case s.Shutdown != nil && s.Shutdown.Grace == 0:
			seen["grace 0"] = true
		case s.MarkWorkerDead != nil && len(s.MarkWorkerDead.Reason) == 256:
			seen["reason 256"] = true
		case s.MarkWorkerDead != nil && len(s.MarkWorkerDead.Reason) == 257:
			seen["reason 257"] = true
		case s.ReportUsage != nil && s.ReportUsage.DedupKey != "":
			seen["dedup"] = true
		case s.DBError != nil:
			seen["db_error "+s.DBError.Code] = true
		case s.SlowTick != nil:
			seen["slow "+s.SlowTick.Place()] = true
		}
		for i := range s.Concurrently {
			note(&s.Concurrently[i], true)
		}
	}
	for seed := range uint64(500) {
		sc := gen.Generate(seed, gen.Options{})
		if len(sc.Budgets) > 20 {
			seen["more than a batch"] = true
		}
		if sc.Store.BusyTimeout != nil {
			seen["busy_timeout"] = true
		}
		for i := range sc.Steps {
			note(&sc.Steps[i], false)
		}
	}
	want := []string{"grace 0", "reason 256", "reason 257", "dedup", "slow before_tx", "slow inside_tx",
		"more than a batch", "busy_timeout", "concurrently:shutdown", "concurrently:heartbeat_worker", "concurrently:sweep_tick"}
	for _, k := range scenario.Kinds() {
		if !k.Info().Check {
			want = append(want, k.String())
		}
	}
	for _, c := range scenario.DBErrorCodes {
		want = append(want, "db_error "+c)
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("500 seeds never generated %s", w)
		}
	}
}

// TestGenerateBytes: any bytes give a valid scenario, and the same bytes
// the same one; no bytes at all give the smallest.
func TestGenerateBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		data := make([]byte, r.IntN(200))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		sc := gen.GenerateBytes(data, gen.Options{})
		if err := sc.Validate(); err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
		if !reflect.DeepEqual(sc, gen.GenerateBytes(data, gen.Options{})) {
			t.Fatalf("input %d: not deterministic", i)
		}
	}
	if sc := gen.GenerateBytes(nil, gen.Options{}); len(sc.Steps) != 5 {
		t.Errorf("no bytes: %d steps, want the minimum 5", len(sc.Steps))
	}
}

// TestOptionsBoundSteps: MinSteps and MaxSteps hold.
func TestOptionsBoundSteps(t *testing.T) {
	for seed := range uint64(300) {
		sc := gen.Generate(seed, gen.Options{MinSteps: 2, MaxSteps: 4})
		if n := len(sc.Steps); n < 2 || n > 4 {
			t.Fatalf("seed %d: %d steps, want 2..4", seed, n)
		}
	}
}
