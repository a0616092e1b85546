package harness

import (
	"regexp"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/invopop/jsonschema"

	"github.com/ffsim/ffsim/sim"
)

// This file holds the scalar and generic building blocks of the scenario
// format: each knows how to decode itself from YAML and how to describe
// itself in JSON Schema, so the two cannot drift apart.

// durationPattern is the syntax of a duration: Go's time.ParseDuration
// without a sign ("0", "250ms", "1h30m", "1.5s").
const durationPattern = `^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`

var durationRE = regexp.MustCompile(durationPattern)

func durationSchema(desc string) *jsonschema.Schema {
	return &jsonschema.Schema{
		Type:        "string",
		Pattern:     durationPattern,
		Description: desc,
		Examples:    []any{"250ms", "5s", "1h"},
	}
}

// duration is a non-negative Go duration string.
type duration time.Duration

func (x *duration) decodeYAML(d *decoder, n ast.Node) bool {
	s, ok := d.str(n, `a duration such as "5s"`)
	if !ok {
		return false
	}
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		d.errorf(n, "negative duration %q", s)
		return false
	}
	if !durationRE.MatchString(s) {
		d.errorf(n, `invalid duration %q (want a Go duration such as "250ms", "5s" or "1h")`, s)
		return false
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		d.errorf(n, "invalid duration %q: out of range", s)
		return false
	}
	*x = duration(v)
	return true
}

// JSONSchema describes a duration string.
func (duration) JSONSchema() *jsonschema.Schema {
	return durationSchema(`A non-negative Go duration string such as "250ms", "5s", "1h" or "0s".`)
}

func (x duration) d() time.Duration { return time.Duration(x) }

// offset is a time relative to the scenario start (a duration), or null.
type offset struct {
	Null bool
	At   time.Duration
}

func (x *offset) decodeYAML(d *decoder, n ast.Node) bool {
	if _, ok := n.(*ast.NullNode); ok {
		*x = offset{Null: true}
		return true
	}
	var v duration
	if _, ok := n.(*ast.StringNode); !ok {
		d.typeError(n, `an offset such as "20s", or null`)
		return false
	}
	if !v.decodeYAML(d, n) {
		return false
	}
	*x = offset{At: v.d()}
	return true
}

// JSONSchema describes an offset: a duration string or null.
func (offset) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Description: `A time measured from the scenario start (t=0) as a Go duration such as "20s", or null for "none".`,
		AnyOf: []*jsonschema.Schema{
			durationSchema("Offset from t=0."),
			{Type: "null", Description: "No time (unscheduled, or never)."},
		},
	}
}

func (x offset) sim() sim.Offset { return sim.Offset{Null: x.Null, At: x.At} }

// timestamp is an RFC 3339 wall-clock time.
type timestamp time.Time

func (x *timestamp) decodeYAML(d *decoder, n ast.Node) bool {
	s, ok := d.str(n, "an RFC 3339 time such as 2026-01-01T00:00:00Z")
	if !ok {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d.errorf(n, "invalid time %q (want RFC 3339 such as 2026-01-01T00:00:00Z)", s)
		return false
	}
	*x = timestamp(t)
	return true
}

// JSONSchema describes an RFC 3339 time.
func (timestamp) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Type:        "string",
		Format:      "date-time",
		Description: "An RFC 3339 time such as 2026-01-01T00:00:00Z.",
	}
}

// count is a non-negative integer.
type count int64

func (x *count) decodeYAML(d *decoder, n ast.Node) bool {
	v, ok := d.integer(n, 0)
	*x = count(v)
	return ok
}

// JSONSchema describes a non-negative integer.
func (count) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "integer", Minimum: "0", Description: "A non-negative integer."}
}

func (x count) int() *int {
	v := int(x)
	return &v
}

func (x count) int64() *int64 {
	v := int64(x)
	return &v
}

// ordinal is a 1-based count.
type ordinal int64

