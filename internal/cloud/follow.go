package cloud

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/stratus-cloud/stratus/internal/store"
)

// follower keeps a Sim's index in step with the store when other servers
// write to it: it watches keyRoot and applies every change the index does
// not reflect yet. The server's own changes come back on the watch too;
// they are already applied (at commit) and are skipped by revision.
type follower struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex
	// rev is how far the watch has delivered: every change to the cloud
	// up to rev is in the index.
	rev int64
	// moved closes when rev moves (and is then replaced).
	moved chan struct{}
	// running is false before the first start and once the watch ended.
	running bool
}

// errNotFollowing answers Sync when the simulator is not following the store.
var errNotFollowing = errors.New("cloud: not following the store")

// startFollowing watches the store from the revision after rev, which the
// index reflects.
func (s *Sim) startFollowing(rev int64) {
	f := &s.fol
	ctx, cancel := context.WithCancel(context.WithoutCancel(s.ctx))
	f.mu.Lock()
	f.cancel, f.done = cancel, make(chan struct{})
	f.rev, f.moved, f.running = rev, make(chan struct{}), true
	f.mu.Unlock()
	go s.follow(ctx, rev+1, f.done)
}

// stopFollowing ends the watch and waits for it.
func (s *Sim) stopFollowing() {
	f := &s.fol
	f.mu.Lock()
	cancel, done := f.cancel, f.done
	f.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// follow applies the store's changes from revision from on, until ctx ends
// or the store closes. A watch that fell out of the store's history reloads
// the index from a fresh list and goes on from there.
func (s *Sim) follow(ctx context.Context, from int64, done chan struct{}) {
	defer close(done)
	defer s.fol.advance(-1) // wake waiters: nobody moves rev any more
	backoff := 10 * time.Millisecond
	for ctx.Err() == nil {
		ch, err := s.st.Watch(ctx, keyRoot, store.WatchOptions{Rev: from})
		if errors.Is(err, store.ErrClosed) {
			return
		}
		if err == nil {
			from, err = s.drain(ctx, ch, from)
			if err == nil || ctx.Err() != nil {
				continue // the channel closed: the store closed, or ctx ended
			}
		}
		if errors.Is(err, store.ErrClosed) {
			return
		}
		s.log.Warn("following the store's changes failed; retrying", "from", from, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// drain applies the batches of one watch and returns the revision to go on
// from. It returns nil when the channel closes without an error batch.
func (s *Sim) drain(ctx context.Context, ch <-chan store.WatchBatch, from int64) (int64, error) {
	for b := range ch {
		if errors.Is(b.Err, store.ErrCompacted) {
			s.log.Warn("fell behind the store's history; reloading the state", "from", from)
			var rev int64
			err := s.write(func(*index) (err error) {
				rev, err = s.reload(ctx)
				return err
			})
			if err != nil {
				return from, err
			}
			s.fol.advance(rev)
			return rev + 1, nil // watch again from the list's revision
		}
		if b.Err != nil {
			return from, b.Err
		}
		s.applyBatch(b)
		from = b.Rev + 1
	}
	if ctx.Err() == nil {
		if _, err := s.st.Rev(ctx); errors.Is(err, store.ErrClosed) {
			return from, store.ErrClosed
		}
	}
	return from, nil
}

// applyBatch brings a watch batch into the index. Batches of this server's
// own changes, the usual case, are recognised under the read lock and cost
// no writer's time.
func (s *Sim) applyBatch(b store.WatchBatch) {
	s.mu.RLock()
	ix := s.ix
	fresh := len(ix.tombs) > 0
	for i := 0; i < len(b.Events) && !fresh; i++ {
		fresh = !ix.stale(b.Events[i])
	}
	s.mu.RUnlock()
	if fresh {
		s.wmu.Lock()
		s.mu.Lock()
		ix := s.ix
		for _, ev := range b.Events {
			if err := ix.apply(ev); err != nil {
				s.log.Warn("cannot apply a stored change", "key", ev.KV.Key, "rev", ev.KV.ModRev, "err", err)
			}
		}
		ix.forget(b.Rev)
		s.mu.Unlock()
		s.wmu.Unlock()
	}
	s.fol.advance(b.Rev)
}

// advance records that the index reflects the store up to rev (-1: the
// watch ended) and wakes waiters.
func (f *follower) advance(rev int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rev < 0 {
		f.running = false
	} else if rev > f.rev {
		f.rev = rev
	} else {
		return
	}
	close(f.moved)
	f.moved = make(chan struct{})
}

// Sync waits until the simulator's state reflects every change to the
// cloud that any server sharing the store committed before Sync was
// called, so a request served after it sees them (read-your-writes across
// servers). It costs one store read when the state is current.
func (s *Sim) Sync(ctx context.Context) error {
	kv, err := s.st.Get(ctx, syncKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil // nothing was written since the store was seeded
	}
	if err != nil {
		return err
	}
	return s.fol.wait(ctx, kv.ModRev)
}

// Changed returns a channel that closes at the next change to the
// simulator's state, whichever server made it: a change feed for clients
// that show the cloud (the dashboard), which then ask the API what is new.
func (s *Sim) Changed() <-chan struct{} {
	s.fol.mu.Lock()
	defer s.fol.mu.Unlock()
	return s.fol.moved
}

// KeyPrefix is where the simulator keeps its state in the store.
const KeyPrefix = keyRoot

// SyncRev waits until the simulator's state reflects a write at rev that
// touched keys under KeyPrefix (one that did not never reaches it): a
// snapshot restore, which leaves unchanged keys such as syncKey alone,
// waits for exactly its own revision.
func (s *Sim) SyncRev(ctx context.Context, rev int64) error { return s.fol.wait(ctx, rev) }

// wait blocks until the index reflects rev.
func (f *follower) wait(ctx context.Context, rev int64) error {
	for {
		f.mu.Lock()
		cur, moved, running := f.rev, f.moved, f.running
		f.mu.Unlock()
		if cur >= rev {
			return nil
		}
		if !running {
			return errNotFollowing
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
