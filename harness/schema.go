package harness

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"strings"

	"github.com/invopop/jsonschema"
)

// SchemaID is the $id of the scenario JSON Schema.
const SchemaID = "https://github.com/ffsim/ffsim/harness/scenario.schema.json"

// Schema returns the JSON Schema (draft 2020-12) of the scenario format,
// for editors. It is generated from the same YAML-facing types the loader
// decodes into. Every step is a oneOf branch: an object with its one action
// key and, for steps that take one, an expect.
func Schema() ([]byte, error) {
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		ExpandedStruct:             true,
		Anonymous:                  true,
		Namer:                      defName,
	}
	root := r.Reflect(&scenarioFile{})
	root.ID = SchemaID
	root.Title = "ffsim scenario"
	root.Description = "A scenario for ffsim: budgets, a supervisor configuration and the steps that drive them on simulated time (SPEC §4)."

	branches := make([]*jsonschema.Schema, 0, len(stepKinds))
	for _, k := range stepKinds {
		fields := []reflect.StructField{{
			Name: "Action",
			Type: k.action,
			Tag:  reflect.StructTag(fmt.Sprintf(`yaml:%q jsonschema:"required" jsonschema_description:%q`, k.name, k.doc)),
		}}
		if k.expect != nil {
			fields = append(fields, reflect.StructField{
				Name: "Expect",
				Type: k.expect,
				Tag:  reflect.StructTag(fmt.Sprintf(`yaml:"expect" jsonschema_description:%q`, "Expected outcome: "+k.expectDoc+" May be {any_of: [...]}.")),
			})
		}
		b := r.ReflectFromType(reflect.StructOf(fields))
		maps.Copy(root.Definitions, b.Definitions)
		b.Definitions, b.Version, b.ID = nil, "", ""
		b.Title = k.name
		b.Description = k.doc
		branches = append(branches, b)
	}
	root.Definitions[defName(reflect.TypeFor[stepNode]())] = &jsonschema.Schema{
		Description: "One step: an object with exactly one action key and, for steps that take one, an optional expect.",
		OneOf:       branches,
	}
	return json.MarshalIndent(root, "", "  ")
}

var (
	pkgQualifier = regexp.MustCompile(`(?:[\w.-]+/)*[\w-]+\.`)
	word         = regexp.MustCompile(`[A-Za-z0-9_]+`)
)

// defName names a type's schema definition: "budgetState" becomes
// "BudgetState" and "anyOf[...harness.budgetState]" "AnyOfBudgetState".
// The step placeholder is "Step". Unnamed types get no definition.
func defName(t reflect.Type) string {
	name := t.Name()
	if name == "" {
		return ""
	}
	if t == reflect.TypeFor[stepNode]() {
		return "Step"
	}
	name = pkgQualifier.ReplaceAllString(name, "")
	var b strings.Builder
	for _, w := range word.FindAllString(name, -1) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}
