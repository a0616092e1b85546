package harness

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ffsim/ffsim/scenario"
)

// This file is the other direction of the loader: a scenario back to YAML,
// in the library's style (flow mappings for short values, block layout for
// the file, its budgets and its steps), so that a generated or shrunk
// scenario can be read, edited and loaded again as it is.

// encodeWidth is the line length under which a value is written on one
// line, as a flow mapping or list.
const encodeWidth = 100

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

// node is a YAML value to render: a scalar (its text, already quoted where
// needed), a mapping (ordered keys) or a list.
type node struct {
	scalar string
	keys   []string
	vals   []*node
	list   []*node
	isMap  bool
	isList bool
	// forceBlock forces the block layout (the file, a budget, a step, a list
	// of steps or budgets) even when the flow form would fit.
	forceBlock bool
}

func scalar(s string) *node { return &node{scalar: s} }

func mapping(block bool) *node { return &node{isMap: true, forceBlock: block} }

// add appends one of the format's own keys.
func (n *node) add(k string, v *node) *node {
	n.keys = append(n.keys, k)
	n.vals = append(n.vals, v)
	return n
}

// addName appends a key the scenario names (a budget, a dimension, an
// instance), quoted where needed.
func (n *node) addName(k string, v *node) *node { return n.add(quote(k), v) }

func list(block bool, items ...*node) *node {
	return &node{isList: true, list: items, forceBlock: block}
}

