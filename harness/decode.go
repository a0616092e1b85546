package harness

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/goccy/go-yaml/ast"

	"github.com/ffsim/ffsim/sim"
)

// nodeDecoder is implemented (on the pointer) by YAML-facing types that
// decode themselves from a node. It reports errors on d and returns whether
// the value was decoded.
type nodeDecoder interface {
	decodeYAML(d *decoder, n ast.Node) bool
}

// maxDepth bounds how deeply values may nest, so hostile input cannot
// exhaust the stack.
const maxDepth = 200

// decoder walks a parsed YAML document into the YAML-facing types,
// collecting every error with its position. It also records the budget
// declarations and references it meets, which are checked once the whole
// file has been read.
type decoder struct {
	file  string
	lines []string
	errs  []*Error
	depth int

	// field is the key whose value is being decoded, for messages.
	field string

	// seq is the index of the top-level step being decoded; steps nested in
	// a concurrently step share their parent's seq.
	seq int
	// conc is how many concurrently steps enclose the current step.
	conc int
	// created maps a budget id to the seq of its first create_budget step.
	created map[string]int
	refs    []budgetRef
}

// budgetRef is a reference to a budget id by a step at seq.
type budgetRef struct {
	id  budgetID
	seq int
}

func newDecoder(file string, src []byte) *decoder {
	return &decoder{file: file, lines: splitLines(src), created: map[string]int{}}
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

// posOf returns a node's position as a sim.Pos in this file.
func (d *decoder) posOf(n ast.Node) sim.Pos {
	line, col := nodePos(n)
	return sim.Pos{File: d.file, Line: line, Col: col}
}

// firstKeyPos is the position of a mapping's first key (of its "{" when it
// is empty), where a step or a budget is said to be.
func (d *decoder) firstKeyPos(m *ast.MappingNode) sim.Pos {
	if len(m.Values) > 0 && m.Values[0] != nil {
		return d.posOf(m.Values[0])
	}
	return d.posOf(m)
}

// nodePos is where a node starts: the "{" of a flow mapping, the first key
// of a block mapping, or the node's own token.
func nodePos(n ast.Node) (line, col int) {
	if isNil(n) {
		return 1, 1
	}
	switch m := n.(type) {
	case *ast.MappingNode:
		if m.IsFlowStyle && m.Start != nil && m.Start.Position != nil {
			return m.Start.Position.Line, m.Start.Position.Column
		}
		if len(m.Values) > 0 && m.Values[0] != nil {
			return nodePos(m.Values[0])
		}
	case *ast.MappingValueNode:
		if !isNil(m.Key) {
			return nodePos(m.Key)
		}
	case *ast.DocumentNode:
		if !isNil(m.Body) {
			return nodePos(m.Body)
		}
		return 1, 1
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil || tk.Position.Line < 1 {
		return 1, 1
	}
	return tk.Position.Line, max(tk.Position.Column, 1)
}

func isNil(n ast.Node) bool {
	if n == nil {
		return true
	}
	v := reflect.ValueOf(n)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// describe names a node's kind for messages.
func describe(n ast.Node) string {
	switch n.(type) {
	case *ast.StringNode, *ast.LiteralNode:
		return "string"
	case *ast.IntegerNode:
		return "integer"
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "number"
	case *ast.BoolNode:
		return "boolean"
	case *ast.NullNode:
		return "null"
	case *ast.MappingNode:
		return "mapping"
	case *ast.SequenceNode:
		return "list"
	}
	return n.Type().YAMLName()
}

// typeError reports that n is not what was wanted.
func (d *decoder) typeError(n ast.Node, want string) {
	hint := ""
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

// key returns a mapping key's text. Keys must be plain scalars.
func (d *decoder) key(kv *ast.MappingValueNode) (string, bool) {
	k, ok := d.plain(kv.Key)
	if !ok {
		return "", false
	}
	s, ok := keyText(k)
	if !ok {
		d.errorf(k, "a key must be a plain string, got %s", describe(k))
	}
	return s, ok
}

// keyText is the text of a scalar key ("1" for the key 1).
func keyText(n ast.Node) (string, bool) {
	switch k := n.(type) {
	case *ast.StringNode:
		return k.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NullNode, *ast.InfinityNode, *ast.NanNode:
		return n.GetToken().Value, true
	}
	return "", false
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
// wanting want ("a string", "a duration such as ...").
func (d *decoder) str(n ast.Node, want string) (string, bool) {
	switch s := n.(type) {
	case *ast.StringNode:
		return s.Value, true
	case *ast.LiteralNode:
		if s.Value != nil {
			return s.Value.Value, true
		}
		return "", true
	}
	d.typeError(n, want)
	return "", false
}

// integer returns the value of an integer scalar within [lo, math.MaxInt64].
func (d *decoder) integer(n ast.Node, lo int64) (int64, bool) {
	in, ok := n.(*ast.IntegerNode)
	if !ok {
		d.typeError(n, "an integer")
		return 0, false
	}
	var v int64
	switch x := in.Value.(type) {
	case int64:
		v = x
	case uint64:
		if x > math.MaxInt64 {
			d.errorf(n, "integer %s is out of range", in.Token.Value)
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
		d.errorf(n, "unknown %s %q%s", what, s, hint(s, vals))
		return "", false
	}
	return s, true
}

// fieldName names the value being decoded in messages.
func (d *decoder) fieldName() string {
	if d.field == "" {
		return "value"
	}
	return d.field
}

// within decodes n into v as the value of key k.
func (d *decoder) within(k string, n ast.Node, v reflect.Value) bool {
	prev := d.field
	d.field = k
	defer func() { d.field = prev }()
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

	if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
		return nd.decodeYAML(d, n)
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
	case reflect.Map:
		m, ok := d.mapping(n)
		if !ok {
			return false
		}
		out := reflect.MakeMapWithSize(v.Type(), len(m.Values))
		ok = true
		for _, kv := range m.Values {
			k, kok := d.key(kv)
			e := reflect.New(v.Type().Elem()).Elem()
			if !kok || !d.within(k, kv.Value, e) {
				ok = false
				continue
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
		}
		v.Set(out)
		return ok
	case reflect.String:
		s, ok := d.str(n, "a string")
		v.SetString(s)
		return ok
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.typeError(n, "a boolean (true or false)")
			return false
		}
		v.SetBool(b.Value)
		return true
	case reflect.Int, reflect.Int64:
		i, ok := d.integer(n, math.MinInt64)
		v.SetInt(i)
		return ok
	case reflect.Uint64:
		in, ok := n.(*ast.IntegerNode)
		if !ok {
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
	panic("harness: no decoder for " + v.Type().String())
}

// structInfo is what the decoder knows about a YAML-facing struct type:
// its keys (from yaml tags), which are required (jsonschema:"required"),
// and where its position goes (a sim.Pos field tagged yaml:"-").
type structInfo struct {
	fields   map[string]int
	names    []string
	required []string
	pos      int // index of the sim.Pos field, or -1
}

var structInfos sync.Map // reflect.Type -> *structInfo

var posType = reflect.TypeFor[sim.Pos]()

func infoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{fields: map[string]int{}, pos: -1}
	for i := range t.NumField() {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if name == "-" {
			if f.Type == posType {
				si.pos = i
			}
			continue
		}
		if !f.IsExported() || name == "" {
			continue
		}
		si.fields[name] = i
		si.names = append(si.names, name)
		if slices.Contains(strings.Split(f.Tag.Get("jsonschema"), ","), "required") {
			si.required = append(si.required, name)
		}
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
			d.errorf(kv.Key, "unknown key %q%s", k, keyHint(k, si.names))
			ok = false
			continue
		}
		seen[k] = true
		if !d.within(k, kv.Value, v.Field(i)) {
			ok = false
		}
	}
	var missing []string
	for _, r := range si.required {
		if !seen[r] {
			missing = append(missing, r)
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		d.errorf(m, "missing required key %q", missing[0])
		ok = false
	default:
		d.errorf(m, "missing required keys %s", strings.Join(quoteAll(missing), ", "))
		ok = false
	}
	return ok
}

// keyHint suggests a close key, or lists the valid ones.
func keyHint(k string, names []string) string {
	if s := suggestion(k, names); s != "" {
		return s
	}
	if len(names) == 0 {
		return " (this mapping takes no keys)"
	}
	return " (valid keys: " + strings.Join(names, ", ") + ")"
}

// suggestion returns ` (did you mean "x"?)` for the closest candidate
// within a small edit distance, or "".
func suggestion(s string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		dist := editDistance(s, c)
		if best == "" || dist < bestDist {
			best, bestDist = c, dist
		}
	}
	limit := max(1, min(3, len([]rune(s))/3))
	if best != "" && bestDist <= limit {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	// "warning" for "warn", "okay" for "ok": a candidate that begins the
	// word (or that the word begins) is likely meant.
	for _, c := range candidates {
		if len(c) >= 2 && len(s) >= 2 && (strings.HasPrefix(s, c) || strings.HasPrefix(c, s)) {
			return fmt.Sprintf(" (did you mean %q?)", c)
		}
	}
	return ""
}

// hint is suggestion, or else the list of valid values.
func hint(s string, vals []string) string {
	if h := suggestion(s, vals); h != "" {
		return h
	}
	return " (want " + orList(vals) + ")"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
