// Package memory is the in-memory store engine: an ordered index of the
// newest value of every key, a bounded history of recent changes for watch,
// and a commit path that can hand each batch of transactions to a Persister
// before making it visible.
//
// Used alone (New with no Persister) it is the `memory` backend for
// throw-away runs. The bolt backend is this engine with a Persister that
// writes every batch to a bbolt file, so reads and watches never touch disk.
package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/stratus-cloud/stratus/internal/store"
)

// Change is one key's new state in a committed batch; KV.Value is nil for a
// delete.
type Change struct {
	Delete bool
	KV     *store.KV
}

// Persister makes a batch of changes durable before the engine shows them.
// Changes are in revision order; Rev is the store revision after the batch.
// Persist must not keep the changes slice after it returns (the engine
// reuses it); the KVs in it are immutable and may be kept.
//
// When Persist fails the engine cannot know what reached the disk, so it
// stops accepting writes (fail-stop); reads go on.
type Persister interface {
	Persist(changes []Change, rev int64) error
}

// Options configure an Engine.
type Options struct {
	// Persister, when set, is called with each commit batch; concurrent
	// transactions are grouped into one call (group commit).
	Persister Persister
	// MaxBatch caps how many transactions one Persist call carries.
	// Default 1024.
	MaxBatch int
	// HistoryLimit is how many recent events are kept for watches that
	// start in the past or fall behind. Default 100,000.
	HistoryLimit int
	// ProgressInterval is how often a quiet watcher with ProgressNotify gets
	// an empty batch. Default 5 s.
	ProgressInterval time.Duration
	// Initial state, loaded from disk by a durable backend, in any order.
	Initial    []*store.KV
	InitialRev int64
}

// maxWatchBatch caps the events in one WatchBatch (a batch may exceed it
// only to keep one revision's events together).
const maxWatchBatch = 1024

// Engine implements store.Store in memory.
type Engine struct {
	opts Options

	mu       sync.RWMutex
	tree     *btree.BTreeG[*store.KV]
	rev      int64
	oldest   int64 // history holds every event with rev > oldest
	hist     []store.Event
	notify   chan struct{}
	closed   bool
	failed   error // set when a Persist failed: no more writes
	closedCh chan struct{}

	sendMu sync.RWMutex // guards sends on reqs against Close closing it
	reqs   chan *txnReq
	done   chan struct{}

	// Owned by the committer goroutine (or by Txn under mu without one).
	scratch  []store.Op
	all      []Change
	pending  map[string]*store.KV
	reqBatch []*txnReq
}

var _ store.Store = (*Engine)(nil)

type txnReq struct {
	ops  []store.Op
	res  store.TxnResult
	err  error
	done chan struct{}
}

func lessKV(a, b *store.KV) bool { return a.Key < b.Key }

// New returns an engine with the given options.
func New(opts Options) *Engine {
	if opts.HistoryLimit <= 0 {
		opts.HistoryLimit = 100_000
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = 5 * time.Second
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1024
	}
	e := &Engine{
		opts:     opts,
		tree:     btree.NewG[*store.KV](32, lessKV),
		rev:      opts.InitialRev,
		oldest:   opts.InitialRev,
		notify:   make(chan struct{}),
		closedCh: make(chan struct{}),
	}
	for _, kv := range opts.Initial {
		e.tree.ReplaceOrInsert(kv)
	}
	e.opts.Initial = nil // let the loader's slice go
	if opts.Persister != nil {
		e.reqs = make(chan *txnReq, opts.MaxBatch)
		e.done = make(chan struct{})
		e.reqBatch = make([]*txnReq, 0, opts.MaxBatch)
		go e.committer()
	}
	return e
}

// Get implements store.Store.
func (e *Engine) Get(ctx context.Context, key string) (*store.KV, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, store.ErrClosed
	}
	kv, ok := e.tree.Get(&store.KV{Key: key})
	if !ok {
		return nil, store.ErrNotFound
	}
	return kv, nil
}