// flow renders n on one line.
func (n *node) flow() string {
	switch {
	case n.isMap:
		parts := make([]string, len(n.keys))
		for i, k := range n.keys {
			parts[i] = k + ": " + n.vals[i].flow()
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case n.isList:
		parts := make([]string, len(n.list))
		for i, v := range n.list {
			parts[i] = v.flow()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return n.scalar
}

// compound reports whether n is a non-empty mapping or list.
func (n *node) compound() bool {
	return (n.isMap && len(n.keys) > 0) || (n.isList && len(n.list) > 0)
}

// writeBlock renders a mapping or list in block layout at indent; each value
// goes on its key's line when it fits there in flow form.
func (n *node) writeBlock(b *strings.Builder, indent int) {
	pad := strings.Repeat(" ", indent)
	switch {
	case n.isMap:
		for i, k := range n.keys {
			b.WriteString(pad)
			n.entry(b, indent, k, n.vals[i])
		}
	case n.isList:
		for _, v := range n.list {
			b.WriteString(pad + "- ")
			if v.isMap && v.compound() && (v.forceBlock || !fits(indent+2, v.flow())) {
				// A mapping item starts on the dash's line.
				v.entry(b, indent+2, v.keys[0], v.vals[0])
				for i := 1; i < len(v.keys); i++ {
					b.WriteString(strings.Repeat(" ", indent+2))
					v.entry(b, indent+2, v.keys[i], v.vals[i])
				}
				continue
			}
			if v.compound() && (v.forceBlock || !fits(indent+2, v.flow())) {
				b.WriteString("\n")
				v.writeBlock(b, indent+2)
				continue
			}
			b.WriteString(v.flow() + "\n")
		}
	}
}

// entry writes "k: v" at indent (the indentation already written).
func (n *node) entry(b *strings.Builder, indent int, k string, v *node) {
	if v.compound() && (v.forceBlock || !fits(indent+len(k)+2, v.flow())) {
		b.WriteString(k + ":\n")
		v.writeBlock(b, indent+2)
		return
	}
	b.WriteString(k + ": " + v.flow() + "\n")
}

func fits(col int, s string) bool { return col+len(s) <= encodeWidth }

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

// plainSafe reports whether s reads back as itself written plain, in a
// block or a flow: it starts with an ASCII letter or underscore, holds
// only ASCII letters, digits, spaces and _ . - / ( ) ' = + (none of the
// flow indicators , [ ] { }, nor : or #), does not end with a space, and is
// none of YAML's special words.
func plainSafe(s string) bool {
	if s == "" || strings.HasSuffix(s, " ") {
		return false
	}
	for i, r := range s {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || r == '_'):
		case i > 0 && r < utf8.RuneSelf && (unicode.IsDigit(r) || strings.ContainsRune(" .-/()'=+", r)):
		default:
			return false
		}
	}
	switch strings.ToLower(s) {
	case "true", "false", "null", "yes", "no", "on", "off", "y", "n", "nan", "inf", "infinity":
		return false
	}
	return true
}

// quote returns s as a plain scalar when safe, else double-quoted with
// YAML's escapes.
func quote(s string) string {
	if plainSafe(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r) && r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
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
	for _, k := range sortedMapKeys(m) {
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

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
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
		for _, d := range sortedMapKeys(b.Dimensions) {
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

// alternatives writes one alternative as itself, several as {any_of: [...]}.
func (e *encoder) alternatives(alts []*node) *node {
	if len(alts) == 1 {
		return alts[0]
	}
	return mapping(false).add("any_of", list(false, alts...))
}

func (e *encoder) expect(x *scenario.Expect) *node {
	if len(x.AnyOf) == 0 {
		e.fail("an expect with no alternatives cannot be written")
	}
	alts := make([]*node, len(x.AnyOf))
	for i := range x.AnyOf {
		alts[i] = e.outcome(&x.AnyOf[i])
	}
	return e.alternatives(alts)
}

// outcome writes an alternative: its result alone as a scalar, else a
// mapping in the reference's key order.
func (e *encoder) outcome(o *scenario.Outcome) *node {
	if o.Result != "" && *o == (scenario.Outcome{Result: o.Result}) {
		return e.str(o.Result)
	}
	m := mapping(false)
	if o.Result != "" {
		m.add("result", e.str(o.Result))
	}
	breach := func(b *scenario.Breach) *node {
		bm := mapping(false)
		if b.Dimension != nil {
			bm.add("dimension", e.str(*b.Dimension))
		}
		if b.CurrentUsage != nil {
			bm.add("current_usage", num(*b.CurrentUsage))
		}
		if b.Limit != nil {
			bm.add("limit", num(*b.Limit))
		}
		return bm
	}
	if o.HardBreach != nil {
		m.add("hard_breach", breach(o.HardBreach))
	}
	if o.SoftBreach != nil {
		m.add("soft_breach", breach(o.SoftBreach))
	}
	if o.Refreshed != nil {
		rm := mapping(false)
		if o.Refreshed.NextExpiry != nil {
			rm.add("next_expiry", e.offset(*o.Refreshed.NextExpiry))
		}
		m.add("refreshed", rm)
	}
	if o.Installed != nil {
		m.add("installed", scalar(strconv.FormatBool(*o.Installed)))
	}
	if o.TimedOut != nil {
		m.add("timed_out", num(*o.TimedOut))
	}
	if o.NextResetAt != nil {
		m.add("next_reset_at", e.offset(*o.NextResetAt))
	}
	if o.Processed != nil {
		m.add("processed", num(*o.Processed))
	}
	if o.Errors != nil {
		m.add("errors", num(*o.Errors))
	}
	if o.Error != "" {
		m.add("error", e.str(o.Error))
	}
	if o.ReturnedAt != nil {
		m.add("returned_at", e.offset(*o.ReturnedAt))
	}
	return m
}

func (e *encoder) budgetExpects(bes []scenario.BudgetExpect) *node {
	m := mapping(false)
	for _, be := range bes {
		if len(be.AnyOf) == 0 {
			e.fail("expect_budget %q has no alternatives", be.Budget)
		}
		alts := make([]*node, len(be.AnyOf))
		for i := range be.AnyOf {
			alts[i] = e.budgetState(&be.AnyOf[i])
		}
		e.str(be.Budget)
		m.addName(be.Budget, e.alternatives(alts))
	}
	return m
}

func (e *encoder) budgetState(st *scenario.BudgetState) *node {
	if st.NotFound {
		return scalar("not_found")
	}
	m := mapping(false)
	if st.Usage != nil {
		m.add("usage", e.counts(st.Usage))
	}
	if st.NextResetAt != nil {
		m.add("next_reset_at", e.offset(*st.NextResetAt))
	}
	if st.BreachCount != nil {
		m.add("breach_count", num(*st.BreachCount))
	}
	if st.SoftBreachCount != nil {
		m.add("soft_breach_count", num(*st.SoftBreachCount))
	}
	if st.LastBreachDim != nil {
		if st.LastBreachDim.Null {
			m.add("last_breach_dim", scalar("null"))
		} else {
			m.add("last_breach_dim", e.str(st.LastBreachDim.Value))
		}
	}
	if st.LastBreachAt != nil {
		m.add("last_breach_at", e.offset(*st.LastBreachAt))
	}
	if st.HardLimits != nil {
		m.add("hard_limits", e.counts(st.HardLimits))
	}
	if st.SoftLimits != nil {
		m.add("soft_limits", e.counts(st.SoftLimits))
	}
	if st.Scope != nil {
		m.add("scope", mapping(false).add("type", e.str(st.Scope.Type)).add("id", e.str(st.Scope.ID)))
	}
	for _, f := range []struct {
		k string
		v *string
	}{{"enforcement_mode", st.EnforcementMode}, {"on_hard_limit", st.OnHardLimit}, {"on_soft_limit", st.OnSoftLimit}} {
		if f.v != nil {
			m.add(f.k, e.str(*f.v))
		}
	}
	if st.ResetInterval != nil {
		m.add("reset_interval", e.dur(*st.ResetInterval))
	}
	if st.CreatedAt != nil {
		m.add("created_at", e.offset(*st.CreatedAt))
	}
	return m
}

// workersExpect writes {INSTANCE: ...}, or {namespace: NS, workers: {...}}
// for another namespace (or when an instance is named like one of those
// two keys, which the short form could not say).
func (e *encoder) workersExpect(we *scenario.WorkersExpect) *node {
	ws := mapping(false)
	long := we.Namespace != ""
	for _, w := range we.Workers {
		long = long || w.Instance == "workers" || w.Instance == "namespace"
		e.str(w.Instance)
		ws.addName(w.Instance, e.workerExpect(&w))
	}
	if !long {
		return ws
	}
	m := mapping(false)
	if we.Namespace != "" {
		m.add("namespace", e.str(we.Namespace))
	}
	return m.add("workers", ws)
}

func (e *encoder) workerExpect(w *scenario.WorkerExpect) *node {
	if w.Absent {
		return scalar("absent")
	}
	m := mapping(false)
	if w.WorkerID != nil {
		m.add("worker_id", e.str(*w.WorkerID))
	}
	if w.LastHeartbeat != nil {
		m.add("last_heartbeat", e.offset(*w.LastHeartbeat))
	}
	if w.TTL != nil {
		m.add("ttl", e.dur(*w.TTL))
	}
	if w.RegisteredAt != nil {
		m.add("registered_at", e.offset(*w.RegisteredAt))
	}
	if w.Lanes != nil {
		m.add("lanes", e.names(w.Lanes))
	}
	if w.Capabilities != nil {
		m.add("capabilities", e.names(w.Capabilities))
	}
	return m
}
