package wasmhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing/fstest"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/ffsim/ffsim"
	"github.com/ffsim/ffsim/scenario"
	"github.com/ffsim/ffsim/sim"
)

// Info describes how a [Host] got its guest, for logs and measurements.
type Info struct {
	// GuestPath is the cached guest binary.
	GuestPath string
	// GuestKey is the hash of everything the guest was built from (see
	// New). A seed replays the same interleaving only with the same guest:
	// compare keys when a replay differs.
	GuestKey string
	// GuestSize is its size in bytes.
	GuestSize int64
	// Built is true when this host built the guest (a cache miss).
	Built bool
	// KeyTime is the time spent computing the cache key (go list and
	// hashing), BuildTime the time spent in go build (0 on a hit), and
	// CompileTime the time wazero took to compile the guest (short when
	// its compilation cache had it).
	KeyTime, BuildTime, CompileTime time.Duration
}

// Host runs scenarios as a GOOS=wasip1 guest inside wazero (SPEC §5). It
// implements [sim.Host] and is safe for concurrent use: concurrent runs
// share one runtime and one compiled guest, each with its own instance.
type Host struct {
	cfg  Config
	info Info
	rt   wazero.Runtime
	mod  wazero.CompiledModule
	mem  *memoryPool
	// phase, when set (benchmarks), is called as the guest passes each
	// phase of a run ("instantiate" first, "exited" last), with the guest
	// environment asking for the marks.
	phase func(name string)
	// abandonAfter is how long a cancelled run waits for its guest to stop
	// at a host call before giving up on it (tests shorten it).
	abandonAfter time.Duration
}

var _ sim.Host = (*Host)(nil)

// New builds the guest (or finds it in the cache), compiles it with
// wazero's on-disk compilation cache, and returns a host ready to run
// scenarios. A cold start takes tens of seconds (go build, then wazero's
// compiler), and says so through the configured logger; a warm one well
// under a second. Close the host when done.
//
// The guest is built from the source embedded in this binary
// (ffsim.GuestSource), with the go command on PATH, for GOOS=wasip1
// GOARCH=wasm with CGO_ENABLED=0 and -trimpath, in a scratch directory of
// the cache: it needs a Go toolchain and the module proxy (or a module
// cache holding the guest's dependencies), and no checkout. It is cached
// as CACHE/guest-<key>.wasm, where the key hashes that source, the
// toolchain's version and the build settings, so a stale guest is never
// used; the host's own source is not part of it.
func New(ctx context.Context, cfg Config) (*Host, error) {
	cfg = cfg.withDefaults()
	if cfg.cacheDir == "" {
		cfg.cacheDir = DefaultCacheDir()
	}
	h := &Host{cfg: cfg}
	bin, err := h.guest(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.start(ctx, bin); err != nil {
		return nil, err
	}
	// Keep the cache bounded; a cache that cannot be pruned is not a reason
	// to fail a run.
	if n, err := PruneCache(cfg.cacheDir, DefaultCacheLimit); err != nil {
		cfg.logger.Warn("could not prune the cache", "dir", cfg.cacheDir, "error", err)
	} else if n > 0 {
		cfg.logger.Debug("pruned the cache", "dir", cfg.cacheDir, "bytes", n)
	}
	return h, nil
}

// DefaultCacheDir is where the guest and wazero's compilation cache live by
// default: os.UserCacheDir()/ffsim, or os.TempDir()/ffsim-cache where there
// is no user cache directory.
func DefaultCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "ffsim")
	}
	return filepath.Join(os.TempDir(), "ffsim-cache")
}

// start compiles bin on a new runtime, through wazero's compilation cache.
// A cache that cannot be opened or used is set aside: the guest is compiled
// without it, with a warning, rather than not at all.
func (h *Host) start(ctx context.Context, bin []byte) error {
	h.mem = newMemoryPool(2 * runtime.GOMAXPROCS(0))
	h.abandonAfter = abandonAfter
	cfg := h.cfg
	level := slog.LevelDebug
	if h.info.Built {
		level = slog.LevelInfo // a guest just built cannot be in the cache
	}
	cfg.logger.Log(ctx, level, "compiling the wasm guest", "path", h.info.GuestPath)
	t0 := time.Now()
	dir := filepath.Join(cfg.cacheDir, "wazero")
	err := h.compile(ctx, bin, dir)
	if err != nil && ctx.Err() == nil {
		// A corrupt entry, a full disk, a read-only cache: try once with a
		// fresh cache directory, then without one.
		cfg.logger.Warn("the wasm compilation cache failed; compiling again without it", "dir", dir, "error", err)
		_ = os.RemoveAll(dir)
		err = h.compile(ctx, bin, "")
	}
	if err != nil {
		return fmt.Errorf("wasm host: compiling %s: %w", h.info.GuestPath, err)
	}
	h.info.CompileTime = time.Since(t0)
	cfg.logger.Log(ctx, level, "wasm guest ready", "compile", h.info.CompileTime.Round(time.Millisecond))
	return nil
}

