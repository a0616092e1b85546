package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/ffsim/ffsim/scenario"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// librarySchema compiles Schema() with an independent validator.
func librarySchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Schema() is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatalf("Schema() does not compile: %v", err)
	}
	return sch
}

// yamlToJSON converts a scenario file to the JSON value an editor's YAML
// language server would validate: keys as strings, scalars as JSON
// scalars.
func yamlToJSON(data []byte) (any, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, err
	}
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		return nil, fmt.Errorf("want one document")
	}
	var conv func(n ast.Node) (any, error)
	conv = func(n ast.Node) (any, error) {
		switch n := n.(type) {
		case *ast.StringNode:
			return n.Value, nil
		case *ast.LiteralNode:
			return n.Value.Value, nil
		case *ast.IntegerNode:
			return json.Number(fmt.Sprint(n.Value)), nil
		case *ast.FloatNode:
			return json.Number(strconv.FormatFloat(n.Value, 'g', -1, 64)), nil
		case *ast.BoolNode:
			return n.Value, nil
		case *ast.NullNode:
			return nil, nil
		case *ast.SequenceNode:
			out := []any{}
			for _, v := range n.Values {
				x, err := conv(v)
				if err != nil {
					return nil, err
				}
				out = append(out, x)
			}
			return out, nil
		case *ast.MappingNode:
			out := map[string]any{}
			for _, kv := range n.Values {
				k, ok := keyText(kv.Key)
				if !ok {
					return nil, fmt.Errorf("complex key")
				}
				x, err := conv(kv.Value)
				if err != nil {
					return nil, err
				}
				out[k] = x
			}
			return out, nil
		}
		return nil, fmt.Errorf("unsupported node %T", n)
	}
	v, err := conv(f.Docs[0].Body)
	if err != nil {
		return nil, err
	}
	// Round-trip through the validator's own JSON reader.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// goodFiles are the scenario files that must load and validate: ours and
// the built-in library's (if it exists yet).
func goodFiles(t *testing.T) []string {
	t.Helper()
	ok, err := filepath.Glob("testdata/ok/*.yaml")
	if err != nil || len(ok) == 0 {
		t.Fatalf("no testdata/ok files: %v", err)
	}
	lib, _ := filepath.Glob("../scenarios/*.yaml")
	lib2, _ := filepath.Glob("../scenarios/*.yml")
	if len(lib)+len(lib2) == 0 {
		t.Log("no library scenarios under ../scenarios yet; checking testdata only")
	}
	return slices.Concat(ok, lib, lib2)
}

// TestSchemaAgreesOnGoodFiles: every valid scenario loads and validates
// against the schema.
func TestSchemaAgreesOnGoodFiles(t *testing.T) {
	sch := librarySchema(t)
	for _, file := range goodFiles(t) {
		t.Run(file, func(t *testing.T) {
			if _, err := Load(file); err != nil {
				t.Errorf("Load: %v", err)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			inst, err := yamlToJSON(data)
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err != nil {
				t.Errorf("schema rejects it: %v", err)
			}
		})
	}
}

var schemaComment = regexp.MustCompile(`(?m)^# schema: (reject|accept|n/a)$`)

// TestSchemaAgreesOnBadFiles: structurally malformed files (marked
// "# schema: reject") fail the schema as they fail Load; files whose only
// errors are semantic (references, duplicates; "# schema: accept") pass
// it, since a schema cannot see them.
func TestSchemaAgreesOnBadFiles(t *testing.T) {
	sch := librarySchema(t)
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	rejected := 0
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			m := schemaComment.FindSubmatch(data)
			if m == nil {
				t.Fatalf("%s has no # schema: comment", file)
			}
			if string(m[1]) == "n/a" {
				return
			}
			inst, err := yamlToJSON(data)
			if err != nil {
				t.Fatal(err)
			}
			verr := sch.Validate(inst)
			switch string(m[1]) {
			case "reject":
				rejected++
				if verr == nil {
					t.Errorf("schema accepts a structurally malformed file")
				}
			case "accept":
				if verr != nil {
					t.Errorf("schema rejects a structurally valid file: %v", verr)
				}
			}
		})
	}
	if rejected < 3 {
		t.Errorf("only %d schema-rejected bad files; want at least unknown key, wrong type and missing name", rejected)
	}
}

