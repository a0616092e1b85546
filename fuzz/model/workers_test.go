package model

import (
	"strings"
	"testing"
)

// W1–W5: the worker registry and its TTL sweep.

func TestWorkers(t *testing.T) {
	runCases(t, []modelCase{
		{name: "W1 register, refresh (registered_at kept), reassignment refused",
			sc:   sc(every(0, 0), nil, register("i1", "w1", s, "y", "x", "y"), adv(400*ms), register("i1", "w1", 2*s), register("i1", "w2", s), workers("i1")),
			want: want{0: "registered @0s", 2: "refreshed @400ms", 3: "invalid @400ms", 4: "i1: w1 hb=400ms ttl=2s reg=0s lanes=[]"}},
		{name: "W5 lanes are sorted and deduplicated",
			sc:   sc(every(0, 0), nil, register("i1", "w1", s, "y", "x", "y"), workers("i1", "i2")),
			want: want{1: "i1: w1 hb=0s ttl=1s reg=0s lanes=[x y]; i2: absent"}},
		{name: "W2 heartbeat strictly before expiry; W4 swept strictly after",
			sc: sc(every(0, 0), nil, register("i1", "w1", s), adv(999*ms), heartbeat("i1"), adv(s), heartbeat("i1"), sweep(), workers("i1"), adv(ms), sweep(), heartbeat("i1"), workers("i1")),
			want: want{2: "refreshed(1.999s) @999ms", 4: "not_registered @1.999s", 5: "processed=0 errors=0 @1.999s",
				6: "i1: w1 hb=999ms ttl=1s reg=0s lanes=[]", 8: "processed=1 errors=0 @2s", 9: "not_registered @2s", 10: "i1: absent"}},
		{name: "W3 mark dead: invalid reasons, marked, not registered",
			sc:   sc(every(0, 0), nil, register("i1", "w1", s), mark("i1", "bad\x01"), mark("i1", strings.Repeat("x", 257)), mark("i1", strings.Repeat("x", 256)), mark("i1", "again")),
			want: want{1: "invalid @0s", 2: "invalid @0s", 3: "marked @0s", 4: "not_registered @0s"}},
		{name: "W3 an invalid reason with a fault armed: SPEC does not say which comes first",
			sc:   sc(every(0, 0), nil, busy(1), mark("i1", "bad\n"), register("i1", "w1", s)),
			want: want{1: "error=busy @0s | invalid @0s", 2: "error=busy @0s | registered @0s"}},
		{name: "W1 a held lock fails register at once (a read cannot wait to upgrade); heartbeat waits",
			sc:   sc(every(0, 0), nil, register("i1", "w1", s), hold(10*ms), register("i1", "w1", s), heartbeat("i1"), workers("i1")),
			want: want{2: "error=busy @0s", 3: "refreshed(1s) @18ms", 4: "i1: w1 hb=0s ttl=1s reg=0s lanes=[]"}},
		{name: "W registry faults apply once, without retry",
			sc:   sc(every(0, 0), nil, dbErr("locked", 1, ""), register("i1", "w1", s), register("i1", "w1", s), dbErr("ioerr", 1, ""), sweep()),
			want: want{1: "error=locked @0s", 2: "registered @0s", 4: "error=ioerr @0s"}},
		{name: "W4 a sweep slowed inside its transaction holds the lock; an abort deletes nothing",
			sc:   sc(every(0, s), nil, register("i1", "w1", 500*ms), slow(WS, 1, 5*s, IT), spawn(), adv(s), workers("i1"), shutdown(s), workers("i1"), ticksOf(WS)),
			want: want{4: "i1: w1 hb=0s ttl=500ms reg=0s lanes=[]", 5: "timed_out=1 @2s", 6: "i1: w1 hb=0s ttl=500ms reg=0s lanes=[]", 7: "count=1 processed=? errors=?"}},
		{name: "W4 a sweep that waited for the lock: its clock reading is not fixed",
			sc:   sc(every(0, 0), nil, register("i1", "w1", 10*ms), advTo(10*ms), hold(2*ms), sweep()),
			want: want{3: "processed=0 errors=0 @13ms | processed=1 errors=0 @13ms"}},
	})
}
