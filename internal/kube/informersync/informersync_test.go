package informersync

import (
	"reflect"
	"sync/atomic"
	"testing"
)

func TestWait(t *testing.T) {
	var n atomic.Int32
	ready := func() bool { return n.Add(1) > 3 }
	if !Wait(make(chan struct{}), ready, func() bool { return true }) {
		t.Fatal("Wait gave up on informers that sync")
	}
	stop := make(chan struct{})
	close(stop)
	if Wait(stop, func() bool { return false }) {
		t.Fatal("Wait reported an unsynced informer as synced")
	}
}

type fakeFactory struct{ calls atomic.Int32 }

func (f *fakeFactory) WaitForCacheSync(stop <-chan struct{}) map[reflect.Type]bool {
	select {
	case <-stop:
	default:
		panic("Factory must ask with a closed stop channel, so the check never blocks")
	}
	return map[reflect.Type]bool{reflect.TypeOf(0): f.calls.Add(1) > 2}
}

func TestFactory(t *testing.T) {
	var f fakeFactory
	if !Factory(make(chan struct{}), &f) {
		t.Fatal("Factory gave up")
	}
	if f.calls.Load() != 3 {
		t.Fatalf("checked %d times, want 3", f.calls.Load())
	}
}
