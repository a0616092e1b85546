package harness

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/ffsim/ffsim/internal/suggest"
	"github.com/ffsim/ffsim/scenario"
)

// This file is the scenario format's syntax where it differs from the Go
// shape of the scenario package's types: a duration is a Go duration
// string, an offset a duration or null, a step a mapping with one action
// key and an optional expect, an expectation a scalar, a mapping or
// {any_of: [...]}, and expect_budget and expect_ticks mappings keyed by
// budget and by reconciler. Every other type decodes by reflection
// (decode.go).

// syntax maps a Go type to its decoder.
var syntax map[reflect.Type]func(d *decoder, n ast.Node, v reflect.Value) bool

func init() {
	syntax = map[reflect.Type]func(d *decoder, n ast.Node, v reflect.Value) bool{
		reflect.TypeFor[time.Duration]():           decodeDuration,
		reflect.TypeFor[time.Time]():               decodeTime,
		reflect.TypeFor[scenario.Offset]():         decodeOffset,
		reflect.TypeFor[scenario.NullString]():     decodeNullString,
		reflect.TypeFor[scenario.Step]():           decodeStep,
		reflect.TypeFor[[]scenario.Step]():         decodeSteps,
		reflect.TypeFor[[]scenario.BudgetExpect](): decodeBudgetExpects,
		reflect.TypeFor[[]scenario.TicksExpect]():  decodeTicksExpects,
		reflect.TypeFor[scenario.BudgetState]():    decodeBudgetState,
		reflect.TypeFor[scenario.WorkersExpect]():  decodeWorkersExpect,
		reflect.TypeFor[[]scenario.WorkerExpect](): decodeWorkerExpects,
	}
}

// durationPattern is the syntax of a duration: Go's time.ParseDuration
// without a sign ("0", "250ms", "1h30m", "1.5s").
const durationPattern = `^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`

var durationRE = regexp.MustCompile(durationPattern)

func decodeDuration(d *decoder, n ast.Node, v reflect.Value) bool {
	s, ok := d.str(n, `a duration such as "5s"`)
	if !ok {
		return false
	}
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		d.errorf(n, "negative duration %s", suggest.Quote(s))
		return false
	}
	if !durationRE.MatchString(s) {
		d.errorf(n, `invalid duration %s (want a Go duration such as "250ms", "5s" or "1h")`, suggest.Quote(s))
		return false
	}
	x, err := time.ParseDuration(s)
	if err != nil {
		d.errorf(n, "invalid duration %s: out of range", suggest.Quote(s))
		return false
	}
	v.SetInt(int64(x))
	return true
}

func decodeTime(d *decoder, n ast.Node, v reflect.Value) bool {
	s, ok := d.str(n, "an RFC 3339 time such as 2026-01-01T00:00:00Z")
	if !ok {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d.errorf(n, "invalid time %s (want RFC 3339 such as 2026-01-01T00:00:00Z)", suggest.Quote(s))
		return false
	}
	v.Set(reflect.ValueOf(t))
	return true
}

func decodeOffset(d *decoder, n ast.Node, v reflect.Value) bool {
	if _, ok := n.(*ast.NullNode); ok {
		v.Set(reflect.ValueOf(scenario.Offset{Null: true}))
		return true
	}
	if _, ok := n.(*ast.StringNode); !ok {
		d.typeError(n, `an offset such as "20s", or null`)
		return false
	}
	var x time.Duration
	if !decodeDuration(d, n, reflect.ValueOf(&x).Elem()) {
		return false
	}
	v.Set(reflect.ValueOf(scenario.Offset{At: x}))
	return true
}

func decodeNullString(d *decoder, n ast.Node, v reflect.Value) bool {
	if _, ok := n.(*ast.NullNode); ok {
		v.Set(reflect.ValueOf(scenario.NullString{Null: true}))
		return true
	}
	s, ok := d.str(n, "a string or null")
	v.Set(reflect.ValueOf(scenario.NullString{Value: s}))
	return ok
}

// decodeSteps decodes a list of steps, keeping only those that decoded
// without error: scenario.Validate then checks the rest, and does not
// report again what is wrong with a step the decoder already refused.
func decodeSteps(d *decoder, n ast.Node, v reflect.Value) bool {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.typeError(n, "a list of steps")
		return false
	}
	out := make([]scenario.Step, 0, len(seq.Values))
	ok = true
	for _, item := range seq.Values {
		var s scenario.Step
		if !d.decode(item, reflect.ValueOf(&s).Elem()) {
			ok = false
			continue
		}
		out = append(out, s)
	}
	v.Set(reflect.ValueOf(out))
	return ok
}

