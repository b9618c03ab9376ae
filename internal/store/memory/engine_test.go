package memory

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stratus-cloud/stratus/internal/testenv"

	"github.com/stratus-cloud/stratus/internal/store"
	"github.com/stratus-cloud/stratus/internal/store/storetest"
)

// recorder is a Persister that records batches and can be made to block or
// fail.
type recorder struct {
	mu      sync.Mutex
	batches [][]Change
	revs    []int64
	block   chan struct{} // when set, Persist waits on it
	entered chan struct{} // when set, Persist signals it first
	fail    error
}

func (r *recorder) Persist(changes []Change, rev int64) error {
	if r.entered != nil {
		r.entered <- struct{}{}
	}
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.batches = append(r.batches, append([]Change(nil), changes...))
	r.revs = append(r.revs, rev)
	return nil
}

func (r *recorder) persisted() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]int64{}
	for _, b := range r.batches {
		for _, ch := range b {
			m[ch.KV.Key] = ch.KV.ModRev
		}
	}
	return m
}

// TestConformanceGroupCommit runs the suite through the committer path.
func TestConformanceGroupCommit(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return New(Options{Persister: &recorder{}, ProgressInterval: 50 * time.Millisecond})
	})
}

// TestGroupCommit: transactions queued while a commit is on disk go to disk
// together in the next one.
func TestGroupCommit(t *testing.T) {
	rec := &recorder{block: make(chan struct{}), entered: make(chan struct{}, 1)}
	e := New(Options{Persister: rec})
	defer e.Close()
	ctx := context.Background()
	errs := make(chan error, 50)
	go func() { _, err := e.Txn(ctx, store.Put("/first", nil)); errs <- err }()
	<-rec.entered // the first commit is in Persist
	for i := range 49 {
		go func() { _, err := e.Txn(ctx, store.Create(fmt.Sprintf("/k/%d", i), nil)); errs <- err }()
	}
	testenv.Eventually(t, 10*time.Second, "49 queued transactions", func() bool { return len(e.reqs) == 49 })
	rec.entered = nil
	close(rec.block)
	for range 50 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.batches) != 2 || len(rec.batches[1]) != 49 || rec.revs[1] != 50 {
		t.Fatalf("batches of %d and %d changes, revs %v; want 1 and 49, up to 50",
			len(rec.batches[0]), len(rec.batches[len(rec.batches)-1]), rec.revs)
	}
	// Each transaction has its own revision within the batch.
	seen := map[int64]bool{}
	for _, ch := range rec.batches[1] {
		if seen[ch.KV.ModRev] || ch.KV.ModRev < 2 || ch.KV.ModRev > 50 {
			t.Fatalf("revision %d reused or out of range", ch.KV.ModRev)
		}
		seen[ch.KV.ModRev] = true
	}
}

// TestGroupCommitConflictInBatch: a transaction sees the effects of earlier
// ones in its batch.
func TestGroupCommitConflictInBatch(t *testing.T) {
	rec := &recorder{block: make(chan struct{}), entered: make(chan struct{}, 1)}
	e := New(Options{Persister: rec})
	defer e.Close()
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { _, err := e.Txn(ctx, store.Put("/x", nil)); first <- err }()
	<-rec.entered
	const n = 20
	results := make(chan error, n)
	for range n {
		go func() { _, err := e.Txn(ctx, store.Create("/same", nil)); results <- err }()
	}
	testenv.Eventually(t, 10*time.Second, "queued creates", func() bool { return len(e.reqs) == n })
	rec.entered = nil
	close(rec.block)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	var ok, conflicts int
	for range n {
		switch err := <-results; {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrConflict):
			conflicts++
		default:
			t.Fatal(err)
		}
	}
	if ok != 1 || conflicts != n-1 {
		t.Fatalf("%d creates of one key succeeded, %d conflicted", ok, conflicts)
	}
}

