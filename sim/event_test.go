package sim

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ffsim/ffsim/reconcilers"
)

// jsonEncoding is the reference: what encoding/json's Encoder writes.
func jsonEncoding(t testing.TB, e Event) []byte {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(e); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEventEncoding(t *testing.T) {
	yes, no, zero, two := true, false, 0, 2
	events := []Event{
		{},
		{T: -time.Second, Kind: EvStep, Step: "advance", Line: 7},
		{T: 5 * time.Second, Kind: EvTickFinished, Source: "budget_reset", Tick: 3, Report: &reconcilers.Report{Processed: 20, Errors: 1}, Err: "boom"},
		{Kind: EvShutdownReturned, Count: &zero},
		{Kind: EvAborted, Count: &two, OK: &no},
		{Kind: EvExpect, OK: &yes, Detail: `{timed_out: 1, returned_at: 6.528s}`},
		{Kind: EvFault, Detail: "quote \" backslash \\ tab \t newline \n nul \x00"},
		{Kind: EvFault, Detail: "html <b> & </b>"},
		{Kind: EvFault, Detail: "utf-8 € é, line sep \u2028, bad \xff\xfe, del \x7f"},
		{Kind: EventKind("odd\"kind"), Budget: "b<1>"},
	}
	for _, e := range events {
		if got, want := e.appendJSON(nil), jsonEncoding(t, e); !bytes.Equal(got, want) {
			t.Errorf("appendJSON:\n got %s\nwant %s", got, want)
		}
	}
}

func FuzzEventEncoding(f *testing.F) {
	f.Add(int64(5), "step", "budget_reset", 3, "b1", "detail", "err", 1, true)
	f.Add(int64(-1), "<&>", "\x00\xff", 0, "\u2028", "\"\\", "", -4, false)
	f.Fuzz(func(t *testing.T, at int64, kind, src string, n int, budget, detail, errText string, count int, ok bool) {
		e := Event{T: time.Duration(at), Kind: EventKind(kind), Source: src, Line: n, Step: kind, Tick: n, Budget: budget, Err: errText, Detail: detail}
		if count%2 == 0 {
			e.Count, e.OK = &count, &ok
			e.Report = &reconcilers.Report{Processed: count, Errors: n}
		}
		if got, want := e.appendJSON(nil), jsonEncoding(t, e); !bytes.Equal(got, want) {
			t.Fatalf("appendJSON:\n got %s\nwant %s", got, want)
		}
	})
}

// The recorder keeps only the tail, but its digest and count cover every
// event: equal to the digest of the whole trace kept in full.
func TestRecorderTail(t *testing.T) {
	now := time.Unix(0, 0)
	clock := func() time.Time { return now }
	full := newRecorder(now, clock, false, -1, 0)
	tail := newRecorder(now, clock, true, 5, 0)
	for i := range 23 {
		now = now.Add(time.Second)
		for _, r := range []*recorder{full, tail} {
			r.add(Event{Kind: EvStep, Line: i + 1})
			if i%4 == 0 {
				r.flush()
			}
		}
	}
	all, n, digest := full.stop()
	last, m, tailDigest := tail.stop()
	if n != 23 || m != 23 || len(all) != 23 {
		t.Fatalf("counts %d and %d, full trace %d events; want 23", n, m, len(all))
	}
	if digest != Digest(all) || tailDigest != digest {
		t.Fatalf("digests %s (tail) and %s (full); Digest of the full trace %s", tailDigest, digest, Digest(all))
	}
	if len(last) != 5 {
		t.Fatalf("tail kept %d events, want 5", len(last))
	}
	for i, e := range last {
		if e.Line != 19+i {
			t.Fatalf("tail[%d] is line %d, want %d (the last five in order)", i, e.Line, 19+i)
		}
	}
}

// Unsorted (the wasm guest), the recorder keeps each event as it comes:
// nothing accumulates until a flush, and the digest is the same.
func TestRecorderUnsortedKeepsAtOnce(t *testing.T) {
	now := time.Unix(0, 0)
	clock := func() time.Time { return now }
	r := newRecorder(now, clock, false, 5, 0)
	for i := range 1000 {
		r.add(Event{Kind: EvStep, Line: i + 1})
	}
	if len(r.pending) != 0 || r.n != 1000 {
		t.Fatalf("%d events pending, %d kept; want 0 and 1000", len(r.pending), r.n)
	}
}

// Past its budget the recorder drops events, says so once, and the run's
// budgetError names the limit and the flag that raises it.
func TestRecorderEventBudget(t *testing.T) {
	now := time.Unix(0, 0)
	clock := func() time.Time { return now }
	for _, sorted := range []bool{false, true} {
		r := newRecorder(now, clock, sorted, -1, 10)
		calls := 0
		r.onOver = func() { calls++ }
		for i := range 25 {
			r.add(Event{Kind: EvStep, Line: i + 1})
			r.flush()
		}
		trace, n, _ := r.stop()
		if n != 10 || len(trace) != 10 || calls != 1 {
			t.Errorf("sorted %v: %d events counted, %d kept, onOver called %d times; want 10, 10, 1", sorted, n, len(trace), calls)
		}
		err := r.budgetError()
		if err == nil || !strings.Contains(err.Error(), "limit of 10 trace events (raise it with --max-events, or sim.Options.MaxEvents)") {
			t.Errorf("budgetError = %v", err)
		}
	}
}
