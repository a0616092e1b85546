package wasmhost

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"
)

// module builds a minimal module: a memory section and the given data
// segments (offset, bytes), so merging can be checked byte for byte.
func module(segs []dataSegment) []byte {
	b := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	mem := []byte{1, 0, 1} // one memory, min 1 page
	b = append(b, 5)
	b = binary.AppendUvarint(b, uint64(len(mem)))
	b = append(b, mem...)
	data := encodeData(segs)
	b = append(b, sectionData)
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

// image is the initial memory the data section produces.
func image(t *testing.T, bin []byte) []byte {
	t.Helper()
	segs, err := parseData(dataSectionOf(bin))
	if err != nil {
		t.Fatal(err)
	}
	mem := make([]byte, 1<<20)
	for _, s := range segs {
		copy(mem[s.offset:], s.init)
	}
	return mem
}

func TestMergeDataSegments(t *testing.T) {
	in := module([]dataSegment{
		{offset: 4096, init: []byte("abc")},
		{offset: 16, init: []byte{1, 2, 3}},
		{offset: 24, init: []byte("xyz")},
		{offset: 200000, init: []byte("far away")},
	})
	out := mergeDataSegments(in)
	segs, err := parseData(dataSectionOf(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 2 {
		t.Fatalf("%d segments after merging, want 2 (the far one stays apart)", len(segs))
	}
	if !bytes.Equal(image(t, in), image(t, out)) {
		t.Fatal("merging changed the initial memory")
	}
}

func TestMergeDataSegmentsLeavesOtherFormsAlone(t *testing.T) {
	overlapping := module([]dataSegment{{offset: 10, init: []byte("abcd")}, {offset: 12, init: []byte("zz")}})
	if got := mergeDataSegments(overlapping); !bytes.Equal(got, overlapping) {
		t.Error("overlapping segments were rewritten")
	}
	passive := []byte{0, 'a', 's', 'm', 1, 0, 0, 0, sectionData, 4, 1, 1, 1, 'p'}
	if got := mergeDataSegments(passive); !bytes.Equal(got, passive) {
		t.Error("a passive segment was rewritten")
	}
	if got := mergeDataSegments([]byte("junk")); string(got) != "junk" {
		t.Error("junk was rewritten")
	}
}

// The built guest: tens of thousands of segments become a handful, and
// the memory they describe is the same.
func TestGuestDataSegmentsMerged(t *testing.T) {
	h := testWasmHost(t)
	bin, err := os.ReadFile(h.Info().GuestPath)
	if err != nil {
		t.Fatal(err)
	}
	segs, err := parseData(dataSectionOf(bin))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) > 16 {
		t.Fatalf("the cached guest has %d data segments: not merged", len(segs))
	}
}