// TestSchemaShape checks the schema's form: draft 2020-12, a description
// on every property, no additional properties on any object with declared
// properties, and one oneOf branch per step with its name required.
func TestSchemaShape(t *testing.T) {
	data, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	if root["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", root["$schema"])
	}
	props := 0
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ps, ok := v["properties"].(map[string]any); ok {
				if v["additionalProperties"] != false {
					t.Errorf("%s: additionalProperties is %v, want false", path, v["additionalProperties"])
				}
				for name, p := range ps {
					props++
					if d, _ := p.(map[string]any)["description"].(string); d == "" {
						t.Errorf("%s.properties.%s has no description", path, name)
					}
				}
			}
			for k, x := range v {
				walk(path+"/"+k, x)
			}
		case []any:
			for i, x := range v {
				walk(fmt.Sprintf("%s/%d", path, i), x)
			}
		}
	}
	walk("#", root)
	if props < 50 {
		t.Errorf("only %d properties found; the walk is broken", props)
	}

	step := root["$defs"].(map[string]any)["Step"].(map[string]any)
	branches := step["oneOf"].([]any)
	if len(branches) != len(scenario.Kinds()) {
		t.Fatalf("Step has %d branches, want %d", len(branches), len(scenario.Kinds()))
	}
	for i, b := range branches {
		b := b.(map[string]any)
		k := scenario.Kinds()[i]
		if req := b["required"].([]any); len(req) != 1 || req[0] != k.String() {
			t.Errorf("branch %d requires %v, want [%s]", i, req, k)
		}
		_, hasExpect := b["properties"].(map[string]any)["expect"]
		if hasExpect != (k.Info().Expect != nil) {
			t.Errorf("branch %s: expect property present = %v, want %v", k, hasExpect, k.Info().Expect != nil)
		}
	}
}

// TestSchemaStructuralCases checks the schema rejects small structurally
// malformed documents and accepts their fixed forms.
func TestSchemaStructuralCases(t *testing.T) {
	sch := librarySchema(t)
	for _, tt := range []struct {
		src   string
		valid bool
	}{
		{"name: x\nsteps: []\n", true},
		{"steps: []\n", false},
		{"name: x\nsteps: []\nextra: 1\n", false},
		{"name: x\nsteps: [{advance: 1s}]\n", true},
		{"name: x\nsteps: [{advance: 5}]\n", false},
		{"name: x\nsteps: [{advance: -1s}]\n", false},
		{"name: x\nsteps: [{advance: 1s, spawn: {}}]\n", false},
		{"name: x\nsteps: [{advance: 1s, expect: ok}]\n", false},
		{"name: x\nsteps: [{spawn: {}, expect: {installed: true}}]\n", true},
		{"name: x\nsteps: [{spawn: {}, expect: {any_of: [{installed: true}, {installed: false}]}}]\n", true},
		{"name: x\nsteps: [{spawn: {}, expect: {any_of: []}}]\n", false},
		{"name: x\nsteps: [{spawn: {}, expect: {any_of: [{any_of: [{installed: true}]}]}}]\n", false},
		{"name: x\nsteps: [{spawn: {}, expect: ok}]\n", false},
		{"name: x\nsteps: [{report_usage: {budget: b, usage: {t: 1}}, expect: {any_of: [ok, hard_breach]}}]\n", true},
		{"name: x\nsteps: [{report_usage: {budget: b, usage: {t: 1}}, expect: fine}]\n", false},
		{"name: x\nsteps: [{set_next_reset: {budget: b, at: null}}]\n", true},
		{"name: x\nsteps: [{expect_ticks: {budget_reset: {count: 1}}}]\n", true},
		{"name: x\nsteps: [{expect_ticks: {other: {count: 1}}}]\n", false},
		{"name: x\nsteps: [{expect_running: -1}]\n", false},
		{"name: x\nsteps: [{busy: {attempts: 0}}]\n", false},
		{"name: x\nsteps: [{concurrently: []}]\n", false},
		{"name: x\nsteps: [{concurrently: [{close: {}}]}]\n", true},
		{"name: x\nsteps: [{slow_tick: {reconciler: budget_reset, tick: 1, duration: 1s, where: during}}]\n", false},
	} {
		inst, err := yamlToJSON([]byte(tt.src))
		if err != nil {
			t.Fatal(err)
		}
		verr := sch.Validate(inst)
		if (verr == nil) != tt.valid {
			t.Errorf("schema on %q: valid=%v, want %v (%v)", tt.src, verr == nil, tt.valid, verr)
		}
		// The loader agrees, except on references to undeclared budgets,
		// which the schema cannot see.
		_, lerr := LoadBytes("s.yaml", []byte(tt.src))
		if tt.valid && lerr != nil && !regexp.MustCompile(`unknown budget`).MatchString(lerr.Error()) {
			t.Errorf("loader rejects %q: %v", tt.src, lerr)
		}
		if !tt.valid && lerr == nil {
			t.Errorf("loader accepts %q", tt.src)
		}
	}
}
