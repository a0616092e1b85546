package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing/fstest"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// Defaults of [WasmConfig].
const (
	// DefaultWasmMemoryLimitPages is 512 MiB of guest memory; the spec
	// example needs about 12 MiB.
	DefaultWasmMemoryLimitPages = 8192
	// DefaultWasmTimeout is the wall-clock limit of one guest run.
	DefaultWasmTimeout = 2 * time.Minute
)

// WasmConfig configures a [WasmHost]. Every zero field takes its default.
type WasmConfig struct {
	// CacheDir holds the built guest (guest-<key>.wasm) and wazero's
	// compilation cache (wazero/). Default: os.UserCacheDir()/ffsim, or
	// os.TempDir()/ffsim-cache where there is no user cache directory.
	CacheDir string
	// ModuleDir is the root of the ffsim module (the directory of the go.mod
	// that declares github.com/ffsim/ffsim) the guest is built from. Default:
	// found by walking up from the working directory; NewWasmHost fails if
	// there is none, since the wasm host needs the ffsim source and a Go
	// toolchain.
	ModuleDir string
	// MemoryLimitPages caps each guest's linear memory, in 64 KiB pages.
	// Default: [DefaultWasmMemoryLimitPages].
	MemoryLimitPages uint32
	// Timeout bounds each run in wall-clock time; a run that takes longer
	// fails with a timeout. Default: [DefaultWasmTimeout].
	Timeout time.Duration
	// Logger, when set, receives progress: at info level the slow first-run
	// steps (building the guest, then compiling it, tens of seconds), at
	// debug level the rest. Default: silent.
	Logger *slog.Logger
}