// compile sets up the runtime and compiles bin, using the compilation
// cache in dir ("" for none).
func (h *Host) compile(ctx context.Context, bin []byte, dir string) error {
	rc := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(h.cfg.memoryLimitPages).
		WithCloseOnContextDone(h.cfg.interruptible)
	var cache wazero.CompilationCache
	if dir != "" {
		var err error
		if cache, err = wazero.NewCompilationCacheWithDir(dir); err != nil {
			return err
		}
		rc = rc.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	fail := func(err error) error {
		_ = rt.Close(ctx)
		if cache != nil {
			_ = cache.Close(ctx)
		}
		return err
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fail(fmt.Errorf("WASI: %w", err))
	}
	if err := instantiateSQLHost(ctx, rt); err != nil {
		return fail(fmt.Errorf("SQL host functions: %w", err))
	}
	mod, err := rt.CompileModule(ctx, bin)
	if err != nil {
		return fail(err)
	}
	h.rt, h.mod = rt, mod
	if cache != nil {
		h.rt = closeWith{rt, cache} // the runtime closes the cache with itself
	}
	return nil
}

// closeWith is a runtime that also closes its compilation cache.
type closeWith struct {
	wazero.Runtime
	cache wazero.CompilationCache
}

func (c closeWith) Close(ctx context.Context) error {
	return errors.Join(c.Runtime.Close(ctx), c.cache.Close(ctx))
}

// tags are the guest's build tags.
func (h *Host) tags() []string {
	if h.cfg.sqliteInGuest {
		return []string{sqliteInGuestTag}
	}
	return nil
}

// guest returns the guest binary, building it when the cache has none for
// this source, toolchain and settings, or has a corrupt one.
func (h *Host) guest(ctx context.Context) ([]byte, error) {
	goBin, err := lookGo()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(h.cfg.cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("wasm host: cache: %w", err)
	}
	t0 := time.Now()
	key, err := guestKey(ctx, goBin, ffsim.GuestSource, h.tags())
	if err != nil {
		return nil, fmt.Errorf("wasm host: guest cache key: %w", err)
	}
	h.info.KeyTime = time.Since(t0)
	h.info.GuestKey = key
	h.info.GuestPath = filepath.Join(h.cfg.cacheDir, "guest-"+key[:32]+".wasm")
	unlock, err := lockDir(h.cfg.cacheDir)
	if err != nil {
		return nil, fmt.Errorf("wasm host: cache lock: %w", err)
	}
	defer unlock()
	bin, err := readGuest(h.info.GuestPath)
	if errors.Is(err, errCorrupt) {
		h.cfg.logger.Warn("discarding a corrupt cached guest", "path", h.info.GuestPath, "error", err)
		os.Remove(h.info.GuestPath)
	}
	if err != nil {
		h.cfg.logger.Info("building the wasm guest with the go command (first run for this ffsim build; a minute or two with cold Go caches)",
			"cache", h.cfg.cacheDir, "sqlite_in_guest", h.cfg.sqliteInGuest)
		t0 = time.Now()
		if err := buildGuest(ctx, goBin, ffsim.GuestSource, h.tags(), h.info.GuestPath); err != nil {
			return nil, err
		}
		h.info.BuildTime = time.Since(t0)
		h.info.Built = true
		pruneGuests(h.cfg.cacheDir, 4)
		bin, err = readGuest(h.info.GuestPath)
	}
	if err != nil {
		return nil, fmt.Errorf("wasm host: %w", err)
	}
	now := time.Now()
	_ = os.Chtimes(h.info.GuestPath, now, now) // most recently used, for pruning
	h.info.GuestSize = int64(len(bin))
	return bin, nil
}

// Info says how the host got its guest.
func (h *Host) Info() Info { return h.info }

// Name returns "wasm".
func (h *Host) Name() string { return sim.HostWasm }

// Close releases the runtime, the compiled guest and the compilation
// cache. Runs still in progress are stopped.
func (h *Host) Close() error { return h.rt.Close(context.Background()) }

// Run runs sc once in a fresh guest instance, with the seed opts gives (or
// the scenario's), and returns its result with Host "wasm". It never
// returns nil and never hangs: a guest that deadlocks, crashes or runs
// past the simulated-time limit becomes a failed result saying so; one
// that runs past the wall-clock timeout or out of memory, or whose ctx
// ends, becomes an error result (the host could not finish the run).
// opts.StallTimeout does not apply on this host; the configured timeout
// does.
func (h *Host) Run(ctx context.Context, sc *scenario.Scenario, opts sim.Options) *sim.Result {
	return h.run(ctx, sc, opts, nil)
}

// guestScenario is where the scenario is mounted in the guest.
const guestScenario = "/scenario.json"

// maxGuestStdout bounds what a guest may write to stdout.
const maxGuestStdout = 256 << 20

// run is Run with extra guest environment variables (tests).
func (h *Host) run(ctx context.Context, sc *scenario.Scenario, opts sim.Options, env []string) *sim.Result {
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = DefaultMaxEvents
	}
	opts = opts.WithDefaults()
	seed := opts.SeedFor(sc)
	ended := func(status sim.Status, elapsed time.Duration, msg string) *sim.Result {
		return &sim.Result{
			Name: sc.Name, File: sc.File, Host: sim.HostWasm, Seed: seed, Status: status,
			SimDuration: elapsed,
			Failure:     &sim.Failure{Pos: scenario.Pos{File: sc.File}, Message: msg},
		}
	}
	if errs := sc.Check(); len(errs) > 0 {
		return ended(sim.Fail, 0, "invalid scenario: "+errs.Error())
	}
	data, err := json.Marshal(sc)
	if err != nil {
		return ended(sim.Error, 0, fmt.Sprintf("wasm host: encoding the scenario: %v", err))
	}

	ctx, cancelTimeout := context.WithTimeoutCause(ctx, h.cfg.timeout, errWallTimeout)
	defer cancelTimeout()
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	clk := newGuestClock(ctx, sc.StartTime(), opts.MaxSimTime+24*time.Hour, stop)

	stdout := guestStdout{limit: maxGuestStdout}
	stderr := guestStderr{limit: 16 << 10, phase: h.phase}
	if h.phase != nil {
		env = append(env, "FFSIM_GUEST_PHASES=1")
		h.phase("instantiate")
	}
	mc := wazero.NewModuleConfig().
		WithName("").
		WithArgs("ffsim-guest",
			"-scenario", guestScenario,
			"-seed", strconv.FormatUint(seed, 10),
			"-max-sim-time", opts.MaxSimTime.String(),
			"-trace-tail", strconv.Itoa(opts.TraceTail),
			"-max-events", strconv.Itoa(opts.MaxEvents),
			"-full-trace="+strconv.FormatBool(opts.FullTrace)).
		WithFSConfig(wazero.NewFSConfig().WithFSMount(fstest.MapFS{
			strings.TrimPrefix(guestScenario, "/"): {Data: data, Mode: 0o444},
		}, "/")).
		WithStdout(&stdout).
		WithStderr(&stderr).
		WithWalltime(clk.walltime, 1).
		WithNanotime(clk.nanotime, 1).
		WithNanosleep(clk.nanosleep).
		WithRandSource(seededRand(seed)).
		WithStartFunctions("_start")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		mc = mc.WithEnv(k, v)
	}

	if !h.cfg.sqliteInGuest {
		sr, err := newSQLRun()
		if err != nil {
			return ended(sim.Error, 0, fmt.Sprintf("wasm host: the guest's database: %v", err))
		}
		defer sr.close()
		ctx = context.WithValue(ctx, sqlRunKey{}, sr)
	}
	err = h.instantiate(ctx, mc)
	if h.phase != nil {
		h.phase("exited")
	}
	return h.result(ctx, err, clk, &stdout, &stderr, ended)
}

