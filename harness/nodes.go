package harness

import (
	"reflect"

	"github.com/goccy/go-yaml/ast"

	"github.com/ffsim/ffsim/internal/suggest"
	"github.com/ffsim/ffsim/scenario"
)

// This file reads positions and shapes off the YAML AST.

// posOf returns a node's position in this file.
func (d *decoder) posOf(n ast.Node) scenario.Pos {
	line, col := nodePos(n)
	return scenario.Pos{File: d.file, Line: line, Col: col}
}

// firstKeyPos is the position of a mapping's first key (of its "{" when it
// is empty), where a step or a budget is said to be.
func (d *decoder) firstKeyPos(m *ast.MappingNode) scenario.Pos {
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
	if k := plainNumber(n); k != "" {
		return k
	}
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

// key returns a mapping key's text. Keys must be plain scalars.
func (d *decoder) key(kv *ast.MappingValueNode) (string, bool) {
	k, ok := d.plain(kv.Key)
	if !ok {
		return "", false
	}
	s, ok := keyText(k)
	if !ok {
		d.errorf(k, "a key must be a plain string, got %s", describe(k))
		return "", false
	}
	if msg := scenario.BadText(s, false); msg != "" {
		d.errorf(k, "key %s %s", suggest.Quote(s), msg)
		return "", false
	}
	return s, true
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