// decodeStep decodes one step: a mapping with one action key, named after
// its kind, and an optional expect.
func decodeStep(d *decoder, n ast.Node, v reflect.Value) bool {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.errorf(n, `expected a step (a mapping with one action key, such as "advance: 1s"), got %s`, describe(n))
		return false
	}
	var expect *ast.MappingValueNode
	var actions []*ast.MappingValueNode
	names := scenario.Names()
	ok = true
	for _, kv := range m.Values {
		k, kok := d.key(kv)
		switch _, isKind := scenario.KindByName(k); {
		case !kok:
			ok = false
		case k == "expect":
			expect = kv
		case isKind:
			actions = append(actions, kv)
		default:
			d.errorf(kv.Key, "unknown step %s%s", suggest.Quote(k), d.suggestionOf(k, names))
			ok = false
		}
	}
	if !ok {
		return false
	}
	switch len(actions) {
	case 0:
		d.errorf(m, "step has no action; want one of: %s", strings.Join(names, ", "))
		return false
	case 1:
	default:
		quoted := make([]string, len(actions))
		for i, a := range actions {
			name, _ := keyText(a.Key)
			quoted[i] = `"` + name + `"`
		}
		d.errorf(actions[1].Key, "step has %d actions (%s); write one action per step", len(actions), strings.Join(quoted, ", "))
		return false
	}
	s := v.Addr().Interface().(*scenario.Step)
	s.Pos = d.firstKeyPos(m)
	name, _ := keyText(actions[0].Key)
	kind, _ := scenario.KindByName(name)
	field := v.Field(scenario.StepField(kind))
	if d.within(name, rules{}, actions[0].Value, field) {
		if kind == scenario.KindConcurrently && len(s.Concurrently) == 0 && len(actions[0].Value.(*ast.SequenceNode).Values) == 0 {
			d.errorf(actions[0].Value, "concurrently needs at least one step")
			ok = false
		}
	} else {
		ok = false
	}
	if expect != nil {
		spec := kind.Info().Expect
		switch {
		case spec == nil && kind == scenario.KindConcurrently:
			d.errorf(expect.Key, "concurrently takes no expect; put expectations on the steps inside it")
			ok = false
		case spec == nil:
			d.errorf(expect.Key, "step %q takes no expect", name)
			ok = false
		default:
			e := &scenario.Expect{Pos: d.posOf(expect.Key)}
			prev := d.field
			d.field = "expect"
			if decodeAlternatives(d, expect.Value, func(n ast.Node) bool {
				o, ok := decodeOutcome(d, n, kind, spec)
				e.AnyOf = append(e.AnyOf, o)
				return ok
			}) {
				s.Expect = e
			} else {
				ok = false
			}
			d.field = prev
		}
	}
	return ok
}

// suggestionOf is a "did you mean" hint, or "".
func (d *decoder) suggestionOf(s string, vals []string) string {
	h := d.hint(s, vals)
	if strings.HasPrefix(h, " (want ") {
		return ""
	}
	return h
}

// decodeAlternatives decodes an expectation that is one alternative or
// {any_of: [alternative, ...]}, calling one for each alternative.
func decodeAlternatives(d *decoder, n ast.Node, one func(ast.Node) bool) bool {
	m, isMap := n.(*ast.MappingNode)
	var list ast.Node
	if isMap {
		for _, kv := range m.Values {
			if k, ok := keyText(kv.Key); ok && k == "any_of" {
				list = kv.Value
			}
		}
	}
	if list == nil {
		return one(n)
	}
	ok := true
	for _, kv := range m.Values {
		if k, _ := keyText(kv.Key); k != "any_of" {
			d.errorf(kv.Key, "any_of cannot be combined with other keys (%s)", suggest.Quote(k))
			ok = false
		}
	}
	list, pok := d.plain(list)
	if !pok {
		return false
	}
	seq, isSeq := list.(*ast.SequenceNode)
	if !isSeq {
		d.errorf(list, "any_of must be a list of alternatives, got %s", describe(list))
		return false
	}
	if len(seq.Values) == 0 {
		d.errorf(list, "any_of needs at least one alternative")
		return false
	}
	for _, item := range seq.Values {
		if im, isMap := item.(*ast.MappingNode); isMap {
			nested := false
			for _, kv := range im.Values {
				if k, _ := keyText(kv.Key); k == "any_of" {
					d.errorf(kv.Key, "any_of cannot be nested")
					nested = true
				}
			}
			if nested {
				ok = false
				continue
			}
		}
		item, pok := d.plain(item)
		if !pok || !one(item) {
			ok = false
		}
	}
	return ok
}