// result reads the end of a guest's run: how instantiate ended, the
// cancellation's cause, the guest's stderr, or the result it wrote.
func (h *Host) result(ctx context.Context, err error, clk *guestClock, stdout *guestStdout, stderr *guestStderr,
	ended func(sim.Status, time.Duration, string) *sim.Result) *sim.Result {
	if errors.Is(err, errAbandoned) {
		return ended(sim.Error, clk.now(), fmt.Sprintf("wasm guest did not stop: still computing %v after it was told to (%v), without calling the host; it was abandoned, still running (Config.WithInterruptible stops such a guest, at a cost in speed)%s", h.abandonAfter, context.Cause(ctx), stderrTail(stderr)))
	}
	if err != nil {
		if ctx.Err() != nil {
			cause := context.Cause(ctx)
			switch {
			case errors.Is(cause, errSimLimit):
				return ended(sim.Fail, clk.now(), fmt.Sprintf("wasm guest ran past the simulated-time limit (%v after the start) without finishing: a step is waiting for something that never happens while timers keep firing%s", clk.now(), stderrTail(stderr)))
			case errors.Is(cause, errWallTimeout):
				return ended(sim.Error, clk.now(), fmt.Sprintf("wasm guest timed out: still running after %v of wall-clock time (simulated time had reached %v)%s", h.cfg.timeout, clk.now(), stderrTail(stderr)))
			default:
				return ended(sim.Error, clk.now(), fmt.Sprintf("wasm run stopped: %v (simulated time had reached %v)", cause, clk.now()))
			}
		}
		var ee *sys.ExitError
		switch errText := stderr.String(); {
		case strings.Contains(errText, "all goroutines are asleep"):
			return ended(sim.Fail, clk.now(), fmt.Sprintf("wasm guest deadlock: all goroutines are asleep and no timer is pending, so nothing can ever wake them (simulated time %v)%s", clk.now(), stderrTail(stderr)))
		case strings.Contains(errText, "out of memory"):
			return ended(sim.Error, clk.now(), fmt.Sprintf("wasm guest ran out of memory (limit %d pages, %d MiB: Config.WithMemoryLimitPages)%s", h.cfg.memoryLimitPages, h.cfg.memoryLimitPages/16, stderrTail(stderr)))
		case errors.As(err, &ee):
			return ended(sim.Fail, clk.now(), fmt.Sprintf("wasm guest exited with status %d%s", ee.ExitCode(), stderrTail(stderr)))
		default:
			return ended(sim.Fail, clk.now(), fmt.Sprintf("wasm guest failed: %v%s", err, stderrTail(stderr)))
		}
	}
	var res sim.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return ended(sim.Fail, clk.now(), fmt.Sprintf("wasm guest wrote no result (%v)%s", err, stderrTail(stderr)))
	}
	res.Host = sim.HostWasm
	return &res
}