// List implements store.Store.
func (e *Engine) List(ctx context.Context, prefix string, opts store.ListOptions) (store.ListResult, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return store.ListResult{}, store.ErrClosed
	}
	start := prefix
	if opts.After != "" && opts.After >= prefix {
		start = opts.After + "\x00"
	}
	if opts.Rev != 0 {
		return e.listAt(prefix, start, opts)
	}
	if opts.MinRev > e.rev {
		return store.ListResult{}, store.ErrFutureRevision
	}
	res := store.ListResult{Rev: e.rev}
	e.tree.AscendGreaterOrEqual(&store.KV{Key: start}, func(kv *store.KV) bool {
		if !strings.HasPrefix(kv.Key, prefix) {
			return false
		}
		if opts.Limit > 0 && len(res.KVs) == opts.Limit {
			res.More = true
			if !opts.Count {
				return false
			}
			res.Remaining++
			return true
		}
		res.KVs = append(res.KVs, kv)
		return true
	})
	return res, nil
}

// listAt lists the keys under prefix from start on as they were at
// opts.Rev: the current tree with every key written since put back to its
// state before its first write after opts.Rev, which the history's events
// carry as Prev. e.mu must be held.
func (e *Engine) listAt(prefix, start string, opts store.ListOptions) (store.ListResult, error) {
	switch {
	case opts.Rev > e.rev:
		return store.ListResult{}, store.ErrFutureRevision
	case opts.Rev < e.oldest:
		return store.ListResult{}, store.ErrCompacted
	}
	// then: the state at opts.Rev of each key written since (nil: absent).
	var then map[string]*store.KV
	for i := e.histIndex(opts.Rev + 1); i < len(e.hist); i++ {
		ev := &e.hist[i]
		k := ev.KV.Key
		if k < start || !strings.HasPrefix(k, prefix) {
			continue
		}
		if then == nil {
			then = make(map[string]*store.KV)
		}
		if _, seen := then[k]; !seen {
			then[k] = ev.Prev
		}
	}
	// gone: keys that existed at opts.Rev and are deleted now, in order.
	var gone []*store.KV
	for k, kv := range then {
		if kv == nil {
			continue
		}
		if _, ok := e.tree.Get(&store.KV{Key: k}); !ok {
			gone = append(gone, kv)
		}
	}
	slices.SortFunc(gone, func(a, b *store.KV) int { return strings.Compare(a.Key, b.Key) })

	res := store.ListResult{Rev: opts.Rev}
	// add takes kv into the page, or once the page is full counts it
	// (opts.Count) or answers false to stop.
	add := func(kv *store.KV) bool {
		if opts.Limit > 0 && len(res.KVs) == opts.Limit {
			res.More = true
			res.Remaining++
			return opts.Count
		}
		res.KVs = append(res.KVs, kv)
		return true
	}
	e.tree.AscendGreaterOrEqual(&store.KV{Key: start}, func(kv *store.KV) bool {
		if !strings.HasPrefix(kv.Key, prefix) {
			return false
		}
		for len(gone) > 0 && gone[0].Key < kv.Key {
			if !add(gone[0]) {
				return false
			}
			gone = gone[1:]
		}
		old, changed := then[kv.Key]
		if changed {
			if old == nil {
				return true // created after opts.Rev
			}
			kv = old
		}
		return add(kv)
	})
	for _, kv := range gone {
		if !add(kv) {
			break
		}
	}
	if !opts.Count {
		res.Remaining = 0
	}
	return res, nil
}

// Count implements store.Store.
func (e *Engine) Count(ctx context.Context, prefix string) (int64, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return 0, store.ErrClosed
	}
	var n int64
	e.tree.AscendGreaterOrEqual(&store.KV{Key: prefix}, func(kv *store.KV) bool {
		if !strings.HasPrefix(kv.Key, prefix) {
			return false
		}
		n++
		return true
	})
	return n, nil
}

// Rev implements store.Store.
func (e *Engine) Rev(ctx context.Context) (int64, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return 0, store.ErrClosed
	}
	return e.rev, nil
}

// Compact implements store.Store: events before rev are dropped.
func (e *Engine) Compact(ctx context.Context, rev int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return store.ErrClosed
	}
	if rev > e.rev {
		return store.ErrFutureRevision
	}
	if rev-1 <= e.oldest {
		return nil
	}
	i := 0
	for i < len(e.hist) && e.hist[i].KV.ModRev < rev {
		i++
	}
	// Copy, so watchers still reading the old array see it unchanged and
	// the dropped events can be collected.
	e.hist = append([]store.Event(nil), e.hist[i:]...)
	e.oldest = rev - 1
	return nil
}

