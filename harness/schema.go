package harness

import (
	"encoding/json"
	"reflect"
	"slices"
	"time"

	"github.com/invopop/jsonschema"

	"github.com/ffsim/ffsim/scenario"
)

// SchemaID is the $id of the scenario JSON Schema.
const SchemaID = "https://github.com/ffsim/ffsim/harness/scenario.schema.json"

// Schema returns the JSON Schema (draft 2020-12) of the scenario format,
// for editors. It is generated from the scenario package's types, the tags
// the loader reads, and the step registry: every step is a oneOf branch,
// an object with its one action key and, for the kinds that take one, an
// expect shaped by the kind's ExpectSpec.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		ExpandedStruct:             true,
		Anonymous:                  true,
		DoNotReference:             false,
	}
	r.Mapper = (&mapper{r: r, busy: map[reflect.Type]bool{}}).schemaFor
	root := r.Reflect(&scenario.Scenario{})
	root.ID = SchemaID
	root.Title = "ffsim scenario"
	root.Description = "A scenario for ffsim: budgets, a supervisor configuration and the steps that drive them on simulated time (SPEC §4)."

	stepType := reflect.TypeFor[scenario.Step]()
	var branches []*jsonschema.Schema
	for _, k := range scenario.Kinds() {
		info := k.Info()
		props := jsonschema.NewProperties()
		action := r.ReflectFromType(stepType.Field(scenario.StepField(k)).Type)
		mergeDefs(root, action)
		action.Description = info.Doc
		if k == scenario.KindConcurrently {
			one := uint64(1)
			action.MinItems = &one
		}
		props.Set(info.Name, action)
		if info.Expect != nil {
			props.Set("expect", expectSchema(r, root, info.Expect))
		}
		branches = append(branches, &jsonschema.Schema{
			Type:                 "object",
			Title:                info.Name,
			Description:          info.Doc,
			Properties:           props,
			Required:             []string{info.Name},
			AdditionalProperties: jsonschema.FalseSchema,
		})
	}
	root.Definitions["Step"] = &jsonschema.Schema{
		Description: "One step: an object with exactly one action key and, for steps that take one, an optional expect.",
		OneOf:       branches,
	}
	return json.MarshalIndent(root, "", "  ")
}

// mergeDefs moves a sub-schema's definitions to the root.
func mergeDefs(root, s *jsonschema.Schema) {
	for name, d := range s.Definitions {
		root.Definitions[name] = d
	}
	s.Definitions, s.Version, s.ID = nil, "", ""
}

// mapper gives the schema of the types whose YAML form differs from their
// Go form (see syntax.go), and of integers, which are non-negative unless a
// tag says more. Other types are reflected.
type mapper struct {
	r *jsonschema.Reflector
	// busy marks the types being reflected by the mapper itself, whose
	// struct form it must then leave to the reflector.
	busy map[reflect.Type]bool
}

// structOf reflects t's struct form from inside the mapper.
func (m *mapper) structOf(t reflect.Type) *jsonschema.Schema {
	m.busy[t] = true
	defer delete(m.busy, t)
	return m.r.ReflectFromType(t)
}

func (m *mapper) schemaFor(t reflect.Type) *jsonschema.Schema {
	if m.busy[t] {
		return nil
	}
	r := m.r
	switch t {
	case reflect.TypeFor[scenario.BudgetState]():
		return &jsonschema.Schema{
			Description: "The expected state (only the fields given are checked), or not_found.",
			OneOf:       []*jsonschema.Schema{m.structOf(t), enumSchema("No such budget (no policy row).", []string{"not_found"})},
		}
	case reflect.TypeFor[[]scenario.WorkerExpect]():
		return &jsonschema.Schema{
			Type:        "object",
			Description: "Expected state per instance id: the fields to check, or absent.",
			AdditionalProperties: &jsonschema.Schema{OneOf: []*jsonschema.Schema{
				m.structOf(reflect.TypeFor[scenario.WorkerExpect]()),
				enumSchema("The instance has no row.", []string{"absent"}),
			}},
		}
	case reflect.TypeFor[scenario.WorkersExpect]():
		workers := r.ReflectFromType(reflect.TypeFor[[]scenario.WorkerExpect]())
		return &jsonschema.Schema{
			Description: "{INSTANCE: ...} in namespace default, or {namespace: NS, workers: {INSTANCE: ...}}.",
			OneOf: []*jsonschema.Schema{
				m.structOf(t),
				{
					Type:                 "object",
					Description:          "Expected state per instance id in namespace default.",
					AdditionalProperties: workers.AdditionalProperties,
					Not:                  &jsonschema.Schema{Required: []string{"workers"}},
				},
			},
		}
	case reflect.TypeFor[time.Duration]():
		return durationSchema(`A non-negative Go duration string such as "250ms", "5s", "1h" or "0s".`)
	case reflect.TypeFor[time.Time]():
		return &jsonschema.Schema{Type: "string", Format: "date-time", Description: "An RFC 3339 time such as 2026-01-01T00:00:00Z."}
	case reflect.TypeFor[scenario.Offset]():
		return &jsonschema.Schema{
			Description: `A time measured from the scenario start (t=0) as a Go duration such as "20s", or null for "none".`,
			AnyOf: []*jsonschema.Schema{
				durationSchema("Offset from t=0."),
				{Type: "null", Description: "No time (unscheduled, or never)."},
			},
		}
	case reflect.TypeFor[scenario.NullString]():
		return &jsonschema.Schema{
			Description: "A string, or null for none.",
			AnyOf:       []*jsonschema.Schema{{Type: "string"}, {Type: "null"}},
		}
	case reflect.TypeFor[scenario.Step]():
		return &jsonschema.Schema{Ref: "#/$defs/Step"}
	case reflect.TypeFor[[]scenario.Step]():
		return &jsonschema.Schema{Type: "array", Items: &jsonschema.Schema{Ref: "#/$defs/Step"}}
	case reflect.TypeFor[[]scenario.BudgetExpect]():
		state := r.ReflectFromType(reflect.TypeFor[scenario.BudgetState]())
		return &jsonschema.Schema{
			Type:                 "object",
			Description:          "Expected state per budget id.",
			AdditionalProperties: anyOfSchema(state),
		}
	case reflect.TypeFor[[]scenario.TicksExpect]():
		return &jsonschema.Schema{
			Type:                 "object",
			Description:          "Expected tick totals per reconciler.",
			PropertyNames:        enumSchema("A reconciler name.", scenario.Reconcilers),
			AdditionalProperties: r.ReflectFromType(reflect.TypeFor[scenario.TicksExpect]()),
		}
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return &jsonschema.Schema{Type: "integer", Minimum: "0", Description: "A non-negative integer."}
	}
	return nil
}

