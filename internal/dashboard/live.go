package dashboard

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/stratus-cloud/stratus/internal/store"
)

// Store prefixes the dashboard watches to know when to refresh.
const (
	cloudPrefix = "/cloud/"
	kubePrefix  = "/registry/"
)

// changes tells waiters that something changed. Each waiter gets a channel
// that closes at the next change; bursts collapse into one wake-up per
// waiter, and waiters rate-limit themselves (see minRefresh).
type changes struct {
	mu sync.Mutex
	ch chan struct{}
}

func newChanges() *changes { return &changes{ch: make(chan struct{})} }

// wait returns a channel closed at the next change.
func (c *changes) wait() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ch
}

// notify wakes every waiter.
func (c *changes) notify() {
	c.mu.Lock()
	close(c.ch)
	c.ch = make(chan struct{})
	c.mu.Unlock()
}

// watchPrefix notifies c of every change under prefix until ctx ends,
// re-opening the watch from the current revision when it breaks (a watcher
// that fell behind history only needs to know that something changed).
func watchPrefix(ctx context.Context, st store.Store, prefix string, c *changes, log *slog.Logger) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		ch, err := st.Watch(ctx, prefix, store.WatchOptions{})
		if err != nil {
			if errors.Is(err, store.ErrClosed) {
				return
			}
			log.Warn("watch failed; retrying", "prefix", prefix, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		for b := range ch {
			if b.Err != nil {
				log.Debug("watch ended; reopening", "prefix", prefix, "err", b.Err)
				break
			}
			if len(b.Events) > 0 {
				c.notify()
			}
		}
		// Something may have changed while the watch was down.
		c.notify()
	}
}
