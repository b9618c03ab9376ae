package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/etcd"
)

// collect reads a watch until it has events up to revision last and checks
// they are exactly the writes under prefix, in order.
func collect(ctx context.Context, ch <-chan store.WatchBatch, last int64, want []int64) error {
	var got []int64
	for {
		select {
		case b, ok := <-ch:
			if !ok {
				return fmt.Errorf("watch closed after %d events", len(got))
			}
			if b.Err != nil {
				return fmt.Errorf("watch ended after %d events: %w", len(got), b.Err)
			}
			for _, ev := range b.Events {
				got = append(got, ev.KV.ModRev)
			}
			if len(got) > 0 && got[len(got)-1] >= last {
				if fmt.Sprint(got) != fmt.Sprint(want) {
					return fmt.Errorf("got revisions %v, want %v", got, want)
				}
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("after %d events: %w", len(got), ctx.Err())
		}
	}
}

func write(t *testing.T, s store.Store, key string, n int) (revs []int64) {
	t.Helper()
	for i := range n {
		r, err := s.Txn(context.Background(), store.Put(key+strconv.Itoa(i%10), []byte(strconv.Itoa(i))))
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, r.Rev)
	}
	return revs
}

// TestWatchersShareOneEtcdWatch: many watchers on several prefixes (and
// from several revisions) all get exactly their events, in order, over
// one etcd watch.
func TestWatchersShareOneEtcdWatch(t *testing.T) {
	s := openWith(t, etcd.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prefixes := []string{"/a/", "/b/", "/a/x"}
	base, err := s.Rev(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type watcher struct {
		ch     <-chan store.WatchBatch
		prefix string
	}
	var ws []watcher
	for i := range 60 {
		p := prefixes[i%len(prefixes)]
		ch, err := s.Watch(ctx, p, store.WatchOptions{Rev: base + 1, ProgressNotify: i%2 == 0})
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, watcher{ch, p})
	}
	revsA := write(t, s, "/a/x", 100)
	revsB := write(t, s, "/b/", 100)
	want := map[string][]int64{"/a/": revsA, "/a/x": revsA, "/b/": revsB}
	last := revsB[len(revsB)-1]
	// A watcher that starts late, from a revision the shared watch has,
	// is served from its buffer too.
	late, err := s.Watch(ctx, "/b/", store.WatchOptions{Rev: revsB[50]})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(ws)+1)
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if len(want[w.prefix]) == 0 {
				return
			}
			w0 := want[w.prefix]
			if err := collect(ctx, w.ch, w0[len(w0)-1], w0); err != nil {
				errs <- fmt.Errorf("%s: %w", w.prefix, err)
			}
		}()
	}
	if err := collect(ctx, late, last, revsB[50:]); err != nil {
		errs <- fmt.Errorf("late watcher: %w", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := etcd.SharedWatches(s); n != 1 {
		t.Errorf("%d shared etcd watches started, want 1", n)
	}
}

// TestSlowWatcherDelaysNobody: a watcher that does not read holds up no
// other watcher and no writer; when it reads at last it gets every event,
// in order, even after the shared buffer dropped them (from a watch of its
// own on etcd's history).
func TestSlowWatcherDelaysNobody(t *testing.T) {
	s := openWith(t, etcd.Options{WatchCacheEvents: 50})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	slow, err := s.Watch(ctx, "/s/", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fast, err := s.Watch(ctx, "/s/", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// fast reads while the writes happen; slow reads nothing (its
	// channel fills up) until fast has seen them all.
	const n = 400
	fastDone := make(chan []int64, 1)
	go func() {
		var got []int64
		for b := range fast {
			for _, ev := range b.Events {
				got = append(got, ev.KV.ModRev)
			}
			if len(got) >= n || b.Err != nil {
				break
			}
		}
		fastDone <- got
	}()
	revs := write(t, s, "/s/", n)
	if got := <-fastDone; fmt.Sprint(got) != fmt.Sprint(revs) {
		t.Fatalf("fast watcher got %d events, want the %d written in order", len(got), len(revs))
	}
	if err := collect(ctx, slow, revs[len(revs)-1], revs); err != nil {
		t.Fatalf("slow watcher: %v", err)
	}
	// A watcher from before the buffer's oldest event gets its own watch.
	old, err := s.Watch(ctx, "/s/", store.WatchOptions{Rev: revs[0]})
	if err != nil {
		t.Fatal(err)
	}
	if err := collect(ctx, old, revs[len(revs)-1], revs); err != nil {
		t.Fatalf("watcher from before the buffer: %v", err)
	}
	if n := etcd.SharedWatches(s); n != 1 {
		t.Errorf("%d shared etcd watches started, want 1", n)
	}
}

// TestWatchersOutliveTheSharedWatch: when the shared etcd watch ends, its
// watchers go on with watches of their own and miss nothing; the next
// Watch starts a new shared one.
func TestWatchersOutliveTheSharedWatch(t *testing.T) {
	s := openWith(t, etcd.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ch, err := s.Watch(ctx, "/o/", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first := write(t, s, "/o/", 20)
	etcd.BreakSharedWatch(s)
	revs := append(first, write(t, s, "/o/", 20)...)
	if err := collect(ctx, ch, revs[len(revs)-1], revs); err != nil {
		t.Fatal(err)
	}
	ch2, err := s.Watch(ctx, "/o/", store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	more := write(t, s, "/o/", 5)
	if err := collect(ctx, ch2, more[len(more)-1], more); err != nil {
		t.Fatal(err)
	}
	if n := etcd.SharedWatches(s); n != 2 {
		t.Errorf("%d shared etcd watches started, want 2", n)
	}
}

// TestCompactThroughSharedWatch: events still in the shared buffer but
// compacted away in etcd are not served: a watch from before the
// compaction answers ErrCompacted, as etcd would.
func TestCompactThroughSharedWatch(t *testing.T) {
	s := openWith(t, etcd.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Watch(ctx, "/c/", store.WatchOptions{}); err != nil { // starts the shared watch
		t.Fatal(err)
	}
	revs := write(t, s, "/c/", 6)
	if err := s.Compact(ctx, revs[3]); err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(ctx, "/c/", store.WatchOptions{Rev: revs[3] - 1})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-ch:
		if !errors.Is(b.Err, store.ErrCompacted) || len(b.Events) > 0 {
			t.Fatalf("watch from before the compaction: %+v", b)
		}
	case <-ctx.Done():
		t.Fatal("no answer")
	}
	ch, err = s.Watch(ctx, "/c/", store.WatchOptions{Rev: revs[3]})
	if err != nil {
		t.Fatal(err)
	}
	if err := collect(ctx, ch, revs[5], revs[3:]); err != nil {
		t.Fatal(err)
	}
}
