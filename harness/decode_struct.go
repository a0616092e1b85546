package harness

import (
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/ffsim/ffsim/internal/suggest"
	"github.com/ffsim/ffsim/scenario"
	"github.com/goccy/go-yaml/ast"
)

// structInfo is what the decoder knows about a struct type: its keys (from
// yaml tags), each key's rules, which keys are required
// (jsonschema:"required"), where the struct's position goes (a field "Pos"
// of type scenario.Pos tagged yaml:"-"), and where the position of a key's
// value goes (a field named after the key's field plus "Pos", e.g. BudgetPos
// for Budget).
type structInfo struct {
	fields   map[string]int
	rules    map[string]rules
	names    []string
	required []string
	pos      int         // index of the Pos field, or -1
	valuePos map[int]int // field index -> index of its ...Pos field
}

var structInfos sync.Map
var posType = reflect.TypeFor[scenario.Pos]()

func infoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{fields: map[string]int{}, rules: map[string]rules{}, pos: -1, valuePos: map[int]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if name == "-" || name == "" || !f.IsExported() {
			continue
		}
		si.fields[name] = i
		si.rules[name] = rulesOf(f.Tag.Get("jsonschema"))
		si.names = append(si.names, name)
		if slices.Contains(strings.Split(f.Tag.Get("jsonschema"), ","), "required") {
			si.required = append(si.required, name)
		}
		if p, ok := t.FieldByName(f.Name + "Pos"); ok && p.Type == posType {
			si.valuePos[i] = p.Index[0]
		}
	}
	if p, ok := t.FieldByName("Pos"); ok && p.Type == posType {
		si.pos = p.Index[0]
	}
	structInfos.Store(t, si)
	return si
}

// decodeStruct decodes a mapping into a struct: every key must name a
// field and every required field must be given.
func (d *decoder) decodeStruct(n ast.Node, v reflect.Value) bool {
	m, ok := d.mapping(n)
	if !ok {
		return false
	}
	si := infoOf(v.Type())
	if si.pos >= 0 {
		v.Field(si.pos).Set(reflect.ValueOf(d.firstKeyPos(m)))
	}
	ok = true
	seen := map[string]bool{}
	for _, kv := range m.Values {
		k, kok := d.key(kv)
		if !kok {
			ok = false
			continue
		}
		i, found := si.fields[k]
		if !found {
			d.errorf(kv.Key, "unknown key %s%s", suggest.Quote(k), d.keyHint(k, si.names))
			ok = false
			continue
		}
		seen[k] = true
		if j, has := si.valuePos[i]; has {
			v.Field(j).Set(reflect.ValueOf(d.posOf(kv.Value)))
		}
		if !d.within(k, si.rules[k], kv.Value, v.Field(i)) {
			ok = false
		}
	}
	var missing []string
	for _, r := range si.required {
		if !seen[r] {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		d.missing(m, missing)
		ok = false
	}
	return ok
}

// missing reports required keys a mapping lacks.
func (d *decoder) missing(m *ast.MappingNode, keys []string) {
	if len(keys) == 1 {
		d.errorf(m, "missing required key %q", keys[0])
		return
	}
	d.errorf(m, "missing required keys %s", strings.Join(quoteAll(keys), ", "))
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = `"` + s + `"`
	}
	return out
}