// errWallTimeout is the cause of a run that exceeded the configured
// timeout.
var errWallTimeout = errors.New("wall-clock timeout")

// abandonAfter is how long a run waits, once cancelled, for its guest to
// reach a host call and stop, before it gives up on it. A guest that never
// calls the host also keeps the host's garbage collector from stopping the
// world (compiled wasm has no Go safe points), so the wait is short and
// the report says what happened.
const abandonAfter = 2 * time.Second

// errAbandoned: the guest never reached a host call after cancellation.
var errAbandoned = errors.New("guest abandoned")

// instantiate runs the guest to its end. Unless the host is
// interruptible, the compiled code does not check for cancellation: the
// host's functions do (guestClock, the SQL functions), and the guest calls
// them constantly. A guest that never calls them again is abandoned.
func (h *Host) instantiate(ctx context.Context, mc wazero.ModuleConfig) error {
	ictx := h.mem.with(ctx)
	if h.cfg.interruptible {
		return h.instantiateNow(ictx, mc)
	}
	done := make(chan error, 1)
	go func() { done <- h.instantiateNow(ictx, mc) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	t := time.NewTimer(h.abandonAfter)
	defer t.Stop()
	select {
	case err := <-done:
		if err == nil {
			// The guest ended after the run was cancelled, having never
			// reached a host call that would have stopped it (the
			// abandonment timer may not have fired: a guest computing
			// without host calls also holds up the host's garbage
			// collector, and with it every goroutine). What it wrote is
			// not a result of this run: report the cancellation.
			err = context.Cause(ctx)
		}
		return err
	case <-t.C:
		return errAbandoned
	}
}

func (h *Host) instantiateNow(ctx context.Context, mc wazero.ModuleConfig) error {
	mod, err := h.rt.InstantiateModule(ctx, h.mod, mc)
	if mod != nil {
		_ = mod.Close(context.Background())
	}
	return err
}