// Txn implements store.Store.
func (e *Engine) Txn(ctx context.Context, ops ...store.Op) (store.TxnResult, error) {
	if err := store.Validate(ops); err != nil {
		return store.TxnResult{}, err
	}
	if e.reqs == nil {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.closed {
			return store.TxnResult{}, store.ErrClosed
		}
		e.all = e.all[:0]
		n, err := e.eval(ops, e.rev+1, false)
		if err != nil {
			return store.TxnResult{Rev: e.rev}, err
		}
		if n > 0 {
			e.apply(e.all, e.rev+1)
			clear(e.all) // drop references to the KVs
		}
		return store.TxnResult{Rev: e.rev}, nil
	}
	if err := ctx.Err(); err != nil {
		return store.TxnResult{}, err
	}
	req := &txnReq{ops: ops, done: make(chan struct{})}
	e.sendMu.RLock()
	select {
	case <-e.closedCh:
		e.sendMu.RUnlock()
		return store.TxnResult{}, store.ErrClosed
	default:
	}
	select {
	case e.reqs <- req:
		e.sendMu.RUnlock()
	case <-ctx.Done():
		e.sendMu.RUnlock()
		return store.TxnResult{}, ctx.Err()
	}
	// Once queued, the transaction may commit: wait for the answer so an
	// acknowledged write is never reported as failed.
	<-req.done
	return req.res, req.err
}

// current is key's state including the pending effects of earlier
// transactions of the batch being evaluated.
func (e *Engine) current(key string, batched bool) *store.KV {
	if batched {
		if kv, ok := e.pending[key]; ok {
			return kv
		}
	}
	kv, _ := e.tree.Get(&store.KV{Key: key})
	return kv
}

// eval checks ops' conditions and appends their changes at rev to e.all,
// returning how many it appended. With batched set, it sees and records the
// effects of earlier transactions of the batch in e.pending. On a conflict
// nothing is recorded.
func (e *Engine) eval(ops []store.Op, rev int64, batched bool) (int, error) {
	for i := range ops {
		op := &ops[i]
		if op.If.Kind == store.CondNone {
			continue
		}
		cur := e.current(op.Key, batched)
		var ok bool
		switch op.If.Kind {
		case store.CondAbsent:
			ok = cur == nil
		case store.CondExists:
			ok = cur != nil
		case store.CondRevision:
			ok = cur != nil && cur.ModRev == op.If.Rev
		}
		if !ok {
			return 0, &store.ConflictError{Key: op.Key, Current: cur}
		}
	}
	e.scratch = store.Collapse(e.scratch, ops)
	n := 0
	for i := range e.scratch {
		op := &e.scratch[i]
		cur := e.current(op.Key, batched)
		var ch Change
		if op.Kind == store.OpDelete {
			if cur == nil {
				continue // deleting a missing key changes nothing
			}
			ch = Change{Delete: true, KV: &store.KV{Key: op.Key, ModRev: rev}}
		} else {
			kv := &store.KV{Key: op.Key, Value: op.Value, CreateRev: rev, ModRev: rev}
			if cur != nil {
				kv.CreateRev = cur.CreateRev
			}
			ch = Change{KV: kv}
		}
		e.all = append(e.all, ch)
		n++
	}
	if batched {
		for _, ch := range e.all[len(e.all)-n:] {
			if ch.Delete {
				e.pending[ch.KV.Key] = nil
			} else {
				e.pending[ch.KV.Key] = ch.KV
			}
		}
	}
	clear(e.scratch) // drop references to values
	return n, nil
}

