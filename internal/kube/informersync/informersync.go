// Package informersync waits for client-go informers to sync. client-go's
// own cache.WaitForCacheSync polls every 100 ms, which puts a tenth of a
// second or more into every start of stratus (agents, scheduler,
// controllers, proxy, one after another); an in-process informer syncs in a
// millisecond or two, so Wait polls every few milliseconds instead.
package informersync

import (
	"context"
	"reflect"
	"time"

	"k8s.io/client-go/tools/cache"
)

// Interval is how often Wait checks.
const Interval = 2 * time.Millisecond

// Wait blocks until every synced reports true (true) or stop closes (false).
func Wait(stop <-chan struct{}, synced ...cache.InformerSynced) bool {
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		all := true
		for _, s := range synced {
			if !s() {
				all = false
				break
			}
		}
		if all {
			return true
		}
		select {
		case <-stop:
			return false
		case <-t.C:
		}
	}
}

// WaitContext is Wait bounded by a context.
func WaitContext(ctx context.Context, synced ...cache.InformerSynced) bool {
	return Wait(ctx.Done(), synced...)
}

// Syncer is what a SharedInformerFactory offers to wait on.
type Syncer interface {
	WaitForCacheSync(stop <-chan struct{}) map[reflect.Type]bool
}

// Factory waits for every informer a started factory holds. It asks the
// factory's own WaitForCacheSync with a closed stop channel, which checks
// each informer once without waiting.
func Factory(stop <-chan struct{}, f Syncer) bool {
	closed := make(chan struct{})
	close(closed)
	return Wait(stop, func() bool {
		for _, ok := range f.WaitForCacheSync(closed) {
			if !ok {
				return false
			}
		}
		return true
	})
}
