package wasmhost

import (
	"encoding/binary"
	"errors"
	"slices"
)

// Go's wasm linker writes a module's initial memory as one data segment per
// run of non-zero bytes: the guest has about 60,000 of them. wazero
// evaluates each segment's offset expression, allocating, every time it
// instantiates the module, which made a guest's start cost several
// milliseconds before any of its code ran: most of an explore seed's fixed
// cost. mergeDataSegments rewrites the data section as the fewest segments
// whose gaps are at most maxDataGap zero bytes (one, for the Go guest),
// which loads the same bytes into the same memory.

// maxDataGap is the longest run of zeros merged into a segment; longer gaps
// split it, so merging never bloats the module by much.
const maxDataGap = 64 << 10

const (
	sectionData      = 11
	sectionDataCount = 12
	opI32Const       = 0x41
	opEnd            = 0x0b
)

var errDataLayout = errors.New("data section not in the simple form")

type dataSegment struct {
	offset uint32
	init   []byte
}

// mergeDataSegments returns bin with its active data segments merged. A
// module it does not fully understand (passive segments, memories other
// than 0, offsets that are not constants, overlaps) is returned unchanged.
func mergeDataSegments(bin []byte) []byte {
	if len(bin) < 8 {
		return bin
	}
	out := append([]byte(nil), bin[:8]...)
	changed := false
	for r := bin[8:]; len(r) > 0; {
		id := r[0]
		size, n := binary.Uvarint(r[1:])
		if n <= 0 || uint64(len(r)-1-n) < size {
			return bin
		}
		body := r[1+n : 1+n+int(size)]
		r = r[1+n+int(size):]
		switch id {
		case sectionData:
			segs, err := parseData(body)
			if err != nil {
				return bin
			}
			merged := mergeSegments(segs)
			body = encodeData(merged)
			changed = true
		case sectionDataCount:
			segs, err := parseData(dataSectionOf(bin))
			if err != nil {
				return bin
			}
			body = binary.AppendUvarint(nil, uint64(len(mergeSegments(segs))))
		}
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	if !changed {
		return bin
	}
	return out
}

// dataSectionOf returns the data section's body, or nil.
func dataSectionOf(bin []byte) []byte {
	for r := bin[8:]; len(r) > 0; {
		size, n := binary.Uvarint(r[1:])
		if n <= 0 || uint64(len(r)-1-n) < size {
			return nil
		}
		if r[0] == sectionData {
			return r[1+n : 1+n+int(size)]
		}
		r = r[1+n+int(size):]
	}
	return nil
}

func parseData(b []byte) ([]dataSegment, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errDataLayout
	}
	b = b[n:]
	segs := make([]dataSegment, 0, count)
	for range count {
		// flags 0: active, memory 0, then i32.const OFFSET end.
		if len(b) < 2 || b[0] != 0 || b[1] != opI32Const {
			return nil, errDataLayout
		}
		off, n := sleb32(b[2:])
		if n <= 0 || off < 0 || len(b) < 2+n+1 || b[2+n] != opEnd {
			return nil, errDataLayout
		}
		b = b[2+n+1:]
		size, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < size {
			return nil, errDataLayout
		}
		segs = append(segs, dataSegment{offset: uint32(off), init: b[n : n+int(size)]})
		b = b[n+int(size):]
	}
	if len(b) != 0 {
		return nil, errDataLayout
	}
	slices.SortStableFunc(segs, func(a, b dataSegment) int { return int(int64(a.offset) - int64(b.offset)) })
	for i := 1; i < len(segs); i++ {
		if uint64(segs[i-1].offset)+uint64(len(segs[i-1].init)) > uint64(segs[i].offset) {
			return nil, errDataLayout // overlapping: order would matter
		}
	}
	return segs, nil
}

// mergeSegments joins sorted, disjoint segments separated by at most
// maxDataGap zero bytes.
func mergeSegments(segs []dataSegment) []dataSegment {
	var out []dataSegment
	for _, s := range segs {
		if k := len(out) - 1; k >= 0 {
			last := &out[k]
			end := last.offset + uint32(len(last.init))
			if s.offset-end <= maxDataGap {
				last.init = append(last.init, make([]byte, s.offset-end)...)
				last.init = append(last.init, s.init...)
				continue
			}
		}
		out = append(out, dataSegment{offset: s.offset, init: append([]byte(nil), s.init...)})
	}
	return out
}

func encodeData(segs []dataSegment) []byte {
	b := binary.AppendUvarint(nil, uint64(len(segs)))
	for _, s := range segs {
		b = append(b, 0, opI32Const)
		b = appendSleb32(b, int32(s.offset))
		b = append(b, opEnd)
		b = binary.AppendUvarint(b, uint64(len(s.init)))
		b = append(b, s.init...)
	}
	return b
}

// sleb32 reads a signed LEB128 32-bit integer.
func sleb32(b []byte) (int32, int) {
	var v int64
	var shift uint
	for i := 0; i < len(b) && i < 5; i++ {
		c := b[i]
		v |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return int32(v), i + 1
		}
	}
	return 0, 0
}

func appendSleb32(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if (x == 0 && c&0x40 == 0) || (x == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