func (x *ordinal) decodeYAML(d *decoder, n ast.Node) bool {
	v, ok := d.integer(n, 1)
	*x = ordinal(v)
	return ok
}

// JSONSchema describes a 1-based count.
func (ordinal) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "integer", Minimum: "1", Description: "A 1-based count (1 or more)."}
}

// ident is a non-empty string.
type ident string

func (x *ident) decodeYAML(d *decoder, n ast.Node) bool {
	s, ok := d.str(n, "a string")
	if !ok {
		return false
	}
	if s == "" {
		d.errorf(n, "must not be empty")
		return false
	}
	*x = ident(s)
	return true
}

// JSONSchema describes a non-empty string.
func (ident) JSONSchema() *jsonschema.Schema {
	one := uint64(1)
	return &jsonschema.Schema{Type: "string", MinLength: &one, Description: "A non-empty string."}
}

// budgetID is a budget id, with where it was written.
type budgetID struct {
	ID  string
	Pos sim.Pos
}

func (x *budgetID) decodeYAML(d *decoder, n ast.Node) bool {
	var s ident
	if !s.decodeYAML(d, n) {
		return false
	}
	*x = budgetID{ID: string(s), Pos: d.posOf(n)}
	return true
}

// JSONSchema describes a budget id.
func (budgetID) JSONSchema() *jsonschema.Schema {
	one := uint64(1)
	return &jsonschema.Schema{Type: "string", MinLength: &one, Description: "A budget id."}
}

// nullableString is a string or null.
type nullableString struct {
	Null  bool
	Value string
}

func (x *nullableString) decodeYAML(d *decoder, n ast.Node) bool {
	if _, ok := n.(*ast.NullNode); ok {
		*x = nullableString{Null: true}
		return true
	}
	s, ok := d.str(n, "a string or null")
	*x = nullableString{Value: s}
	return ok
}

// JSONSchema describes a string or null.
func (nullableString) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{
		Description: "A string, or null for none.",
		AnyOf:       []*jsonschema.Schema{{Type: "string"}, {Type: "null"}},
	}
}

func enumSchema(desc string, vals []string) *jsonschema.Schema {
	s := &jsonschema.Schema{Type: "string", Description: desc}
	for _, v := range vals {
		s.Enum = append(s.Enum, v)
	}
	return s
}

// reconcilerNames are the reconcilers faults and tick expectations can
// name.
var reconcilerNames = []string{"budget_reset"}

// reconcilerName names a reconciler.
type reconcilerName string

func (x *reconcilerName) decodeYAML(d *decoder, n ast.Node) bool {
	s, ok := d.enum(n, "reconciler", reconcilerNames)
	*x = reconcilerName(s)
	return ok
}

// JSONSchema describes a reconciler name.
func (reconcilerName) JSONSchema() *jsonschema.Schema {
	return enumSchema("A reconciler name.", reconcilerNames)
}

// txWhereValues are where a slow tick spends its time.
var txWhereValues = []string{sim.BeforeTx, sim.InsideTx}

// txWhere is where a slow tick spends its time.
type txWhere string

func (x *txWhere) decodeYAML(d *decoder, n ast.Node) bool {
	s, ok := d.enum(n, "where", txWhereValues)
	*x = txWhere(s)
	return ok
}

// JSONSchema describes txWhere.
func (txWhere) JSONSchema() *jsonschema.Schema {
	return enumSchema("before_tx: before the tick's transaction; inside_tx: inside the reset transaction, after usage is zeroed and before commit.", txWhereValues)
}

// logLevels are the slog levels expect_log can name.
var logLevels = []string{"debug", "info", "warn", "error"}

// logLevel is a slog level name.
type logLevel string

func (x *logLevel) decodeYAML(d *decoder, n ast.Node) bool {
	s, ok := d.enum(n, "log level", logLevels)
	*x = logLevel(s)
	return ok
}

// JSONSchema describes a log level.
func (logLevel) JSONSchema() *jsonschema.Schema {
	return enumSchema("A log level.", logLevels)
}

