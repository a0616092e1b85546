package harness

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/ffsim/ffsim/internal/suggest"
	"github.com/ffsim/ffsim/scenario"
)

// The decoder walks the YAML AST into the scenario package's types by
// reflection. Struct fields are keyed by their yaml tags; jsonschema tags
// say which keys are required, the smallest integer (every integer in a
// scenario is non-negative unless a tag says more), strings that must not
// be empty, and the values an enumerated string may take, so the schema
// and the decoder read one description. Types whose YAML form differs from
// their Go form (durations, offsets, steps, expectations keyed by budget)
// have decoders of their own in syntax.go.

// maxDepth bounds how deeply values may nest, so hostile input cannot
// exhaust the stack.
const maxDepth = 200

// decoder walks a parsed YAML document into the scenario types, collecting
// every error with its position.
type decoder struct {
	file  string
	lines []string
	errs  []*Error
	depth int

	// field is the key whose value is being decoded, for messages, and
	// rules the constraints its struct tag puts on the value.
	field string
	rules rules

	// hints bounds the "did you mean" work for the file.
	hints *suggest.Limiter
}

// rules are the constraints a field's jsonschema tag puts on its value (and,
// for a map or a list, on each element).
type rules struct {
	min      int64    // smallest integer; 0 unless minimum=N
	nonEmpty bool     // minLength=1
	enum     []string // enum=a,enum=b
}

// rulesOf reads a jsonschema struct tag.
func rulesOf(tag string) rules {
	var r rules
	for _, part := range strings.Split(tag, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "minimum":
			fmt.Sscan(v, &r.min)
		case "minLength":
			r.nonEmpty = v != "0"
		case "enum":
			r.enum = append(r.enum, v)
		}
	}
	return r
}

func newDecoder(file string, src []byte) *decoder {
	return &decoder{file: file, lines: splitLines(src), hints: suggest.NewLimiter(suggest.DefaultHints)}
}

// errorAt records an error at a position.
func (d *decoder) errorAt(line, col int, format string, args ...any) {
	if line < 1 {
		line, col = 1, 1
	}
	if col < 1 {
		col = 1
	}
	d.errs = append(d.errs, &Error{
		File:   d.file,
		Line:   line,
		Col:    col,
		Msg:    fmt.Sprintf(format, args...),
		Source: excerpt(d.lines, line, col),
	})
}

// errorf records an error at a node's position.
func (d *decoder) errorf(n ast.Node, format string, args ...any) {
	line, col := nodePos(n)
	d.errorAt(line, col, format, args...)
}

// typeError reports that n is not what was wanted.
func (d *decoder) typeError(n ast.Node, want string) {
	hint := ""
	if want == "a string" && plainNumber(n) != "" {
		hint = " (quote it)"
	}
	switch n.(type) {
	case *ast.NullNode:
		if strings.HasPrefix(want, "a mapping") {
			hint = " (write {} for an empty mapping)"
		}
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		if want == "a string" {
			hint = " (quote it)"
		}
	}
	d.errorf(n, "expected %s, got %s%s", want, describe(n), hint)
}

// plain rejects the YAML features scenarios do not use: anchors, aliases,
// tags and merge keys.
func (d *decoder) plain(n ast.Node) (ast.Node, bool) {
	switch t := n.(type) {
	case *ast.AnchorNode:
		d.errorf(n, "YAML anchors are not supported in scenarios")
		return nil, false
	case *ast.AliasNode:
		d.errorf(n, "YAML aliases are not supported in scenarios")
		return nil, false
	case *ast.TagNode:
		d.errorf(n, "YAML tags (%s) are not supported in scenarios", t.Start.Value)
		return nil, false
	case *ast.MergeKeyNode:
		d.errorf(n, "YAML merge keys are not supported in scenarios")
		return nil, false
	case *ast.CommentNode, *ast.CommentGroupNode, *ast.DirectiveNode, *ast.DocumentNode, *ast.MappingKeyNode, *ast.MappingValueNode:
		d.errorf(n, "unexpected %s", n.Type().YAMLName())
		return nil, false
	}
	return n, true
}

// mapping returns n as a mapping, or reports a type error.
func (d *decoder) mapping(n ast.Node) (*ast.MappingNode, bool) {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.typeError(n, "a mapping")
	}
	return m, ok
}

