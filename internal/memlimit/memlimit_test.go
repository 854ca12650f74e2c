package memlimit

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// held is what TestFloorFollowsLive keeps live.
var held []byte

func TestLimit(t *testing.T) {
	for _, tt := range []struct{ live, want int64 }{
		{0, 384},
		{200, 384},
		{256, 384},
		{257, 385},
		{900, 1028},
	} {
		if got := Limit(tt.live, 384, 128); got != tt.want {
			t.Errorf("Limit(%d, 384, 128) = %d, want %d", tt.live, got, tt.want)
		}
	}
}

// TestFloorFollowsLive: after collections, the limit is what is live plus the headroom
// while that passes the floor, the floor again once it no longer does, and lifted for good
// after Off.
func TestFloorFollowsLive(t *testing.T) {
	t.Cleanup(func() { debug.SetMemoryLimit(math.MaxInt64) })
	const mib = 1 << 20
	Floor(16*mib, 8*mib)
	limit := func() int64 { return debug.SetMemoryLimit(-1) }
	// waitFor collects until ok holds of the limit (a finalizer sets it after a collection).
	waitFor := func(what string, ok func(int64) bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
			runtime.GC()
			if ok(limit()) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("the limit is %d MiB; want %s", limit()/mib, what)
	}
	if got := limit(); got != 16*mib {
		t.Fatalf("limit %d; want the floor, 16 MiB", got)
	}
	held = make([]byte, 96*mib)
	for i := range held {
		held[i] = byte(i)
	}
	waitFor("at least 104 MiB (96 live and 8 more)", func(l int64) bool { return l >= 104*mib })
	held = nil
	waitFor("back near the floor", func(l int64) bool { return l < 64*mib })
	Off()
	runtime.GC()
	runtime.GC()
	time.Sleep(50 * time.Millisecond)
	if got := limit(); got != math.MaxInt64 {
		t.Errorf("after Off the limit is %d; want none", got)
	}
}
