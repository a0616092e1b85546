package wasmhost

import (
	"context"
	"sync"

	"github.com/tetratelabs/wazero/experimental"
)

// Guest linear memory is recycled across runs. A Go guest grows its memory
// a few pages at a time, and wazero's default backing grows a Go slice by
// reallocating and copying it, so each run allocated and copied tens of
// megabytes; the host's GC then had to stop the world while a guest was
// running compiled code, which only pauses at its next host call. A pool
// of buffers, cleared where the last run wrote, avoids all three. (A fresh
// anonymous mapping per run was slower still: page faults.)
type memoryPool struct {
	mu   sync.Mutex
	free [][]byte
	keep int
}

func newMemoryPool(keep int) *memoryPool { return &memoryPool{keep: keep} }

// with makes instantiations under ctx take their memory from p.
func (p *memoryPool) with(ctx context.Context) context.Context {
	return experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(p.allocate))
}

func (p *memoryPool) allocate(capacity, max uint64) experimental.LinearMemory {
	p.mu.Lock()
	var buf []byte
	if n := len(p.free); n > 0 {
		buf, p.free = p.free[n-1], p.free[:n-1]
	}
	p.mu.Unlock()
	if uint64(cap(buf)) < capacity {
		buf = make([]byte, 0, capacity)
	}
	return &pooledMemory{pool: p, buf: buf[:0], max: max}
}

func (p *memoryPool) put(buf []byte) {
	clear(buf) // wasm memory starts zeroed; only what a run used is dirty
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < p.keep {
		p.free = append(p.free, buf[:0])
	}
}

type pooledMemory struct {
	pool *memoryPool
	buf  []byte
	max  uint64
}

func (m *pooledMemory) Reallocate(size uint64) []byte {
	switch {
	case size > m.max:
		return nil
	case size <= uint64(cap(m.buf)):
		m.buf = m.buf[:size] // beyond the old length it is still zero
	default:
		// Double: a guest grows in small steps.
		grown := make([]byte, size, min(max(size, 2*uint64(cap(m.buf))), m.max))
		copy(grown, m.buf)
		m.pool.put(m.buf[:len(m.buf)])
		m.buf = grown
	}
	return m.buf
}

func (m *pooledMemory) Free() {
	if m.buf != nil {
		m.pool.put(m.buf)
		m.buf = nil
	}
}
