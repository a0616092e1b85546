package scenario

import (
	"fmt"
	"reflect"
	"strings"
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
// nearest enclosing value the loader located, path the Go path, name the
// key whose value v is.
func (v *validator) text(val reflect.Value, pos Pos, path, name string) {
	switch val.Kind() {
	case reflect.String:
		v.textValue(pos, path, name, val.String())
	case reflect.Pointer:
		if !val.IsNil() {
			v.text(val.Elem(), pos, path, name)
		}
	case reflect.Slice, reflect.Array:
		for i := range val.Len() {
			v.text(val.Index(i), pos, fmt.Sprintf("%s[%d]", path, i), name)
		}
	case reflect.Map:
		iter := val.MapRange()
		for iter.Next() {
			k := iter.Key()
			if k.Kind() == reflect.String {
				v.textValue(pos, path, name+" key", k.String())
			}
			v.text(iter.Value(), pos, fmt.Sprintf("%s[%q]", path, k.String()), name)
		}
	case reflect.Struct:
		t := val.Type()
		if t == reflect.TypeFor[time.Time]() {
			return
		}
		if f, ok := t.FieldByName("Pos"); ok && f.Type == posType {
			if p := val.FieldByIndex(f.Index).Interface().(Pos); !p.IsZero() {
				pos = p
			}
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Type == posType || (t == reflect.TypeFor[Scenario]() && f.Name == "File") {
				continue
			}
			key := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if key == "" || key == "-" {
				key = strings.Split(f.Tag.Get("json"), ",")[0]
			}
			if key == "" || key == "-" {
				key = strings.ToLower(f.Name)
			}
			sub := key
			if path != "" {
				sub = path + "." + key
			}
			v.text(val.Field(i), pos, sub, key)
		}
	}
}

// textValue checks one string; name is its key ("description", "reason",
// or "usage key" for a key of usage).
func (v *validator) textValue(pos Pos, path, name, s string) {
	if name == "reason" {
		return
	}
	if msg := BadText(s, name == "description"); msg != "" {
		what := name
		if what == "" {
			what = "text"
		}
		v.errorf(pos, path, "%s %s", what, msg)
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