// TestCloseWhileQueued: Close answers every queued transaction; exactly
// those acknowledged reached the Persister.
func TestCloseWhileQueued(t *testing.T) {
	rec := &recorder{block: make(chan struct{}), entered: make(chan struct{}, 1)}
	e := New(Options{Persister: rec})
	ctx := context.Background()
	type result struct {
		key string
		res store.TxnResult
		err error
	}
	results := make(chan result, 40)
	go func() { r, err := e.Txn(ctx, store.Put("/in-flight", nil)); results <- result{"/in-flight", r, err} }()
	<-rec.entered
	for i := range 39 {
		k := fmt.Sprintf("/q/%d", i)
		go func() { r, err := e.Txn(ctx, store.Put(k, nil)); results <- result{k, r, err} }()
	}
	testenv.Eventually(t, 10*time.Second, "queued transactions", func() bool { return len(e.reqs) == 39 })
	closed := make(chan error)
	go func() { closed <- e.Close() }()
	testenv.Eventually(t, 10*time.Second, "Close to start", func() bool { return e.isClosed() })
	rec.entered = nil
	close(rec.block)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	persisted := rec.persisted()
	for range 40 {
		r := <-results
		_, onDisk := persisted[r.key]
		switch {
		case r.err == nil && !onDisk:
			t.Errorf("%s acknowledged but not persisted", r.key)
		case r.err != nil && onDisk:
			t.Errorf("%s persisted but answered %v", r.key, r.err)
		case r.err != nil && !errors.Is(r.err, store.ErrClosed):
			t.Errorf("%s: %v", r.key, r.err)
		}
	}
	if _, ok := persisted["/in-flight"]; !ok {
		t.Error("the batch being committed at Close was lost")
	}
	if _, err := e.Txn(ctx, store.Put("/after", nil)); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Txn after Close: %v", err)
	}
}

func (e *Engine) isClosed() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.closed
}

// TestPersistFailure: a failed commit is not visible and stops all writes.
func TestPersistFailure(t *testing.T) {
	rec := &recorder{}
	e := New(Options{Persister: rec})
	defer e.Close()
	ctx := context.Background()
	if _, err := e.Txn(ctx, store.Put("/ok", nil)); err != nil {
		t.Fatal(err)
	}
	disk := errors.New("disk on fire")
	rec.fail = disk
	if _, err := e.Txn(ctx, store.Put("/lost", nil)); !errors.Is(err, disk) {
		t.Fatalf("err = %v, want the disk error", err)
	}
	rec.mu.Lock()
	rec.fail = nil
	rec.mu.Unlock()
	if _, err := e.Txn(ctx, store.Put("/later", nil)); !errors.Is(err, disk) {
		t.Fatalf("write after a failed commit: %v, want refusal", err)
	}
	if _, err := e.Get(ctx, "/lost"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("failed write visible: %v", err)
	}
	if r, _ := e.Rev(ctx); r != 1 {
		t.Fatalf("rev %d after failed commit, want 1", r)
	}
	if _, err := e.Get(ctx, "/ok"); err != nil {
		t.Fatalf("reads stopped: %v", err)
	}
}

