package wasmhost

import (
	"bytes"
	"fmt"
	"strings"
)

// stderrTail formats the guest's stderr for a failure message: its start
// (a Go crash names its cause first) and its end.
func stderrTail(b *guestStderr) string {
	s := strings.TrimSpace(b.String())
	if s == "" {
		return ""
	}
	const head, tail = 1 << 10, 3 << 10
	if len(s) > head+tail {
		s = s[:head] + "\n…\n" + s[len(s)-tail:]
	}
	return "\nguest stderr:\n" + s
}

// guestStdout is a buffer that fails writes past its limit, so a runaway
// guest cannot exhaust the host's memory.
type guestStdout struct {
	bytes.Buffer
	limit int
}

func (b *guestStdout) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.limit {
		return 0, fmt.Errorf("guest output over %d bytes", b.limit)
	}
	return b.Buffer.Write(p)
}

// guestStderr keeps the first and the last bytes a guest writes to stderr.
type guestStderr struct {
	head, tail []byte
	limit      int // of each of head and tail
	dropped    bool
	// phase, when set, receives the guest's phase marks (the guest writes
	// each as one line, in one write) instead of keeping them.
	phase func(name string)
}

// phaseMark starts a phase line of a guest run with FFSIM_GUEST_PHASES set
// (sim/wasmguest writes them).
const phaseMark = "ffsim-phase "

func (b *guestStderr) Write(p []byte) (int, error) {
	if b.phase != nil && bytes.HasPrefix(p, []byte(phaseMark)) {
		b.phase(strings.TrimSpace(string(p[len(phaseMark):])))
		return len(p), nil
	}
	n := len(p)
	if room := b.limit - len(b.head); room > 0 {
		k := min(room, len(p))
		b.head = append(b.head, p[:k]...)
		p = p[k:]
	}
	if len(p) > 0 {
		b.tail = append(b.tail, p...)
		if over := len(b.tail) - b.limit; over > 0 {
			b.dropped = true
			b.tail = append(b.tail[:0], b.tail[over:]...)
		}
	}
	return n, nil
}

func (b *guestStderr) String() string {
	if b.dropped {
		return string(b.head) + "\n…\n" + string(b.tail)
	}
	return string(b.head) + string(b.tail)
}