// createResults are the outcomes of create_budget.
var createResults = []string{"created", "already_satisfied"}

// createResult is an expected create_budget outcome.
type createResult string

func (x *createResult) decodeYAML(d *decoder, n ast.Node) bool {
	if _, ok := n.(*ast.MappingNode); ok {
		d.typeError(n, "created or already_satisfied")
		return false
	}
	s, ok := d.enum(n, "create_budget outcome", createResults)
	*x = createResult(s)
	return ok
}

// JSONSchema describes a create_budget outcome.
func (createResult) JSONSchema() *jsonschema.Schema {
	return enumSchema("created: the budget was created; already_satisfied: it existed and nothing changed.", createResults)
}

// usageResults are the outcomes of report_usage.
var usageResults = []string{"ok", "already_applied", "soft_breach", "hard_breach"}

// usageResult is an expected report_usage outcome.
type usageResult string

func (x *usageResult) decodeYAML(d *decoder, n ast.Node) bool {
	if _, ok := n.(*ast.MappingNode); ok {
		d.typeError(n, "one of "+strings.Join(usageResults, ", "))
		return false
	}
	s, ok := d.enum(n, "report_usage outcome", usageResults)
	*x = usageResult(s)
	return ok
}

// JSONSchema describes a report_usage outcome.
func (usageResult) JSONSchema() *jsonschema.Schema {
	return enumSchema("ok, already_applied (a replayed dedup key), soft_breach or hard_breach.", usageResults)
}

// anyOf is an expectation: one alternative of type T, or
// {any_of: [T, ...]} where a race allows several.
type anyOf[T any] struct {
	AnyOf []T `yaml:"any_of" jsonschema:"required,minItems=1" jsonschema_description:"The acceptable alternatives, at least one; the expectation holds if any of them does."`
}

func (x *anyOf[T]) decodeYAML(d *decoder, n ast.Node) bool {
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
		var v T
		if !d.decode(n, reflectValue(&v)) {
			return false
		}
		x.AnyOf = []T{v}
		return true
	}
	ok := true
	for _, kv := range m.Values {
		if k, _ := keyText(kv.Key); k != "any_of" {
			d.errorf(kv.Key, "any_of cannot be combined with other keys (%q)", k)
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
		if im, ok := item.(*ast.MappingNode); ok {
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
		var v T
		if !d.decode(item, reflectValue(&v)) {
			ok = false
			continue
		}
		x.AnyOf = append(x.AnyOf, v)
	}
	return ok
}

// JSONSchemaExtend turns the reflected {any_of: [T]} object into
// "T, or {any_of: [T, ...]}".
func (anyOf[T]) JSONSchemaExtend(s *jsonschema.Schema) {
	obj := *s
	alt := obj.Properties.Value("any_of").Items
	obj.Description = "Several acceptable alternatives, where a race allows more than one outcome."
	*s = jsonschema.Schema{
		Description: "One expected outcome, or {any_of: [...]} listing several acceptable ones.",
		OneOf:       []*jsonschema.Schema{alt, &obj},
	}
}

// keyed is a mapping from string keys to V that keeps the file's order and
// each key's position.
type keyed[V any] struct {
	Entries []keyedEntry[V]
}

type keyedEntry[V any] struct {
	Key   string
	Pos   sim.Pos
	Value V
}

func (x *keyed[V]) decodeYAML(d *decoder, n ast.Node) bool {
	m, ok := d.mapping(n)
	if !ok {
		return false
	}
	for _, kv := range m.Values {
		k, kok := d.key(kv)
		var v V
		if !kok || !d.within(k, kv.Value, reflectValue(&v)) {
			ok = false
			continue
		}
		x.Entries = append(x.Entries, keyedEntry[V]{Key: k, Pos: d.posOf(kv.Key), Value: v})
	}
	return ok
}

// JSONSchemaAlias describes keyed as a map.
func (keyed[V]) JSONSchemaAlias() any { return map[string]V(nil) }