// TestHistoryTrim: with a small history a watcher that does not read gets
// every event in order up to a clean ErrCompacted, and writers never wait.
func TestHistoryTrim(t *testing.T) {
	for _, persist := range []bool{false, true} {
		t.Run(fmt.Sprint("persister=", persist), func(t *testing.T) {
			opts := Options{HistoryLimit: 100}
			if persist {
				opts.Persister = &recorder{}
			}
			e := New(opts)
			defer e.Close()
			ctx := context.Background()
			ch, err := e.Watch(ctx, "/", store.WatchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			const n = 5000
			for i := range n {
				if _, err := e.Txn(ctx, store.Put(fmt.Sprintf("/k/%d", i%37), nil)); err != nil {
					t.Fatal(err)
				}
			}
			if len(e.hist) > 125 {
				t.Fatalf("history holds %d events, limit 100", len(e.hist))
			}
			var next int64 = 1
			for b := range ch {
				if b.Err != nil {
					if !errors.Is(b.Err, store.ErrCompacted) {
						t.Fatal(b.Err)
					}
					if next > n-100 {
						t.Fatalf("compacted at %d although history reaches back to %d", next, n-100)
					}
					return
				}
				for _, ev := range b.Events {
					if ev.KV.ModRev != next {
						t.Fatalf("event at %d, want %d", ev.KV.ModRev, next)
					}
					next++
				}
				if next > n {
					t.Fatal("a watcher that never read got everything; history was not trimmed")
				}
			}
			t.Fatal("channel closed without ErrCompacted")
		})
	}
}

// TestWatchBatchCap: a watcher far behind gets its backlog in bounded
// batches that never split a revision.
func TestWatchBatchCap(t *testing.T) {
	e := New(Options{})
	defer e.Close()
	ctx := context.Background()
	var last int64
	for i := range 700 {
		r, err := e.Txn(ctx, store.Put(fmt.Sprintf("/a/%d", i), nil), store.Put(fmt.Sprintf("/b/%d", i), nil), store.Put(fmt.Sprintf("/c/%d", i), nil))
		if err != nil {
			t.Fatal(err)
		}
		last = r.Rev
	}
	ch, err := e.Watch(ctx, "/", store.WatchOptions{Rev: 1})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for total < 2100 {
		b := <-ch
		if b.Err != nil {
			t.Fatal(b.Err)
		}
		if len(b.Events) > maxWatchBatch+3 || len(b.Events)%3 != 0 {
			t.Fatalf("batch of %d events", len(b.Events))
		}
		if b.Rev != b.Events[len(b.Events)-1].KV.ModRev && b.Rev != last {
			t.Fatalf("batch Rev %d, last event %d", b.Rev, b.Events[len(b.Events)-1].KV.ModRev)
		}
		total += len(b.Events)
	}
}

// TestStress runs writers, watchers, compactions and readers together under
// the race detector.
func TestStress(t *testing.T) {
	for _, persist := range []bool{false, true} {
		t.Run(fmt.Sprint("persister=", persist), func(t *testing.T) {
			opts := Options{HistoryLimit: 500}
			if persist {
				opts.Persister = &recorder{}
			}
			e := New(opts)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 300 {
						k := fmt.Sprintf("/s/%d/%d", w, i%20)
						ops := []store.Op{store.Put(k, []byte("v"))}
						if i%7 == 0 {
							ops = append(ops, store.Delete(fmt.Sprintf("/s/%d/%d", w, (i+3)%20)))
						}
						if _, err := e.Txn(ctx, ops...); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ch, err := e.Watch(ctx, "/s/", store.WatchOptions{Rev: 1})
					if err != nil {
						errs <- err
						return
					}
					var prev int64
					for b := range ch {
						if b.Err != nil {
							if !errors.Is(b.Err, store.ErrCompacted) {
								errs <- b.Err
							}
							return
						}
						for _, ev := range b.Events {
							if ev.KV.ModRev < prev {
								errs <- fmt.Errorf("event at %d after %d", ev.KV.ModRev, prev)
								return
							}
							prev = ev.KV.ModRev
						}
						if prev >= 2000 {
							return
						}
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 50 {
					r, _ := e.Rev(ctx)
					if r > 10 {
						_ = e.Compact(ctx, r-10)
					}
					_, _ = e.List(ctx, "/s/", store.ListOptions{Limit: 10})
					_, _ = e.Count(ctx, "/s/")
				}
			}()
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("stress test hung")
			}
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			// Close with watchers still open ends them.
			ch, _ := e.Watch(context.Background(), "/", store.WatchOptions{})
			_ = e.Close()
			for range ch {
			}
		})
	}
}
