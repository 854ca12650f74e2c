// Package memlimit keeps Go's soft memory limit above what a run must hold.
//
// A soft limit bounds the garbage a large run keeps beside what is live. Once what is live
// passes it, the collector cannot get under it and runs nearly nonstop instead, taking up
// to half the CPU (convert, holding an index of ten million messages: two fifths of its CPU
// went to collecting). Floor raises the limit, after each collection, to what is live plus
// a headroom whenever that is above the floor, and brings it back as what is live shrinks.
package memlimit

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

var (
	mu  sync.Mutex
	off bool // Off was called: the limit stays lifted
)

// liveMetric is the heap the last collection found live.
const liveMetric = "/gc/heap/live:bytes"

// Floor sets the soft memory limit to floor and, after every collection from then on, to
// Limit of what that collection found live.
func Floor(floor, headroom int64) {
	debug.SetMemoryLimit(floor)
	sample := []metrics.Sample{{Name: liveMetric}}
	var arm func()
	arm = func() {
		// A finalizer runs once the collection that found its object unreachable ends;
		// re-armed each time, it runs once per collection.
		runtime.SetFinalizer(new(sentinel), func(*sentinel) {
			mu.Lock()
			defer mu.Unlock()
			if off {
				return
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				debug.SetMemoryLimit(Limit(int64(sample[0].Value.Uint64()), floor, headroom))
			}
			arm()
		})
	}
	arm()
}

// Off lifts the soft limit for good: for a process whose heap is what it must hold.
func Off() {
	mu.Lock()
	defer mu.Unlock()
	off = true
	debug.SetMemoryLimit(math.MaxInt64)
}

// sentinel is large enough not to share a tiny allocation block, whose finalizer could
// wait on its neighbours.
type sentinel struct{ _ [32]byte }

// Limit is the soft limit for a heap with live bytes live: floor, or live plus headroom
// when that is more.
func Limit(live, floor, headroom int64) int64 {
	return max(floor, live+headroom)
}
