package multihost

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"
)

// writer is the traffic of a fault scenario: numbered writes, one after
// another, through write; it records which were acknowledged, which is what
// the check after the fault must find again. A write that fails is not
// acknowledged (it may or may not have happened, and neither is wrong).
type writer struct {
	write func(ctx context.Context, i int) error

	mu      sync.Mutex
	acked   []int
	failed  int
	lastErr error
	ackc    chan struct{} // signalled on every ack

	stopc chan struct{}
	done  chan struct{}
}

// startWriter starts writing; each write gets timeout.
func startWriter(write func(ctx context.Context, i int) error, timeout time.Duration) *writer {
	w := &writer{write: write, ackc: make(chan struct{}, 1), stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := 0; ; i++ {
			select {
			case <-w.stopc:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			err := w.write(ctx, i)
			cancel()
			w.mu.Lock()
			if err == nil {
				w.acked = append(w.acked, i)
			} else {
				w.failed++
				w.lastErr = err
			}
			w.mu.Unlock()
			if err == nil {
				select {
				case w.ackc <- struct{}{}:
				default:
				}
			} else {
				// Do not spin on a dead cluster.
				select {
				case <-time.After(50 * time.Millisecond):
				case <-w.stopc:
					return
				}
			}
		}
	}()
	return w
}

func (w *writer) count() (acked, failed int, lastErr error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked), w.failed, w.lastErr
}

// waitMore waits until n more writes than now are acknowledged: proof that
// the cluster makes progress in its present state.
func (w *writer) waitMore(t *testing.T, n int, timeout time.Duration, what string) {
	t.Helper()
	start, _, _ := w.count()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	t0 := time.Now()
	for {
		got, failed, lastErr := w.count()
		if got-start >= n {
			t.Logf("%s: %d writes acknowledged in %v (%d failed so far)", what, got-start, time.Since(t0).Round(time.Millisecond), failed)
			return
		}
		select {
		case <-w.ackc:
		case <-deadline.C:
			t.Fatalf("%s: only %d of %d writes acknowledged in %v; %d failed, last error: %v", what, got-start, n, timeout, failed, lastErr)
		}
	}
}

// stop ends the traffic and returns the acknowledged writes in order.
func (w *writer) stop() []int {
	select {
	case <-w.stopc:
	default:
		close(w.stopc)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	acked := append([]int(nil), w.acked...)
	sort.Ints(acked)
	return acked
}
