// Package startgc keeps the garbage collector out of the way while the
// process starts.
//
// Start-up builds most of what the process keeps: type registrations,
// schemas, the store's index, informer caches. With the default GOGC the
// heap's small initial goal makes the collector run several times before
// stratus is ready, scanning the same live objects again each time. This
// package's init (which runs before the big packages' init, since it
// imports almost nothing) turns proportional collection off under a memory
// limit, so the collector runs only if start-up grows past that limit.
// Done puts the previous settings back; it is called once the process is
// ready, and by a timer after a few seconds in any case, so a command that
// never calls it still runs with the normal collector.
package startgc

import (
	"math"
	"runtime/debug"
	"sync"
	"time"
)

// Limit bounds the heap while collection is held back.
const Limit = 256 << 20

// Grace is how long collection is held back at most.
const Grace = 3 * time.Second

var (
	once        sync.Once
	prevPercent int
	prevLimit   int64
)

func init() {
	prevLimit = debug.SetMemoryLimit(-1)
	if prevLimit != math.MaxInt64 {
		// GOMEMLIMIT is set: the user chose how memory is managed.
		once.Do(func() {})
		return
	}
	prevPercent = debug.SetGCPercent(-1)
	if prevPercent < 0 {
		// GOGC=off: nothing to hold back.
		debug.SetGCPercent(prevPercent)
		once.Do(func() {})
		return
	}
	debug.SetMemoryLimit(Limit)
	time.AfterFunc(Grace, Done)
}

// Done gives the collector its normal settings back. It is safe to call
// more than once and from any goroutine.
func Done() {
	once.Do(func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	})
}