func durationSchema(desc string) *jsonschema.Schema {
	return &jsonschema.Schema{
		Type:        "string",
		Pattern:     durationPattern,
		Description: desc,
		Examples:    []any{"250ms", "5s", "1h"},
	}
}

func enumSchema(desc string, vals []string) *jsonschema.Schema {
	s := &jsonschema.Schema{Type: "string", Description: desc}
	for _, v := range vals {
		s.Enum = append(s.Enum, v)
	}
	return s
}

// anyOfSchema is "alt, or {any_of: [alt, ...]}".
func anyOfSchema(alt *jsonschema.Schema) *jsonschema.Schema {
	one := uint64(1)
	props := jsonschema.NewProperties()
	props.Set("any_of", &jsonschema.Schema{
		Type:        "array",
		Items:       alt,
		MinItems:    &one,
		Description: "The acceptable alternatives, at least one; the expectation holds if any of them does.",
	})
	return &jsonschema.Schema{
		Description: "One expected outcome, or {any_of: [...]} listing several acceptable ones.",
		OneOf: []*jsonschema.Schema{alt, {
			Type:                 "object",
			Description:          "Several acceptable alternatives, where a race allows more than one outcome.",
			Properties:           props,
			Required:             []string{"any_of"},
			AdditionalProperties: jsonschema.FalseSchema,
		}},
	}
}

// expectSchema is a kind's expect: its scalar results, or a mapping of the
// outcome keys it allows, or {any_of: [...]} of those.
func expectSchema(r *jsonschema.Reflector, root *jsonschema.Schema, spec *scenario.ExpectSpec) *jsonschema.Schema {
	var alts []*jsonschema.Schema
	if len(spec.Results) > 0 {
		alts = append(alts, enumSchema(spec.Doc, spec.Results))
	}
	if len(spec.Fields) > 0 {
		all := r.ReflectFromType(reflect.TypeFor[scenario.Outcome]())
		mergeDefs(root, all)
		props := jsonschema.NewProperties()
		for p := all.Properties.Oldest(); p != nil; p = p.Next() {
			if slices.Contains(spec.Fields, p.Key) {
				props.Set(p.Key, p.Value)
			}
		}
		alts = append(alts, &jsonschema.Schema{
			Type:                 "object",
			Description:          spec.Doc,
			Properties:           props,
			AnyOf:                requiredSchema(spec),
			AdditionalProperties: jsonschema.FalseSchema,
		})
	}
	alt := alts[0]
	if len(alts) > 1 {
		alt = &jsonschema.Schema{Description: spec.Doc, OneOf: alts}
	}
	s := anyOfSchema(alt)
	s.Description = "Expected outcome: " + spec.Doc + " May be {any_of: [...]}."
	return s
}

// requiredSchema is the rule for a kind's required keys: they are required
// unless the outcome names a result or an error instead (as
// scenario.Validate has it), so it is a choice rather than a plain
// "required" list.
func requiredSchema(spec *scenario.ExpectSpec) []*jsonschema.Schema {
	if len(spec.Required) == 0 {
		return nil
	}
	out := []*jsonschema.Schema{{Required: spec.Required}}
	for _, f := range []string{"result", "error", "hard_breach", "soft_breach", "refreshed"} {
		if slices.Contains(spec.Fields, f) {
			out = append(out, &jsonschema.Schema{Required: []string{f}})
		}
	}
	return out
}
