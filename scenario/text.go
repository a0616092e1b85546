package scenario

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// posType is the type of positions, which text does not check.
var posType = reflect.TypeFor[Pos]()

// text checks every string a scenario holds (values, map keys, ids) for
// characters that would forge or garble the reports that echo them: a
// name with a newline printed "FAIL injected" on a line of its own.
// Control characters (C0, DEL, C1), the Unicode line and paragraph
// separators and the bidirectional overrides are refused, and so is text
// that is not UTF-8. A description may hold newlines, carriage returns and
// tabs (it is prose, and never printed on a report line); a
// mark_worker_dead reason may hold anything, since what the store does
// with a bad reason is what such a step tests. pos is the position of the
// nearest enclosing value the loader located, at where the walk is (its
// Go path, spelled out only for an error), name the key whose value val
// is. Every run validates its scenario, so the walk allocates nothing for
// text that is fine.
func (v *validator) text(val reflect.Value, pos Pos, at *textPath, name string) {
	switch val.Kind() {
	case reflect.String:
		v.textValue(pos, at, name, val.String())
	case reflect.Pointer:
		if !val.IsNil() {
			v.text(val.Elem(), pos, at, name)
		}
	case reflect.Slice, reflect.Array:
		for i := range val.Len() {
			v.text(val.Index(i), pos, &textPath{up: at, index: i}, name)
		}
	case reflect.Map:
		iter := val.MapRange()
		for iter.Next() {
			k := iter.Key()
			if k.Kind() == reflect.String {
				v.textValue(pos, at, name+" key", k.String())
			}
			v.text(iter.Value(), pos, &textPath{up: at, mapKey: k.String(), isMapKey: true}, name)
		}
	case reflect.Struct:
		t := val.Type()
		if t == timeType {
			return
		}
		fs := textFieldsOf(t)
		if fs.pos >= 0 {
			if p := val.Field(fs.pos).Interface().(Pos); !p.IsZero() {
				pos = p
			}
		}
		for _, f := range fs.fields {
			v.text(val.Field(f.index), pos, &textPath{up: at, key: f.key}, f.key)
		}
	}
}

var timeType = reflect.TypeFor[time.Time]()

// textPath is where text is in the Go value, as a chain up to the root;
// String spells it as Check reports it ("steps[2].create_budget.id").
type textPath struct {
	up       *textPath
	key      string // a struct field's key
	index    int    // or an element's index
	mapKey   string // or a map entry's key
	isMapKey bool
}

func (p *textPath) String() string {
	if p == nil {
		return ""
	}
	up := p.up.String()
	switch {
	case p.key != "":
		if up == "" {
			return p.key
		}
		return up + "." + p.key
	case p.isMapKey:
		return fmt.Sprintf("%s[%q]", up, p.mapKey)
	default:
		return fmt.Sprintf("%s[%d]", up, p.index)
	}
}

// textFields is what text needs of a struct type: the field holding its
// Pos (-1: none), and the other exported fields with the keys they are
// written under.
type textFields struct {
	pos    int
	fields []textField
}

type textField struct {
	index int
	key   string
}

var textFieldCache sync.Map // reflect.Type -> *textFields

func textFieldsOf(t reflect.Type) *textFields {
	if fs, ok := textFieldCache.Load(t); ok {
		return fs.(*textFields)
	}
	fs := &textFields{pos: -1}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type == posType {
			if f.Name == "Pos" {
				fs.pos = i
			}
			continue
		}
		if !f.IsExported() || (t == reflect.TypeFor[Scenario]() && f.Name == "File") {
			continue
		}
		key := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if key == "" || key == "-" {
			key = strings.Split(f.Tag.Get("json"), ",")[0]
		}
		if key == "" || key == "-" {
			key = strings.ToLower(f.Name)
		}
		fs.fields = append(fs.fields, textField{index: i, key: key})
	}
	textFieldCache.Store(t, fs)
	return fs
}

// textValue checks one string; name is its key ("description", "reason",
// or "usage key" for a key of usage).
func (v *validator) textValue(pos Pos, at *textPath, name, s string) {
	if name == "reason" {
		return
	}
	if msg := BadText(s, name == "description"); msg != "" {
		what := name
		if what == "" {
			what = "text"
		}
		v.errorf(pos, at.String(), "%s %s", what, msg)
	}
}

// BadText says what is wrong with text a scenario holds, or "" when it is
// fine: it must be UTF-8 without control characters (C0, DEL, C1), line or
// paragraph separators, or bidirectional overrides, which would forge or
// garble the report lines that echo it. prose allows newlines, carriage
// returns and tabs.
func BadText(s string, prose bool) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return "is not valid UTF-8"
		case prose && (r == '\n' || r == '\r' || r == '\t'):
		case unicode.IsControl(r), r == '\u2028', r == '\u2029', r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
			if prose {
				return fmt.Sprintf("contains the control character %U: only newlines and tabs may break its text", r)
			}
			return fmt.Sprintf("contains the control character %U: scenario text is echoed on report lines, so it must be printable (no newlines, tabs or escapes)", r)
		}
	}
	return ""
}