// str returns the text of a string scalar, or reports a type error
// wanting want ("a string", "a duration such as ..."). Text that reports
// would echo must be printable (scenario.BadText): only a description may
// hold newlines and tabs, and only a mark_worker_dead reason (whose
// refusal by the store is what such a step tests) anything at all.
func (d *decoder) str(n ast.Node, want string) (string, bool) {
	var text string
	switch s := n.(type) {
	case *ast.StringNode:
		if plainNumber(n) != "" {
			// An integer too large for int64 or uint64, which the parser
			// leaves as a string: it is no more a string than 12 is.
			d.typeError(n, want)
			return "", false
		}
		text = s.Value
	case *ast.LiteralNode:
		if s.Value != nil {
			text = s.Value.Value
		}
	default:
		d.typeError(n, want)
		return "", false
	}
	if d.field != "reason" {
		if msg := scenario.BadText(text, d.field == "description"); msg != "" {
			d.errorf(n, "%s %s", d.fieldName(), msg)
			return "", false
		}
	}
	return text, true
}

// integerRE matches the plain scalars YAML reads as integers, in the forms
// the parser knows: decimal, 0x, 0o, 0b and 0-prefixed octal.
var integerRE = regexp.MustCompile(`^[-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)$`)

// plainNumber returns "integer" for an unquoted scalar written as an
// integer that the parser left as a string because it does not fit in 64
// bits, and "" for anything else.
func plainNumber(n ast.Node) string {
	s, ok := n.(*ast.StringNode)
	if !ok || s.Token == nil || s.Token.Type != token.StringType || !integerRE.MatchString(s.Token.Value) {
		return ""
	}
	return "integer"
}

// outOfRange reports an integer the parser could not hold; max is the
// largest the field takes.
func (d *decoder) outOfRange(n ast.Node, max string) {
	d.errorf(n, "integer %s is out of range (%s must be at most %s)", n.GetToken().Value, d.fieldName(), max)
}

// integer returns the value of an integer scalar within [lo, math.MaxInt64].
func (d *decoder) integer(n ast.Node, lo int64) (int64, bool) {
	in, ok := n.(*ast.IntegerNode)
	if !ok {
		if plainNumber(n) == "integer" {
			d.outOfRange(n, "9223372036854775807")
			return 0, false
		}
		d.typeError(n, "an integer")
		return 0, false
	}
	var v int64
	switch x := in.Value.(type) {
	case int64:
		v = x
	case uint64:
		if x > math.MaxInt64 {
			d.outOfRange(n, "9223372036854775807")
			return 0, false
		}
		v = int64(x)
	default:
		d.errorf(n, "invalid integer %s", in.Token.Value)
		return 0, false
	}
	if v < lo {
		if lo == 0 {
			d.errorf(n, "%s must not be negative, got %d", d.fieldName(), v)
		} else {
			d.errorf(n, "%s must be %d or more, got %d", d.fieldName(), lo, v)
		}
		return 0, false
	}
	return v, true
}

// enum returns a string scalar that must be one of vals; what names it in
// messages ("where", "log level").
func (d *decoder) enum(n ast.Node, what string, vals []string) (string, bool) {
	s, ok := d.str(n, "a string")
	if !ok {
		return "", false
	}
	if !slices.Contains(vals, s) {
		d.errorf(n, "unknown %s %s%s", what, suggest.Quote(s), d.hint(s, vals))
		return "", false
	}
	return s, true
}

// nouns name enumerated fields in messages where the key alone is terse.
var nouns = map[string]string{"level": "log level"}

// fieldName names the value being decoded in messages.
func (d *decoder) fieldName() string {
	if d.field == "" {
		return "value"
	}
	return d.field
}

// within decodes n into v as the value of key k, under the rules of its
// field's tag.
func (d *decoder) within(k string, r rules, n ast.Node, v reflect.Value) bool {
	prevField, prevRules := d.field, d.rules
	d.field, d.rules = k, r
	defer func() { d.field, d.rules = prevField, prevRules }()
	return d.decode(n, v)
}

