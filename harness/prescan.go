package harness

import (
	"github.com/goccy/go-yaml/token"
)

// Limits on a scenario file's structure, checked on its tokens before the
// YAML parser builds anything: the parser's cost grows faster than the
// input with nesting (100,000 nested "[" took gigabytes) and with the
// number of keys of a block mapping (quadratic: 10,000 keys take 0.4 s,
// 100,000 took 88 s), so a small hostile file could exhaust memory or
// time before any other check ran. No scenario comes near them.
const (
	// MaxNesting bounds how deeply collections nest, block and flow
	// together. The deepest scenario construct (an expectation inside a
	// step inside concurrently) is about ten levels.
	MaxNesting = 64
	// MaxMappingKeys bounds the keys of one mapping (a budget's
	// dimensions, a usage report, an expect_budget).
	MaxMappingKeys = 1_000
	// MaxListItems bounds the items of one list (steps, budgets, any_of).
	MaxListItems = 10_000
)

// scanLevel is one open collection: a block one at column col, or a flow
// one ([ or {).
type scanLevel struct {
	col   int
	seq   bool
	flow  bool
	count int
}

// prescan checks the structure the tokens describe against the limits
// above, recording an error at the first token past one. It follows the
// block structure by the columns of sequence entries and mapping keys, and
// the flow structure by brackets, as the parser will; the lexer has already
// told quoted strings, comments and block scalars apart. It is one loop
// over the tokens with its state in locals, which is what keeps it cheap on
// hostile input; split into helpers, that state would be threaded through
// each of them.
func prescan(d *decoder, tokens token.Tokens) bool {
	var block, flow []scanLevel
	fail := func(tk *token.Token, format string, args ...any) bool {
		line, col := 1, 1
		if tk.Position != nil {
			line, col = tk.Position.Line, tk.Position.Column
		}
		d.errorAt(line, col, format, args...)
		return false
	}
	deep := func(tk *token.Token) bool {
		if len(block)+len(flow) > MaxNesting {
			return fail(tk, "values nest more than %d levels deep", MaxNesting)
		}
		return true
	}
	tooMany := func(tk *token.Token, l *scanLevel) bool {
		if l.seq && l.count > MaxListItems {
			return fail(tk, "a list has more than %d items", MaxListItems)
		}
		if !l.seq && l.count > MaxMappingKeys {
			return fail(tk, "a mapping has more than %d keys", MaxMappingKeys)
		}
		return true
	}
	// entry records a block sequence entry or mapping key at column col.
	entry := func(tk *token.Token, col int, seq bool) bool {
		for len(block) > 0 && block[len(block)-1].col > col {
			block = block[:len(block)-1]
		}
		if n := len(block); n > 0 && block[n-1].col == col && block[n-1].seq && !seq {
			// A key at the column of a list's dashes ends the list
			// ("steps:\n- a\nname: x").
			block = block[:n-1]
		}
		if n := len(block); n > 0 && block[n-1].col == col && block[n-1].seq == seq {
			block[n-1].count++
			return tooMany(tk, &block[n-1])
		}
		// A new collection: deeper than the one before, or a list whose
		// dashes sit at the column of its parent's key ("steps:\n- a").
		block = append(block, scanLevel{col: col, seq: seq, count: 1})
		return deep(tk)
	}
	for i, tk := range tokens {
		if tk == nil || tk.Position == nil {
			continue
		}
		switch tk.Type {
		case token.DocumentHeaderType, token.DocumentEndType:
			block, flow = block[:0], flow[:0]
		case token.SequenceStartType, token.MappingStartType:
			flow = append(flow, scanLevel{flow: true, seq: tk.Type == token.SequenceStartType, count: 1})
			if !deep(tk) {
				return false
			}
		case token.SequenceEndType, token.MappingEndType:
			if len(flow) > 0 {
				flow = flow[:len(flow)-1]
			}
		case token.CollectEntryType:
			if n := len(flow); n > 0 {
				flow[n-1].count++
				if !tooMany(tk, &flow[n-1]) {
					return false
				}
			}
		case token.SequenceEntryType:
			if len(flow) == 0 && !entry(tk, tk.Position.Column, true) {
				return false
			}
		case token.MappingKeyType:
			if len(flow) == 0 && !entry(tk, tk.Position.Column, false) {
				return false
			}
		case token.MappingValueType:
			if len(flow) > 0 {
				continue
			}
			// The key is the token before the colon on the same line; an
			// explicit key ("? k\n: v") was counted at its "?".
			key := tk
			if i > 0 {
				prev := tokens[i-1]
				if prev.Type == token.MappingKeyType || (prev.Position != nil && prev.Position.Line != tk.Position.Line) {
					continue
				}
				if prev.Position != nil {
					key = prev
				}
			}
			if !entry(key, key.Position.Column, false) {
				return false
			}
		}
	}
	return true
}