// apply makes committed changes visible; e.mu must be held for writing.
// Changes may span several revisions (a group commit).
func (e *Engine) apply(changes []Change, rev int64) {
	for _, ch := range changes {
		if ch.Delete {
			prev, ok := e.tree.Delete(ch.KV)
			if !ok {
				continue
			}
			e.hist = append(e.hist, store.Event{Type: store.EventDelete, KV: ch.KV, Prev: prev})
			continue
		}
		prev, _ := e.tree.ReplaceOrInsert(ch.KV)
		e.hist = append(e.hist, store.Event{Type: store.EventPut, KV: ch.KV, Prev: prev})
	}
	e.rev = rev
	e.trimHistory()
	close(e.notify)
	e.notify = make(chan struct{})
}

// trimHistory keeps about HistoryLimit events. It lets the history grow a
// quarter past the limit before cutting it back, so the copy is amortised
// over many commits instead of paid on each.
func (e *Engine) trimHistory() {
	limit := e.opts.HistoryLimit
	if len(e.hist) <= limit+limit/4 {
		return
	}
	over := len(e.hist) - limit
	// Drop whole revisions only, so a watcher never sees half a txn.
	cut := e.hist[over-1].KV.ModRev
	for over < len(e.hist) && e.hist[over].KV.ModRev == cut {
		over++
	}
	e.oldest = cut
	// A new array: watchers may still be reading the old one.
	e.hist = append(make([]store.Event, 0, limit+limit/4+1), e.hist[over:]...)
}

// committer groups queued transactions into one Persist call.
//
// Right after a commit, the writers it answered send their next
// transactions within microseconds of each other; taking only the first to
// arrive would leave the rest waiting a whole commit, and batches would
// alternate between one transaction and all the others. So when the last
// batch carried several transactions, the committer waits a little for as
// many to gather: until that many are queued, or a quarter of the last
// commit's duration (at most lingerMax) has passed. A lone writer never
// waits: its batches carry one transaction.
func (e *Engine) committer() {
	defer close(e.done)
	var (
		lastSize int
		lastDur  time.Duration
		timer    = time.NewTimer(time.Hour)
	)
	timer.Stop()
	for {
		req, ok := <-e.reqs
		if !ok {
			return
		}
		batch := append(e.reqBatch[:0], req)
		batch, open := e.drain(batch)
		if want := min(lastSize, e.opts.MaxBatch); open && len(batch) < want {
			timer.Reset(min(lastDur/4, lingerMax))
		linger:
			for len(batch) < want {
				select {
				case r, ok := <-e.reqs:
					if !ok {
						break linger
					}
					batch = append(batch, r)
				case <-timer.C:
					break linger
				}
			}
			timer.Stop()
		}
		start := time.Now()
		e.commitBatch(batch)
		lastSize, lastDur = len(batch), time.Since(start)
		clear(batch)
	}
}

// lingerMax bounds how long a batch waits for more transactions.
const lingerMax = 2 * time.Millisecond

// drain adds the transactions already queued to batch, up to MaxBatch; open
// is false when the queue was closed.
func (e *Engine) drain(batch []*txnReq) (_ []*txnReq, open bool) {
	for len(batch) < e.opts.MaxBatch {
		select {
		case r, ok := <-e.reqs:
			if !ok {
				return batch, false
			}
			batch = append(batch, r)
		default:
			return batch, true
		}
	}
	return batch, true
}

func (e *Engine) commitBatch(batch []*txnReq) {
	// Only the committer writes, so reading state under RLock is enough
	// while the batch is evaluated and persisted; readers keep going.
	e.mu.RLock()
	refuse := e.failed
	if e.closed {
		refuse = store.ErrClosed
	}
	rev := e.rev
	batched := len(batch) > 1
	if batched && e.pending == nil {
		e.pending = make(map[string]*store.KV)
	}
	e.all = e.all[:0]
	for _, r := range batch {
		if refuse != nil {
			r.err = refuse
			continue
		}
		n, err := e.eval(r.ops, rev+1, batched)
		if err != nil {
			r.err = err
			r.res.Rev = rev
			continue
		}
		if n > 0 {
			rev++
		}
		r.res.Rev = rev
	}
	e.mu.RUnlock()
	if batched {
		clear(e.pending)
	}

	if len(e.all) > 0 {
		if err := e.opts.Persister.Persist(e.all, rev); err != nil {
			err = fmt.Errorf("store: commit failed, no further writes until restart: %w", err)
			e.mu.Lock()
			e.failed = err
			e.mu.Unlock()
			for _, r := range batch {
				if r.err == nil {
					r.err = err
				}
			}
		} else {
			e.mu.Lock()
			e.apply(e.all, rev)
			e.mu.Unlock()
		}
		clear(e.all)
	}
	for _, r := range batch {
		close(r.done)
	}
}