// orList renders "a", "a or b", "a, b or c".
func orList(vals []string) string {
	if len(vals) <= 1 {
		return strings.Join(vals, "")
	}
	return strings.Join(vals[:len(vals)-1], ", ") + " or " + vals[len(vals)-1]
}

// decode decodes n into v, which must be settable.
func (d *decoder) decode(n ast.Node, v reflect.Value) bool {
	if isNil(n) {
		d.errorAt(1, 1, "missing value")
		return false
	}
	n, ok := d.plain(n)
	if !ok {
		return false
	}
	if d.depth >= maxDepth {
		d.errorf(n, "values nest too deeply")
		return false
	}
	d.depth++
	defer func() { d.depth-- }()

	if dec, ok := syntax[v.Type()]; ok {
		return dec(d, n, v)
	}
	switch v.Kind() {
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		if !d.decode(n, e.Elem()) {
			return false
		}
		v.Set(e)
		return true
	case reflect.Struct:
		return d.decodeStruct(n, v)
	case reflect.Slice:
		return d.decodeSlice(n, v)
	case reflect.Map:
		return d.decodeMap(n, v)
	case reflect.String:
		return d.decodeString(n, v)
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.typeError(n, "a boolean (true or false)")
			return false
		}
		v.SetBool(b.Value)
		return true
	case reflect.Int, reflect.Int64:
		i, ok := d.integer(n, d.rules.min)
		v.SetInt(i)
		return ok
	case reflect.Uint64:
		return d.decodeUint(n, v)
	}
	panic("harness: no decoder for " + v.Type().String())
}

func (d *decoder) decodeSlice(n ast.Node, v reflect.Value) bool {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.typeError(n, "a list")
		return false
	}
	out := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
	ok = true
	for i, item := range seq.Values {
		if !d.decode(item, out.Index(i)) {
			ok = false
		}
	}
	v.Set(out)
	return ok
}

func (d *decoder) decodeMap(n ast.Node, v reflect.Value) bool {
	m, ok := d.mapping(n)
	if !ok {
		return false
	}
	out := reflect.MakeMapWithSize(v.Type(), len(m.Values))
	ok = true
	for _, kv := range m.Values {
		k, kok := d.key(kv)
		e := reflect.New(v.Type().Elem()).Elem()
		if !kok || !d.within(k, d.rules, kv.Value, e) {
			ok = false
			continue
		}
		out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
	}
	v.Set(out)
	return ok
}

// decodeString decodes a string under its field's rules: one of an enum,
// or not empty.
func (d *decoder) decodeString(n ast.Node, v reflect.Value) bool {
	s, ok := d.str(n, "a string")
	if !ok {
		return false
	}
	switch r := d.rules; {
	case len(r.enum) > 0:
		noun := d.field
		if x, ok := nouns[noun]; ok {
			noun = x
		}
		if s, ok = d.enum(n, noun, r.enum); !ok {
			return false
		}
	case r.nonEmpty && s == "":
		d.errorf(n, "must not be empty")
		return false
	}
	v.SetString(s)
	return true
}

func (d *decoder) decodeUint(n ast.Node, v reflect.Value) bool {
	in, ok := n.(*ast.IntegerNode)
	if !ok {
		if plainNumber(n) == "integer" {
			d.outOfRange(n, "18446744073709551615")
			return false
		}
		d.typeError(n, "an integer")
		return false
	}
	switch x := in.Value.(type) {
	case uint64:
		v.SetUint(x)
	case int64:
		if x < 0 {
			d.errorf(n, "%s must not be negative, got %d", d.fieldName(), x)
			return false
		}
		v.SetUint(uint64(x))
	default:
		d.errorf(n, "invalid integer %s", in.Token.Value)
		return false
	}
	return true
}

// reflect.Type -> *structInfo

// keyHint suggests a close key, or lists the valid ones.
func (d *decoder) keyHint(k string, names []string) string {
	if s := d.hints.Hint(k, names); s != "" {
		return s
	}
	if len(names) == 0 {
		return " (this mapping takes no keys)"
	}
	return " (valid keys: " + strings.Join(names, ", ") + ")"
}

// hint is a suggestion, or else the list of valid values.
func (d *decoder) hint(s string, vals []string) string {
	if h := d.hints.Hint(s, vals); h != "" {
		return h
	}
	return " (want " + orList(vals) + ")"
}
