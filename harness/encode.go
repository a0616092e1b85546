package harness

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ffsim/ffsim/scenario"
)

// This file is the other direction of the loader: a scenario back to YAML,
// in the library's style (flow mappings for short values, block layout for
// the file, its budgets and its steps), so that a generated or shrunk
// scenario can be read, edited and loaded again as it is.

// Marshal writes sc as a scenario file that [LoadBytes] reads back as sc
// (positions and the file name aside). Keys come in the order the
// reference (docs/scenarios.md) gives them; a nil map or list is left out,
// an empty one written as {} or [] (under expect_budget, hard_limits: {}
// checks that there are none). Comments, including the
// `# yaml-language-server: $schema=...` line, are the caller's business.
//
// It fails for what the format cannot say: a string that is not UTF-8, a
// negative duration, a scope with only one of its fields, an expect with no
// alternatives.
func Marshal(sc *scenario.Scenario) ([]byte, error) {
	if sc == nil {
		return nil, errors.New("harness: Marshal of a nil scenario")
	}
	e := &encoder{}
	root := e.scenario(sc)
	if e.err != nil {
		return nil, e.err
	}
	var b strings.Builder
	root.writeBlock(&b, 0)
	return []byte(b.String()), nil
}

// encoder builds the node tree, keeping the first error.
type encoder struct{ err error }

func (e *encoder) fail(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("harness: Marshal: "+format, args...)
	}
}

// str is a string value, quoted when a plain scalar would not read back
// as the same string.
func (e *encoder) str(s string) *node {
	if !utf8.ValidString(s) {
		e.fail("%q is not UTF-8", s)
	}
	return scalar(quote(s))
}

// FormatDuration writes d as the format's duration: Go's syntax without
// the zero units Go adds ("1h10s" rather than "1h0m10s").
func FormatDuration(d time.Duration) string {
	s := strings.Replace(d.String(), "h0m", "h", 1)
	if strings.HasSuffix(s, "m0s") || strings.HasSuffix(s, "h0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	return s
}

func (e *encoder) dur(d time.Duration) *node {
	if d < 0 {
		e.fail("negative duration %v cannot be written", d)
	}
	return scalar(FormatDuration(d))
}

func (e *encoder) offset(o scenario.Offset) *node {
	if o.Null {
		return scalar("null")
	}
	return e.dur(o.At)
}

func num[T int | int64 | uint64](v T) *node { return scalar(strconv.FormatInt(int64(v), 10)) }

func (e *encoder) counts(m map[string]int64) *node {
	n := mapping(false)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		e.str(k)
		n.addName(k, num(m[k]))
	}
	return n
}

func (e *encoder) names(ss []string) *node {
	n := list(false)
	for _, s := range ss {
		n.list = append(n.list, e.str(s))
	}
	return n
}

func (e *encoder) scenario(sc *scenario.Scenario) *node {
	n := mapping(true)
	n.add("name", e.str(sc.Name))
	if sc.Description != "" {
		n.add("description", e.str(sc.Description))
	}
	if !sc.Start.IsZero() {
		n.add("start", scalar(sc.Start.Format(time.RFC3339Nano)))
	}
	if sc.Seed != 0 {
		n.add("seed", scalar(strconv.FormatUint(sc.Seed, 10)))
	}
	if sup := sc.Supervisor; sup != (scenario.Supervisor{}) {
		m := mapping(false)
		if sup.BudgetResetInterval != 0 {
			m.add("budget_reset_interval", e.dur(sup.BudgetResetInterval))
		}
		if sup.WorkerRegistryTTLInterval != 0 {
			m.add("worker_registry_ttl_interval", e.dur(sup.WorkerRegistryTTLInterval))
		}
		n.add("supervisor", m)
	}
	if sc.Store.BusyTimeout != nil {
		n.add("store", mapping(false).add("busy_timeout", e.dur(*sc.Store.BusyTimeout)))
	}
	if sc.Budgets != nil {
		bs := list(true)
		for i := range sc.Budgets {
			bs.list = append(bs.list, e.budget(&sc.Budgets[i], true))
		}
		n.add("budgets", bs)
	}
	n.add("steps", e.steps(sc.Steps))
	return n
}

func (e *encoder) budget(b *scenario.Budget, block bool) *node {
	n := mapping(block)
	n.add("id", e.str(b.ID))
	if b.Scope != (scenario.Scope{}) {
		if b.Scope.Type == "" || b.Scope.ID == "" {
			e.fail("budget %q: a scope needs both its type and its id", b.ID)
		}
		n.add("scope", mapping(false).add("type", e.str(b.Scope.Type)).add("id", e.str(b.Scope.ID)))
	}
	for _, f := range []struct{ k, v string }{
		{"enforcement_mode", b.EnforcementMode}, {"on_hard_limit", b.OnHardLimit}, {"on_soft_limit", b.OnSoftLimit},
	} {
		if f.v != "" {
			n.add(f.k, e.str(f.v))
		}
	}
	if b.ResetInterval != 0 {
		n.add("reset_interval", e.dur(b.ResetInterval))
	}
	if b.Dimensions != nil {
		dims := mapping(false)
		for _, d := range slices.Sorted(maps.Keys(b.Dimensions)) {
			l := b.Dimensions[d]
			lm := mapping(false)
			if l.Hard != 0 {
				lm.add("hard", num(l.Hard))
			}
			if l.Soft != 0 {
				lm.add("soft", num(l.Soft))
			}
			e.str(d)
			dims.addName(d, lm)
		}
		n.add("dimensions", dims)
	}
	if b.Policy != "" {
		n.add("policy", e.str(b.Policy))
	}
	return n
}