// Watch implements store.Store.
func (e *Engine) Watch(ctx context.Context, prefix string, opts store.WatchOptions) (<-chan store.WatchBatch, error) {
	e.mu.RLock()
	if e.closed {
		e.mu.RUnlock()
		return nil, store.ErrClosed
	}
	next := opts.Rev
	if next <= 0 {
		next = e.rev + 1
	}
	e.mu.RUnlock()
	out := make(chan store.WatchBatch, 16)
	go e.watchLoop(ctx, prefix, next, opts.ProgressNotify, out)
	return out, nil
}

// watchLoop feeds one watcher from the history. Writers never wait for it:
// a slow watcher only falls behind, and gets ErrCompacted if the history it
// needs is dropped before it reads it.
func (e *Engine) watchLoop(ctx context.Context, prefix string, next int64, progress bool, out chan<- store.WatchBatch) {
	defer close(out)
	var tick <-chan time.Time
	if progress {
		t := time.NewTicker(e.opts.ProgressInterval)
		defer t.Stop()
		tick = t.C
	}
	send := func(b store.WatchBatch) bool {
		select {
		case out <- b:
			return true
		case <-ctx.Done():
			return false
		case <-e.closedCh:
			return false
		}
	}
	for {
		e.mu.RLock()
		if e.closed {
			e.mu.RUnlock()
			return
		}
		if next <= e.oldest {
			e.mu.RUnlock()
			send(store.WatchBatch{Err: store.ErrCompacted, Rev: next - 1})
			return
		}
		evs, upTo := e.collect(prefix, next)
		wait := e.notify
		e.mu.RUnlock()

		if upTo >= next {
			if len(evs) > 0 && !send(store.WatchBatch{Events: evs, Rev: upTo}) {
				return
			}
			next = upTo + 1
			if upTo < e.revNow() {
				continue // capped batch: more history to read
			}
		}
		select {
		case <-wait:
		case <-tick:
			if !send(store.WatchBatch{Rev: next - 1}) {
				return
			}
		case <-ctx.Done():
			return
		case <-e.closedCh:
			return
		}
	}
}

func (e *Engine) revNow() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.rev
}

// collect returns the events under prefix from revision next on (at most
// about maxWatchBatch, whole revisions only) and the revision they bring the
// watcher up to. e.mu must be held.
func (e *Engine) collect(prefix string, next int64) ([]store.Event, int64) {
	var evs []store.Event
	for i := e.histIndex(next); i < len(e.hist); i++ {
		ev := &e.hist[i]
		if len(evs) >= maxWatchBatch && ev.KV.ModRev != evs[len(evs)-1].KV.ModRev {
			return evs, evs[len(evs)-1].KV.ModRev
		}
		if strings.HasPrefix(ev.KV.Key, prefix) {
			evs = append(evs, *ev)
		}
	}
	return evs, e.rev
}

// histIndex returns the index of the first event in the history at or after
// revision rev (the history is in revision order). e.mu must be held.
func (e *Engine) histIndex(rev int64) int {
	lo, hi := 0, len(e.hist)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if e.hist[m].KV.ModRev < rev {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// Close implements store.Store. Transactions already queued are answered
// (with ErrClosed, unless their batch was already being committed) before it
// returns, and every watch channel closes.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.closedCh)
	e.mu.Unlock()
	if e.reqs != nil {
		e.sendMu.Lock()
		close(e.reqs)
		e.sendMu.Unlock()
		<-e.done
	}
	return nil
}

// Stats implements store.Statser: the keys in the tree and the events in
// the history; a memory engine has no file.
func (e *Engine) Stats(ctx context.Context) (store.Stats, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return store.Stats{}, store.ErrClosed
	}
	return store.Stats{Keys: int64(e.tree.Len()), History: int64(len(e.hist)), CompactedRev: e.oldest, FileBytes: -1, FreeBytes: -1}, nil
}
