package app

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestLoopWakes: a Loop with a change feed passes again soon after a
// change, long before its Interval, but not sooner than MinGap after the
// pass before; without a change it waits for the Interval.
func TestLoopWakes(t *testing.T) {
	var mu sync.Mutex
	feed := make(chan struct{})
	passes := make(chan time.Time, 10)
	l := &Loop{N: "t", Interval: time.Hour, MinGap: 50 * time.Millisecond,
		Fn: func(context.Context) error { passes <- time.Now(); return nil },
		Wake: func() <-chan struct{} {
			mu.Lock()
			defer mu.Unlock()
			return feed
		}}
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Stop(context.Background()) }()
	change := func() {
		mu.Lock()
		close(feed)
		feed = make(chan struct{})
		mu.Unlock()
	}
	first := <-passes
	change() // at once: the next pass waits for MinGap
	select {
	case second := <-passes:
		if gap := second.Sub(first); gap < 50*time.Millisecond {
			t.Errorf("second pass %v after the first, MinGap is 50ms", gap)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no pass after a change")
	}
	select {
	case <-passes:
		t.Fatal("a pass without a change")
	case <-time.After(100 * time.Millisecond):
	}
	change()
	select {
	case <-passes:
	case <-time.After(5 * time.Second):
		t.Fatal("no pass after a second change")
	}
}