// decodeOutcome decodes one alternative of a kind's expect: a scalar
// result, or a mapping of the outcome keys the kind allows.
func decodeOutcome(d *decoder, n ast.Node, kind scenario.Kind, spec *scenario.ExpectSpec) (scenario.Outcome, bool) {
	var o scenario.Outcome
	m, isMap := n.(*ast.MappingNode)
	switch {
	case !isMap && len(spec.Results) > 0:
		s, ok := d.enum(n, kind.String()+" outcome", spec.Results)
		o.Result = s
		return o, ok
	case !isMap:
		d.typeError(n, "a mapping")
		return o, false
	case len(spec.Fields) == 0:
		d.typeError(n, orList(spec.Results))
		return o, false
	}
	v := reflect.ValueOf(&o).Elem()
	si := infoOf(v.Type())
	ok := true
	seen := map[string]bool{}
	for _, kv := range m.Values {
		k, kok := d.key(kv)
		if !kok {
			ok = false
			continue
		}
		if !slices.Contains(spec.Fields, k) {
			d.errorf(kv.Key, "unknown key %s%s", suggest.Quote(k), d.keyHint(k, spec.Fields))
			ok = false
			continue
		}
		seen[k] = true
		if !d.within(k, si.rules[k], kv.Value, v.Field(si.fields[k])) {
			ok = false
		}
	}
	// Required keys are required only of an outcome that names neither a
	// result nor an error, as scenario.Validate has it.
	var missing []string
	for _, r := range spec.Required {
		if !seen[r] && o.ResultName() == "" && o.Error == "" {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		d.missing(m, missing)
		ok = false
	}
	return o, ok
}

// decodeBudgetExpects decodes expect_budget: a mapping from budget id to the
// expected state, or to {any_of: [state, ...]}.
func decodeBudgetExpects(d *decoder, n ast.Node, v reflect.Value) bool {
	m, ok := d.mapping(n)
	if !ok {
		return false
	}
	out := []scenario.BudgetExpect{}
	for _, kv := range m.Values {
		k, kok := d.key(kv)
		if !kok {
			ok = false
			continue
		}
		be := scenario.BudgetExpect{Budget: k, Pos: d.posOf(kv.Key)}
		if !decodeAlternatives(d, kv.Value, func(n ast.Node) bool {
			var st scenario.BudgetState
			ok := d.decode(n, reflect.ValueOf(&st).Elem())
			be.AnyOf = append(be.AnyOf, st)
			return ok
		}) {
			ok = false
			continue
		}
		out = append(out, be)
	}
	v.Set(reflect.ValueOf(out))
	return ok
}

// decodeTicksExpects decodes expect_ticks: a mapping from reconciler name
// to the expected totals.
func decodeTicksExpects(d *decoder, n ast.Node, v reflect.Value) bool {
	m, ok := d.mapping(n)
	if !ok {
		return false
	}
	out := []scenario.TicksExpect{}
	for _, kv := range m.Values {
		k, kok := d.key(kv)
		if !kok {
			ok = false
			continue
		}
		if !slices.Contains(scenario.Reconcilers, k) {
			d.errorf(kv.Key, "unknown reconciler %s%s", suggest.Quote(k), d.hint(k, scenario.Reconcilers))
			ok = false
			continue
		}
		var te scenario.TicksExpect
		if !d.within(k, rules{}, kv.Value, reflect.ValueOf(&te).Elem()) {
			ok = false
			continue
		}
		te.Reconciler, te.Pos = k, d.posOf(kv.Key)
		out = append(out, te)
	}
	v.Set(reflect.ValueOf(out))
	return ok
}

// decodeBudgetState decodes an expected budget state: a mapping of fields,
// or not_found.
func decodeBudgetState(d *decoder, n ast.Node, v reflect.Value) bool {
	if _, isMap := n.(*ast.MappingNode); isMap {
		return d.decodeStruct(n, v)
	}
	if _, ok := d.enum(n, "budget expectation", []string{"not_found"}); !ok {
		return false
	}
	v.Set(reflect.ValueOf(scenario.BudgetState{NotFound: true}))
	return true
}

// decodeWorkersExpect decodes expect_workers: {INSTANCE: ...} in the
// default namespace, or {namespace: NS, workers: {INSTANCE: ...}}.
func decodeWorkersExpect(d *decoder, n ast.Node, v reflect.Value) bool {
	m, ok := d.mapping(n)
	if !ok {
		return false
	}
	for _, kv := range m.Values {
		if k, _ := keyText(kv.Key); k == "workers" {
			return d.decodeStruct(n, v)
		}
	}
	var ws []scenario.WorkerExpect
	if !d.decode(n, reflect.ValueOf(&ws).Elem()) {
		return false
	}
	v.Set(reflect.ValueOf(scenario.WorkersExpect{Workers: ws}))
	return true
}

// decodeWorkerExpects decodes a mapping from instance id to the expected
// worker: a mapping of fields, or absent.
func decodeWorkerExpects(d *decoder, n ast.Node, v reflect.Value) bool {
	m, ok := d.mapping(n)
	if !ok {
		return false
	}
	out := []scenario.WorkerExpect{}
	for _, kv := range m.Values {
		k, kok := d.key(kv)
		if !kok {
			ok = false
			continue
		}
		var w scenario.WorkerExpect
		if _, isMap := kv.Value.(*ast.MappingNode); isMap {
			if !d.within(k, rules{}, kv.Value, reflect.ValueOf(&w).Elem()) {
				ok = false
				continue
			}
		} else if _, eok := d.enum(kv.Value, "worker expectation", []string{"absent"}); eok {
			w.Absent = true
		} else {
			ok = false
			continue
		}
		w.Instance, w.Pos = k, d.posOf(kv.Key)
		out = append(out, w)
	}
	v.Set(reflect.ValueOf(out))
	return ok
}
