package harness

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// encodeWidth is the line length under which a value is written on one
// line, as a flow mapping or list.
const encodeWidth = 100

// node is a YAML value to render: a scalar (its text, already quoted where
// needed), a mapping (ordered keys) or a list.
type node struct {
	scalar string
	keys   []string
	vals   []*node
	list   []*node
	isMap  bool
	isList bool
	// forceBlock forces the block layout (the file, a budget, a step, a list
	// of steps or budgets) even when the flow form would fit.
	forceBlock bool
}

func scalar(s string) *node { return &node{scalar: s} }

func mapping(block bool) *node { return &node{isMap: true, forceBlock: block} }

// add appends one of the format's own keys.
func (n *node) add(k string, v *node) *node {
	n.keys = append(n.keys, k)
	n.vals = append(n.vals, v)
	return n
}

// addName appends a key the scenario names (a budget, a dimension, an
// instance), quoted where needed.
func (n *node) addName(k string, v *node) *node { return n.add(quote(k), v) }

func list(block bool, items ...*node) *node {
	return &node{isList: true, list: items, forceBlock: block}
}

// flow renders n on one line.
func (n *node) flow() string {
	switch {
	case n.isMap:
		parts := make([]string, len(n.keys))
		for i, k := range n.keys {
			parts[i] = k + ": " + n.vals[i].flow()
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case n.isList:
		parts := make([]string, len(n.list))
		for i, v := range n.list {
			parts[i] = v.flow()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return n.scalar
}

// compound reports whether n is a non-empty mapping or list.
func (n *node) compound() bool {
	return (n.isMap && len(n.keys) > 0) || (n.isList && len(n.list) > 0)
}

// writeBlock renders a mapping or list in block layout at indent; each value
// goes on its key's line when it fits there in flow form.
func (n *node) writeBlock(b *strings.Builder, indent int) {
	pad := strings.Repeat(" ", indent)
	switch {
	case n.isMap:
		for i, k := range n.keys {
			b.WriteString(pad)
			n.entry(b, indent, k, n.vals[i])
		}
	case n.isList:
		for _, v := range n.list {
			b.WriteString(pad + "- ")
			if v.isMap && v.compound() && (v.forceBlock || !fits(indent+2, v.flow())) {
				// A mapping item starts on the dash's line.
				v.entry(b, indent+2, v.keys[0], v.vals[0])
				for i := 1; i < len(v.keys); i++ {
					b.WriteString(strings.Repeat(" ", indent+2))
					v.entry(b, indent+2, v.keys[i], v.vals[i])
				}
				continue
			}
			if v.compound() && (v.forceBlock || !fits(indent+2, v.flow())) {
				b.WriteString("\n")
				v.writeBlock(b, indent+2)
				continue
			}
			b.WriteString(v.flow() + "\n")
		}
	}
}

// entry writes "k: v" at indent (the indentation already written).
func (n *node) entry(b *strings.Builder, indent int, k string, v *node) {
	if v.compound() && (v.forceBlock || !fits(indent+len(k)+2, v.flow())) {
		b.WriteString(k + ":\n")
		v.writeBlock(b, indent+2)
		return
	}
	b.WriteString(k + ": " + v.flow() + "\n")
}

func fits(col int, s string) bool { return col+len(s) <= encodeWidth }

// plainSafe reports whether s reads back as itself written plain, in a
// block or a flow: it starts with an ASCII letter or underscore, holds
// only ASCII letters, digits, spaces and _ . - / ( ) ' = + (none of the
// flow indicators , [ ] { }, nor : or #), does not end with a space, and is
// none of YAML's special words.
func plainSafe(s string) bool {
	if s == "" || strings.HasSuffix(s, " ") {
		return false
	}
	for i, r := range s {
		switch {
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || r == '_'):
		case i > 0 && r < utf8.RuneSelf && (unicode.IsDigit(r) || strings.ContainsRune(" .-/()'=+", r)):
		default:
			return false
		}
	}
	switch strings.ToLower(s) {
	case "true", "false", "null", "yes", "no", "on", "off", "y", "n", "nan", "inf", "infinity":
		return false
	}
	return true
}

// quote returns s as a plain scalar when safe, else double-quoted with
// YAML's escapes.
func quote(s string) string {
	if plainSafe(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r) && r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