func (c WasmConfig) withDefaults() (WasmConfig, error) {
	if c.CacheDir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			c.CacheDir = filepath.Join(d, "ffsim")
		} else {
			c.CacheDir = filepath.Join(os.TempDir(), "ffsim-cache")
		}
	}
	if c.ModuleDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return c, fmt.Errorf("wasm host: %w", err)
		}
		if c.ModuleDir, err = findModuleDir(wd); err != nil {
			return c, err
		}
	} else if p, err := readModulePath(filepath.Join(c.ModuleDir, "go.mod")); err != nil || p != ffsimModule {
		return c, fmt.Errorf("wasm host: ModuleDir %s is not the root of module %s (its go.mod: %q, %v)", c.ModuleDir, ffsimModule, p, err)
	}
	if c.MemoryLimitPages == 0 {
		c.MemoryLimitPages = DefaultWasmMemoryLimitPages
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultWasmTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// WasmInfo describes how a [WasmHost] got its guest, for logs and
// measurements.
type WasmInfo struct {
	// GuestPath is the cached guest binary.
	GuestPath string
	// GuestKey is the hash of everything the guest was built from (see
	// NewWasmHost). A seed replays the same interleaving only with the same
	// guest: compare keys when a replay differs.
	GuestKey string
	// GuestSize is its size in bytes.
	GuestSize int64
	// Built is true when this host built the guest (a cache miss).
	Built bool
	// KeyTime is the time spent computing the cache key (go list and
	// hashing), BuildTime the time spent in go build (0 on a hit), and
	// CompileTime the time wazero took to compile the guest (short when its
	// compilation cache had it).
	KeyTime, BuildTime, CompileTime time.Duration
}

// WasmHost runs scenarios as a GOOS=wasip1 guest inside wazero (SPEC §5).
// The host owns the guest's clocks, its sleep and its random source: time
// is virtual and skips forward whenever every guest goroutine is blocked,
// and the seed fixes every choice the Go runtime and the simulator make, so
// one seed gives one interleaving, every time.
//
// A WasmHost is safe for concurrent use: concurrent [WasmHost.Run] calls
// share one runtime and one compiled guest, each with its own instance.
type WasmHost struct {
	cfg  WasmConfig
	info WasmInfo
	rt   wazero.Runtime
	mod  wazero.CompiledModule
}

// NewWasmHost builds the guest (or finds it in the cache), compiles it with
// wazero's on-disk compilation cache, and returns a host ready to run
// scenarios. A cold start takes tens of seconds (go build, then wazero's
// compiler); a warm one well under a second. Close the host when done.
//
// The guest is built with the go command on PATH, for GOOS=wasip1
// GOARCH=wasm with CGO_ENABLED=0 and -trimpath, from cfg.ModuleDir. It is
// cached as CacheDir/guest-<key>.wasm, where the key hashes the output of
// go version, the build settings, go.mod, go.sum, and the source files of
// every package the guest imports from outside the read-only module cache
// (packages from the module cache are named by module path and version),
// as listed by go list -deps: an unchanged tree reuses the guest, any
// change that can affect it rebuilds it.
func NewWasmHost(ctx context.Context, cfg WasmConfig) (*WasmHost, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &WasmHost{cfg: cfg}
	bin, err := h.guest(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.start(ctx, bin); err != nil {
		return nil, err
	}
	return h, nil
}

// start compiles bin (through the compilation cache) on a new runtime.
func (h *WasmHost) start(ctx context.Context, bin []byte) error {
	cfg := h.cfg
	cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(cfg.CacheDir, "wazero"))
	if err != nil {
		return fmt.Errorf("wasm host: compilation cache: %w", err)
	}
	rc := wazero.NewRuntimeConfig().
		WithCompilationCache(cache).
		WithMemoryLimitPages(cfg.MemoryLimitPages).
		WithCloseOnContextDone(true)
	h.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	fail := func(err error) error {
		_ = h.rt.Close(ctx)
		_ = cache.Close(ctx)
		return err
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, h.rt); err != nil {
		return fail(fmt.Errorf("wasm host: WASI: %w", err))
	}
	// A guest just built cannot be in the compilation cache: say that this
	// takes a while. Otherwise the compilation is usually a cache hit.
	level := slog.LevelDebug
	if h.info.Built {
		level = slog.LevelInfo
	}
	cfg.Logger.Log(ctx, level, "compiling the wasm guest", "path", h.info.GuestPath)
	t0 := time.Now()
	h.mod, err = h.rt.CompileModule(ctx, bin)
	if err != nil {
		return fail(fmt.Errorf("wasm host: compiling %s: %w", h.info.GuestPath, err))
	}
	h.info.CompileTime = time.Since(t0)
	// The runtime closes the cache with itself.
	h.rt = closeWith{h.rt, cache}
	cfg.Logger.Log(ctx, level, "wasm guest ready", "compile", h.info.CompileTime)
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

// guest returns the guest binary, building it when the cache has none for
// the current sources.
func (h *WasmHost) guest(ctx context.Context) ([]byte, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("wasm host: no Go toolchain: the wasm host builds its guest from the ffsim source with go build: %w", err)
	}
	if err := os.MkdirAll(h.cfg.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("wasm host: cache: %w", err)
	}
	t0 := time.Now()
	key, err := guestKey(ctx, goBin, h.cfg.ModuleDir)
	if err != nil {
		return nil, fmt.Errorf("wasm host: guest cache key: %w", err)
	}
	h.info.KeyTime = time.Since(t0)
	h.info.GuestKey = key
	h.info.GuestPath = filepath.Join(h.cfg.CacheDir, "guest-"+key[:32]+".wasm")
	bin, err := os.ReadFile(h.info.GuestPath)
	if errors.Is(err, os.ErrNotExist) {
		h.cfg.Logger.Info("building the wasm guest (first run for this source tree)", "module", h.cfg.ModuleDir)
		t0 = time.Now()
		if err := buildGuest(ctx, goBin, h.cfg.ModuleDir, h.info.GuestPath); err != nil {
			return nil, err
		}
		h.info.BuildTime = time.Since(t0)
		h.info.Built = true
		pruneGuests(h.cfg.CacheDir, 4)
		bin, err = os.ReadFile(h.info.GuestPath)
	}
	if err != nil {
		return nil, fmt.Errorf("wasm host: %w", err)
	}
	h.info.GuestSize = int64(len(bin))
	return bin, nil
}

// Info says how the host got its guest.
func (h *WasmHost) Info() WasmInfo { return h.info }

// Close releases the runtime, the compiled guest and the compilation cache.
// Runs still in progress are stopped.
func (h *WasmHost) Close(ctx context.Context) error {
	return h.rt.Close(ctx)
}

// Run runs sc once in a fresh guest instance, with the seed opts gives (or
// the scenario's), and returns its result with Host "wasm". It never
// returns nil and never hangs: a guest that deadlocks, crashes, runs past
// the simulated-time limit or past the wall-clock timeout (or whose ctx
// ends) becomes a failed result saying so. opts.StallTimeout does not apply
// on this host; WasmConfig.Timeout does.
func (h *WasmHost) Run(ctx context.Context, sc *Scenario, opts Options) *Result {
	return h.run(ctx, sc, opts, nil)
}

// guestScenario is where the scenario is mounted in the guest.
const guestScenario = "/scenario.json"

// maxGuestStdout bounds what a guest may write to stdout.
const maxGuestStdout = 256 << 20

// run is Run with extra guest environment variables (tests).
func (h *WasmHost) run(ctx context.Context, sc *Scenario, opts Options, env []string) *Result {
	opts = opts.withDefaults()
	seed := sc.Seed
	if opts.Seed != nil {
		seed = *opts.Seed
	}
	failed := func(elapsed time.Duration, msg string) *Result {
		return &Result{
			Name: sc.Name, File: sc.File, Host: HostWasm, Seed: seed, Status: Fail,
			SimDuration: elapsed,
			Failure:     &Failure{Pos: Pos{File: sc.File}, Message: msg},
		}
	}
	data, err := json.Marshal(sc)
	if err != nil {
		return failed(0, fmt.Sprintf("wasm host: encoding the scenario: %v", err))
	}

	ctx, cancelTimeout := context.WithTimeoutCause(ctx, h.cfg.Timeout, errWallTimeout)
	defer cancelTimeout()
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	clk := newGuestClock(sc.Start, opts.MaxSimTime+24*time.Hour, stop)

	stdout := guestStdout{limit: maxGuestStdout}
	stderr := guestStderr{limit: 16 << 10}
	mc := wazero.NewModuleConfig().
		WithName("").
		WithArgs("ffsim-guest",
			"-scenario", guestScenario,
			"-seed", strconv.FormatUint(seed, 10),
			"-max-sim-time", opts.MaxSimTime.String()).
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

	mod, err := h.rt.InstantiateModule(ctx, h.mod, mc)
	if mod != nil {
		_ = mod.Close(context.Background())
	}
	if err != nil {
		if ctx.Err() != nil {
			cause := context.Cause(ctx)
			switch {
			case errors.Is(cause, errSimLimit):
				return failed(clk.now(), fmt.Sprintf("wasm guest ran past the simulated-time limit (%v after the start) without finishing: a step is waiting for something that never happens while timers keep firing%s", clk.now(), stderrTail(&stderr)))
			case errors.Is(cause, errWallTimeout):
				return failed(clk.now(), fmt.Sprintf("wasm guest timed out: still running after %v of wall-clock time (simulated time had reached %v)%s", h.cfg.Timeout, clk.now(), stderrTail(&stderr)))
			default:
				return failed(clk.now(), fmt.Sprintf("wasm run stopped: %v (simulated time had reached %v)", cause, clk.now()))
			}
		}
		var ee *sys.ExitError
		switch errText := stderr.String(); {
		case strings.Contains(errText, "all goroutines are asleep"):
			return failed(clk.now(), fmt.Sprintf("wasm guest deadlock: all goroutines are asleep and no timer is pending, so nothing can ever wake them (simulated time %v)%s", clk.now(), stderrTail(&stderr)))
		case strings.Contains(errText, "out of memory"):
			return failed(clk.now(), fmt.Sprintf("wasm guest ran out of memory (limit %d pages, %d MiB: WasmConfig.MemoryLimitPages)%s", h.cfg.MemoryLimitPages, h.cfg.MemoryLimitPages/16, stderrTail(&stderr)))
		case errors.As(err, &ee):
			return failed(clk.now(), fmt.Sprintf("wasm guest exited with status %d%s", ee.ExitCode(), stderrTail(&stderr)))
		default:
			return failed(clk.now(), fmt.Sprintf("wasm guest failed: %v%s", err, stderrTail(&stderr)))
		}
	}
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return failed(clk.now(), fmt.Sprintf("wasm guest wrote no result (%v)%s", err, stderrTail(&stderr)))
	}
	res.Host = HostWasm
	return &res
}