func (e *encoder) steps(steps []scenario.Step) *node {
	n := list(true)
	for i := range steps {
		n.list = append(n.list, e.step(&steps[i]))
	}
	return n
}

// step writes a step as its action key, then its expect.
func (e *encoder) step(s *scenario.Step) *node {
	n := mapping(true)
	k := s.Kind()
	if k == scenario.Invalid {
		e.fail("a step with %d actions cannot be written", len(s.Actions()))
		return n
	}
	n.add(k.String(), e.action(s, k))
	if s.Expect != nil {
		n.add("expect", e.expect(s.Expect))
	}
	return n
}

// action encodes the step's action field. It is one case per step kind,
// in the order of scenario's kind table, so that the encoder can be read
// against the decoder and the schema case by case; split, it would scatter
// that table.
func (e *encoder) action(s *scenario.Step, k scenario.Kind) *node {
	empty := mapping(false)
	switch k {
	case scenario.KindAdvance:
		return e.dur(*s.Advance)
	case scenario.KindAdvanceTo:
		return e.dur(*s.AdvanceTo)
	case scenario.KindSpawn:
		m := mapping(false)
		if d := s.Spawn.BudgetResetInterval; d != nil {
			m.add("budget_reset_interval", e.dur(*d))
		}
		if d := s.Spawn.WorkerRegistryTTLInterval; d != nil {
			m.add("worker_registry_ttl_interval", e.dur(*d))
		}
		return m
	case scenario.KindShutdown:
		return mapping(false).add("grace", e.dur(s.Shutdown.Grace))
	case scenario.KindClose, scenario.KindScanTick, scenario.KindSweepTick:
		return empty
	case scenario.KindCreateBudget:
		return e.budget(s.CreateBudget, false)
	case scenario.KindReportUsage:
		r := s.ReportUsage
		m := mapping(false).add("budget", e.str(r.Budget)).add("usage", e.counts(r.Usage))
		if r.DedupKey != "" {
			m.add("dedup_key", e.str(r.DedupKey))
		}
		return m
	case scenario.KindResetBudget:
		return mapping(false).add("budget", e.str(s.ResetBudget.Budget))
	case scenario.KindSetNextReset:
		return mapping(false).add("budget", e.str(s.SetNextReset.Budget)).add("at", e.offset(s.SetNextReset.At))
	case scenario.KindExpectBudget:
		return e.budgetExpects(s.ExpectBudget)
	case scenario.KindExpectTicks:
		m := mapping(false)
		for _, t := range s.ExpectTicks {
			tm := mapping(false)
			for _, f := range []struct {
				k string
				v *int
			}{{"count", t.Count}, {"processed", t.Processed}, {"errors", t.Errors}} {
				if f.v != nil {
					tm.add(f.k, num(*f.v))
				}
			}
			m.addName(t.Reconciler, tm)
		}
		return m
	case scenario.KindExpectRunning:
		return num(*s.ExpectRunning)
	case scenario.KindRegisterWorker:
		r := s.RegisterWorker
		m := mapping(false)
		if r.Namespace != "" {
			m.add("namespace", e.str(r.Namespace))
		}
		m.add("instance", e.str(r.Instance)).add("worker_id", e.str(r.WorkerID))
		if r.Lanes != nil {
			m.add("lanes", e.names(r.Lanes))
		}
		if r.Capabilities != nil {
			m.add("capabilities", e.names(r.Capabilities))
		}
		return m.add("ttl", e.dur(r.TTL))
	case scenario.KindHeartbeatWorker:
		return e.workerRef(s.HeartbeatWorker.Namespace, s.HeartbeatWorker.Instance)
	case scenario.KindMarkWorkerDead:
		r := s.MarkWorkerDead
		return e.workerRef(r.Namespace, r.Instance).add("reason", e.str(r.Reason))
	case scenario.KindExpectWorkers:
		return e.workersExpect(s.ExpectWorkers)
	case scenario.KindExpectLog:
		return mapping(false).add("level", e.str(s.ExpectLog.Level)).add("contains", e.str(s.ExpectLog.Contains))
	case scenario.KindSlowTick:
		st := s.SlowTick
		m := mapping(false)
		if st.Reconciler != "" {
			m.add("reconciler", e.str(st.Reconciler))
		}
		m.add("tick", num(st.Tick)).add("duration", e.dur(st.Duration))
		if st.Where != "" {
			m.add("where", e.str(st.Where))
		}
		return m
	case scenario.KindTickError:
		m := mapping(false)
		if s.TickError.Reconciler != "" {
			m.add("reconciler", e.str(s.TickError.Reconciler))
		}
		return m.add("tick", num(s.TickError.Tick))
	case scenario.KindBusy:
		return mapping(false).add("attempts", num(s.Busy.Attempts))
	case scenario.KindDBError:
		m := mapping(false).add("code", e.str(s.DBError.Code)).add("attempts", num(s.DBError.Attempts))
		if s.DBError.On != "" {
			m.add("on", e.str(s.DBError.On))
		}
		return m
	case scenario.KindHoldWriteLock:
		return mapping(false).add("duration", e.dur(s.HoldWriteLock.Duration))
	case scenario.KindConcurrently:
		return e.steps(s.Concurrently)
	}
	e.fail("step kind %s cannot be written", k)
	return empty
}

func (e *encoder) workerRef(ns, inst string) *node {
	m := mapping(false)
	if ns != "" {
		m.add("namespace", e.str(ns))
	}
	return m.add("instance", e.str(inst))
}
