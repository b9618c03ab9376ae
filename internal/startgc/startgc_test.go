package startgc

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

func TestHeldBackUntilDone(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT is set: init leaves the collector alone")
	}
	// Reading a setting means setting it; put each back at once.
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Errorf("before Done: GC percent %d, want -1 (held back)", p)
	}
	if l := debug.SetMemoryLimit(-1); l != Limit {
		t.Errorf("before Done: memory limit %d, want %d", l, Limit)
	}
	Done()
	Done() // a second call changes nothing
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("after Done: GC percent %d, want 100", p)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Errorf("after Done: memory limit %d, want none", l)
	}
}