// errWallTimeout is the cause of a run that exceeded WasmConfig.Timeout.
var errWallTimeout = errors.New("wall-clock timeout")

// stderrTail formats the guest's stderr for a failure message: its start
// (a Go crash names its cause first) and its end.
func stderrTail(b *guestStderr) string {
	s := strings.TrimSpace(b.String())
	if s == "" {
		return ""
	}
	const head, tail = 1 << 10, 3 << 10
	if len(s) > head+tail {
		s = s[:head] + "\n…\n" + s[len(s)-tail:]
	}
	return "\nguest stderr:\n" + s
}

// guestStdout is a buffer that fails writes past its limit, so a runaway
// guest cannot exhaust the host's memory.
type guestStdout struct {
	bytes.Buffer
	limit int
}

func (b *guestStdout) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.limit {
		return 0, fmt.Errorf("guest output over %d bytes", b.limit)
	}
	return b.Buffer.Write(p)
}

// guestStderr keeps the first and the last bytes a guest writes to stderr.
type guestStderr struct {
	head, tail []byte
	limit      int // of each of head and tail
	dropped    bool
}

func (b *guestStderr) Write(p []byte) (int, error) {
	n := len(p)
	if room := b.limit - len(b.head); room > 0 {
		k := min(room, len(p))
		b.head = append(b.head, p[:k]...)
		p = p[k:]
	}
	if len(p) > 0 {
		b.tail = append(b.tail, p...)
		if over := len(b.tail) - b.limit; over > 0 {
			b.dropped = true
			b.tail = append(b.tail[:0], b.tail[over:]...)
		}
	}
	return n, nil
}

func (b *guestStderr) String() string {
	if b.dropped {
		return string(b.head) + "\n…\n" + string(b.tail)
	}
	return string(b.head) + string(b.tail)
}
